//! Prepare: sizes, fits, byte budgets, reports, and a mask that stays aligned with its image.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use msgflux_core::{Capabilities, DecodeLimits, ImageFormat, LoadedImage, MaskConvention, Size, SizeRule};
use msgflux_image::{
    CropAnchor, EncodeSetting, Fit, Mask, PadFill, PngLevel, PrepareTarget, Rect, TargetSize, decode, prepare,
    prepare_bytes, prepare_loaded,
};

fn asset(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../assets/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample photo")
}

fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut buf = Vec::new();
    img.write_to(&mut Cursor::new(&mut buf), format).expect("encode");
    buf
}

fn dalle2() -> Capabilities {
    Capabilities::new()
        .with_max_images(1)
        .with_input_formats([ImageFormat::Png])
        .with_max_input_bytes(4 * 1024 * 1024)
        .with_square_input(true)
        .with_mask_requires_alpha(true)
        .with_sizes(SizeRule::OneOf(vec![
            Size::square(256),
            Size::square(512),
            Size::square(1024),
        ]))
}

/// A dark image with a bright rectangle exactly where the mask edits.
fn marked_pair(size: Size, rect: Rect) -> (DynamicImage, Mask) {
    let img = RgbImage::from_fn(size.width, size.height, |x, y| {
        if rect.contains(x, y) {
            Rgb([250, 250, 250])
        } else {
            Rgb([5, 5, 5])
        }
    });
    (
        DynamicImage::ImageRgb8(img),
        Mask::rectangle(size.width, size.height, rect),
    )
}

fn bright_box(img: &RgbaImage) -> Option<Rect> {
    let gray = GrayImage::from_fn(img.width(), img.height(), |x, y| {
        Luma([if img.get_pixel(x, y)[0] > 127 { 255 } else { 0 }])
    });
    Mask::from_strength(gray).bounding_box()
}

fn half_box(mask: &Mask) -> Option<Rect> {
    let gray = GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        Luma([if mask.get(x, y) > 127 { 255 } else { 0 }])
    });
    Mask::from_strength(gray).bounding_box()
}

fn assert_close(a: Rect, b: Rect) {
    let near = |p: u32, q: u32| p.abs_diff(q) <= 1;
    assert!(
        near(a.x, b.x) && near(a.y, b.y) && near(a.right(), b.right()) && near(a.bottom(), b.bottom()),
        "{a} vs {b}"
    );
}

#[test]
fn prepare_keeps_the_mask_aligned_with_the_image_in_every_fit() {
    let size = Size::new(400, 300);
    let rect = Rect::new(250, 40, 100, 60);
    let (img, mask) = marked_pair(size, rect);
    for fit in [
        Fit::Stretch,
        Fit::Pad(PadFill::Transparent),
        Fit::Pad(PadFill::Edge),
        Fit::Crop(CropAnchor::Center),
        Fit::Crop(CropAnchor::Mask),
    ] {
        let target = PrepareTarget::new().with_size(Size::square(256)).with_fit(fit);
        let prepared = prepare(&img, Some(&mask), &target).expect("prepare");
        let placed_mask = prepared.mask.as_ref().expect("mask");
        assert_eq!(placed_mask.size(), Size::square(256), "{fit}");
        let image_box = bright_box(&prepared.image).expect("bright area kept");
        let mask_box = half_box(placed_mask).expect("mask kept");
        assert_close(image_box, mask_box);
    }
}

#[test]
fn crop_around_the_mask_keeps_an_edit_area_that_a_center_crop_would_cut() {
    let (img, mask) = marked_pair(Size::new(600, 200), Rect::new(540, 80, 40, 40));
    let center = prepare(
        &img,
        Some(&mask),
        &PrepareTarget::new()
            .with_size(Size::square(100))
            .with_fit(Fit::Crop(CropAnchor::Center)),
    )
    .expect("prepare");
    assert!(center.mask.expect("mask").is_empty());
    let around = prepare(
        &img,
        Some(&mask),
        &PrepareTarget::new()
            .with_size(Size::square(100))
            .with_fit(Fit::Crop(CropAnchor::Mask)),
    )
    .expect("prepare");
    assert!(!around.mask.expect("mask").is_empty());
}

#[test]
fn transparent_padding_is_transparent_and_the_mask_keeps_it() {
    let (img, mask) = marked_pair(Size::new(200, 100), Rect::new(0, 0, 200, 100));
    let target = PrepareTarget::new()
        .with_size(Size::square(100))
        .with_fit(Fit::Pad(PadFill::Transparent));
    let prepared = prepare(&img, Some(&mask), &target).expect("prepare");
    assert_eq!(prepared.image.get_pixel(50, 5)[3], 0);
    assert_eq!(prepared.image.get_pixel(50, 50)[3], 255);
    let placed = prepared.mask.expect("mask");
    assert_eq!(placed.get(50, 5), 0);
    assert_eq!(placed.get(50, 50), 255);
}

#[test]
fn the_dall_e_2_recipe_makes_a_1024_rgba_png_under_4_mb_from_a_real_photo() {
    let jpeg = asset("rocket.jpg");
    let image = LoadedImage::from_bytes(jpeg.clone(), Some("rocket.jpg".into()), "image").expect("load");
    let target = PrepareTarget::from_capabilities(&dalle2(), None);
    let prepared = prepare_loaded(&image, None, &target).expect("prepare");
    assert_eq!((prepared.image.width, prepared.image.height), (1024, 1024));
    assert_eq!(prepared.image.format, ImageFormat::Png);
    assert!(prepared.image.has_alpha);
    assert!(prepared.image.bytes.len() < 4 * 1024 * 1024);
    assert_eq!(prepared.image.filename, "rocket.png");
    let report = prepared.report;
    assert_eq!(report.original.format, Some(ImageFormat::Jpeg));
    assert_eq!(report.original.bytes, Some(jpeg.len() as u64));
    assert!(
        report.changes.iter().any(|c| c.contains("converted JPEG to PNG")),
        "{report}"
    );
    assert!(report.changes.iter().any(|c| c.contains("to 1024x1024")), "{report}");
}

#[test]
fn the_prepared_mask_of_a_provider_request_is_a_transparent_png_of_the_same_size() {
    let photo = asset("chelsea.png");
    let decoded = decode(&photo, &DecodeLimits::default(), "image").expect("decode");
    let (w, h) = (decoded.image.width(), decoded.image.height());
    let mask = Mask::rectangle(w, h, Rect::new(w / 4, h / 4, w / 2, h / 2));
    let mask_png = mask.to_png(MaskConvention::TransparentIsEdit).expect("mask");
    let image = LoadedImage::from_bytes(photo, Some("chelsea.png".into()), "image").expect("load");
    let mask = LoadedImage::from_bytes(mask_png, Some("mask.png".into()), "mask").expect("load");
    let prepared =
        prepare_loaded(&image, Some(&mask), &PrepareTarget::from_capabilities(&dalle2(), None)).expect("prepare");
    let mask = prepared.mask.expect("mask");
    assert_eq!((mask.width, mask.height), (prepared.image.width, prepared.image.height));
    assert!(mask.has_alpha);
    let alpha = decode(&mask.bytes, &DecodeLimits::default(), "mask")
        .expect("decode")
        .image
        .to_rgba8();
    // The middle is edited (transparent), the corners kept (opaque).
    assert_eq!(alpha.get_pixel(512, 512)[3], 0);
    assert_eq!(alpha.get_pixel(5, 5)[3], 255);
}

#[test]
fn a_budget_that_compression_cannot_meet_steps_the_size_down_and_says_so() {
    // Noise barely compresses: 512x512 RGBA noise is about 1 MB as PNG.
    let mut state = 0x2545_f491_u32;
    let noise = RgbaImage::from_fn(512, 512, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        Rgba([a, b, c, 255])
    });
    let budget = 300 * 1024;
    let target = PrepareTarget::new().with_max_bytes(budget);
    let prepared = prepare(&DynamicImage::ImageRgba8(noise), None, &target).expect("prepare");
    assert!(prepared.image_bytes.len() as u64 <= budget);
    let report = &prepared.report;
    assert!(report.prepared.size.width < 512, "{report}");
    assert_eq!(
        prepared.image.dimensions(),
        (report.prepared.size.width, report.prepared.size.height)
    );
    assert!(report.attempts.len() >= 2);
    assert!(report.attempts.last().expect("attempt").fits);
    assert!(report.attempts[..report.attempts.len() - 1].iter().all(|a| !a.fits));
    assert!(report.changes.iter().any(|c| c.contains("to fit under")), "{report}");
}

#[test]
fn compression_is_raised_before_the_size_is_reduced() {
    // Brick texture: zlib's levels beat the fast encoder by half on it (on most photos they do not).
    let photo = decode(&asset("brick.png"), &DecodeLimits::default(), "image")
        .expect("decode")
        .image;
    let fast = prepare(&photo, None, &PrepareTarget::new()).expect("fast");
    let fast_len = fast.image_bytes.len() as u64;
    // Just under what the fast level gives: a stronger level must fit at full size.
    let prepared = prepare(&photo, None, &PrepareTarget::new().with_max_bytes(fast_len - 1)).expect("prepare");
    assert_eq!(prepared.report.prepared.size, fast.report.prepared.size);
    assert_eq!(prepared.report.attempts[0].setting, EncodeSetting::Png(PngLevel::Fast));
    assert_ne!(
        prepared.report.attempts.last().expect("attempt").setting,
        EncodeSetting::Png(PngLevel::Fast)
    );
}

#[test]
fn an_input_that_already_fits_is_passed_through_byte_for_byte() {
    let png = encode(
        &DynamicImage::ImageRgba8(RgbaImage::from_pixel(256, 256, Rgba([9, 8, 7, 255]))),
        image::ImageFormat::Png,
    );
    let target = PrepareTarget::new()
        .with_size(Size::square(256))
        .with_max_bytes(4 << 20);
    let prepared = prepare_bytes(&png, None, &target, &DecodeLimits::default()).expect("prepare");
    assert!(prepared.report.unchanged(), "{}", prepared.report);
    assert_eq!(prepared.image_bytes, png);
}

#[test]
fn a_mask_of_another_size_is_refused_naming_both_sizes() {
    let img = DynamicImage::ImageRgb8(RgbImage::new(1024, 768));
    let mask = Mask::keep_all(512, 512);
    let err = prepare(&img, Some(&mask), &PrepareTarget::new()).expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "invalid mask: mask is 512x512 but image is 1024x768; they must be the same size"
    );
}

#[test]
fn a_budget_too_small_for_any_allowed_size_is_a_clear_error() {
    let photo = decode(&asset("astronaut.png"), &DecodeLimits::default(), "image")
        .expect("decode")
        .image;
    let target = PrepareTarget::new().with_max_bytes(1000).with_min_side(256);
    let err = prepare(&photo, None, &target).expect_err("too small");
    let text = err.to_string();
    assert!(
        text.contains("cannot be encoded under") && text.contains("256 px"),
        "{text}"
    );
}

#[test]
fn jpeg_output_steps_quality_down() {
    let photo = decode(&asset("chelsea.png"), &DecodeLimits::default(), "image")
        .expect("decode")
        .image;
    let target = PrepareTarget::new()
        .with_format(ImageFormat::Jpeg)
        .with_max_bytes(20 * 1024);
    let prepared = prepare(&photo, None, &target).expect("prepare");
    assert_eq!(prepared.format, ImageFormat::Jpeg);
    assert!(prepared.image_bytes.starts_with(&[0xff, 0xd8]));
    assert!(prepared.image_bytes.len() <= 20 * 1024);
}

#[test]
fn models_without_square_inputs_keep_the_shape_under_their_largest_side() {
    let caps = Capabilities::new().with_sizes(SizeRule::OneOf(vec![
        Size::square(1024),
        Size::new(1536, 1024),
        Size::new(1024, 1536),
    ]));
    let target = PrepareTarget::from_capabilities(&caps, None);
    assert_eq!(target.size, TargetSize::MaxSide(1536));
    assert_eq!(target.canvas_for(Size::new(4000, 3000)), Size::new(1536, 1152));
    assert_eq!(target.canvas_for(Size::new(800, 600)), Size::new(800, 600));
}

#[test]
fn a_requested_square_size_wins_over_the_largest() {
    let target = PrepareTarget::from_capabilities(&dalle2(), Some(Size::square(512)));
    assert_eq!(target.size, TargetSize::Exact(Size::square(512)));
}

#[test]
fn the_report_serializes_for_response_metadata() {
    let (img, _) = marked_pair(Size::new(40, 30), Rect::new(1, 1, 2, 2));
    let prepared = prepare(&img, None, &PrepareTarget::new().with_size(Size::square(32))).expect("prepare");
    let json = serde_json::to_value(&prepared.report).expect("json");
    assert_eq!(json["prepared"]["size"]["width"], 32);
    assert_eq!(json["fit"], "stretch");
}

/// The pixels prepare scales for `target` as PNG (encoded band by band while
/// scaling) and as JPEG (scaled whole, then encoded), and the PNG file's own pixels.
fn png_and_jpeg_pixels(source: &DynamicImage, size: Size) -> (RgbaImage, RgbaImage, RgbaImage) {
    let target = PrepareTarget::new().with_size(size);
    let png = prepare(source, None, &target).unwrap();
    let jpeg = prepare(source, None, &target.with_format(ImageFormat::Jpeg)).unwrap();
    let file = image::load_from_memory(&png.image_bytes).unwrap().to_rgba8();
    (png.image, jpeg.image, file)
}

#[test]
fn the_png_encoded_while_scaling_holds_the_same_pixels_as_scaling_the_whole_image() {
    let photo = image::load_from_memory(&asset("rocket.jpg")).unwrap();
    // 203 rows: the last band is shorter than the others.
    let (banded, whole, file) = png_and_jpeg_pixels(&photo, Size::new(301, 203));
    assert_eq!(banded, whole);
    assert_eq!(file, banded);
}

#[test]
fn an_rgba_source_encoded_while_scaling_keeps_its_alpha_exactly_as_a_whole_scale() {
    let photo = image::load_from_memory(&asset("rocket.jpg")).unwrap().to_rgba8();
    let with_alpha = RgbaImage::from_fn(photo.width(), photo.height(), |x, y| {
        let Rgba([r, g, b, _]) = *photo.get_pixel(x, y);
        Rgba([r, g, b, ((x + y) % 256) as u8])
    });
    let (banded, whole, file) = png_and_jpeg_pixels(&DynamicImage::ImageRgba8(with_alpha), Size::new(256, 170));
    assert_eq!(banded, whole);
    assert_eq!(file, banded);
}
