//! Fills the hole of one image with one of the local algorithms, without the
//! provider plumbing, and prints how long the fill took. The benchmark
//! (bench/local/) runs it on every case.
//!
//! ```text
//! cargo run --release -p msgflux-local --example fill -- patchmatch image.png mask.png out.png [--seed N] [--patch-size N] [--iterations N] [--radius N]
//! ```
//!
//! The mask follows the OpenAI convention: alpha 0 = fill. Prints one JSON
//! line: `{"algorithm": ..., "fill_ms": ..., "hole_pixels": ...}`.

use std::process::ExitCode;
use std::time::Instant;

use image::{DynamicImage, ImageBuffer, Pixel};
use msgflux_local::{CancelFlag, HoleMask, PatchMatchSettings, TeleaSettings, patchmatch, telea};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fill: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [algorithm, image, mask, out, flags @ ..] = args.as_slice() else {
        return Err(
            "usage: fill patchmatch|telea IMAGE MASK OUT [--seed N] [--patch-size N] [--iterations N] [--radius N]"
                .into(),
        );
    };
    let mut patchmatch_settings = PatchMatchSettings::default();
    let mut telea_settings = TeleaSettings::default();
    for pair in flags.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: expected a number, got {value}"))?;
        let small = u32::try_from(number).map_err(|_| format!("{flag}: {number} is too large"))?;
        match flag.as_str() {
            "--seed" => patchmatch_settings = patchmatch_settings.with_seed(number),
            "--patch-size" => patchmatch_settings = patchmatch_settings.with_patch_size(small),
            "--iterations" => patchmatch_settings = patchmatch_settings.with_iterations(small),
            "--radius" => telea_settings = telea_settings.with_radius(small),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let image = image::open(image).map_err(|e| format!("{image}: {e}"))?;
    let mask = image::open(mask).map_err(|e| format!("{mask}: {e}"))?;
    let hole = HoleMask::from_transparency(&mask.to_rgba8());
    let fill = |started: &mut Option<Instant>| -> Result<DynamicImage, String> {
        *started = Some(Instant::now());
        let result = match &image {
            DynamicImage::ImageLuma8(grey) => {
                fill_buffer(grey, algorithm, &hole, &patchmatch_settings, &telea_settings).map(DynamicImage::ImageLuma8)
            }
            other if other.color().has_alpha() => fill_buffer(
                &other.to_rgba8(),
                algorithm,
                &hole,
                &patchmatch_settings,
                &telea_settings,
            )
            .map(DynamicImage::ImageRgba8),
            other => fill_buffer(
                &other.to_rgb8(),
                algorithm,
                &hole,
                &patchmatch_settings,
                &telea_settings,
            )
            .map(DynamicImage::ImageRgb8),
        };
        result.map_err(|e| e.to_string())
    };
    let mut started = None;
    let filled = fill(&mut started)?;
    let fill_ms = started.map(|s| s.elapsed().as_secs_f64() * 1e3).unwrap_or_default();
    filled.save(out).map_err(|e| format!("{out}: {e}"))?;
    println!(
        "{{\"algorithm\": \"{algorithm}\", \"fill_ms\": {fill_ms:.1}, \"hole_pixels\": {}}}",
        hole.hole_pixels()
    );
    Ok(())
}

fn fill_buffer<P: Pixel<Subpixel = u8>>(
    image: &ImageBuffer<P, Vec<u8>>,
    algorithm: &str,
    hole: &HoleMask,
    patchmatch_settings: &PatchMatchSettings,
    telea_settings: &TeleaSettings,
) -> msgflux_core::Result<ImageBuffer<P, Vec<u8>>> {
    match algorithm {
        "patchmatch" => patchmatch::inpaint(image, hole, patchmatch_settings, &CancelFlag::new()),
        "telea" => telea::inpaint(image, hole, telea_settings, &CancelFlag::new()),
        other => Err(msgflux_core::Error::invalid(
            "algorithm",
            format!("expected patchmatch or telea, got {other}"),
        )),
    }
}
