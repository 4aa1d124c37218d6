//! Local paths, read and written with `std::fs` through msgflux-core's
//! `kit::local_io` rather than object_store's `LocalFileSystem`.
//!
//! Why not the crate here: `LocalFileSystem` hands every call to tokio's
//! blocking pool and stages a put-if-absent as a temporary file, a hard
//! link and an unlink. For a batch that is one small result, one claim and
//! one input read per job, and on the CLI's single-threaded runtime the
//! hand-offs and extra files cost more CPU than the work: measured with
//! `strace -c -f` on `bench/openai/batch.sh 200 5 256`, about 92 system
//! calls per edit (30 of them futex) before, 42 this way (HTTP included).
//! Listing a folder (once per run) still goes through object_store.
//!
//! - A read is msgflux-core's `kit::local_io::read_capped`: opened once,
//!   its size checked from the open file.
//! - A write is msgflux-core's `write_atomic`: a staged file, synced,
//!   renamed, and its folder synced; whole or not at all, and durable.
//! - A claim is a file created with `O_CREAT | O_EXCL` (`create_new`),
//!   which exactly one of any number of writers wins. It is not synced: a
//!   claim only has to beat another writer, and what it would save is lost
//!   only with power.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use msgflux_core::kit::local_io::{self, CappedReadError};

use crate::error::StorageError;
use crate::storage::Claim;

/// Reads a whole file, refusing one over `max_bytes`; a missing file (or a
/// folder, which is no object) is [`StorageError::NotFound`].
pub(crate) async fn read(path: PathBuf, url: String, max_bytes: u64) -> Result<Bytes, StorageError> {
    in_place(url, move |url| {
        local_io::read_capped(&path, max_bytes)
            .map(Bytes::from)
            .map_err(|err| match err {
                CappedReadError::NotFound | CappedReadError::Folder => StorageError::NotFound { url: url.to_string() },
                CappedReadError::TooLarge { size } | CappedReadError::Grew { read: size } => StorageError::TooLarge {
                    url: url.to_string(),
                    size,
                    limit: max_bytes,
                },
                CappedReadError::Io(err) => backend(url, err),
                other => backend(url, std::io::Error::other(format!("{other:?}"))),
            })
    })
    .await
}

/// Writes a whole file atomically and durably, replacing what was there.
pub(crate) async fn write(path: PathBuf, url: String, bytes: Bytes) -> Result<(), StorageError> {
    in_place(url, move |url| {
        msgflux_core::write_atomic(&path, &bytes).map_err(|err| backend(url, std::io::Error::other(err)))
    })
    .await
}

/// Creates a file only if none is there.
pub(crate) async fn create(path: PathBuf, url: String, bytes: Bytes) -> Result<Claim, StorageError> {
    in_place(url, move |url| {
        create_now(&path, &bytes).map_err(|err| backend(url, err))
    })
    .await
}

/// Runs file work at `url` through `local_io::run`; a failure to run it is
/// a backend error there.
async fn in_place<T: Send + 'static>(
    url: String,
    work: impl FnOnce(&str) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    let shown = url.clone();
    local_io::run(move || work(&url))
        .await
        .map_err(|err| backend(&shown, err))?
}

fn create_now(path: &Path, bytes: &[u8]) -> std::io::Result<Claim> {
    let open = || std::fs::OpenOptions::new().write(true).create_new(true).open(path);
    let opened = match open() {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            open()
        }
        other => other,
    };
    let mut file = match opened {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return Ok(Claim::Taken),
        Err(err) => return Err(err),
    };
    if let Err(err) = file.write_all(bytes) {
        // Won but not written: give the claim back, so the job is not taken
        // for one that may have been sent.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(err);
    }
    Ok(Claim::Created)
}

/// An I/O failure of the local file system at `url`.
pub(crate) fn backend(url: &str, err: std::io::Error) -> StorageError {
    StorageError::Backend {
        url: url.to_string(),
        source: object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(err),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dir: &tempfile::TempDir, name: &str) -> (PathBuf, String) {
        let path = dir.path().join(name);
        let url = path.display().to_string();
        (path, url)
    }

    #[tokio::test]
    async fn a_claim_creates_its_folders_and_only_the_first_one_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, url) = at(&dir, "claims/deep/a.1");
        assert_eq!(
            create(path.clone(), url.clone(), "me".into()).await.expect("create"),
            Claim::Created
        );
        assert_eq!(
            create(path.clone(), url, "you".into()).await.expect("create"),
            Claim::Taken
        );
        assert_eq!(std::fs::read(path).expect("read"), b"me");
    }

    #[tokio::test]
    async fn a_write_replaces_the_file_whole_and_leaves_no_staged_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, url) = at(&dir, "out/a.png");
        write(path.clone(), url.clone(), "first".into()).await.expect("write");
        write(path.clone(), url, "second".into()).await.expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("out")).expect("list").collect();
        assert_eq!(names.len(), 1);
    }

    #[tokio::test]
    async fn a_missing_file_or_a_folder_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, url) = at(&dir, "none.png");
        assert!(matches!(read(path, url, 10).await, Err(StorageError::NotFound { .. })));
        let url = dir.path().display().to_string();
        assert!(matches!(
            read(dir.path().to_path_buf(), url, 10).await,
            Err(StorageError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn a_file_staged_by_a_write_in_progress_is_not_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.png"), "a").expect("write");
        std::fs::write(dir.path().join(".msgflux-x1y2z3.tmp"), "half").expect("write");
        let listed = crate::Storage::new()
            .list(&crate::Location::Local(dir.path().to_path_buf()))
            .await
            .expect("list");
        let names: Vec<_> = listed.into_iter().map(|object| object.name).collect();
        assert_eq!(names, ["a.png"]);
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_refused_with_its_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, url) = at(&dir, "big.bin");
        std::fs::write(&path, [0u8; 11]).expect("write");
        assert!(matches!(
            read(path, url, 10).await,
            Err(StorageError::TooLarge {
                size: 11,
                limit: 10,
                ..
            })
        ));
    }
}
