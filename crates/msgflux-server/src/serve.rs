//! The listener: its own accept loop (rather than `axum::serve`) so that
//! header read time and open connections are bounded, and shutdown drains
//! in-flight edits for a grace period before cancelling them.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use msgflux_core::{InputLoader, Registry};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::auth::Keys;
use crate::catalog::Catalog;
use crate::config::{ConfigError, ServerConfig};
use crate::metrics::Metrics;
use crate::results::ResultStore;
use crate::routes::{self, AppState};

/// A configured gateway, ready to serve.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = msgflux_server::ServerConfig::default();
/// let gateway = msgflux_server::Gateway::new(config)?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// gateway.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Gateway {
    state: Arc<AppState>,
    config: ServerConfig,
}

impl Gateway {
    /// Checks the settings (listing every problem) and reads the keys,
    /// including `MSGFLUX_API_KEYS`. Providers come from the global registry.
    pub fn new(config: ServerConfig) -> Result<Self, ConfigError> {
        let env_keys = std::env::var("MSGFLUX_API_KEYS").ok();
        Self::with_registry(config, Registry::global(), env_keys.as_deref())
    }

    /// As [`Gateway::new`], with this registry and these comma-separated keys
    /// in place of the environment's (for tests and embedding).
    pub fn with_registry(
        config: ServerConfig,
        registry: &'static Registry,
        env_keys: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let keys = config.resolve_keys(env_keys)?;
        let limits = config.limits.clone();
        let url_loader = config.url_inputs.enabled.then(|| {
            InputLoader::default()
                .with_address_policy(config.url_inputs.policy())
                .with_max_bytes(config.url_inputs.max_bytes)
                .with_timeout(Duration::from_secs(config.url_inputs.timeout_secs.max(1)))
        });
        let state = AppState {
            catalog: Catalog::new(config.clone(), registry),
            keys: Keys::new(keys, limits.per_key_concurrency),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            results: ResultStore::new(
                Duration::from_secs(config.results.ttl_secs.max(1)),
                config.results.max_bytes,
            ),
            metrics: Metrics::new(),
            url_loader,
            public_url: config.public_url.clone(),
            pass_through: config.results.pass_through_provider_urls,
            studio: config.studio.enabled,
            shutting_down: AtomicBool::new(false),
            limits,
        };
        Ok(Self {
            state: Arc::new(state),
            config,
        })
    }

    /// The settings it was built from.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The HTTP routes, for embedding in another axum application (which
    /// then owns connection limits and shutdown).
    pub fn router(&self) -> axum::Router {
        routes::router(self.state.clone())
    }

    /// Serves on a bound listener until `shutdown` completes, then stops
    /// accepting, answers 503 to new edits, and waits up to
    /// `limits.shutdown_grace_secs` for in-flight ones before cancelling them.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) -> io::Result<()> {
        let limits = &self.config.limits;
        let router = self.router();
        let connections = Arc::new(Semaphore::new(limits.max_connections));
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            // Slow-loris: a client that trickles its headers is cut off.
            .header_read_timeout(limits.header_timeout());
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(64)
            .keep_alive_interval(Duration::from_secs(30));
        let address = listener.local_addr()?;
        tracing::info!(%address, keys = self.state.keys.required(), "msgflux gateway listening");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(err) => {
                            // Out of file descriptors and the like: pause instead of spinning.
                            tracing::warn!(%err, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = connections.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, "connection refused: at the open-connection limit");
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(router.clone());
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(err) = connection.await {
                            tracing::debug!(%peer, %err, "connection ended with an error");
                        }
                        drop(permit);
                    });
                }
                () = &mut shutdown => break,
            }
        }
        self.state.shutting_down.store(true, Ordering::Relaxed);
        drop(listener);
        let grace = limits.shutdown_grace();
        tracing::info!(
            ?grace,
            open = graceful.count(),
            "shutting down: draining in-flight edits"
        );
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(grace) => tracing::warn!("grace period over: cancelling the edits still in flight"),
        }
        Ok(())
    }
}

/// Binds the configured address and serves until Ctrl-C or SIGTERM (what
/// Kubernetes sends before killing a pod).
pub async fn run(config: ServerConfig) -> Result<(), RunError> {
    let listen = config.listen;
    let gateway = Gateway::new(config)?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| RunError::Bind { listen, source })?;
    eprintln!("msgflux gateway on http://{}", listener.local_addr().unwrap_or(listen));
    gateway
        .serve(listener, shutdown_signal())
        .await
        .map_err(RunError::Serve)
}

/// Why [`run`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The settings are wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {listen}: {source}")]
    Bind {
        /// The address.
        listen: std::net::SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// Serving failed.
    #[error("serving failed: {0}")]
    Serve(io::Error),
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
