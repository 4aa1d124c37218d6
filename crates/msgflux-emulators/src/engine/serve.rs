//! Serving an emulator's router on 127.0.0.1: on the caller's Tokio runtime
//! (`start`), or on a small runtime of its own on a background thread
//! (`start_in_background`, for synchronous tests that run a client as a
//! child process). Stops when dropped.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use tokio::io::AsyncReadExt as _;

/// A router being served; dropping it stops the server.
#[derive(Debug)]
pub struct Served {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Served {
    /// Binds a free port of 127.0.0.1 and serves the router `make` builds for
    /// that address, on the current Tokio runtime.
    pub async fn start(make: impl FnOnce(SocketAddr) -> Router) -> io::Result<Self> {
        Self::start_on(0, make).await
    }

    /// Like [`Served::start`] on a given port of 127.0.0.1 (0: a free one).
    pub async fn start_on(port: u16, make: impl FnOnce(SocketAddr) -> Router) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let addr = listener.local_addr()?;
        let router = make(addr);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            addr,
            task,
            runtime: None,
        })
    }

    /// Like [`Served::start`], on a one-thread runtime of its own. Fails
    /// when called from within a Tokio runtime (use `start` there).
    pub fn start_in_background(make: impl FnOnce(SocketAddr) -> Router) -> io::Result<Self> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(io::Error::other(
                "start_in_background was called inside a Tokio runtime; use start().await there",
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("emulator")
            .enable_all()
            .build()?;
        let mut served = runtime.block_on(Self::start(make))?;
        served.runtime = Some(runtime);
        Ok(served)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How every emulator starts: its shared state, made for its base URL
    /// (`http://127.0.0.1:PORT`), served by its router; on the current
    /// runtime, or (`background`) on a runtime of its own.
    pub async fn start_emulator<S: Send + Sync + 'static>(
        port: u16,
        state: impl FnOnce(String) -> Arc<S>,
        router: fn(Arc<S>) -> Router,
    ) -> io::Result<(Self, Arc<S>)> {
        let mut made = None;
        let served = Self::start_on(port, |addr| {
            let shared = state(format!("http://{addr}"));
            made = Some(shared.clone());
            router(shared)
        })
        .await?;
        Ok((
            served,
            made.ok_or_else(|| io::Error::other("the router was not built"))?,
        ))
    }

    /// [`Served::start_emulator`] on a free port, on a one-thread runtime of
    /// its own (for synchronous code); fails inside a Tokio runtime.
    pub fn start_emulator_in_background<S: Send + Sync + 'static>(
        state: impl FnOnce(String) -> Arc<S>,
        router: fn(Arc<S>) -> Router,
    ) -> io::Result<(Self, Arc<S>)> {
        let mut made = None;
        let served = Self::start_in_background(|addr| {
            let shared = state(format!("http://{addr}"));
            made = Some(shared.clone());
            router(shared)
        })?;
        Ok((
            served,
            made.ok_or_else(|| io::Error::other("the router was not built"))?,
        ))
    }
}

/// The three ways every emulator starts (`start`, `start_on`,
/// `start_in_background`), for an `Emulator { served, $field }` whose
/// state `$state(base_url)` makes and `$router` serves.
#[macro_export]
#[doc(hidden)]
macro_rules! emulator_starts {
    ($field:ident, $state:path, $router:path) => {
        /// Starts on a free port of 127.0.0.1, on the current Tokio runtime.
        pub async fn start() -> std::io::Result<Self> {
            Self::start_on(0).await
        }

        /// Starts on a port of 127.0.0.1 (0: a free one), on the current Tokio runtime.
        pub async fn start_on(port: u16) -> std::io::Result<Self> {
            let (served, $field) = $crate::engine::Served::start_emulator(port, $state, $router).await?;
            Ok(Self { served, $field })
        }

        /// Starts on a free port of 127.0.0.1, served by a runtime of its own on
        /// a background thread: for synchronous code, such as a test that runs a
        /// client as a child process.
        pub fn start_in_background() -> std::io::Result<Self> {
            let (served, $field) = $crate::engine::Served::start_emulator_in_background($state, $router)?;
            Ok(Self { served, $field })
        }
    };
}

/// Waits (in 1 ms steps, up to `limit`) until `condition` holds; returns
/// whether it did. For tests that watch an emulator's journal while a client runs.
pub async fn wait_until(limit: std::time::Duration, condition: impl Fn() -> bool) -> bool {
    let until = tokio::time::Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if tokio::time::Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// What the `msgflux-emulator` program needs of any emulator.
pub trait Emulated {
    /// The base URL a client is given.
    fn base_url(&self) -> String;
    /// The key (or token) it accepts.
    fn key(&self) -> &'static str;
    /// The environment variables that point the provider's clients at it.
    fn client_env(&self) -> Vec<(&'static str, String)>;
    /// How many paid requests arrived.
    fn paid_count(&self) -> usize;
    /// Every problem seen.
    fn problems(&self) -> Vec<String>;
}

/// Starts a server on a free port of 127.0.0.1 that reads one whole request
/// per connection and then resets the connection without answering: what a
/// client sees when a service accepts a request and then drops it. Returns
/// its address and the number of whole requests it read so far. It serves
/// until the runtime it was started on stops.
pub async fn start_resetting_server() -> io::Result<(SocketAddr, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                if read_whole_request(&mut socket).await {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                // Reset rather than close politely.
                let _ = socket.set_zero_linger();
                drop(socket);
            });
        }
    });
    Ok((addr, count))
}

/// Reads headers and a Content-Length (or chunked) body; true when a whole request arrived.
async fn read_whole_request(socket: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let Ok(n) = socket.read(&mut chunk).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let body = &buf[end + 4..];
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let done = match length {
            Some(length) => body.len() >= length,
            None => body.ends_with(b"0\r\n\r\n"),
        };
        if done {
            return true;
        }
    }
}
