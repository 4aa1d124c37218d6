//! Mask builders, operations and validation.

use image::{DynamicImage, GrayImage, Luma, Rgba, RgbaImage};
use msgflux_core::{Capabilities, MaskConvention, Size};
use msgflux_image::{Mask, MaskRules, Rect, Stroke};

#[test]
fn a_rectangle_edits_exactly_its_pixels() {
    let mask = Mask::rectangle(10, 8, Rect::new(2, 1, 3, 4));
    assert_eq!(mask.bounding_box(), Some(Rect::new(2, 1, 3, 4)));
    assert_eq!(mask.edit_fraction(), 12.0 / 80.0);
}

#[test]
fn a_circle_is_symmetric_and_has_the_area_of_a_circle() {
    let mask = Mask::ellipse(101, 101, Rect::new(0, 0, 101, 101));
    let area = mask.strength().iter().filter(|&&s| s == 255).count() as f64;
    let expected = std::f64::consts::PI * 50.5 * 50.5;
    assert!((area - expected).abs() / expected < 0.01, "{area} vs {expected}");
    for (x, y) in [(0, 50), (50, 0), (100, 50), (50, 100)] {
        assert!(mask.is_edit(x, y), "({x}, {y})");
    }
    assert!(!mask.is_edit(0, 0) && !mask.is_edit(100, 100));
}

#[test]
fn a_polygon_square_matches_the_rectangle() {
    let poly = Mask::polygon(20, 20, &[(4.0, 4.0), (14.0, 4.0), (14.0, 12.0), (4.0, 12.0)]);
    assert_eq!(poly, Mask::rectangle(20, 20, Rect::new(4, 4, 10, 8)));
}

#[test]
fn strokes_cover_the_brush_path_and_nothing_far_from_it() {
    let stroke = Stroke::new(vec![(5.5, 5.5), (45.5, 5.5), (45.5, 35.5)], 3.0);
    let mask = Mask::strokes(60, 40, &[stroke]);
    assert!(mask.is_edit(25, 5) && mask.is_edit(25, 8) && !mask.is_edit(25, 9));
    assert!(mask.is_edit(45, 20) && !mask.is_edit(40, 20));
    assert!(mask.is_edit(2, 5) && !mask.is_edit(1, 5));
}

#[test]
fn a_threshold_of_a_real_photo_edits_the_bright_part() {
    let photo = image::open(format!("{}/../../assets/coffee.png", env!("CARGO_MANIFEST_DIR"))).expect("photo");
    let mask = Mask::threshold(&photo, 200);
    let luma = photo.to_luma8();
    assert!(!mask.is_empty() && !mask.is_full());
    assert!(
        luma.enumerate_pixels()
            .all(|(x, y, p)| mask.is_edit(x, y) == (p[0] >= 200))
    );
}

#[test]
fn an_image_with_a_transparent_hole_is_its_own_mask() {
    let img = RgbaImage::from_fn(8, 8, |x, y| {
        Rgba([9, 9, 9, if (2..4).contains(&x) && y < 3 { 0 } else { 255 }])
    });
    let mask = Mask::from_alpha(&DynamicImage::ImageRgba8(img)).expect("alpha");
    assert_eq!(mask.bounding_box(), Some(Rect::new(2, 0, 2, 3)));
}

#[test]
fn invert_twice_is_the_identity_and_once_swaps_empty_and_full() {
    let mask = Mask::ellipse(30, 20, Rect::new(3, 3, 20, 10)).feather(2.0);
    assert_eq!(mask.clone().invert().invert(), mask);
    assert!(Mask::keep_all(3, 3).invert().is_full());
}

#[test]
fn dilate_grows_a_point_into_a_disc_of_that_radius() {
    let dot = Mask::rectangle(41, 41, Rect::new(20, 20, 1, 1)).dilate(10);
    for y in 0..41i32 {
        for x in 0..41i32 {
            let d2 = (x - 20).pow(2) + (y - 20).pow(2);
            assert_eq!(dot.is_edit(x as u32, y as u32), d2 <= 100, "({x}, {y})");
        }
    }
}

#[test]
fn erode_undoes_dilate_on_a_rectangle() {
    let rect = Mask::rectangle(60, 60, Rect::new(20, 20, 20, 20));
    assert_eq!(rect.clone().dilate(5).erode(5), rect);
}

#[test]
fn erode_shrinks_from_every_side_but_not_from_the_image_border() {
    let mask = Mask::rectangle(30, 30, Rect::new(0, 10, 30, 10)).erode(2);
    assert_eq!(mask.bounding_box(), Some(Rect::new(0, 12, 30, 6)));
}

#[test]
fn feather_matches_a_gaussian_profile_across_an_edge() {
    // A vertical edge at x = 100: the blurred profile is the normal CDF.
    let mask = Mask::rectangle(200, 8, Rect::new(100, 0, 100, 8)).feather(5.0);
    let cdf = |t: f64| 0.5 * (1.0 + erf(t / (5.0 * std::f64::consts::SQRT_2)));
    for x in 85..115u32 {
        let expected = 255.0 * cdf(x as f64 + 0.5 - 100.0);
        let got = mask.get(x, 4) as f64;
        assert!((got - expected).abs() <= 6.0, "x {x}: {got} vs {expected:.1}");
    }
    assert_eq!(mask.get(0, 4), 0);
    assert_eq!(mask.get(199, 4), 255);
}

/// Abramowitz-Stegun 7.1.26, accurate to 1.5e-7: enough for a test oracle.
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592)
            * t
            * (-x * x).exp();
    y.copysign(x)
}

#[test]
fn union_and_intersection_take_the_larger_and_smaller_strength() {
    let a = Mask::from_strength(GrayImage::from_fn(4, 1, |x, _| Luma([(x * 80) as u8])));
    let b = Mask::from_strength(GrayImage::from_pixel(4, 1, Luma([100])));
    let union = a.clone().union(&b).expect("union");
    let inter = a.intersection(&b).expect("intersection");
    assert_eq!(union.strength().as_raw(), &vec![100, 100, 160, 240]);
    assert_eq!(inter.strength().as_raw(), &vec![0, 80, 100, 100]);
}

#[test]
fn combining_masks_of_different_sizes_names_both() {
    let err = Mask::keep_all(4, 4).union(&Mask::keep_all(5, 4)).expect_err("sizes");
    assert!(
        err.to_string().contains("4x4") && err.to_string().contains("5x4"),
        "{err}"
    );
}

#[test]
fn validation_refuses_an_empty_mask() {
    let err = MaskRules::new()
        .check(&Mask::keep_all(8, 8), Size::square(8))
        .expect_err("empty");
    assert!(err.to_string().contains("edits nothing"), "{err}");
}

#[test]
fn validation_refuses_a_full_mask_when_the_provider_says_so() {
    let full = Mask::edit_all(8, 8);
    assert!(MaskRules::new().check(&full, Size::square(8)).is_ok());
    let err = MaskRules::new()
        .with_reject_full(true)
        .check(&full, Size::square(8))
        .expect_err("full");
    assert!(err.to_string().contains("edits every pixel"), "{err}");
}

#[test]
fn validation_for_openai_refuses_a_mask_without_alpha_naming_its_size() {
    let rules = MaskRules::from_capabilities(&Capabilities::new().with_mask_requires_alpha(true));
    let grey = DynamicImage::ImageLuma8(GrayImage::new(64, 32));
    let err = rules
        .check_image(&grey, MaskConvention::TransparentIsEdit, Size::new(64, 32))
        .expect_err("no alpha");
    assert!(err.to_string().contains("64x32 mask has no alpha channel"), "{err}");
}

#[test]
fn validation_of_a_file_names_both_sizes() {
    let png = Mask::rectangle(512, 512, Rect::new(0, 0, 9, 9))
        .to_png(MaskConvention::TransparentIsEdit)
        .expect("png");
    let err = MaskRules::new()
        .check_file(&png, MaskConvention::TransparentIsEdit, Size::new(1024, 768))
        .expect_err("size");
    assert_eq!(
        err.to_string(),
        "invalid mask: mask is 512x512 but image is 1024x768; they must be the same size"
    );
}
