//! `msgflux edit` through the fal provider, against the fal emulator (which
//! checks every submit against the app's input schema and the queue protocol).

use std::path::Path;
use std::process::Output;

use msgflux_emulators::fal::{Emulator, SUBMIT, UPLOAD_INITIATE};

use crate::common::{code, file_names, msgflux, stderr, write_mask, write_photo};

async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator starts")
}

/// Runs `msgflux edit` with `model` through the emulator, off the runtime that serves it.
async fn edit(emulator: &Emulator, dir: &Path, model: &str, extra: &[&str]) -> Output {
    let (photo, mask, out) = (dir.join("photo.png"), dir.join("mask.png"), dir.join("out"));
    write_photo(&photo, 64, 64);
    write_mask(&mask, 64, 64, (16, 16, 16, 16));
    let mut cmd = msgflux();
    cmd.env("MSGFLUX_TEST_FAL_KEY", emulator.key())
        .args([
            "edit",
            "--model",
            model,
            "--prompt",
            "a red door",
            "--api-key-env",
            "MSGFLUX_TEST_FAL_KEY",
        ])
        .args(["--base-url", &emulator.base_url()])
        .args(["--setting", "poll_interval_ms=1", "--setting", "max_poll_interval_ms=4"])
        .args(extra)
        .arg("--image")
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
async fn a_fal_fill_edit_reaches_the_app_with_the_mask_the_right_way_round() {
    let emulator = emulator().await;
    emulator.set_default_polls(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), "fal/fal-ai/flux-pro/v1/fill", &[]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
    assert_eq!(emulator.count(SUBMIT), 1);
    let result = image::open(dir.path().join("out/photo-edited.png"))
        .expect("result decodes")
        .to_rgba8();
    let photo = image::open(dir.path().join("photo.png")).expect("photo").to_rgba8();
    // The emulator paints what the mask marks for editing, read white = fill as FLUX Fill reads it.
    assert_eq!(result.dimensions(), photo.dimensions());
    assert_eq!(result.get_pixel(20, 20).0, [90, 40, 200, 255]);
    assert_eq!(result.get_pixel(2, 2), photo.get_pixel(2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_edits_log_the_queue_position_while_they_wait() {
    let emulator = emulator().await;
    emulator.set_default_polls(4);
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), "fal/fal-ai/flux-pro/v1/fill", &["-v"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let log = stderr(&output);
    for step in [
        "checked; sending",
        "waiting in the provider's queue (position 2)",
        "running",
    ] {
        assert!(log.contains(step), "`{step}` missing from:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_seedream_refuses_exits_2_and_sends_nothing() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(
        &emulator,
        dir.path(),
        "fal/fal-ai/bytedance/seedream/v4/edit",
        &["--size", "640x640", "--setting", "upload_threshold_bytes=0"],
    )
    .await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let line = stderr(&output);
    assert!(line.contains("921600"), "{line}");
    assert_eq!(emulator.count(SUBMIT), 0);
    assert_eq!(emulator.count(UPLOAD_INITIATE), 0);
    assert!(file_names(&dir.path().join("out")).is_empty());
}
