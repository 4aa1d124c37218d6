//! Which `object_store` serves a location: the local file system (for
//! listings; `crate::local` reads and writes local paths), or a cloud
//! store built by that cloud's `from_env` builder (its standard
//! environment variables and credential chain). Credentials that are certainly missing are reported
//! here, before any request.

use std::sync::Arc;

use object_store::ObjectStore;

use crate::error::StorageError;
use crate::location::Location;

/// The local file system, for listing folders (reads, writes and claims of
/// local paths are `crate::local`'s).
fn local() -> Arc<dyn ObjectStore> {
    Arc::new(object_store::local::LocalFileSystem::new())
}

/// The store that serves a location (its bucket, or every local path).
pub(crate) fn build(location: &Location) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let url = location.to_string();
    match location {
        Location::Local(_) => Ok(local()),
        Location::Http(_) => Err(StorageError::ReadOnly { url }),
        Location::S3 { bucket, .. } => s3(&url, bucket),
        Location::Gcs { bucket, .. } => gcs(&url, bucket),
        Location::Azure { container, .. } => azure(&url, container),
    }
}

#[cfg(any(feature = "aws", feature = "azure"))]
fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| !value.is_empty())
}

#[cfg(any(feature = "aws", feature = "azure"))]
fn env_true(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

#[cfg(feature = "aws")]
fn s3(url: &str, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    msgflux_core::kit::http::install_tls_provider();
    // The chain object_store follows: static keys, web identity (EKS IRSA),
    // container credentials (ECS, EKS Pod Identity), then the instance
    // metadata service. With that last one switched off the way the AWS
    // SDKs allow, nothing is left to try.
    let sources = [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ];
    if !sources.iter().any(|name| env_set(name))
        && !env_true("AWS_SKIP_SIGNATURE")
        && env_true("AWS_EC2_METADATA_DISABLED")
    {
        return Err(StorageError::Credentials {
            url: url.to_string(),
            detail: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an IAM role (EKS IRSA or Pod \
                     Identity, ECS task role, EC2 instance profile; AWS_EC2_METADATA_DISABLED is set, so the \
                     instance metadata service is not asked)"
                .into(),
        });
    }
    built(
        url,
        object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build(),
    )
}

#[cfg(not(feature = "aws"))]
fn s3(url: &str, _bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Err(not_compiled(url, "s3", "aws"))
}

#[cfg(feature = "gcp")]
fn gcs(url: &str, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    msgflux_core::kit::http::install_tls_provider();
    built(
        url,
        object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_bucket_name(bucket)
            .build(),
    )
}

#[cfg(not(feature = "gcp"))]
fn gcs(url: &str, _bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Err(not_compiled(url, "gs", "gcp"))
}

#[cfg(feature = "azure")]
fn azure(url: &str, container: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    msgflux_core::kit::http::install_tls_provider();
    if !env_set("AZURE_STORAGE_ACCOUNT_NAME") && !env_true("AZURE_STORAGE_USE_EMULATOR") {
        return Err(StorageError::Credentials {
            url: url.to_string(),
            detail: "set AZURE_STORAGE_ACCOUNT_NAME (and AZURE_STORAGE_ACCOUNT_KEY, a SAS token, or a managed \
                     identity / workload identity)"
                .into(),
        });
    }
    built(
        url,
        object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_container_name(container)
            .build(),
    )
}

#[cfg(not(feature = "azure"))]
fn azure(url: &str, _container: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Err(not_compiled(url, "az", "azure"))
}

/// A built store, or its builder's complaint (a missing region, account, key).
#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
fn built<S: ObjectStore>(url: &str, store: object_store::Result<S>) -> Result<Arc<dyn ObjectStore>, StorageError> {
    store
        .map(|store| Arc::new(store) as Arc<dyn ObjectStore>)
        .map_err(|err| StorageError::Config {
            url: url.to_string(),
            message: err.to_string(),
        })
}

#[allow(dead_code)] // used by whichever clouds are not compiled in
fn not_compiled(url: &str, scheme: &'static str, feature: &'static str) -> StorageError {
    StorageError::NotCompiled {
        url: url.to_string(),
        scheme,
        feature,
    }
}
