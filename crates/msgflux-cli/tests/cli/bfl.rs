//! `msgflux edit` through the BFL provider, against the BFL emulator (which
//! checks every request against BFL's OpenAPI document).

use std::path::Path;
use std::process::Output;

use msgflux_emulators::bfl::{Emulator, SUBMIT};

use crate::common::{code, file_names, msgflux, stderr, write_mask, write_photo};

const MODEL: &str = "bfl/flux-pro-1.0-fill";

/// Runs `msgflux edit` with `extra` arguments through the emulator, off the runtime that serves it.
async fn edit(emulator: &Emulator, dir: &Path, extra: &[&str]) -> Output {
    let (photo, mask, out) = (dir.join("photo.png"), dir.join("mask.png"), dir.join("out"));
    write_photo(&photo, 64, 64);
    write_mask(&mask, 64, 64, (16, 16, 16, 16));
    let mut cmd = msgflux();
    cmd.env("MSGFLUX_TEST_BFL_KEY", emulator.key())
        .args([
            "edit",
            "--model",
            MODEL,
            "--prompt",
            "a red door",
            "--api-key-env",
            "MSGFLUX_TEST_BFL_KEY",
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
async fn a_bfl_fill_edit_reaches_the_model_with_the_mask_the_right_way_round() {
    let emulator = Emulator::start().await.expect("emulator starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), &["--option", "output_format=png"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
    assert_eq!(emulator.count(SUBMIT), 1);
    let written = file_names(&dir.path().join("out"));
    let result = image::open(dir.path().join("out").join(&written[0]))
        .expect("result decodes")
        .to_rgba8();
    let photo = image::open(dir.path().join("photo.png")).expect("photo").to_rgba8();
    // The emulator paints what Fill's white = repaint mask marks, and keeps the rest.
    assert_eq!(result.dimensions(), photo.dimensions());
    assert_ne!(result.get_pixel(20, 20), photo.get_pixel(20, 20));
    assert_eq!(result.get_pixel(2, 2), photo.get_pixel(2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bfl_request_that_breaks_a_rule_exits_2_and_sends_nothing() {
    let emulator = Emulator::start().await.expect("emulator starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), &["--option", "steps=5"]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("steps"), "{}", stderr(&output));
    assert_eq!(emulator.count(SUBMIT), 0);
    assert!(file_names(&dir.path().join("out")).is_empty());
}
