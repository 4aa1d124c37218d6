//! `msgflux edit` through the Google provider, against the Gemini emulator
//! (which checks every request against Google's published API description).

use std::path::Path;
use std::process::Output;

use msgflux_emulators::google::{Emulator, blocked_prompt};

use crate::common::{code, file_names, msgflux, stderr, write_mask, write_photo};

const MODEL: &str = "google/gemini-2.5-flash-image";

async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator starts")
}

/// Runs `msgflux edit` through the emulator with `extra` arguments, off the runtime that serves it.
async fn edit(emulator: &Emulator, dir: &Path, extra: &[&str]) -> Output {
    let (photo, mask, out) = (dir.join("photo.png"), dir.join("mask.png"), dir.join("out"));
    write_photo(&photo, 64, 64);
    write_mask(&mask, 64, 64, (16, 16, 16, 16));
    let mut cmd = msgflux();
    cmd.env("MSGFLUX_TEST_GEMINI_KEY", emulator.key())
        .args([
            "edit",
            "--model",
            MODEL,
            "--prompt",
            "a red door",
            "--api-key-env",
            "MSGFLUX_TEST_GEMINI_KEY",
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
async fn a_google_edit_keeps_every_pixel_outside_the_mask() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), &[]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
    assert_eq!(emulator.generate_count(), 1);
    let result = image::open(dir.path().join("out/photo-edited.png"))
        .expect("result decodes")
        .to_rgba8();
    let photo = image::open(dir.path().join("photo.png")).expect("photo").to_rgba8();
    // The emulated model repaints the whole picture; the original is pasted back outside the mask.
    assert_eq!(result.dimensions(), photo.dimensions());
    assert_eq!(result.get_pixel(2, 2), photo.get_pixel(2, 2));
    assert_eq!(result.get_pixel(60, 60), photo.get_pixel(60, 60));
    assert_ne!(result.get_pixel(24, 24), photo.get_pixel(24, 24));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_size_gemini_cannot_make_is_refused_with_code_2_and_nothing_sent() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), &["--size", "1000x300"]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("aspect ratio"), "{}", stderr(&output));
    assert_eq!(emulator.generate_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_prompt_exits_3_naming_the_reason_and_writes_nothing() {
    let emulator = emulator().await;
    emulator.inject(blocked_prompt("PROHIBITED_CONTENT"));
    let dir = tempfile::tempdir().expect("tempdir");
    let output = edit(&emulator, dir.path(), &[]).await;
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stderr(&output).contains("PROHIBITED_CONTENT"), "{}", stderr(&output));
    assert!(file_names(&dir.path().join("out")).is_empty());
}
