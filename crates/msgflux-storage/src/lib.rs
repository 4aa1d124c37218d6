//! Object storage for msgflux-rs: every place that reads an image or a jobs
//! file, and every place that writes results or a batch manifest, names a
//! [`Location`] (a path, `file://`, `s3://`, `gs://`, `az://`, or http(s)
//! for reading) and goes through [`Storage`], on the maintained
//! `object_store` crate with each cloud's standard environment and
//! credential chain.
//!
//! - Writes are atomic: an object appears whole or not at all.
//! - [`Storage::create`] is a put-if-absent, the claim two workers can never both win.
//! - Errors ([`StorageError`]) name the location and what is wrong (unknown
//!   scheme, missing bucket, missing credentials), and
//!   [`Storage::check_writable`] finds them before anything is paid for.
//!
//! Clouds are cargo features: `aws`, `gcp`, `azure` (local paths always work).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), msgflux_storage::StorageError> {
//! use msgflux_storage::{Location, Storage};
//! let dir = tempfile::tempdir().unwrap();
//! let out = Location::parse(&format!("file://{}", dir.path().display()))?;
//! let storage = Storage::new();
//! storage.check_writable(&out).await?;
//! storage.write(&out.join("results/a.png"), vec![1, 2, 3].into()).await?;
//! let names: Vec<String> = storage.list(&out).await?.into_iter().map(|o| o.name).collect();
//! assert_eq!(names, ["results/a.png"]);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

// The one error type: every variant names the location.
mod error;
// Locations: parsing paths and URLs, joining names.
mod location;
// Local paths: std::fs in place of object_store's LocalFileSystem (why: in the module).
mod local;
// Read, write, put-if-absent, list; one store per bucket.
mod storage;
// Building each cloud's store from its environment.
mod stores;

pub use error::StorageError;
pub use location::{Location, SCHEMES};
pub use storage::{Claim, Listed, MULTIPART_THRESHOLD, PROBE_TIMEOUT, Storage};
