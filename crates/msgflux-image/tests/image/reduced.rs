//! Prepare decodes a JPEG that shrinks to half a side or less at a reduced
//! scale: the result matches the full decode's, whatever the JPEG holds.

use image::RgbaImage;
use msgflux_core::{DecodeLimits, Size};
use msgflux_image::{CropAnchor, Fit, PrepareTarget, Prepared, decode, prepare, prepare_bytes};

use crate::{exif_orientation, psnr};

/// Photo-like content: smooth gradients, an edge and fine stripes.
fn scene(x: u32, y: u32) -> [u8; 3] {
    let stripe = if (x + 2 * y) % 13 < 5 { 40 } else { 0 };
    let edge = if x * 3 > y * 4 { 60 } else { 0 };
    [
        (x / 4 % 200 + stripe) as u8,
        (y / 3 % 180 + edge) as u8,
        ((x + y) / 5 % 220) as u8,
    ]
}

fn jpeg(width: u16, height: u16, color: jpeg_encoder::ColorType, progressive: bool, app1: Option<Vec<u8>>) -> Vec<u8> {
    let channels = match color {
        jpeg_encoder::ColorType::Luma => 1,
        jpeg_encoder::ColorType::Cmyk => 4,
        _ => 3,
    };
    let mut pixels = Vec::with_capacity(width as usize * height as usize * channels);
    for y in 0..u32::from(height) {
        for x in 0..u32::from(width) {
            let [r, g, b] = scene(x, y);
            match channels {
                1 => pixels.push(g),
                4 => pixels.extend_from_slice(&[255 - r, 255 - g, 255 - b, 0]),
                _ => pixels.extend_from_slice(&[r, g, b]),
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 92);
    encoder.set_progressive(progressive);
    if let Some(segment) = app1 {
        encoder.add_app_segment(1, segment).expect("app1");
    }
    encoder.encode(&pixels, width, height, color).expect("jpeg");
    out
}

fn rgb_jpeg(width: u16, height: u16) -> Vec<u8> {
    jpeg(width, height, jpeg_encoder::ColorType::Rgb, false, None)
}

fn target(width: u32, height: u32) -> PrepareTarget {
    PrepareTarget::new().with_size(Size::new(width, height))
}

/// Prepared from the bytes (the reduced path when it applies) and from a full decode (never reduced).
fn both_ways(bytes: &[u8], target: &PrepareTarget) -> (Prepared, RgbaImage) {
    let limits = DecodeLimits::default();
    let reduced = prepare_bytes(bytes, None, target, &limits).expect("prepare the bytes");
    let full = decode(bytes, &limits, "image").expect("decode");
    let reference = prepare(&full.image, None, target).expect("prepare the full decode");
    (reduced, reference.image)
}

fn was_reduced(prepared: &Prepared) -> bool {
    prepared.report.changes.iter().any(|c| c.contains("reduced scale"))
}

#[test]
fn a_jpeg_shrunk_to_a_quarter_is_decoded_at_a_reduced_scale_and_matches_the_full_decode() {
    let (prepared, reference) = both_ways(&rgb_jpeg(1024, 768), &target(256, 192));
    assert!(was_reduced(&prepared), "{}", prepared.report);
    let db = psnr(&prepared.image, &reference);
    assert!(db > 35.0, "PSNR against the full decode {db:.1} dB");
    assert_eq!(
        prepared.report.original.size,
        Size::new(1024, 768),
        "the report keeps the file's size"
    );
}

#[test]
fn sides_that_are_not_a_multiple_of_the_block_size_still_match() {
    // 1002x666: even, but neither a multiple of 8 nor of the 16-pixel colour blocks.
    let (prepared, reference) = both_ways(&rgb_jpeg(1002, 666), &target(250, 166));
    assert!(was_reduced(&prepared), "{}", prepared.report);
    assert_eq!(prepared.image.dimensions(), (250, 166));
    let db = psnr(&prepared.image, &reference);
    assert!(db > 35.0, "PSNR against the full decode {db:.1} dB");
}

#[test]
fn a_side_no_scale_divides_is_decoded_in_full() {
    // 1001 pixels at 1/4 would need a padded last block, shifting the resampled image.
    let (prepared, reference) = both_ways(&rgb_jpeg(1001, 667), &target(250, 166));
    assert!(!was_reduced(&prepared), "{}", prepared.report);
    assert_eq!(prepared.image, reference);
}

#[test]
fn a_greyscale_jpeg_is_reduced_and_stays_grey() {
    let bytes = jpeg(800, 600, jpeg_encoder::ColorType::Luma, false, None);
    let (prepared, reference) = both_ways(&bytes, &target(200, 150));
    assert!(was_reduced(&prepared), "{}", prepared.report);
    assert!(
        prepared
            .image
            .pixels()
            .all(|p| p[0] == p[1] && p[1] == p[2] && p[3] == 255)
    );
    assert!(psnr(&prepared.image, &reference) > 35.0);
}

#[test]
fn a_progressive_jpeg_is_reduced_and_matches_the_full_decode() {
    let bytes = jpeg(960, 640, jpeg_encoder::ColorType::Rgb, true, None);
    let (prepared, reference) = both_ways(&bytes, &target(240, 160));
    assert!(was_reduced(&prepared), "{}", prepared.report);
    assert!(psnr(&prepared.image, &reference) > 35.0);
}

#[test]
fn a_cmyk_jpeg_is_decoded_in_full_with_the_right_colours() {
    let bytes = jpeg(640, 480, jpeg_encoder::ColorType::Cmyk, false, None);
    let (prepared, reference) = both_ways(&bytes, &target(160, 120));
    assert!(!was_reduced(&prepared), "{}", prepared.report);
    assert_eq!(prepared.image, reference);
}

#[test]
fn the_exif_orientation_is_applied_to_a_reduced_decode() {
    // Stored 800x400 landscape, orientation 6 (rotate 90 clockwise): upright 400x800.
    let bytes = jpeg(800, 400, jpeg_encoder::ColorType::Rgb, false, Some(exif_orientation(6)));
    let (prepared, reference) = both_ways(&bytes, &target(100, 200));
    assert!(was_reduced(&prepared), "{}", prepared.report);
    assert_eq!(prepared.report.original.size, Size::new(400, 800));
    assert!(
        prepared.report.changes.iter().any(|c| c.contains("EXIF orientation")),
        "{}",
        prepared.report
    );
    assert!(psnr(&prepared.image, &reference) > 35.0);
}

#[test]
fn a_broken_exif_block_leaves_the_reduced_decode_as_stored() {
    // An Exif segment whose TIFF header is cut short: no orientation to read.
    let bytes = jpeg(
        800,
        400,
        jpeg_encoder::ColorType::Rgb,
        false,
        Some(b"Exif\0\0II*\0\xff".to_vec()),
    );
    let (prepared, reference) = both_ways(&bytes, &target(200, 100));
    assert!(was_reduced(&prepared), "{}", prepared.report);
    assert_eq!(prepared.report.original.size, Size::new(800, 400));
    assert!(psnr(&prepared.image, &reference) > 35.0);
}

#[test]
fn a_jpeg_shrunk_by_less_than_half_is_decoded_in_full() {
    let (prepared, reference) = both_ways(&rgb_jpeg(600, 400), &target(400, 300));
    assert!(!was_reduced(&prepared), "{}", prepared.report);
    assert_eq!(prepared.image, reference);
}

#[test]
fn a_crop_decodes_in_full_because_its_window_is_in_full_size_pixels() {
    let crop = target(128, 128).with_fit(Fit::Crop(CropAnchor::Center));
    let (prepared, reference) = both_ways(&rgb_jpeg(1024, 512), &crop);
    assert!(!was_reduced(&prepared), "{}", prepared.report);
    assert_eq!(prepared.image, reference);
}

/// Prepares a `width`x`height` JPEG to `output` and checks the size the
/// report says it was decoded at, and the result against the full decode.
fn assert_decoded_at(width: u16, height: u16, output: (u32, u32), decoded_at: &str) {
    let (prepared, reference) = both_ways(&rgb_jpeg(width, height), &target(output.0, output.1));
    let line = prepared.report.changes.iter().find(|c| c.contains("reduced scale"));
    let expected = format!("decoded the JPEG at a reduced scale ({decoded_at}) before resizing");
    assert_eq!(line, Some(&expected), "{}", prepared.report);
    assert!(psnr(&prepared.image, &reference) > 35.0);
}

#[test]
fn a_quarter_scale_that_would_leave_lanczos_less_than_half_the_reduction_is_passed_over_for_a_half() {
    // 1/4 gives 512x384 for a 400x300 output (1.28x left to Lanczos); 1/2 gives 1024x768.
    assert_decoded_at(2048, 1536, (400, 300), "1024x768");
}

#[test]
fn an_eighth_scale_is_used_when_it_leaves_lanczos_half_the_reduction() {
    // 2048x1536 at 1/8 is 256x192: twice a 128x96 output.
    assert_decoded_at(2048, 1536, (128, 96), "256x192");
}

#[test]
fn a_half_scale_is_used_with_less_margin_when_no_larger_one_leaves_twice_the_output() {
    // The 12-megapixel benchmark's shape: 4240x2832 to 1024x1024 decodes at 2120x1416.
    assert_decoded_at(1060, 708, (256, 256), "530x354");
}

#[test]
fn a_budget_the_first_png_misses_is_met_from_the_reduced_decode() {
    let budget = 60_000;
    let target = target(512, 384).with_max_bytes(budget);
    let prepared = prepare_bytes(&rgb_jpeg(1024, 768), None, &target, &DecodeLimits::default()).expect("prepare");
    assert!(was_reduced(&prepared), "{}", prepared.report);
    let attempts = &prepared.report.attempts;
    assert!(attempts.len() > 1 && !attempts[0].fits, "{attempts:?}");
    // A smaller size was tried: the pixels the streamed first PNG did not keep were decoded again.
    assert!(attempts.iter().any(|a| a.size != attempts[0].size), "{attempts:?}");
    assert!(prepared.image_bytes.len() as u64 <= budget, "{}", prepared.report);
    let decoded = image::load_from_memory(&prepared.image_bytes)
        .expect("the file decodes")
        .into_rgba8();
    assert!(decoded == prepared.image, "the file holds the reported pixels");
}
