//! `msgflux compare` and `edit --compare`.

use crate::common::{code, file_names, json, msgflux, stderr, write_mask, write_photo};

#[test]
fn compare_writes_a_labelled_before_after_picture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (before, after, mask) = (
        dir.path().join("before.png"),
        dir.path().join("after.png"),
        dir.path().join("mask.png"),
    );
    write_photo(&before, 60, 40);
    write_photo(&after, 60, 40);
    write_mask(&mask, 60, 40, (10, 10, 20, 10));
    let out = dir.path().join("compare.png");
    let output = msgflux()
        .args(["--json", "compare"])
        .arg(&before)
        .arg(&after)
        .arg("--mask")
        .arg(&mask)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let picture = image::open(&out).expect("decodes");
    assert!(picture.width() > 120, "two panels side by side: {}", picture.width());
    assert_eq!(json(&output)["width"], picture.width());
}

#[test]
fn diff_adds_a_third_panel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (before, after) = (dir.path().join("before.png"), dir.path().join("after.png"));
    write_photo(&before, 60, 40);
    write_photo(&after, 60, 40);
    let (two, three) = (dir.path().join("two.png"), dir.path().join("three.png"));
    for (out, extra) in [(&two, None), (&three, Some("--diff"))] {
        let mut cmd = msgflux();
        cmd.arg("compare").arg(&before).arg(&after).arg("-o").arg(out);
        cmd.args(extra);
        assert_eq!(code(&cmd.output().expect("run")), 0);
    }
    let width = |p: &std::path::Path| image::open(p).expect("decodes").width();
    assert!(width(&three) > width(&two) + 50);
}

#[test]
fn a_missing_before_image_is_named_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let after = dir.path().join("after.png");
    write_photo(&after, 10, 10);
    let output = msgflux()
        .args(["compare", "nowhere.png"])
        .arg(&after)
        .args(["-o", "x.png"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("invalid before: file not found"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("x.png").exists());
}

#[test]
fn edit_compare_writes_the_result_and_a_before_after_picture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (photo, mask) = (dir.path().join("photo.png"), dir.path().join("mask.png"));
    write_photo(&photo, 64, 48);
    write_mask(&mask, 64, 48, (20, 16, 16, 12));
    let out = dir.path().join("out");
    let output = msgflux()
        .args(["edit", "-m", "local/patchmatch", "-p", "remove it", "-i"])
        .arg(&photo)
        .arg("--mask")
        .arg(&mask)
        .arg("--out")
        .arg(&out)
        .arg("--compare")
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(file_names(&out), ["photo-compare.png", "photo-edited.png"]);
    assert!(image::open(out.join("photo-compare.png")).expect("decodes").width() > 128);
}
