//! Helpers shared by the CLI tests: the binary, small real images and masks,
//! the OpenAI emulator, and reading what the binary printed.

use std::path::Path;
use std::process::Output;

use image::{Rgb, RgbImage, Rgba, RgbaImage};
use msgflux_emulators::Fault;
use msgflux_emulators::openai::Emulator;

/// The `msgflux` binary with a clean environment: no keys, no proxies, no log settings.
pub fn msgflux() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_msgflux"));
    for var in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "REPLICATE_API_TOKEN",
        "REPLICATE_BASE_URL",
        "RUST_LOG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The OpenAI emulator (`msgflux_emulators::openai`) on a free port, served
/// from a background thread while the test runs the binary. Besides its usual
/// checks and answers, the prompt picks the behaviour: one containing
/// `refuse` is refused on policy grounds, one containing `hang` is never
/// answered (for timeouts and Ctrl-C), one containing `garbage` is answered
/// with a result that is not an image.
pub fn openai_emulator() -> Emulator {
    let emulator = Emulator::start_in_background().expect("the OpenAI emulator starts");
    emulator.inject_when_prompt_contains("refuse", Fault::ContentPolicy);
    emulator.inject_when_prompt_contains("hang", Fault::Hang);
    emulator.inject_when_prompt_contains("garbage", Fault::NotAnImage);
    emulator
}

/// Writes a textured RGB photo stand-in (gradients and stripes, so fills have something to copy).
pub fn write_photo(path: &Path, width: u32, height: u32) {
    let photo = RgbImage::from_fn(width, height, |x, y| {
        let stripe = if (x / 4 + y / 6) % 2 == 0 { 40 } else { 0 };
        Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            90 + stripe,
        ])
    });
    photo.save(path).expect("write photo");
}

/// Writes a mask (transparent = edit) that edits the rectangle `x, y, w, h`.
pub fn write_mask(path: &Path, width: u32, height: u32, rect: (u32, u32, u32, u32)) {
    let (rx, ry, rw, rh) = rect;
    let mask = RgbaImage::from_fn(width, height, |x, y| {
        let inside = x >= rx && x < rx + rw && y >= ry && y < ry + rh;
        Rgba([0, 0, 0, if inside { 0 } else { 255 }])
    });
    mask.save(path).expect("write mask");
}

/// Stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Stdout parsed as one JSON document.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not one JSON document ({err}):\n{}", stdout(output)))
}

/// Stdout parsed as JSON lines.
pub fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("not a JSON line ({err}): {line}")))
        .collect()
}

/// The names of the files in a directory, sorted; temporary files included, so tests see leftovers.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|entry| entry.expect("dir entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// The exit code, which every run must have (no death by signal).
pub fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("no exit code: {:?}\nstderr: {}", output.status, stderr(output)))
}
