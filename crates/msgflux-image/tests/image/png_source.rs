//! A PNG resized to a PNG is scaled band by band as its rows are decoded
//! (holding a window of rows, not the decoded image): from the caller's
//! side, the result is the whole-image path's, byte for byte.

use image::{DynamicImage, Rgba, RgbaImage};
use msgflux_core::{DecodeLimits, Size};
use msgflux_image::{PrepareTarget, Prepared, decode, prepare, prepare_bytes};

use crate::exif_orientation;

fn noise(width: u32, height: u32, alpha: bool) -> RgbaImage {
    let mut state = 0x2545_f491_u32;
    RgbaImage::from_fn(width, height, |x, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, d] = state.to_le_bytes();
        // Noise over a gradient, so the fill is neither flat nor random.
        let ramp = (x / 4 % 128) as u8;
        Rgba([a / 4 + ramp, b / 4 + ramp, c / 4, if alpha { d } else { 255 }])
    })
}

fn png(image: DynamicImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("png");
    bytes
}

/// Prepared from the file's bytes and from its decoded pixels.
fn both_ways(bytes: &[u8], target: &PrepareTarget) -> (Prepared, Prepared) {
    let limits = DecodeLimits::default();
    let from_bytes = prepare_bytes(bytes, None, target, &limits).expect("prepare the bytes");
    let decoded = decode(bytes, &limits, "image").expect("decode");
    (
        from_bytes,
        prepare(&decoded.image, None, target).expect("prepare the pixels"),
    )
}

#[test]
fn an_rgb_png_prepared_from_its_bytes_is_the_file_prepared_from_its_pixels() {
    let rgb = DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(noise(640, 480, false)).into_rgb8());
    let (streamed, whole) = both_ways(&png(rgb), &PrepareTarget::new().with_size(Size::new(320, 200)));
    assert!(streamed.image == whole.image);
    assert!(streamed.image_bytes == whole.image_bytes);
    assert_eq!(streamed.report.changes, whole.report.changes);
    assert!(!streamed.report.original.has_alpha);
}

#[test]
fn an_rgba_png_keeps_its_alpha_as_the_whole_image_path_does() {
    let bytes = png(DynamicImage::ImageRgba8(noise(500, 333, true)));
    let (streamed, whole) = both_ways(&bytes, &PrepareTarget::new().with_size(Size::new(256, 170)));
    assert!(streamed.image == whole.image);
    assert!(streamed.image_bytes == whole.image_bytes);
    assert!(streamed.report.original.has_alpha);
}

#[test]
fn a_budget_the_first_png_of_a_png_source_misses_decodes_it_again_and_is_met() {
    let bytes = png(DynamicImage::ImageRgba8(noise(800, 800, false)));
    let budget = 150_000;
    let target = PrepareTarget::new()
        .with_size(Size::new(512, 512))
        .with_max_bytes(budget);
    let prepared = prepare_bytes(&bytes, None, &target, &DecodeLimits::default()).expect("prepare");
    let attempts = &prepared.report.attempts;
    assert!(
        !attempts[0].fits && attempts.iter().any(|a| a.size != attempts[0].size),
        "{attempts:?}"
    );
    assert!(prepared.image_bytes.len() as u64 <= budget, "{}", prepared.report);
    let file = image::load_from_memory(&prepared.image_bytes)
        .expect("decodes")
        .into_rgba8();
    assert!(file == prepared.image, "the file holds the reported pixels");
}

#[test]
fn a_png_already_the_canvas_size_still_passes_through_untouched() {
    let bytes = png(DynamicImage::ImageRgba8(noise(256, 256, true)));
    let target = PrepareTarget::new().with_size(Size::new(256, 256));
    let prepared = prepare_bytes(&bytes, None, &target, &DecodeLimits::default()).expect("prepare");
    assert_eq!(prepared.image_bytes, bytes);
}

#[test]
fn a_png_with_an_exif_orientation_is_turned_upright_before_resizing() {
    let mut encoded = Vec::new();
    let image = DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(noise(300, 200, false)).into_rgb8());
    let mut encoder = image::codecs::png::PngEncoder::new(&mut encoded);
    // Orientation 6: stored 300x200, shown 200x300.
    image::ImageEncoder::set_exif_metadata(&mut encoder, exif_orientation(6)[6..].to_vec()).expect("exif");
    image.write_with_encoder(encoder).expect("png");
    let target = PrepareTarget::new().with_size(Size::new(100, 150));
    let (from_bytes, reference) = both_ways(&encoded, &target);
    assert_eq!(
        from_bytes.report.original.size,
        Size::new(200, 300),
        "{}",
        from_bytes.report
    );
    assert!(from_bytes.image == reference.image);
}
