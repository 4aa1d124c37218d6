//! Hostile and unusual files, generated here: each gets the right result or a
//! clear typed error, and nothing panics.

use std::io::Cursor;

use image::{DynamicImage, GrayAlphaImage, GrayImage, ImageBuffer, LumaA, Rgb, RgbImage, Rgba, RgbaImage};
use msgflux_core::{DecodeLimits, Error, ImageFormat, MaskConvention, Size};
use msgflux_image::{Mask, Orientation, PrepareTarget, convert_mask, decode, decode_file, prepare_bytes};

use crate::exif_orientation;

fn asset(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../assets/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample photo")
}

fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut buf = Vec::new();
    img.write_to(&mut Cursor::new(&mut buf), format).expect("encode");
    buf
}

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

fn dalle2_target() -> PrepareTarget {
    PrepareTarget::new()
        .with_size(Size::square(1024))
        .with_max_bytes(4 * 1024 * 1024)
}

// ---- hand-made files -------------------------------------------------------

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A PNG whose header claims `width x height` RGBA pixels of `depth` bits, with a tiny (wrong) IDAT.
fn png_header_only(width: u32, height: u32, depth: u8) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, 6, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of a few zero bytes.
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A 40x20 JPEG, red on the left half and blue on the right, tagged with an EXIF orientation.
fn rotated_jpeg(orientation: u16) -> Vec<u8> {
    let (w, h) = (40u16, 20u16);
    let mut pixels = Vec::new();
    for _ in 0..h {
        for x in 0..w {
            pixels.extend_from_slice(if x < w / 2 { &[255, 0, 0] } else { &[0, 0, 255] });
        }
    }
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 95);
    encoder.add_app_segment(1, exif_orientation(orientation)).expect("app1");
    encoder
        .encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("jpeg");
    out
}

/// A CMYK JPEG of one ink colour, as Photoshop writes them: jpeg-encoder adds
/// the Adobe APP14 marker and stores the ink values inverted.
fn cmyk_jpeg(ink: [u8; 4]) -> Vec<u8> {
    let (w, h) = (32u16, 16u16);
    let pixels: Vec<u8> = (0..w as usize * h as usize).flat_map(|_| ink).collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&pixels, w, h, jpeg_encoder::ColorType::Cmyk)
        .expect("cmyk jpeg");
    out
}

/// A 4x2 palette PNG with a transparent entry.
fn palette_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, 4, 2);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255]);
        encoder.set_trns(vec![255, 255, 0]);
        let mut writer = encoder.write_header().expect("header");
        writer.write_image_data(&[0, 1, 2, 0, 2, 1, 0, 0]).expect("data");
    }
    out
}

fn animated_gif() -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        for color in [[255, 0, 0, 255], [0, 0, 255, 255]] {
            let frame = image::Frame::new(RgbaImage::from_pixel(12, 10, Rgba(color)));
            encoder.encode_frame(frame).expect("frame");
        }
    }
    out
}

fn assert_invalid(err: &Error, needle: &str) {
    match err {
        Error::InvalidInput { rule, .. } => assert!(rule.contains(needle), "{err}"),
        other => panic!("expected InvalidInput containing {needle:?}, got {other:?}"),
    }
}

// ---- the corpus ------------------------------------------------------------

#[test]
fn zero_bytes_are_refused_as_empty() {
    assert_invalid(&decode(&[], &limits(), "image").expect_err("empty"), "is empty");
}

#[test]
fn a_text_file_named_png_is_refused_as_not_an_image() {
    let dir = std::env::temp_dir().join(format!("msgflux-image-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("photo.png");
    std::fs::write(&path, "this is a shopping list, not a photo\n").expect("write");
    let err = decode_file(&path, &limits()).expect_err("text");
    std::fs::remove_dir_all(&dir).ok();
    assert_invalid(&err, "not a supported image");
    assert!(err.to_string().contains("photo.png"), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let err = decode_file("no/such/dir/photo.png", &limits()).expect_err("missing");
    assert!(
        err.to_string().contains("no/such/dir/photo.png") && err.to_string().contains("not found"),
        "{err}"
    );
}

#[test]
fn a_truncated_png_is_a_decode_error() {
    let png = asset("chelsea.png");
    let err = decode(&png[..png.len() / 2], &limits(), "image").expect_err("truncated");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_truncated_png_prepared_to_a_smaller_png_is_the_same_decode_error() {
    // The streamed path gives up at the missing rows; the whole decode reports them.
    let png = asset("chelsea.png");
    let err = prepare_bytes(
        &png[..png.len() / 2],
        None,
        &PrepareTarget::new().with_size(Size::new(100, 80)),
        &limits(),
    )
    .expect_err("truncated");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_png_damaged_anywhere_prepares_or_fails_with_an_error_never_a_panic() {
    let png = encode(
        &DynamicImage::ImageRgba8(image::RgbaImage::from_fn(96, 64, |x, y| {
            image::Rgba([x as u8, y as u8, (x * y) as u8, 200])
        })),
        image::ImageFormat::Png,
    );
    let target = PrepareTarget::new().with_size(Size::new(40, 30));
    for at in (0..png.len()).step_by(7) {
        let mut damaged = png.clone();
        damaged[at] ^= 0x5a;
        if let Ok(prepared) = prepare_bytes(&damaged, None, &target, &limits()) {
            assert_eq!(prepared.image.dimensions(), (40, 30), "damaged at {at}");
        }
    }
}

#[test]
fn a_png_cut_inside_its_header_is_a_decode_error() {
    let png = asset("chelsea.png");
    let err = decode(&png[..20], &limits(), "image").expect_err("truncated");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_truncated_jpeg_gives_an_error_or_the_full_size_image() {
    let jpeg = asset("rocket.jpg");
    let full = decode(&jpeg, &limits(), "image").expect("full").size();
    for cut in [jpeg.len() / 2, jpeg.len() / 10, 700] {
        match decode(&jpeg[..cut], &limits(), "image") {
            // Like Pillow with LOAD_TRUNCATED_IMAGES, a decoder may fill the missing part.
            Ok(decoded) => assert_eq!(decoded.size(), full),
            Err(err) => assert!(matches!(err, Error::Decode { .. }), "{err:?}"),
        }
    }
    let err = decode(&jpeg[..4], &limits(), "image").expect_err("tiny");
    assert!(
        matches!(err, Error::Decode { .. } | Error::InvalidInput { .. }),
        "{err:?}"
    );
}

#[test]
fn a_one_pixel_image_decodes_and_prepares() {
    let png = encode(
        &DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([9, 99, 199]))),
        image::ImageFormat::Png,
    );
    assert_eq!(
        decode(&png, &limits(), "image").expect("decode").size(),
        Size::new(1, 1)
    );
    let prepared = prepare_bytes(&png, None, &dalle2_target(), &limits()).expect("prepare");
    assert_eq!(prepared.image.dimensions(), (1024, 1024));
    assert_eq!(prepared.image.get_pixel(500, 500).0, [9, 99, 199, 255]);
}

#[test]
fn a_100000_by_100000_header_is_refused_before_decoding() {
    let err = decode(&png_header_only(100_000, 100_000, 8), &limits(), "image").expect_err("huge");
    assert_invalid(&err, "exceeds the decoding limits");
    assert!(err.to_string().contains("16384x16384"), "{err}");
}

#[test]
fn a_png_bomb_is_refused_within_tight_limits_and_decoded_within_loose_ones() {
    // 6000x6000 grey zeros: 36 MB of pixels in a file of a few tens of KB.
    let bomb = encode(
        &DynamicImage::ImageLuma8(GrayImage::new(6000, 6000)),
        image::ImageFormat::Png,
    );
    assert!(bomb.len() < 200_000, "{} bytes", bomb.len());
    let tight = DecodeLimits::new(16_384, 16 * 1024 * 1024);
    assert_invalid(
        &decode(&bomb, &tight, "image").expect_err("bomb"),
        "exceeds the decoding limits",
    );
    // Prepare, which reads a PNG row by row, refuses it the same way.
    let to_smaller = PrepareTarget::new().with_size(Size::square(512));
    assert_invalid(
        &prepare_bytes(&bomb, None, &to_smaller, &tight).expect_err("bomb"),
        "exceeds the decoding limits",
    );
    assert_eq!(
        decode(&bomb, &limits(), "image").expect("loose").size(),
        Size::square(6000)
    );
}

#[test]
fn a_header_over_the_memory_limit_is_refused_even_within_the_side_limit() {
    // 16000x16000 is within 16384 per side; RGBA with 16-bit samples makes it 2 GB of pixels.
    let err = decode(&png_header_only(16_000, 16_000, 16), &limits(), "image").expect_err("alloc");
    assert_invalid(&err, "exceeds the decoding limits");
    assert!(err.to_string().contains("2048000000 bytes"), "{err}");
}

#[test]
fn a_cmyk_jpeg_decodes_to_the_right_rgb_colour() {
    // Magenta + yellow ink, no cyan or black: red.
    let decoded = decode(&cmyk_jpeg([0, 255, 255, 0]), &limits(), "image").expect("cmyk");
    let rgb = decoded.image.to_rgb8();
    let p = rgb.get_pixel(16, 8);
    assert!(p[0] > 220 && p[1] < 40 && p[2] < 40, "{p:?}");
    // And it prepares like any photo.
    let prepared = prepare_bytes(&cmyk_jpeg([255, 0, 0, 0]), None, &dalle2_target(), &limits()).expect("prepare");
    let p = prepared.image.get_pixel(512, 512);
    assert!(
        p[0] < 40 && p[1] > 200 && p[2] > 200,
        "cyan ink should look cyan: {p:?}"
    );
}

#[test]
fn a_16_bit_png_keeps_its_values_when_prepared() {
    let img = ImageBuffer::<Rgba<u16>, Vec<u16>>::from_fn(64, 32, |x, _| Rgba([x as u16 * 1000, 65535, 0, 65535]));
    let png = encode(&DynamicImage::ImageRgba16(img), image::ImageFormat::Png);
    let decoded = decode(&png, &limits(), "image").expect("decode");
    assert_eq!(decoded.image.color(), image::ColorType::Rgba16);
    let prepared = prepare_bytes(&png, None, &PrepareTarget::new(), &limits()).expect("prepare");
    // 8-bit RGBA now, each sample the high byte (rounded) of the 16-bit one.
    let p = prepared.image.get_pixel(40, 5);
    assert_eq!(p.0, [(40_000f64 / 257.0).round() as u8, 255, 0, 255]);
    assert_eq!(prepared.report.original.format, Some(ImageFormat::Png));
    assert!(!prepared.report.unchanged());
}

#[test]
fn the_exif_orientation_of_a_jpeg_is_applied() {
    // Orientation 6: the camera was turned; display rotated 90 degrees clockwise.
    let decoded = decode(&rotated_jpeg(6), &limits(), "image").expect("decode");
    assert_eq!(decoded.orientation, Orientation::Rotate90);
    assert_eq!(decoded.size(), Size::new(20, 40));
    let rgb = decoded.image.to_rgb8();
    let (top, bottom) = (rgb.get_pixel(10, 5), rgb.get_pixel(10, 35));
    assert!(top[0] > 200 && top[2] < 60, "left half should be on top: {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "{bottom:?}");
    let prepared = prepare_bytes(&rotated_jpeg(6), None, &PrepareTarget::new(), &limits()).expect("prepare");
    assert_eq!(prepared.image.dimensions(), (20, 40));
    assert!(
        prepared.report.changes.iter().any(|c| c.contains("EXIF orientation")),
        "{}",
        prepared.report
    );
}

#[test]
fn a_broken_exif_block_does_not_make_a_photo_unreadable() {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder
        .add_app_segment(1, b"Exif\0\0II*\0\xff\xff\xff\x7f".to_vec())
        .expect("app1");
    encoder
        .encode(&[128; 8 * 8 * 3], 8, 8, jpeg_encoder::ColorType::Rgb)
        .expect("jpeg");
    let decoded = decode(&out, &limits(), "image").expect("decode");
    assert_eq!(decoded.size(), Size::square(8));
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    let decoded = decode(&animated_gif(), &limits(), "image").expect("gif");
    assert_eq!(decoded.format, ImageFormat::Gif);
    assert_eq!(decoded.size(), Size::new(12, 10));
    assert_eq!(decoded.image.to_rgba8().get_pixel(5, 5).0, [255, 0, 0, 255]);
}

#[test]
fn a_palette_png_with_transparency_decodes_to_its_colours() {
    let decoded = decode(&palette_png(), &limits(), "image").expect("palette");
    let rgba = decoded.image.to_rgba8();
    assert_eq!(rgba.get_pixel(0, 0).0, [255, 0, 0, 255]);
    assert_eq!(rgba.get_pixel(1, 0).0, [0, 255, 0, 255]);
    assert_eq!(rgba.get_pixel(2, 0)[3], 0);
    // Its transparent pixel is an edit area under the OpenAI convention.
    let mask = Mask::import(&decoded.image, MaskConvention::TransparentIsEdit, "mask").expect("mask");
    assert!(mask.is_edit(2, 0) && !mask.is_edit(0, 0));
}

#[test]
fn grey_and_grey_alpha_pngs_become_rgba() {
    let grey = encode(
        &DynamicImage::ImageLuma8(GrayImage::from_pixel(4, 4, image::Luma([77]))),
        image::ImageFormat::Png,
    );
    let prepared = prepare_bytes(&grey, None, &PrepareTarget::new(), &limits()).expect("grey");
    assert_eq!(prepared.image.get_pixel(1, 1).0, [77, 77, 77, 255]);
    let grey_alpha = encode(
        &DynamicImage::ImageLumaA8(GrayAlphaImage::from_pixel(4, 4, LumaA([200, 0]))),
        image::ImageFormat::Png,
    );
    let mask = Mask::decode(&grey_alpha, MaskConvention::TransparentIsEdit, &limits(), "mask").expect("mask");
    assert!(mask.is_full());
}

#[test]
fn webp_bmp_and_tiff_decode_to_the_same_pixels() {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(16, 8, |x, y| Rgb([x as u8 * 10, y as u8 * 20, 7])));
    for (format, ours) in [
        (image::ImageFormat::WebP, ImageFormat::Webp),
        (image::ImageFormat::Bmp, ImageFormat::Bmp),
        (image::ImageFormat::Tiff, ImageFormat::Tiff),
    ] {
        let decoded = decode(&encode(&img, format), &limits(), "image").expect("decode");
        assert_eq!(decoded.format, ours);
        assert_eq!(decoded.image.to_rgb8(), img.to_rgb8(), "{ours}");
    }
}

#[test]
fn every_sample_photo_decodes_with_its_real_size() {
    for (name, size) in [
        ("astronaut.png", Size::square(512)),
        ("brick.png", Size::square(512)),
        ("chelsea.png", Size::new(451, 300)),
        ("coffee.png", Size::new(600, 400)),
        ("grass.png", Size::square(512)),
        ("rocket.jpg", Size::new(640, 427)),
    ] {
        assert_eq!(
            decode(&asset(name), &limits(), name).expect(name).size(),
            size,
            "{name}"
        );
    }
}

/// Deterministic corruption: flip bytes of valid files of every format and
/// feed them to every entry point. Whatever happens, it is a result, not a panic.
#[test]
fn corrupted_files_of_every_format_never_panic_any_entry_point() {
    let small = DynamicImage::ImageRgba8(RgbaImage::from_fn(24, 16, |x, y| {
        Rgba([x as u8 * 9, y as u8 * 15, 99, 200])
    }));
    let mut seeds: Vec<Vec<u8>> = [
        image::ImageFormat::Png,
        image::ImageFormat::Gif,
        image::ImageFormat::Bmp,
        image::ImageFormat::Tiff,
        image::ImageFormat::WebP,
    ]
    .into_iter()
    .map(|f| encode(&small, f))
    .collect();
    seeds.push(encode(
        &DynamicImage::ImageRgb8(small.to_rgb8()),
        image::ImageFormat::Jpeg,
    ));
    seeds.push(cmyk_jpeg([10, 20, 30, 40]));
    seeds.push(rotated_jpeg(8));
    seeds.push(palette_png());
    seeds.push(animated_gif());
    let mut state = 0x9e37_79b9_u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let small_limits = DecodeLimits::new(4096, 64 * 1024 * 1024);
    let target = PrepareTarget::new().with_size(Size::square(32));
    for seed in &seeds {
        for round in 0..40 {
            let mut bytes = seed.clone();
            let flips = 1 + round % 4;
            for _ in 0..flips {
                let i = next() as usize % bytes.len();
                bytes[i] = next() as u8;
            }
            if round % 5 == 0 {
                bytes.truncate(next() as usize % bytes.len());
            }
            let _ = decode(&bytes, &small_limits, "image");
            let _ = prepare_bytes(&bytes, None, &target, &small_limits);
            let _ = Mask::decode(&bytes, MaskConvention::WhiteIsEdit, &small_limits, "mask");
            let _ = convert_mask(&bytes, MaskConvention::TransparentIsEdit, MaskConvention::WhiteIsEdit);
        }
    }
}
