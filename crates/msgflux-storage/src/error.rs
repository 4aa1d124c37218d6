//! The one error type of the crate: each variant names the location and
//! what is wrong with it, so a bad `--out` or input is reported before any
//! paid request.

/// What went wrong with a location or a store operation.
///
/// ```
/// use msgflux_storage::{Location, StorageError};
/// let err = Location::parse("ftp://host/out").unwrap_err();
/// assert!(matches!(err, StorageError::UnknownScheme { .. }));
/// assert_eq!(err.kind(), "unknown_scheme");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The scheme is none the crate knows.
    #[error("{url}: unknown scheme `{scheme}://`; use {}", crate::location::SCHEMES)]
    UnknownScheme {
        /// The text given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A cloud URL without a bucket (or container).
    #[error("{url}: no bucket; write {scheme}://BUCKET/PATH")]
    MissingBucket {
        /// The text given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A URL that cannot be read as one.
    #[error("{url}: {message}")]
    InvalidUrl {
        /// The text given.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The store's cloud was not compiled in.
    #[error("{url}: {scheme}:// support is not compiled in; build with the `{feature}` cargo feature")]
    NotCompiled {
        /// The location.
        url: String,
        /// Its scheme.
        scheme: &'static str,
        /// The cargo feature that adds it.
        feature: &'static str,
    },
    /// Writing to a location that can only be read (http).
    #[error("{url}: http(s) locations can only be read; write to a path, s3://, gs:// or az://")]
    ReadOnly {
        /// The location.
        url: String,
    },
    /// No object there.
    #[error("{url}: not found")]
    NotFound {
        /// The location.
        url: String,
    },
    /// The bucket or container does not exist.
    #[error("{url}: the bucket (or container) `{bucket}` does not exist or cannot be listed")]
    BucketNotFound {
        /// The location.
        url: String,
        /// The bucket or container.
        bucket: String,
    },
    /// No credentials were found, or the store refused them.
    #[error("{url}: no usable credentials: {detail}")]
    Credentials {
        /// The location.
        url: String,
        /// Which sources were tried, or what the store said.
        detail: String,
    },
    /// The store is not configured well enough to be built.
    #[error("{url}: {message}")]
    Config {
        /// The location.
        url: String,
        /// What the store's builder said.
        message: String,
    },
    /// An object over the caller's size limit.
    #[error("{url}: is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// The location.
        url: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The store did not answer in time.
    #[error("{url}: the store did not answer within {seconds} s")]
    Unreachable {
        /// The location.
        url: String,
        /// How long was waited.
        seconds: u64,
    },
    /// Downloading an http(s) location failed.
    #[error("{url}: {source}")]
    Http {
        /// The location.
        url: String,
        /// What the download said.
        #[source]
        source: Box<msgflux_core::Error>,
    },
    /// Any other failure of the store.
    #[error("{url}: {source}")]
    Backend {
        /// The location.
        url: String,
        /// What object_store said.
        #[source]
        source: object_store::Error,
    },
}

impl StorageError {
    /// A short machine-readable name (`not_found`, `credentials`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownScheme { .. } => "unknown_scheme",
            Self::MissingBucket { .. } => "missing_bucket",
            Self::InvalidUrl { .. } => "invalid_url",
            Self::NotCompiled { .. } => "not_compiled",
            Self::ReadOnly { .. } => "read_only",
            Self::NotFound { .. } => "not_found",
            Self::BucketNotFound { .. } => "bucket_not_found",
            Self::Credentials { .. } => "credentials",
            Self::Config { .. } => "config",
            Self::TooLarge { .. } => "too_large",
            Self::Unreachable { .. } => "unreachable",
            Self::Http { .. } => "http",
            Self::Backend { .. } => "backend",
        }
    }

    /// True when the fault is in what was given (a URL, a missing object,
    /// credentials, configuration) rather than in a store that failed while
    /// working: fix the input, do not retry.
    pub fn is_invalid_input(&self) -> bool {
        !matches!(
            self,
            Self::Backend { .. } | Self::Unreachable { .. } | Self::Http { .. }
        )
    }

    /// Maps an object_store error about `url` in `bucket` to a variant.
    pub(crate) fn from_store(url: String, bucket: &str, source: object_store::Error) -> Self {
        match source {
            object_store::Error::NotFound { .. } => Self::NotFound { url },
            object_store::Error::Unauthenticated { source, .. }
            | object_store::Error::PermissionDenied { source, .. } => Self::Credentials {
                url,
                detail: format!("the store refused them: {source}"),
            },
            other => {
                let text = other.to_string();
                if ["NoSuchBucket", "ContainerNotFound", "bucket does not exist"]
                    .iter()
                    .any(|needle| text.contains(needle))
                {
                    Self::BucketNotFound {
                        url,
                        bucket: bucket.to_string(),
                    }
                } else if text.contains("credential") || text.contains("Credential") {
                    Self::Credentials { url, detail: text }
                } else {
                    Self::Backend { url, source: other }
                }
            }
        }
    }
}
