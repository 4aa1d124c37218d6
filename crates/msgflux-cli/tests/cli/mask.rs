//! `msgflux mask`.

use std::path::Path;

use crate::common::{code, json, msgflux, stderr, stdout, write_photo};

fn alpha(path: &Path, x: u32, y: u32) -> u8 {
    image::open(path).expect("mask decodes").to_rgba8().get_pixel(x, y)[3]
}

#[test]
fn a_rectangle_mask_is_transparent_where_it_edits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args(["mask", "rect", "10", "20", "30", "40", "--size", "100x80", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), out.display().to_string());
    let mask = image::open(&out).expect("decodes");
    assert_eq!((mask.width(), mask.height()), (100, 80));
    assert_eq!(alpha(&out, 15, 30), 0);
    assert_eq!(alpha(&out, 5, 5), 255);
}

#[test]
fn like_takes_the_size_of_an_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("photo.png");
    write_photo(&photo, 48, 36);
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args(["mask", "ellipse", "8", "8", "20", "12", "--like"])
        .arg(&photo)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mask = image::open(&out).expect("decodes");
    assert_eq!((mask.width(), mask.height()), (48, 36));
    assert_eq!(alpha(&out, 18, 14), 0);
}

#[test]
fn the_white_convention_writes_white_where_it_edits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args([
            "mask",
            "polygon",
            "0,0",
            "40,0",
            "0,40",
            "--size",
            "40x40",
            "--convention",
            "white",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let luma = image::open(&out).expect("decodes").to_luma8();
    assert_eq!(luma.get_pixel(5, 5)[0], 255);
    assert_eq!(luma.get_pixel(35, 35)[0], 0);
}

#[test]
fn invert_edits_everything_but_the_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args([
            "mask", "rect", "0", "0", "10", "10", "--size", "20x20", "--invert", "-o",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(alpha(&out, 5, 5), 255);
    assert_eq!(alpha(&out, 15, 15), 0);
}

#[test]
fn feather_softens_the_edge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args([
            "mask",
            "rect",
            "16",
            "16",
            "32",
            "32",
            "--size",
            "64x64",
            "--feather",
            "4",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let edge = alpha(&out, 16, 32);
    assert!(edge > 30 && edge < 225, "edge alpha {edge}");
}

#[test]
fn a_stroke_paints_along_its_points() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args([
            "--json", "mask", "stroke", "2,10", "60,10", "--radius", "3", "--size", "64x20", "-o",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(alpha(&out, 30, 10), 0);
    assert_eq!(alpha(&out, 30, 18), 255);
    let doc = json(&output);
    assert_eq!(doc["width"], 64);
    assert!(doc["edit_fraction"].as_f64().expect("fraction") > 0.1);
}

#[test]
fn threshold_edits_the_bright_pixels_of_an_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drawing = dir.path().join("drawing.png");
    image::GrayImage::from_fn(20, 10, |x, _| image::Luma([if x < 10 { 0 } else { 255 }]))
        .save(&drawing)
        .expect("drawing");
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args(["mask", "threshold"])
        .arg(&drawing)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(alpha(&out, 15, 5), 0);
    assert_eq!(alpha(&out, 5, 5), 255);
}

#[test]
fn a_shape_outside_the_canvas_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mask.png");
    let output = msgflux()
        .args(["mask", "rect", "200", "200", "10", "10", "--size", "100x100", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("edits no pixel"), "{}", stderr(&output));
    assert!(!out.exists());
}

#[test]
fn a_mask_needs_a_size_or_an_image() {
    let output = msgflux()
        .args(["mask", "rect", "0", "0", "5", "5", "-o", "m.png"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--size"), "{}", stderr(&output));
}

#[test]
fn a_polygon_needs_three_points() {
    let output = msgflux()
        .args(["mask", "polygon", "0,0", "5,5", "--size", "10x10", "-o", "m.png"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
}

#[test]
fn a_bad_point_names_the_rule() {
    let output = msgflux()
        .args(["mask", "stroke", "5;5", "--size", "10x10", "-o", "m.png"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("expected a point X,Y"), "{}", stderr(&output));
}
