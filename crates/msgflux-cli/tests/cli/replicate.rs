//! `msgflux edit` through the Replicate provider, against the Replicate
//! emulator (which checks every request against the published API description).

use std::path::Path;
use std::process::Output;

use msgflux_emulators::Fault;
use msgflux_emulators::replicate::{CREATE, Emulator};

use crate::common::{code, file_names, msgflux, stderr, write_mask, write_photo};

const MODEL: &str = "replicate/stability-ai/stable-diffusion-inpainting";

async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator starts")
}

/// Runs `msgflux edit` through the emulator, off the runtime that serves it.
async fn edit(emulator: &Emulator, dir: &Path, prompt: &str) -> Output {
    let (photo, mask, out) = (dir.join("photo.png"), dir.join("mask.png"), dir.join("out"));
    // 64x64: a size stable-diffusion-inpainting takes as it is (sides multiples of 64).
    write_photo(&photo, 64, 64);
    write_mask(&mask, 64, 64, (16, 16, 16, 16));
    let mut cmd = msgflux();
    cmd.env("MSGFLUX_TEST_REPLICATE_TOKEN", emulator.key())
        .args([
            "edit",
            "--model",
            MODEL,
            "--prompt",
            prompt,
            "--api-key-env",
            "MSGFLUX_TEST_REPLICATE_TOKEN",
        ])
        .args(["--base-url", &emulator.base_url()])
        .args([
            "--setting",
            "poll_interval_ms=1",
            "--setting",
            "max_poll_interval_ms=4",
            "--image",
        ])
        .arg(&photo)
        .arg("--mask")
        .arg(&mask)
        .arg("--out")
        .arg(&out);
    tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicate_edit_reaches_the_model_with_the_mask_the_right_way_round() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), "a red door").await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
    let result = image::open(dir.path().join("out/photo-edited.png"))
        .expect("result decodes")
        .to_rgba8();
    let photo = image::open(dir.path().join("photo.png")).expect("photo").to_rgba8();
    // The emulator paints what the mask marks for editing, read in the model's own convention.
    assert_eq!(result.dimensions(), photo.dimensions());
    assert_eq!(result.get_pixel(20, 20).0, [200, 40, 90, 255]);
    assert_eq!(result.get_pixel(2, 2), photo.get_pixel(2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_prediction_exits_3_with_the_model_error_and_writes_nothing() {
    let emulator = emulator().await;
    emulator.inject(Fault::failed_job(0, "CUDA out of memory"));
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), "a red door").await;
    assert_eq!(code(&output), 3);
    let line = stderr(&output);
    assert!(line.starts_with("error: "), "{line}");
    assert!(line.contains("CUDA out of memory"), "{line}");
    assert!(file_names(&dir.path().join("out")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_provider_setting_is_refused_with_code_2() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    write_photo(&dir.path().join("photo.png"), 8, 8);
    let mut cmd = msgflux();
    cmd.env("MSGFLUX_TEST_REPLICATE_TOKEN", emulator.key())
        .args([
            "edit",
            "--model",
            MODEL,
            "--prompt",
            "x",
            "--api-key-env",
            "MSGFLUX_TEST_REPLICATE_TOKEN",
        ])
        .args(["--setting", "pol_interval=1", "--image"])
        .arg(dir.path().join("photo.png"));
    let output = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output)
            .contains("unknown field `pol_interval`, expected one of `prefer_wait_secs`, `poll_interval_ms`"),
        "{}",
        stderr(&output)
    );
    assert_eq!(emulator.count(CREATE), 0);
}
