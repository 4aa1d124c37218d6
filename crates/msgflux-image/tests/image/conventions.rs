//! Mask conventions: every strength survives a trip through every convention.

use image::{DynamicImage, GrayImage, Luma, Rgba, RgbaImage};
use msgflux_core::MaskConvention::{self, BlackIsEdit, TransparentIsEdit, WhiteIsEdit};
use msgflux_image::{Mask, Rect, convert_mask, decode};

const ALL: [MaskConvention; 3] = [TransparentIsEdit, WhiteIsEdit, BlackIsEdit];

/// A mask holding every strength 0..=255, so a lossy conversion cannot hide.
fn every_strength() -> Mask {
    Mask::from_strength(GrayImage::from_fn(16, 16, |x, y| Luma([(y * 16 + x) as u8])))
}

#[test]
fn every_strength_survives_export_and_import_in_every_convention() {
    let mask = every_strength();
    for convention in ALL {
        let exported = mask.export(convention);
        let back = Mask::import(&exported, convention, "mask").expect("import");
        assert_eq!(back, mask, "{convention}");
    }
}

#[test]
fn every_strength_survives_png_files_between_any_two_conventions() {
    let mask = every_strength();
    for from in ALL {
        for to in ALL {
            let source = mask.to_png(from).expect("encode");
            let converted = convert_mask(&source, from, to).expect("convert");
            let back = Mask::decode(&converted, to, &Default::default(), "mask").expect("decode");
            assert_eq!(back, mask, "{from} -> {to}");
        }
    }
}

#[test]
fn an_openai_mask_becomes_white_where_it_was_transparent() {
    // The OpenAI convention: opaque keeps, alpha 0 edits; the RGB under it does not matter.
    let openai = RgbaImage::from_fn(8, 8, |x, _| {
        if x < 4 {
            Rgba([200, 10, 10, 0])
        } else {
            Rgba([1, 2, 3, 255])
        }
    });
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(openai)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    let white = convert_mask(&png, TransparentIsEdit, WhiteIsEdit).expect("convert");
    let white = decode(&white, &Default::default(), "mask")
        .expect("decode")
        .image
        .to_luma8();
    assert!(
        white
            .enumerate_pixels()
            .all(|(x, _, p)| p[0] == if x < 4 { 255 } else { 0 })
    );
}

#[test]
fn black_is_edit_is_the_negative_of_white_is_edit() {
    let mask = Mask::rectangle(6, 6, Rect::new(1, 1, 2, 2));
    let white = mask.export(WhiteIsEdit).to_luma8();
    let black = mask.export(BlackIsEdit).to_luma8();
    assert!(white.pixels().zip(black.pixels()).all(|(w, b)| w[0] == 255 - b[0]));
}

#[test]
fn a_transparent_is_edit_mask_without_alpha_is_refused_with_its_size() {
    let rgb = DynamicImage::ImageRgb8(image::RgbImage::new(30, 20));
    let err = Mask::import(&rgb, TransparentIsEdit, "mask").expect_err("no alpha");
    let text = err.to_string();
    assert!(
        text.contains("30x20") && text.contains("without an alpha channel"),
        "{text}"
    );
}

#[test]
fn the_transparent_export_is_rgba_and_the_others_greyscale() {
    let mask = Mask::rectangle(4, 4, Rect::new(0, 0, 2, 2));
    assert!(mask.export(TransparentIsEdit).color().has_alpha());
    assert_eq!(mask.export(WhiteIsEdit).color(), image::ColorType::L8);
    assert_eq!(mask.export(BlackIsEdit).color(), image::ColorType::L8);
}
