//! Composite-back and crop-to-mask: only the masked area changes, and an edit
//! made on a small crop lands at the right place in the full-size photo.

use image::{DynamicImage, Rgba, RgbaImage};
use msgflux_core::{DecodeLimits, Size};
use msgflux_image::{
    Fit, Mask, PadFill, PrepareTarget, Rect, Stroke, composite_back, crop_to_mask, decode, leak_report, prepare,
};

use crate::psnr;

fn photo(name: &str) -> DynamicImage {
    let bytes = std::fs::read(format!("{}/../../assets/{name}", env!("CARGO_MANIFEST_DIR"))).expect("photo");
    decode(&bytes, &DecodeLimits::default(), name).expect("decode").image
}

/// A provider stand-in: repaints everything it is given (it does not respect the mask).
fn repaint_everything(img: &RgbaImage) -> DynamicImage {
    DynamicImage::ImageRgba8(RgbaImage::from_fn(img.width(), img.height(), |x, y| {
        Rgba([255, (x % 256) as u8, (y % 256) as u8, 255])
    }))
}

#[test]
fn composite_back_leaves_every_pixel_outside_the_mask_identical() {
    let original = photo("astronaut.png");
    let (w, h) = (original.width(), original.height());
    let mask = Mask::ellipse(w, h, Rect::new(w / 4, h / 5, w / 3, h / 2))
        .union(&Mask::strokes(
            w,
            h,
            &[Stroke::new(vec![(10.0, 10.0), (200.0, 400.0)], 6.0)],
        ))
        .expect("union")
        .feather(4.0);
    let prepared = prepare(
        &original,
        Some(&mask),
        &PrepareTarget::new().with_size(Size::square(256)),
    )
    .expect("prepare");
    let answer = repaint_everything(&prepared.image);
    let out = composite_back(&original, &answer, &mask, Some(&prepared.report.placement), 3.0).expect("composite");
    let before = original.to_rgba8();
    let mut outside = 0;
    for (x, y, p) in out.enumerate_pixels() {
        if mask.get(x, y) == 0 {
            outside += 1;
            assert_eq!(p, before.get_pixel(x, y), "({x}, {y}) changed outside the mask");
        }
    }
    assert!(outside > 0);
    let report = leak_report(&original, &DynamicImage::ImageRgba8(out.clone()), &mask, 0).expect("leak");
    assert!(report.is_clean(), "{report}");
    // And the inside did take the edit: the centre of the ellipse is the provider's red.
    assert!(out.get_pixel(w / 4 + w / 6, h / 5 + h / 4)[0] > 240);
}

#[test]
fn composite_back_undoes_a_pad_fit() {
    let original = photo("chelsea.png");
    let (w, h) = (original.width(), original.height());
    let mask = Mask::rectangle(w, h, Rect::new(0, 0, w, h));
    let target = PrepareTarget::new()
        .with_size(Size::square(300))
        .with_fit(Fit::Pad(PadFill::Edge));
    let prepared = prepare(&original, Some(&mask), &target).expect("prepare");
    // The provider returns its input unchanged: bringing it back must give the original, blurred only by scaling.
    let answer = DynamicImage::ImageRgba8(prepared.image.clone());
    let out = composite_back(&original, &answer, &mask, Some(&prepared.report.placement), 0.0).expect("composite");
    let psnr = psnr(&original.to_rgba8(), &out);
    assert!(psnr > 25.0, "PSNR {psnr:.1} dB: the padding was not cut away");
}

#[test]
fn a_hard_composite_takes_the_result_exactly_inside_the_mask() {
    let original = DynamicImage::ImageRgba8(RgbaImage::from_pixel(64, 64, Rgba([1, 2, 3, 255])));
    let result = DynamicImage::ImageRgba8(RgbaImage::from_pixel(64, 64, Rgba([200, 100, 50, 255])));
    let mask = Mask::rectangle(64, 64, Rect::new(10, 10, 20, 20));
    let out = composite_back(&original, &result, &mask, None, 0.0).expect("composite");
    assert_eq!(out.get_pixel(10, 10).0, [200, 100, 50, 255]);
    assert_eq!(out.get_pixel(9, 10).0, [1, 2, 3, 255]);
}

#[test]
fn the_feathered_seam_lies_inside_the_mask_and_ramps_up() {
    let original = DynamicImage::ImageRgba8(RgbaImage::from_pixel(100, 20, Rgba([0, 0, 0, 255])));
    let result = DynamicImage::ImageRgba8(RgbaImage::from_pixel(100, 20, Rgba([255, 255, 255, 255])));
    let mask = Mask::rectangle(100, 20, Rect::new(50, 0, 50, 20));
    let out = composite_back(&original, &result, &mask, None, 3.0).expect("composite");
    let row: Vec<u8> = (45..70).map(|x| out.get_pixel(x, 10)[0]).collect();
    assert!(row[..5].iter().all(|&v| v == 0), "{row:?}");
    assert!(row.windows(2).all(|w| w[0] <= w[1]), "not a ramp: {row:?}");
    assert!(row[5] < 40 && *row.last().expect("last") > 240, "{row:?}");
}

#[test]
fn crop_to_mask_paste_back_lands_at_the_right_place_in_a_large_photo() {
    // A 3000x2000 photo (the rocket, scaled up) with a small edit near a corner.
    let big = photo("rocket.jpg").resize_exact(3000, 2000, image::imageops::FilterType::Triangle);
    let area = Rect::new(2600, 150, 220, 160);
    let mask = Mask::rectangle(3000, 2000, area);
    let crop = crop_to_mask(&big, &mask, Size::square(512), 0.25).expect("crop");
    assert_eq!(crop.image.dimensions(), (512, 512));
    let region = crop.placement.source;
    assert!(
        region.x <= area.x && region.right() >= area.right() && region.y <= area.y && region.bottom() >= area.bottom()
    );
    assert!(region.right() <= 3000 && region.bottom() <= 2000);
    // The provider paints pure green exactly where the crop's mask says.
    let answer = RgbaImage::from_fn(512, 512, |x, y| {
        if crop.mask.get(x, y) >= 128 {
            Rgba([0, 255, 0, 255])
        } else {
            *crop.image.get_pixel(x, y)
        }
    });
    let out = composite_back(
        &big,
        &DynamicImage::ImageRgba8(answer),
        &mask,
        Some(&crop.placement),
        0.0,
    )
    .expect("paste");
    let before = big.to_rgba8();
    let green = |p: &Rgba<u8>| p[1] > 200 && p[0] < 60 && p[2] < 60;
    // Well inside the edit area: green. Outside: untouched.
    for (x, y) in [
        (area.x + 5, area.y + 5),
        (area.right() - 6, area.bottom() - 6),
        (area.x + 110, area.y + 80),
    ] {
        assert!(green(out.get_pixel(x, y)), "({x}, {y}) = {:?}", out.get_pixel(x, y));
    }
    for (x, y, p) in out.enumerate_pixels() {
        if !area.contains(x, y) {
            assert_eq!(p, before.get_pixel(x, y), "({x}, {y})");
        }
    }
}

#[test]
fn crop_to_mask_near_a_narrow_photo_edge_pads_instead_of_failing() {
    let wide = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(2000, 300, image::Rgb([40, 50, 60])));
    let mask = Mask::rectangle(2000, 300, Rect::new(100, 0, 1200, 300));
    let crop = crop_to_mask(&wide, &mask, Size::square(256), 0.1).expect("crop");
    assert_eq!(crop.image.dimensions(), (256, 256));
    assert!(crop.placement.source.height <= 300);
    assert!(crop.placement.dest.height < 256, "{}", crop.placement);
    // Edge padding repeats the photo, it does not add transparent (editable) pixels.
    assert_eq!(crop.image.get_pixel(128, 0)[3], 255);
}

#[test]
fn crop_to_mask_refuses_an_empty_mask() {
    let img = DynamicImage::ImageRgb8(image::RgbImage::new(100, 100));
    let err = crop_to_mask(&img, &Mask::keep_all(100, 100), Size::square(64), 0.2).expect_err("empty");
    assert!(err.to_string().contains("edits nothing"), "{err}");
}
