//! S3 and Azure Blob Storage, against the servers `tests/run.sh` starts on
//! 127.0.0.1 (an S3-compatible server and Azurite). Without the variables
//! that script sets, each test says so and passes: `cargo test` alone needs
//! no server; CI runs the script.

use msgflux_storage::{Location, Storage, StorageError};

use crate::suite;

/// A fresh prefix per test run, so reruns against one server never collide.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{nanos}-{}", std::process::id())
}

fn server(variable: &str) -> Option<String> {
    let value = std::env::var(variable).ok().filter(|v| !v.is_empty());
    if value.is_none() {
        eprintln!("skipped: {variable} is not set (crates/msgflux-storage/tests/run.sh starts the server and sets it)");
    }
    value
}

#[cfg(feature = "aws")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_on_s3() {
    let Some(bucket) = server("MSGFLUX_TEST_S3_BUCKET") else {
        return;
    };
    let base = Location::parse(&format!("s3://{bucket}/{}", unique("suite"))).expect("url");
    suite::run_all(&Storage::new(), &base).await;
}

#[cfg(feature = "aws")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_reported_before_any_write_on_s3() {
    let Some(_) = server("MSGFLUX_TEST_S3_BUCKET") else {
        return;
    };
    let base = Location::parse("s3://no-such-bucket-msgflux/out").expect("url");
    let err = Storage::new().check_writable(&base).await.expect_err("missing bucket");
    assert!(matches!(err, StorageError::BucketNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-bucket-msgflux"), "{err}");
}

#[cfg(feature = "azure")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_on_azure() {
    let Some(container) = server("MSGFLUX_TEST_AZURE_CONTAINER") else {
        return;
    };
    let base = Location::parse(&format!("az://{container}/{}", unique("suite"))).expect("url");
    suite::run_all(&Storage::new(), &base).await;
}

#[cfg(feature = "azure")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_container_is_reported_before_any_write_on_azure() {
    let Some(_) = server("MSGFLUX_TEST_AZURE_CONTAINER") else {
        return;
    };
    let base = Location::parse("az://no-such-container/out").expect("url");
    let err = Storage::new()
        .check_writable(&base)
        .await
        .expect_err("missing container");
    assert!(matches!(err, StorageError::BucketNotFound { .. }), "{err:?}");
}
