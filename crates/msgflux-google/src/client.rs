//! The HTTP client: `generateContent` and the Files API's resumable upload,
//! authentication headers, retries under the billing rule, bodies read
//! under a cap within the read timeout, and the one call site of
//! [`parse_error`].

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use msgflux_core::kit::Idempotency;
use msgflux_core::kit::http::{BodyError, read_body, redact_url, transport_error};
use msgflux_core::{Error, Result, RetryPolicy};
use reqwest::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use serde::Deserialize;
use serde_json::Value;

use crate::config::Endpoint;
use crate::error::{parse_error, request_id};

/// The largest answer read into memory (a 4K PNG in base64 is about 30 MB).
const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// How often, and how many times, an upload still `PROCESSING` is asked about.
const PROCESSING_POLL: Duration = Duration::from_millis(200);
const PROCESSING_POLLS: u32 = 50;

const USER_AGENT_VALUE: &str = concat!("msgflux-google/", env!("CARGO_PKG_VERSION"));

/// An uploaded file, as `fileData` refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadedFile {
    /// `files/abc123`.
    pub name: String,
    /// The `uri` to put in `fileData.fileUri`.
    pub uri: String,
    /// Its MIME type.
    pub mime: String,
}

#[derive(Debug, Deserialize)]
struct FileEnvelope {
    file: FileJson,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileJson {
    #[serde(default)]
    name: String,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

/// Sends requests to one endpoint (Gemini API or Vertex AI).
/// `Debug` shows no secret: the endpoint config redacts its key.
#[derive(Clone, Debug)]
pub(crate) struct GoogleClient {
    endpoint: Endpoint,
    http: reqwest::Client,
    read_timeout: Duration,
    retry: RetryPolicy,
}

impl GoogleClient {
    pub(crate) fn new(endpoint: Endpoint, http: reqwest::Client, read_timeout: Duration, retry: RetryPolicy) -> Self {
        Self {
            endpoint,
            http,
            read_timeout,
            retry,
        }
    }

    /// Where requests go, for `Display` (never secrets).
    pub(crate) fn describe(&self) -> String {
        self.endpoint.describe()
    }

    pub(crate) fn is_vertex(&self) -> bool {
        self.endpoint.is_vertex()
    }

    pub(crate) fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Runs `work` within the read timeout, classifying transport failures.
    async fn within_read_timeout<T>(
        &self,
        work: impl Future<Output = reqwest::Result<T>>,
        waiting_for: &str,
        maybe_billed: bool,
    ) -> Result<T> {
        match tokio::time::timeout(self.read_timeout, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(transport_error(crate::GOOGLE_SCHEME, err, Some(self.read_timeout))),
            Err(_) => Err(Error::Timeout {
                provider: crate::GOOGLE_SCHEME.into(),
                after: self.read_timeout,
                maybe_billed,
                message: waiting_for.to_string(),
            }),
        }
    }

    /// Sends a request built by `build` under the retry policy, and returns
    /// the successful answer's headers and body. Error answers are read and
    /// mapped by [`parse_error`].
    async fn send(
        &self,
        operation: &str,
        idempotency: Idempotency,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::header::HeaderMap, Bytes)> {
        let billed = idempotency == Idempotency::Billable;
        self.retry
            .run(operation, idempotency, |attempt| {
                let request = build().header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
                async move {
                    if attempt > 0 {
                        tracing::debug!(operation, attempt, "resending");
                    }
                    let response = self
                        .within_read_timeout(request.send(), &format!("waiting for the {operation} answer"), billed)
                        .await?;
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = self.read_body(response, operation, billed).await?;
                    if status.is_success() {
                        return Ok((headers, body));
                    }
                    Err(parse_error(crate::GOOGLE_SCHEME, status.as_u16(), &headers, &body))
                }
            })
            .await
    }

    /// `POST models/{model}:generateContent`: paid, resent only as the billing rule allows.
    pub(crate) async fn generate(&self, model: &str, body: &Value) -> Result<(Option<String>, Bytes)> {
        let url = self.endpoint.generate_url(model)?;
        let headers = self.endpoint.headers()?;
        let payload = Bytes::from(
            serde_json::to_vec(body).map_err(|e| Error::config(format!("cannot encode the request: {e}")))?,
        );
        tracing::debug!(url = %redact_url(url.as_str()), bytes = payload.len(), "generateContent");
        let (headers, body) = self
            .send("generateContent", Idempotency::Billable, || {
                self.http
                    .post(url.clone())
                    .headers(headers.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(payload.clone())
            })
            .await?;
        Ok((request_id(&headers), body))
    }

    /// Uploads one file through the Files API's resumable protocol (start,
    /// then upload and finalize), and waits until it is `ACTIVE`. Uploads
    /// are free and retried after any transient failure.
    pub(crate) async fn upload(&self, bytes: Bytes, mime: &str, display_name: &str) -> Result<UploadedFile> {
        let Endpoint::Gemini(config) = &self.endpoint else {
            return Err(Error::config("Vertex AI has no Files API; inputs go inline"));
        };
        let start_url = config.upload_url()?;
        let headers = config.headers()?;
        let metadata = serde_json::json!({"file": {"displayName": display_name}});
        let length = bytes.len().to_string();
        let (answer, _) = self
            .send("upload start", Idempotency::Idempotent, || {
                self.http
                    .post(start_url.clone())
                    .headers(headers.clone())
                    .header("x-goog-upload-protocol", "resumable")
                    .header("x-goog-upload-command", "start")
                    .header("x-goog-upload-header-content-length", length.as_str())
                    .header("x-goog-upload-header-content-type", mime)
                    .json(&metadata)
            })
            .await?;
        let session = answer
            .get("x-goog-upload-url")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| Error::InvalidResponse {
                provider: crate::GOOGLE_SCHEME.into(),
                message: "the upload start answer has no x-goog-upload-url".into(),
                request_id: None,
            })?;
        let session = url::Url::parse(&session).map_err(|e| Error::InvalidResponse {
            provider: crate::GOOGLE_SCHEME.into(),
            message: format!("the upload URL `{}` is not a URL: {e}", redact_url(&session)),
            request_id: None,
        })?;
        let (_, body) = self
            .send("upload", Idempotency::Idempotent, || {
                self.http
                    .post(session.clone())
                    .headers(headers.clone())
                    .header("x-goog-upload-command", "upload, finalize")
                    .header("x-goog-upload-offset", "0")
                    .header(CONTENT_TYPE, mime)
                    .body(bytes.clone())
            })
            .await?;
        let mut file = parse_file(&body, true)?;
        let mut polls = 0;
        while file.state.as_deref() == Some("PROCESSING") && polls < PROCESSING_POLLS {
            tokio::time::sleep(PROCESSING_POLL).await;
            polls += 1;
            let url = config.file_url(&file.name)?;
            let (_, body) = self
                .send("file status", Idempotency::Idempotent, || {
                    self.http.get(url.clone()).headers(headers.clone())
                })
                .await?;
            file = parse_file(&body, false)?;
        }
        match file.state.as_deref() {
            None | Some("ACTIVE") => Ok(UploadedFile {
                name: file.name,
                uri: file.uri,
                mime: file.mime_type.unwrap_or_else(|| mime.to_string()),
            }),
            Some("FAILED") => Err(Error::Rejected(Box::new(msgflux_core::ProviderError::new(
                crate::GOOGLE_SCHEME,
                format!(
                    "the upload of {display_name} failed: {}",
                    file.error
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "no reason given".into())
                ),
            )))),
            Some(state) => Err(Error::Timeout {
                provider: crate::GOOGLE_SCHEME.into(),
                after: PROCESSING_POLL * PROCESSING_POLLS,
                maybe_billed: false,
                message: format!("waiting for the uploaded {display_name} to be ACTIVE (still {state})"),
            }),
        }
    }

    /// Reads a whole answer body, each piece within the read timeout.
    async fn read_body(&self, response: reqwest::Response, operation: &str, billed: bool) -> Result<Bytes> {
        let id = request_id(response.headers());
        read_body(response, MAX_BODY_BYTES, Some(self.read_timeout))
            .await
            .map_err(|err| match err {
                BodyError::TooLarge { .. } => Error::InvalidResponse {
                    provider: crate::GOOGLE_SCHEME.into(),
                    message: format!(
                        "the {operation} answer is larger than {} MB",
                        MAX_BODY_BYTES / (1024 * 1024)
                    ),
                    request_id: id,
                },
                BodyError::Stalled(after) => Error::Timeout {
                    provider: crate::GOOGLE_SCHEME.into(),
                    after,
                    maybe_billed: billed,
                    message: format!("reading the {operation} answer"),
                },
                BodyError::Transport(err) => transport_error(crate::GOOGLE_SCHEME, err, Some(self.read_timeout)),
                _ => Error::InvalidResponse {
                    provider: crate::GOOGLE_SCHEME.into(),
                    message: format!("the {operation} answer could not be read"),
                    request_id: id,
                },
            })
    }
}

/// A `File` (or `{"file": File}`) answer.
fn parse_file(body: &[u8], enveloped: bool) -> Result<FileJson> {
    let parsed = if enveloped {
        serde_json::from_slice::<FileEnvelope>(body).map(|e| e.file)
    } else {
        serde_json::from_slice::<FileJson>(body)
    };
    let file = parsed.map_err(|e| Error::InvalidResponse {
        provider: crate::GOOGLE_SCHEME.into(),
        message: format!(
            "the Files API answer is not the expected JSON ({e}): {}",
            msgflux_core::kit::http::body_snippet(body)
        ),
        request_id: None,
    })?;
    if file.uri.is_empty() || file.name.is_empty() {
        return Err(Error::InvalidResponse {
            provider: crate::GOOGLE_SCHEME.into(),
            message: "the Files API answer names no file".into(),
            request_id: None,
        });
    }
    Ok(file)
}
