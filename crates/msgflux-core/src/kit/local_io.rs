//! Local file work (a read, an atomic write, a claim) from async code.
//!
//! Such work is a handful of system calls. On a multi-thread runtime (the
//! gateway, the Python package) it goes to tokio's blocking pool, so it
//! never holds a worker thread. On a current-thread runtime (the CLI, the
//! blocking API) it runs in place: handing it to a pool thread and back
//! costs two thread wake-ups and context switches each way, which measured
//! more CPU than the work itself (bench/openai/batch.sh with `strace -c`:
//! about 30 futex calls per edit before).

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_panic_on_the_pool_is_an_error() {
        let outcome = run(|| -> () { panic!("boom") }).await;
        assert!(outcome.is_err());
    }
}
