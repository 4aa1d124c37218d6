//! The studio: a web page at `/` that paints masks, runs edits and compares
//! results, through the same public API as any client (`GET /v1/models`,
//! `POST /v1/images/edits`, with the key the user types). Its files live in
//! `studio/` and are embedded in the binary, so nothing is fetched at run
//! time; each is served with its content type, an ETag of its bytes and a
//! Content-Security-Policy that allows only the page's own files.

use std::hash::{DefaultHasher, Hasher as _};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Only the page's own script and styles; images the page makes itself
/// (`blob:`, `data:`); calls to this gateway only; no framing, no forms, no plugins.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// One embedded file and where it is served.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../studio/index.html"),
    },
    Asset {
        path: "/studio/studio.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../studio/studio.css"),
    },
    Asset {
        path: "/studio/studio.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../studio/studio.js"),
    },
];

/// The routes of the page and its files.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS.iter().fold(Router::new(), |router, asset| {
        let etag = etag_of(asset.body);
        router.route(
            asset.path,
            get(move |headers: HeaderMap| async move { serve(asset, &etag, &headers) }),
        )
    })
}

/// A strong ETag of the bytes: it changes exactly when the file does.
fn etag_of(body: &[u8]) -> HeaderValue {
    let mut hasher = DefaultHasher::new();
    hasher.write(body);
    HeaderValue::from_str(&format!("\"{:016x}-{}\"", hasher.finish(), body.len()))
        .unwrap_or_else(|_| HeaderValue::from_static("\"studio\""))
}

fn serve(asset: &Asset, etag: &HeaderValue, request: &HeaderMap) -> Response {
    let unchanged = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || tag.trim().as_bytes() == etag.as_bytes());
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::ETAG, etag.clone());
    // Revalidated on every load (a 304 costs a few bytes), so an upgraded gateway never serves a stale page.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_changes_with_the_bytes() {
        assert_ne!(etag_of(b"one"), etag_of(b"two"));
        assert_eq!(etag_of(b"one"), etag_of(b"one"));
    }

    #[test]
    fn the_policy_allows_no_inline_script() {
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    }
}
