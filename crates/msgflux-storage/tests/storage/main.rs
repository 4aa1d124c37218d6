//! msgflux-storage against real stores: the local file system always; S3
//! (an S3-compatible server), Azure Blob Storage (Azurite) and Google Cloud
//! Storage (fake-gcs-server) when `tests/run.sh` started them on 127.0.0.1
//! and set the variables below. Each store runs the same suite (`suite`),
//! except GCS, whose emulator serves object_store's reads and listings but
//! not its writes (see `remote`).

mod local;
#[cfg(any(feature = "aws", feature = "azure", feature = "gcp"))]
mod remote;
mod suite;
