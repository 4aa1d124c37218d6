//! The local file system, through plain paths and file:// URLs.

use msgflux_storage::{Location, Storage, StorageError};

use crate::suite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_on_local_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    suite::run_all(&Storage::new(), &Location::Local(dir.path().join("out"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_on_file_urls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}/out", dir.path().display());
    suite::run_all(&Storage::new(), &Location::parse(&url).expect("file URL")).await;
}

#[tokio::test]
async fn a_write_leaves_no_staging_file_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Location::Local(dir.path().to_path_buf());
    let storage = Storage::new();
    storage.write(&out.join("a.png"), "png".into()).await.expect("write");
    storage.create(&out.join("claim"), "me".into()).await.expect("create");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.png", "claim"]);
}

#[tokio::test]
async fn http_locations_are_read_only() {
    let err = Storage::new()
        .write(
            &Location::parse("https://example.com/out/a.png").expect("url"),
            "x".into(),
        )
        .await
        .expect_err("read only");
    assert!(matches!(err, StorageError::ReadOnly { .. }), "{err:?}");
}

#[cfg(not(feature = "gcp"))]
#[tokio::test]
async fn a_cloud_that_is_not_compiled_in_names_its_feature() {
    let err = Storage::new()
        .read(&Location::parse("gs://bucket/a.png").expect("url"), 10)
        .await
        .expect_err("not compiled");
    assert!(err.to_string().contains("`gcp` cargo feature"), "{err}");
}
