//! Where an object lives: a local path, `file://`, `s3://`, `gs://`,
//! `az://` (`azure://`), or an http(s) URL (read only), parsed once into a
//! [`Location`] whose errors name the text and what is wrong with it.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::error::StorageError;

/// An object (or a folder of objects, for outputs) in some store.
///
/// ```
/// use msgflux_storage::Location;
/// let out = Location::parse("s3://photos/edited/")?;
/// assert_eq!(out.join("shoe.png").to_string(), "s3://photos/edited/shoe.png");
/// assert!(matches!(Location::parse("out/")?, Location::Local(_)));
/// assert!(Location::parse("ftp://host/x").is_err());
/// # Ok::<(), msgflux_storage::StorageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// A path on this machine (plain, or from a `file://` URL).
    Local(PathBuf),
    /// `s3://bucket/key`: Amazon S3 or an S3-compatible server (`AWS_ENDPOINT_URL`).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key (or key prefix), without a leading or trailing `/`.
        key: String,
    },
    /// `gs://bucket/key`: Google Cloud Storage.
    Gcs {
        /// The bucket.
        bucket: String,
        /// The key (or key prefix).
        key: String,
    },
    /// `az://container/key` or `azure://container/key`: Azure Blob Storage
    /// (the account comes from `AZURE_STORAGE_ACCOUNT_NAME`).
    Azure {
        /// The container.
        container: String,
        /// The blob name (or prefix).
        key: String,
    },
    /// An `http://` or `https://` URL: read only.
    Http(String),
}

/// The schemes a location may have, for error messages.
pub const SCHEMES: &str = "a path, file://, s3://, gs://, az:// (or azure://), or http(s):// for reading";

impl Location {
    /// Parses a path or URL. Text without `://` is a local path.
    pub fn parse(raw: &str) -> Result<Self, StorageError> {
        let text = raw.trim();
        let Some((scheme, rest)) = text.split_once("://") else {
            return Ok(Self::Local(PathBuf::from(text)));
        };
        let scheme = scheme.to_ascii_lowercase();
        let bucketed = |make: fn(String, String) -> Self| {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StorageError::MissingBucket {
                    url: text.to_string(),
                    scheme: scheme.clone(),
                });
            }
            Ok(make(bucket.to_string(), key.trim_matches('/').to_string()))
        };
        match scheme.as_str() {
            "file" => {
                let url = url::Url::parse(text).map_err(|err| StorageError::InvalidUrl {
                    url: text.to_string(),
                    message: err.to_string(),
                })?;
                let path = url.to_file_path().map_err(|()| StorageError::InvalidUrl {
                    url: text.to_string(),
                    message: "a file:// URL needs an absolute path and no host (file:///data/out)".into(),
                })?;
                Ok(Self::Local(path))
            }
            "s3" | "s3a" => bucketed(|bucket, key| Self::S3 { bucket, key }),
            "gs" => bucketed(|bucket, key| Self::Gcs { bucket, key }),
            "az" | "azure" => bucketed(|container, key| Self::Azure { container, key }),
            "http" | "https" => Ok(Self::Http(text.to_string())),
            _ => Err(StorageError::UnknownScheme {
                url: text.to_string(),
                scheme,
            }),
        }
    }

    /// The location of `name` inside this one (`name` may contain `/`).
    pub fn join(&self, name: &str) -> Self {
        let name = name.trim_start_matches('/');
        let child = |key: &str| {
            if key.is_empty() {
                name.to_string()
            } else {
                format!("{key}/{name}")
            }
        };
        match self {
            Self::Local(path) => Self::Local(path.join(name)),
            Self::S3 { bucket, key } => Self::S3 {
                bucket: bucket.clone(),
                key: child(key),
            },
            Self::Gcs { bucket, key } => Self::Gcs {
                bucket: bucket.clone(),
                key: child(key),
            },
            Self::Azure { container, key } => Self::Azure {
                container: container.clone(),
                key: child(key),
            },
            Self::Http(url) => Self::Http(format!("{}/{name}", url.trim_end_matches('/'))),
        }
    }

    /// The folder this object is in (what relative names in a jobs file are taken against).
    pub fn parent(&self) -> Self {
        let up = |key: &str| key.rsplit_once('/').map_or(String::new(), |(dir, _)| dir.to_string());
        match self {
            Self::Local(path) => Self::Local(match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                _ => PathBuf::from("."),
            }),
            Self::S3 { bucket, key } => Self::S3 {
                bucket: bucket.clone(),
                key: up(key),
            },
            Self::Gcs { bucket, key } => Self::Gcs {
                bucket: bucket.clone(),
                key: up(key),
            },
            Self::Azure { container, key } => Self::Azure {
                container: container.clone(),
                key: up(key),
            },
            Self::Http(url) => {
                let bare = url.split(['?', '#']).next().unwrap_or(url);
                let host_start = bare.find("://").map_or(0, |i| i + 3);
                Self::Http(match bare[host_start..].rfind('/') {
                    Some(slash) => bare[..host_start + slash].to_string(),
                    None => bare.to_string(),
                })
            }
        }
    }

    /// The last part of the name (`photos/shoe.png` -> `shoe.png`), if any.
    pub fn file_name(&self) -> Option<String> {
        let name = match self {
            Self::Local(path) => return path.file_name().map(|n| n.to_string_lossy().into_owned()),
            Self::S3 { key, .. } | Self::Gcs { key, .. } | Self::Azure { key, .. } => key.rsplit('/').next(),
            Self::Http(url) => url.split(['?', '#']).next().and_then(|u| u.rsplit('/').next()),
        };
        name.filter(|n| !n.is_empty()).map(str::to_string)
    }

    /// True for a path on this machine.
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local(_))
    }

    /// The local path, for a local location.
    pub fn as_local(&self) -> Option<&Path> {
        match self {
            Self::Local(path) => Some(path),
            _ => None,
        }
    }

    /// The URL scheme (`s3`, `gs`, `az`, `http`), or `file` for a local path.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Local(_) => "file",
            Self::S3 { .. } => "s3",
            Self::Gcs { .. } => "gs",
            Self::Azure { .. } => "az",
            Self::Http(_) => "http",
        }
    }

    /// True when `text` names a store this crate reads, as opposed to a
    /// plain path, a `data:` URI or bare base64 (`s3://`, `gs://`, `az://`,
    /// `azure://`, `file://`; http(s) URLs are left to their own loaders).
    pub fn is_store_url(text: &str) -> bool {
        let lower = text.trim().get(..9).unwrap_or(text.trim()).to_ascii_lowercase();
        ["s3://", "s3a://", "gs://", "az://", "azure://", "file://"]
            .iter()
            .any(|prefix| lower.starts_with(prefix))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, bucket, key) = match self {
            Self::Local(path) => return write!(f, "{}", path.display()),
            Self::Http(url) => return f.write_str(&msgflux_core::kit::http::redact_url(url)),
            Self::S3 { bucket, key } => ("s3", bucket, key),
            Self::Gcs { bucket, key } => ("gs", bucket, key),
            Self::Azure { container, key } => ("az", container, key),
        };
        if key.is_empty() {
            write!(f, "{scheme}://{bucket}")
        } else {
            write!(f, "{scheme}://{bucket}/{key}")
        }
    }
}

/// An absolute path without `.` or `..` parts (object_store refuses them).
pub(crate) fn normalized_absolute(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_scheme_is_a_local_path() {
        assert_eq!(Location::parse("out/run").unwrap(), Location::Local("out/run".into()));
    }

    #[test]
    fn an_s3_url_gives_bucket_and_key_without_slashes_at_the_ends() {
        assert_eq!(
            Location::parse("s3://photos/2026/edited/").unwrap(),
            Location::S3 {
                bucket: "photos".into(),
                key: "2026/edited".into()
            }
        );
    }

    #[test]
    fn azure_has_two_spellings() {
        assert_eq!(
            Location::parse("azure://c/x").unwrap(),
            Location::parse("az://c/x").unwrap()
        );
    }

    #[test]
    fn a_url_without_a_bucket_is_refused_naming_it() {
        let err = Location::parse("s3:///key").unwrap_err();
        assert!(matches!(err, StorageError::MissingBucket { .. }), "{err}");
        assert!(err.to_string().contains("s3:///key"), "{err}");
        assert!(Location::parse("gs://").is_err());
    }

    #[test]
    fn an_unknown_scheme_lists_the_known_ones() {
        let err = Location::parse("ftp://host/file").unwrap_err().to_string();
        assert!(err.contains("unknown scheme `ftp://`"), "{err}");
        assert!(err.contains("s3://"), "{err}");
    }

    #[test]
    fn a_file_url_is_a_local_path() {
        assert_eq!(
            Location::parse("file:///data/out").unwrap(),
            Location::Local("/data/out".into())
        );
        assert!(Location::parse("file://host/data").is_err());
    }

    #[test]
    fn relative_names_are_taken_against_the_parent() {
        let jobs = Location::parse("gs://b/batches/jobs.jsonl").unwrap();
        assert_eq!(jobs.parent().join("img/a.png").to_string(), "gs://b/batches/img/a.png");
        let top = Location::parse("s3://b/jobs.jsonl").unwrap();
        assert_eq!(top.parent().join("a.png").to_string(), "s3://b/a.png");
        let web = Location::parse("https://cdn.example/x/jobs.jsonl?sig=1").unwrap();
        assert_eq!(
            web.parent().join("a.png"),
            Location::Http("https://cdn.example/x/a.png".into())
        );
    }

    #[test]
    fn store_urls_are_told_from_paths_and_web_urls() {
        assert!(Location::is_store_url("S3://b/k"));
        assert!(Location::is_store_url("file:///x"));
        assert!(!Location::is_store_url("https://x/y.png"));
        assert!(!Location::is_store_url("photos/a.png"));
    }

    #[test]
    fn normalizing_drops_dot_and_dot_dot() {
        let clean = normalized_absolute(Path::new("/a/./b/../c")).unwrap();
        assert_eq!(clean, PathBuf::from("/a/c"));
    }
}
