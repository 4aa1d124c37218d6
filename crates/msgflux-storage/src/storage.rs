//! [`Storage`]: read, write, claim and list objects at [`Location`]s, one
//! store per bucket (built once, shared by every call).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt as _;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};

use crate::error::StorageError;
use crate::local;
use crate::location::{Location, normalized_absolute};
use crate::stores;

/// Objects above this size are written in parts (a multipart upload, which
/// appears whole when it completes); smaller ones in one request.
pub const MULTIPART_THRESHOLD: usize = 16 * 1024 * 1024;

/// How long [`Storage::check_writable`] waits for a store to answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a put-if-absent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The object was created by this call.
    Created,
    /// An object was already there; nothing was written.
    Taken,
}

/// One object found by [`Storage::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listed {
    /// Its name relative to the listed folder (`claims/a.1`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Reads and writes objects anywhere a [`Location`] points.
///
/// Writes are atomic: an object appears whole or not at all (local files
/// through a staged file and a rename, cloud objects by the store's own
/// atomic put). [`Storage::create`] is a put-if-absent (`If-None-Match: *`
/// on S3 and Azure, `x-goog-if-generation-match: 0` on GCS, exclusive
/// creation locally), which two writers can never
/// both win.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), msgflux_storage::StorageError> {
/// use msgflux_storage::{Claim, Location, Storage};
/// let dir = tempfile::tempdir().unwrap();
/// let storage = Storage::new();
/// let out = Location::Local(dir.path().to_path_buf());
/// storage.write(&out.join("a.txt"), "hello".into()).await?;
/// assert_eq!(storage.read(&out.join("a.txt"), 1024).await?, "hello");
/// assert_eq!(storage.create(&out.join("claim"), "me".into()).await?, Claim::Created);
/// assert_eq!(storage.create(&out.join("claim"), "you".into()).await?, Claim::Taken);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Storage {
    stores: Arc<Mutex<HashMap<String, Arc<dyn ObjectStore>>>>,
}

impl Storage {
    /// A storage with no stores built yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The store for a location and the object path inside it.
    fn resolve(&self, location: &Location) -> Result<(Arc<dyn ObjectStore>, StorePath), StorageError> {
        let url = location.to_string();
        let path = match location {
            Location::Local(path) => {
                let absolute = normalized_absolute(path).map_err(|err| StorageError::InvalidUrl {
                    url: url.clone(),
                    message: err.to_string(),
                })?;
                StorePath::from_absolute_path(&absolute).map_err(|err| StorageError::InvalidUrl {
                    url: url.clone(),
                    message: err.to_string(),
                })?
            }
            Location::S3 { key, .. } | Location::Gcs { key, .. } | Location::Azure { key, .. } => StorePath::parse(key)
                .map_err(|err| StorageError::InvalidUrl {
                    url: url.clone(),
                    message: err.to_string(),
                })?,
            Location::Http(_) => return Err(StorageError::ReadOnly { url }),
        };
        let key = store_key(location);
        let mut stores = self.stores.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(store) = stores.get(&key) {
            return Ok((store.clone(), path));
        }
        let store = stores::build(location)?;
        stores.insert(key, store.clone());
        Ok((store, path))
    }

    /// Reads a whole object, refusing one over `max_bytes`. http(s)
    /// locations are downloaded with msgflux-core's `InputLoader` (its size
    /// cap, timeout and redirect limit).
    pub async fn read(&self, location: &Location, max_bytes: u64) -> Result<Bytes, StorageError> {
        if let Location::Http(url) = location {
            let loader = msgflux_core::InputLoader::default().with_max_bytes(max_bytes);
            return loader.download(url, "download").await.map_err(|err| match err {
                msgflux_core::Error::NotFound(_) => StorageError::NotFound {
                    url: location.to_string(),
                },
                other => StorageError::Http {
                    url: location.to_string(),
                    source: Box::new(other),
                },
            });
        }
        if let Location::Local(path) = location {
            return local::read(local_path(location, path)?, location.to_string(), max_bytes).await;
        }
        let (store, path) = self.resolve(location)?;
        let url = location.to_string();
        let got = store
            .get(&path)
            .await
            .map_err(|err| StorageError::from_store(url.clone(), bucket_of(location), err))?;
        if got.meta.size > max_bytes {
            return Err(StorageError::TooLarge {
                url,
                size: got.meta.size,
                limit: max_bytes,
            });
        }
        got.bytes()
            .await
            .map_err(|err| StorageError::from_store(url, bucket_of(location), err))
    }

    /// Like [`Storage::read`], but a missing object is `None`.
    pub async fn read_optional(&self, location: &Location, max_bytes: u64) -> Result<Option<Bytes>, StorageError> {
        match self.read(location, max_bytes).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Writes a whole object atomically, replacing what was there. Large
    /// objects go up in parts from the same buffer (no second copy).
    pub async fn write(&self, location: &Location, bytes: Bytes) -> Result<(), StorageError> {
        if let Location::Local(path) = location {
            return local::write(local_path(location, path)?, location.to_string(), bytes).await;
        }
        let (store, path) = self.resolve(location)?;
        let url = location.to_string();
        let failed = |err| StorageError::from_store(url.clone(), bucket_of(location), err);
        if bytes.len() <= MULTIPART_THRESHOLD {
            store.put(&path, PutPayload::from(bytes)).await.map_err(failed)?;
            return Ok(());
        }
        let mut upload = object_store::buffered::BufWriter::new(store, path);
        for start in (0..bytes.len()).step_by(MULTIPART_THRESHOLD) {
            let end = (start + MULTIPART_THRESHOLD).min(bytes.len());
            if let Err(err) = upload.put(bytes.slice(start..end)).await {
                let _ = upload.abort().await;
                return Err(failed(err));
            }
        }
        tokio::io::AsyncWriteExt::shutdown(&mut upload)
            .await
            .map_err(|err| StorageError::Backend {
                url: url.clone(),
                source: object_store::Error::Generic {
                    store: "upload",
                    source: Box::new(err),
                },
            })
    }

    /// Writes an object only if none is there (put-if-absent): exactly one
    /// of any number of concurrent callers gets [`Claim::Created`].
    pub async fn create(&self, location: &Location, bytes: Bytes) -> Result<Claim, StorageError> {
        if let Location::Local(path) = location {
            return local::create(local_path(location, path)?, location.to_string(), bytes).await;
        }
        let (store, path) = self.resolve(location)?;
        let options = PutOptions::from(PutMode::Create);
        match store.put_opts(&path, PutPayload::from(bytes), options).await {
            Ok(_) => Ok(Claim::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Claim::Taken),
            Err(err) => Err(StorageError::from_store(location.to_string(), bucket_of(location), err)),
        }
    }

    /// Every object under a folder, with names relative to it (an empty
    /// list when the folder does not exist). Locally, files staged by a
    /// write in progress are not listed.
    pub async fn list(&self, folder: &Location) -> Result<Vec<Listed>, StorageError> {
        let (store, prefix) = self.resolve(folder)?;
        let url = folder.to_string();
        let listed: Vec<object_store::ObjectMeta> = match store.list(Some(&prefix)).try_collect().await {
            Ok(listed) => listed,
            Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(err) => return Err(StorageError::from_store(url, bucket_of(folder), err)),
        };
        let mut found: Vec<Listed> = listed
            .into_iter()
            .filter_map(|meta| {
                let name = meta
                    .location
                    .prefix_match(&prefix)?
                    .map(|part| part.as_ref().to_string())
                    .collect::<Vec<_>>()
                    .join("/");
                // A local write in progress (another worker's) is staged under a
                // hidden name until its rename: not an object yet.
                let staged = folder.is_local() && msgflux_core::is_staging_name(meta.location.filename().unwrap_or(""));
                (!name.is_empty() && !staged).then_some(Listed { name, size: meta.size })
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Checks that a folder can be used for output before anything is
    /// sent: a local folder is created; a cloud folder is listed once, which
    /// fails on a missing bucket, missing or refused credentials, or an
    /// unreachable store (after [`PROBE_TIMEOUT`]).
    pub async fn check_writable(&self, folder: &Location) -> Result<(), StorageError> {
        let url = folder.to_string();
        if let Location::Local(path) = folder {
            return std::fs::create_dir_all(path).map_err(|err| local::backend(&url, err));
        }
        let (store, prefix) = self.resolve(folder)?;
        let probe = store.list_with_delimiter(Some(&prefix));
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(object_store::Error::NotFound { .. })) => Err(StorageError::BucketNotFound {
                url,
                bucket: bucket_of(folder).to_string(),
            }),
            Ok(Err(err)) => Err(StorageError::from_store(url, bucket_of(folder), err)),
            Err(_) => Err(StorageError::Unreachable {
                url,
                seconds: PROBE_TIMEOUT.as_secs(),
            }),
        }
    }
}

/// A local path with `.` and `..` resolved, as object_store's paths are.
fn local_path(location: &Location, path: &std::path::Path) -> Result<std::path::PathBuf, StorageError> {
    normalized_absolute(path).map_err(|err| StorageError::InvalidUrl {
        url: location.to_string(),
        message: err.to_string(),
    })
}

/// Which built store serves a location: one per bucket, one for all local paths.
fn store_key(location: &Location) -> String {
    match location {
        Location::Local(_) => "file://".into(),
        Location::S3 { bucket, .. } => format!("s3://{bucket}"),
        Location::Gcs { bucket, .. } => format!("gs://{bucket}"),
        Location::Azure { container, .. } => format!("az://{container}"),
        Location::Http(url) => url.clone(),
    }
}

fn bucket_of(location: &Location) -> &str {
    match location {
        Location::S3 { bucket, .. } | Location::Gcs { bucket, .. } => bucket,
        Location::Azure { container, .. } => container,
        Location::Local(_) | Location::Http(_) => "",
    }
}
