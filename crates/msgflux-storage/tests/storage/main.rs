//! msgflux-storage against real stores: the local file system always; S3
//! (an S3-compatible server) and Azure Blob Storage (Azurite) when
//! `tests/run.sh` started them on 127.0.0.1 and set the variables below.
//! Each store runs the same suite (`suite`).

mod local;
#[cfg(any(feature = "aws", feature = "azure"))]
mod remote;
mod suite;
