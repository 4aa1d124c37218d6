//! `msgflux edit` through the Stability AI provider, against the Stability
//! emulator (which checks every request against Stability's published
//! OpenAPI document).

use std::path::Path;
use std::process::Output;

use msgflux_emulators::Fault;
use msgflux_emulators::stability::Emulator;

use crate::common::{code, file_names, msgflux, stderr, write_mask, write_photo};

async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator starts")
}

/// Runs `msgflux edit` through the emulator with `model` and extra arguments, off the runtime that serves it.
async fn edit(emulator: &Emulator, dir: &Path, model: &str, extra: &[&str]) -> Output {
    let (photo, mask, out) = (dir.join("photo.png"), dir.join("mask.png"), dir.join("out"));
    // 64x64: the smallest image Stability takes (every side at least 64 pixels).
    write_photo(&photo, 64, 64);
    write_mask(&mask, 64, 64, (16, 16, 16, 16));
    let mut cmd = msgflux();
    cmd.env("MSGFLUX_TEST_STABILITY_KEY", emulator.key())
        .args([
            "edit",
            "--model",
            model,
            "--prompt",
            "a red door",
            "--api-key-env",
            "MSGFLUX_TEST_STABILITY_KEY",
        ])
        .args(["--base-url", &emulator.base_url()])
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
async fn a_stability_inpaint_reaches_the_service_with_the_mask_the_right_way_round() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), "stability/inpaint", &["--option", "grow_mask=0"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
    assert_eq!(emulator.edit_count(), 1);
    let result = image::open(dir.path().join("out/photo-edited.png"))
        .expect("result decodes")
        .to_rgba8();
    let photo = image::open(dir.path().join("photo.png")).expect("photo").to_rgba8();
    // The emulator paints what the mask marks (read white = edit) blue and keeps the rest.
    assert_eq!(result.dimensions(), photo.dimensions());
    assert_eq!(result.get_pixel(20, 20).0, [30, 144, 255, 255]);
    assert_eq!(result.get_pixel(2, 2), photo.get_pixel(2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_and_replace_without_its_search_prompt_is_refused_with_code_2_and_sends_nothing() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), "stability/search-and-replace", &[]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("search_prompt"), "{}", stderr(&output));
    assert!(emulator.requests().is_empty(), "nothing was sent");
    assert!(file_names(&dir.path().join("out")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderated_request_exits_3_with_stability_s_message() {
    let emulator = emulator().await;
    emulator.inject(Fault::ContentPolicy);
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), "stability/inpaint", &[]).await;
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stderr(&output).contains("content moderation"), "{}", stderr(&output));
    assert!(file_names(&dir.path().join("out")).is_empty());
}
