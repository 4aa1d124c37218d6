//! `msgflux leak`.

use std::path::{Path, PathBuf};

use crate::common::{code, json, msgflux, stderr, stdout, write_mask, write_photo};

/// Before, an after that changed the left half, and a mask over the left quarter.
fn leaky_edit(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (before, after, mask) = (dir.join("before.png"), dir.join("after.png"), dir.join("mask.png"));
    write_photo(&before, 40, 20);
    let mut changed = image::open(&before).expect("before").to_rgb8();
    for y in 0..20 {
        for x in 0..20 {
            changed.put_pixel(x, y, image::Rgb([255, 255, 255]));
        }
    }
    changed.save(&after).expect("after");
    write_mask(&mask, 40, 20, (0, 0, 10, 20));
    (before, after, mask)
}

#[test]
fn leak_reports_the_share_changed_outside_the_mask() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (before, after, mask) = leaky_edit(dir.path());
    let output = msgflux()
        .arg("leak")
        .arg(&before)
        .arg(&after)
        .arg("--mask")
        .arg(&mask)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // 10 of the 30 columns outside the mask changed.
    assert!(
        stdout(&output).starts_with("33.33% of the 600 pixels outside the mask changed"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn over_max_leak_the_check_fails_with_code_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (before, after, mask) = leaky_edit(dir.path());
    let output = msgflux()
        .args(["--json", "leak"])
        .arg(&before)
        .arg(&after)
        .arg("--mask")
        .arg(&mask)
        .args(["--max-leak", "1%"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    let doc = json(&output);
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["report"]["changed_outside"], 200);
}

#[test]
fn within_max_leak_the_check_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (before, _, mask) = leaky_edit(dir.path());
    let output = msgflux()
        .arg("leak")
        .arg(&before)
        .arg(&before)
        .arg("--mask")
        .arg(&mask)
        .args(["--max-leak", "0.001"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains("ok: within the limit"), "{}", stdout(&output));
}

#[test]
fn a_mask_of_another_size_is_refused_with_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (before, after, _) = leaky_edit(dir.path());
    let small = dir.path().join("small.png");
    write_mask(&small, 10, 10, (0, 0, 5, 5));
    let output = msgflux()
        .arg("leak")
        .arg(&before)
        .arg(&after)
        .arg("--mask")
        .arg(&small)
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("invalid mask: mask is 10x10 but image is 40x20"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn leak_needs_a_mask() {
    let output = msgflux().args(["leak", "a.png", "b.png"]).output().expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--mask"), "{}", stderr(&output));
}
