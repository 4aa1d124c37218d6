//! `msgflux prepare`.

use crate::common::{code, json, msgflux, stderr, stdout, write_mask, write_photo};

#[test]
fn prepare_for_dall_e_2_writes_a_square_rgba_png_and_says_what_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("photo.jpg");
    image::RgbImage::from_fn(120, 80, |x, y| image::Rgb([x as u8, y as u8, 60]))
        .save(&photo)
        .expect("jpeg");
    let out = dir.path().join("ready.png");
    let output = msgflux()
        .arg("prepare")
        .arg(&photo)
        .args(["--for", "openai/dall-e-2", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let prepared = image::open(&out).expect("decodes");
    assert_eq!((prepared.width(), prepared.height()), (1024, 1024));
    assert!(prepared.color().has_alpha());
    let text = stdout(&output);
    assert!(text.contains("JPEG 120x80"), "{text}");
    assert!(text.contains("PNG 1024x1024"), "{text}");
}

#[test]
fn prepare_to_a_size_moves_the_mask_with_the_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (photo, mask) = (dir.path().join("photo.png"), dir.path().join("mask.png"));
    write_photo(&photo, 80, 40);
    write_mask(&mask, 80, 40, (0, 0, 40, 40));
    let (out, mask_out) = (dir.path().join("out.png"), dir.path().join("out-mask.png"));
    let output = msgflux()
        .arg("prepare")
        .arg(&photo)
        .arg("--mask")
        .arg(&mask)
        .args(["--size", "64x64", "--fit", "pad", "-o"])
        .arg(&out)
        .arg("--mask-out")
        .arg(&mask_out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let prepared_mask = image::open(&mask_out).expect("mask decodes").to_rgba8();
    assert_eq!(prepared_mask.dimensions(), (64, 64));
    // The 80x40 photo lands on rows 16..48; its left half is the edit area.
    assert_eq!(prepared_mask.get_pixel(10, 32)[3], 0);
    assert_eq!(prepared_mask.get_pixel(54, 32)[3], 255);
}

#[test]
fn prepare_json_reports_the_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("photo.png");
    write_photo(&photo, 40, 30);
    let out = dir.path().join("out.png");
    let output = msgflux()
        .args(["--json", "prepare"])
        .arg(&photo)
        .args(["--size", "20x15", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["unchanged"], false);
    assert_eq!(doc["report"]["prepared"]["size"]["width"], 20);
    assert!(!doc["changes"].as_array().expect("changes").is_empty());
}

#[test]
fn a_mask_without_mask_out_is_a_usage_error() {
    let output = msgflux()
        .args(["prepare", "a.png", "--mask", "m.png", "--size", "64x64", "-o", "b.png"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--mask-out"), "{}", stderr(&output));
}

#[test]
fn for_and_size_together_are_a_usage_error() {
    let output = msgflux()
        .args([
            "prepare",
            "a.png",
            "--for",
            "openai/dall-e-2",
            "--size",
            "64x64",
            "-o",
            "b.png",
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
}

#[test]
fn an_output_name_that_disagrees_with_the_model_format_is_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("photo.png");
    write_photo(&photo, 40, 40);
    let output = msgflux()
        .arg("prepare")
        .arg(&photo)
        .args(["--for", "openai/dall-e-2", "-o"])
        .arg(dir.path().join("out.jpg"))
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("name the output .png"), "{}", stderr(&output));
}

#[test]
fn a_file_that_is_not_an_image_is_refused_with_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("notes.png");
    std::fs::write(&photo, b"this is not a picture").expect("write");
    let out = dir.path().join("out.png");
    let output = msgflux()
        .arg("prepare")
        .arg(&photo)
        .args(["--size", "64x64", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(!out.exists());
}

#[test]
fn prepare_for_a_model_takes_a_fit_and_pads_instead_of_stretching() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("photo.png");
    write_photo(&photo, 120, 60);
    let out = dir.path().join("ready.png");
    let output = msgflux()
        .arg("prepare")
        .arg(&photo)
        .args(["--for", "openai/dall-e-2", "--fit", "pad", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let prepared = image::open(&out).expect("decodes").to_rgba8();
    assert_eq!(prepared.dimensions(), (1024, 1024));
    // A 2:1 photo padded into a square: the top and bottom rows are transparent padding.
    assert_eq!(prepared.get_pixel(512, 2)[3], 0, "top row is padding");
    assert_eq!(prepared.get_pixel(512, 512)[3], 255, "the middle is the photo");
}
