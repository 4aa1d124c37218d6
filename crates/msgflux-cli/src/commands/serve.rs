//! `msgflux serve`: the OpenAI-compatible gateway (crate msgflux-server).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use msgflux::{Error, Result};
use msgflux_server::{RunError, ServerConfig};

use crate::exit::Exit;

/// Flags of `msgflux serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: the config file's `listen`, else 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,

    /// Settings file (TOML); docs/server.md lists every field.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The model for requests that name none (for example local/patchmatch).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub default_model: Option<String>,

    /// Serve beyond loopback without gateway keys (anyone who reaches the port spends your provider credit).
    #[arg(long)]
    pub allow_unauthenticated: bool,
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<Exit> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::from_file(path).map_err(|e| Error::config(e.to_string()))?,
        None => ServerConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(model) = args.default_model {
        config.default_model = model;
    }
    config.allow_unauthenticated |= args.allow_unauthenticated;
    msgflux_server::run(config).await.map_err(|err| match err {
        RunError::Bind { listen, source } => Error::io(listen.to_string(), source),
        other => Error::config(other.to_string()),
    })?;
    Ok(Exit::Success)
}
