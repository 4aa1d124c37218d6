//! Local file work (a read, an atomic write, a claim) from async code.
//!
//! Such work is a handful of system calls. On a multi-thread runtime (the
//! gateway, the Python package) it goes to tokio's blocking pool, so it
//! never holds a worker thread. On a current-thread runtime (the CLI, the
//! blocking API) it runs in place: handing it to a pool thread and back
//! costs two thread wake-ups and context switches each way, which measured
//! more CPU than the work itself (bench/openai/batch.sh with `strace -c`:
//! about 30 futex calls per edit before).

use std::io::Read as _;
use std::path::Path;

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work`, in place on a current-thread runtime (or outside any
/// runtime), on the blocking pool otherwise. A panic on the pool is an
/// I/O error, not a panic of the caller.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.txt");
/// let target = path.clone();
/// msgflux_core::kit::local_io::run(move || std::fs::write(target, "hello")).await??;
/// assert_eq!(std::fs::read_to_string(path)?, "hello");
/// # Ok(()) }
/// ```
pub async fn run<T, F>(work: F) -> std::io::Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() != RuntimeFlavor::CurrentThread => tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| std::io::Error::other(format!("file work stopped unexpectedly: {err}"))),
        _ => Ok(work()),
    }
}

/// Why [`read_capped`] did not return a file's bytes; each caller names
/// these in its own error type.
#[derive(Debug)]
#[non_exhaustive]
pub enum CappedReadError {
    /// No file there.
    NotFound,
    /// A folder, not a file.
    Folder,
    /// The file is over the limit.
    TooLarge {
        /// Its size.
        size: u64,
    },
    /// The file grew past the limit while being read.
    Grew {
        /// The bytes read when it was stopped (the limit plus one).
        read: u64,
    },
    /// Any other I/O failure.
    Io(std::io::Error),
}

/// Reads a whole file of at most `max_bytes`: opened once, its size taken
/// from the open file (one system call, no race with a second lookup by
/// name), then read into a buffer of that size. Blocking: call it inside
/// [`run`].
///
/// ```
/// use msgflux_core::kit::local_io::{CappedReadError, read_capped};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.bin");
/// std::fs::write(&path, [7u8; 4]).unwrap();
/// assert_eq!(read_capped(&path, 4).unwrap(), [7u8; 4]);
/// assert!(matches!(read_capped(&path, 3), Err(CappedReadError::TooLarge { size: 4 })));
/// ```
pub fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, CappedReadError> {
    let file = std::fs::File::open(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => CappedReadError::NotFound,
        std::io::ErrorKind::IsADirectory => CappedReadError::Folder,
        _ => CappedReadError::Io(err),
    })?;
    let meta = file.metadata().map_err(CappedReadError::Io)?;
    if meta.is_dir() {
        return Err(CappedReadError::Folder);
    }
    if meta.len() > max_bytes {
        return Err(CappedReadError::TooLarge { size: meta.len() });
    }
    // take() keeps a file that grew since the size was read within the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(CappedReadError::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(CappedReadError::Grew {
            read: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn on_a_current_thread_runtime_the_work_runs_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let ran_on = run(move || std::thread::current().id()).await.expect("run");
        assert_eq!(ran_on, caller);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn on_a_multi_thread_runtime_the_work_goes_to_the_blocking_pool() {
        let caller = std::thread::current().id();
        let ran_on = run(move || std::thread::current().id()).await.expect("run");
        assert_ne!(ran_on, caller);
    }

    #[test]
    fn a_capped_read_tells_a_missing_file_from_a_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            read_capped(&dir.path().join("none"), 1),
            Err(CappedReadError::NotFound)
        ));
        assert!(matches!(read_capped(dir.path(), 1), Err(CappedReadError::Folder)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_panic_on_the_pool_is_an_error() {
        let outcome = run(|| -> () { panic!("boom") }).await;
        assert!(outcome.is_err());
    }
}
