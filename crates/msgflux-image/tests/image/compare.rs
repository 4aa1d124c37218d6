//! The before/after view, the heatmap and the leak report.

use image::{DynamicImage, Rgb, RgbImage, Rgba};
use msgflux_core::DecodeLimits;
use msgflux_image::{CompareOptions, Mask, Overlay, Rect, decode, difference_heatmap, leak_report, side_by_side};

fn photo(name: &str) -> DynamicImage {
    let bytes = std::fs::read(format!("{}/../../assets/{name}", env!("CARGO_MANIFEST_DIR"))).expect("photo");
    decode(&bytes, &DecodeLimits::default(), name).expect("decode").image
}

#[test]
fn images_of_different_sizes_are_shown_at_one_height() {
    let before = photo("astronaut.png");
    let after = photo("chelsea.png");
    let view = side_by_side(&[&before, &after], &CompareOptions::new().with_gap(0)).expect("view");
    let h = before.height().min(after.height());
    assert_eq!(view.height(), h);
    let expected_w = |img: &DynamicImage| (img.width() as f64 * h as f64 / img.height() as f64).round() as u32;
    assert_eq!(view.width(), expected_w(&before) + expected_w(&after));
}

#[test]
fn labels_add_a_band_with_ink_above_the_panels() {
    let a = DynamicImage::ImageRgb8(RgbImage::from_pixel(100, 100, Rgb([0, 0, 255])));
    let plain = side_by_side(&[&a, &a], &CompareOptions::new()).expect("view");
    let labelled = side_by_side(&[&a, &a], &CompareOptions::new().with_labels(["before", "after"])).expect("view");
    assert!(labelled.height() > plain.height());
    let band = labelled.height() - plain.height();
    let ink = (0..labelled.width())
        .flat_map(|x| (0..band + 8).map(move |y| (x, y)))
        .filter(|&(x, y)| labelled.get_pixel(x, y)[0] < 100 && labelled.get_pixel(x, y)[2] < 100)
        .count();
    assert!(ink > 20, "no label text drawn");
}

#[test]
fn an_outline_is_drawn_on_the_edge_of_the_mask_only() {
    let a = DynamicImage::ImageRgb8(RgbImage::from_pixel(50, 50, Rgb([0, 0, 0])));
    let mask = Mask::rectangle(50, 50, Rect::new(10, 10, 20, 20));
    let options = CompareOptions::new().with_gap(0).with_overlay(mask, Overlay::OUTLINE);
    let view = side_by_side(&[&a], &options).expect("view");
    let magenta = Rgba([255, 0, 255, 255]);
    assert_eq!(*view.get_pixel(10, 15), magenta);
    assert_eq!(*view.get_pixel(11, 15), magenta);
    assert_ne!(*view.get_pixel(20, 20), magenta);
    assert_ne!(*view.get_pixel(9, 15), magenta);
}

#[test]
fn a_tint_colours_the_mask_area() {
    let a = DynamicImage::ImageRgb8(RgbImage::from_pixel(20, 20, Rgb([0, 0, 0])));
    let options = CompareOptions::new()
        .with_gap(0)
        .with_overlay(Mask::rectangle(20, 20, Rect::new(0, 0, 10, 20)), Overlay::TINT);
    let view = side_by_side(&[&a], &options).expect("view");
    assert!(view.get_pixel(5, 5)[0] > 90);
    assert_eq!(view.get_pixel(15, 5)[0], 0);
}

#[test]
fn an_overlay_mask_of_another_size_is_refused() {
    let a = DynamicImage::ImageRgb8(RgbImage::new(20, 20));
    let options = CompareOptions::new().with_overlay(Mask::keep_all(10, 10), Overlay::TINT);
    let err = side_by_side(&[&a], &options).expect_err("size");
    assert!(
        err.to_string().contains("10x10") && err.to_string().contains("20x20"),
        "{err}"
    );
}

#[test]
fn the_heatmap_is_black_where_nothing_changed_and_bright_where_much_did() {
    let before = photo("coffee.png");
    let mut after = before.to_rgb8();
    for y in 0..50 {
        for x in 0..50 {
            after.put_pixel(x, y, Rgb([255, 255, 255]));
        }
    }
    let heat = difference_heatmap(&before, &DynamicImage::ImageRgb8(after)).expect("heatmap");
    assert_eq!(heat.get_pixel(300, 300).0, [0, 0, 0, 255]);
    assert!(heat.get_pixel(10, 10)[0] > 150);
}

#[test]
fn the_leak_report_counts_changes_outside_the_mask_beyond_the_threshold() {
    let before = DynamicImage::ImageRgb8(RgbImage::from_pixel(10, 10, Rgb([100, 100, 100])));
    let mut after = before.to_rgb8();
    // Inside the mask (left half): big changes, which are fine.
    for y in 0..10 {
        for x in 0..5 {
            after.put_pixel(x, y, Rgb([0, 0, 0]));
        }
    }
    // Outside: 5 pixels by 30 levels (a leak), 5 by 2 levels (noise under the threshold).
    for x in 5..10 {
        after.put_pixel(x, 0, Rgb([130, 100, 100]));
        after.put_pixel(x, 1, Rgb([102, 100, 100]));
    }
    let mask = Mask::rectangle(10, 10, Rect::new(0, 0, 5, 10));
    let report = leak_report(&before, &DynamicImage::ImageRgb8(after), &mask, 8).expect("report");
    assert_eq!(report.outside_pixels, 50);
    assert_eq!(report.changed_outside, 5);
    assert!((report.changed_fraction - 0.1).abs() < 1e-12);
    assert!((report.mean_change_outside - (5.0 * 30.0 + 5.0 * 2.0) / 50.0).abs() < 1e-12);
    assert_eq!(report.max_change_outside, 30);
    assert_eq!(report.mean_change_inside, 100.0);
    assert!(
        report
            .to_string()
            .starts_with("10.00% of the 50 pixels outside the mask"),
        "{report}"
    );
}

#[test]
fn the_leak_report_refuses_results_of_another_size_with_advice() {
    let a = DynamicImage::ImageRgb8(RgbImage::new(40, 30));
    let b = DynamicImage::ImageRgb8(RgbImage::new(32, 32));
    let err = leak_report(&a, &b, &Mask::keep_all(40, 30), 8).expect_err("size");
    assert!(err.to_string().contains("after is 32x32 but before is 40x30"), "{err}");
}
