#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Settings: the TOML file, limits, keys, aliases, provider sections.
mod config;
// Gateway keys and each key's limits.
mod auth;
// Which models are served, and building them.
mod catalog;
// OpenAI's wire format: requests, answers, errors, stream events.
mod wire;
// Short-lived result URLs.
mod results;
// Prometheus metrics.
mod metrics;
// The studio: the web page at `/`, its files embedded.
mod studio;
// The endpoints.
mod routes;
// The listener, connection limits and graceful shutdown.
mod serve;

pub use config::{ConfigError, KeyConfig, Limits, ProviderSection, Results, ServerConfig, Studio, UrlInputs};
pub use serve::{Gateway, RunError, run};

/// Entry points for the fuzz targets in `fuzz/` (not part of the API).
#[doc(hidden)]
pub mod fuzzing {
    /// Reads a JSON edit body; never panics, whatever the bytes.
    pub fn json_body(body: &[u8]) {
        let _ = crate::wire::json::read(body);
    }

    /// Reads a multipart edit body with this boundary; never panics or hangs.
    pub fn multipart_body(boundary: &str, body: &[u8]) {
        use axum::extract::FromRequest as _;
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
            return;
        };
        runtime.block_on(async {
            let request = axum::http::Request::builder()
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .body(axum::body::Body::from(body.to_vec()));
            let Ok(request) = request else { return };
            if let Ok(form) = axum::extract::Multipart::from_request(request, &()).await {
                let _ = crate::wire::multipart::read(form).await;
            }
        });
    }
}
