//! Errors in OpenAI's error body, with the status each SDK turns into its
//! own exception class. The one place a `msgflux_core::Error` becomes an answer.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use msgflux_core::{Error, ProviderError, Violation};
use serde_json::{Value, json};

/// An error answer: status, OpenAI's `error` object, and the retry advice
/// the SDKs read (`retry-after`, `x-should-retry`).
///
/// Boxed: it travels in every `Result` of a request's path, which stays small.
#[derive(Debug, Clone)]
pub(crate) struct ApiError(Box<ApiErrorBody>);

/// The fields of an [`ApiError`].
#[derive(Debug, Clone)]
pub(crate) struct ApiErrorBody {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// OpenAI's `type`: `invalid_request_error`, `authentication_error`, ...
    pub(crate) kind: &'static str,
    pub(crate) param: Option<String>,
    pub(crate) code: Option<String>,
    /// Every broken rule, each with its own parameter (a msgflux extension:
    /// `error.violations`, so a form can show each error beside its field).
    pub(crate) violations: Vec<Violation>,
    pub(crate) retry_after: Option<Duration>,
    /// `x-should-retry`: the official SDKs obey it over their own status rules,
    /// so a request that may have been billed is never resent by the client.
    pub(crate) should_retry: Option<bool>,
    /// The label metrics count it under.
    pub(crate) metric_kind: &'static str,
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorBody;
    fn deref(&self) -> &ApiErrorBody {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorBody {
        &mut self.0
    }
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self(Box::new(ApiErrorBody {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            violations: Vec::new(),
            retry_after: None,
            should_retry: None,
            metric_kind: kind,
        }))
    }

    fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    fn metric(mut self, kind: &'static str) -> Self {
        self.metric_kind = kind;
        self
    }

    fn no_retry(mut self) -> Self {
        self.should_retry = Some(false);
        self
    }

    /// 400 naming the parameter.
    pub(crate) fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        let (param, message) = (param.into(), message.into());
        Self::invalid_all(vec![Violation::new(param.clone(), message.clone())], param, message)
    }

    /// 400 for every broken rule; `param` and `message` are what SDKs show.
    fn invalid_all(violations: Vec<Violation>, param: String, message: String) -> Self {
        let mut api = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
            .param(param)
            .code("invalid_value")
            .metric("invalid_input");
        api.violations = violations;
        api
    }

    /// OpenAI's `error` object, with the msgflux `violations` list when there is one.
    pub(crate) fn body(&self) -> Value {
        let mut error = json!({
            "message": &self.message,
            "type": self.kind,
            "param": &self.param,
            "code": &self.code,
        });
        if !self.violations.is_empty() {
            error["violations"] = self
                .violations
                .iter()
                .map(|v| json!({ "param": v.param, "message": v.rule }))
                .collect();
        }
        error
    }

    /// 401.
    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
            .code("invalid_api_key")
            .metric("unauthenticated")
    }

    /// 403.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", message).metric("forbidden")
    }

    /// 404 for a model.
    pub(crate) fn unknown_model(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
            .param("model")
            .code("model_not_found")
            .metric("unknown_model")
    }

    /// 404 for anything else.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message).metric("not_found")
    }

    /// 408: the body did not arrive in time.
    pub(crate) fn body_timeout(after: Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            format!("the request body did not arrive within {:.1}s", after.as_secs_f64()),
        )
        .metric("body_timeout")
    }

    /// 413.
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error", message)
            .code("request_too_large")
            .metric("too_large")
    }

    /// 429 from the gateway's own limits: nothing was sent, retrying later is safe.
    pub(crate) fn rate_limited(message: impl Into<String>, wait: Duration) -> Self {
        let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message)
            .code("rate_limit_exceeded")
            .metric("gateway_rate_limit");
        err.retry_after = Some(wait);
        err.should_retry = Some(true);
        err
    }

    /// 503: the server is at its in-flight limit or shutting down; nothing was sent.
    pub(crate) fn overloaded(message: impl Into<String>) -> Self {
        let mut err = Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
            .code("server_overloaded")
            .metric("overloaded");
        err.retry_after = Some(Duration::from_secs(1));
        err.should_retry = Some(true);
        err
    }

    /// 500: the gateway itself failed; the message is safe to show.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
            .metric("internal")
            .no_retry()
    }
}

/// The provider's words, prefixed with who said them.
fn upstream(detail: &ProviderError) -> String {
    detail.to_string()
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let message = err.to_string();
        match err {
            Error::InvalidInput { ref param, .. } => Self::invalid_all(err.violations(), param.clone(), message),
            Error::ProviderUnavailable { .. } => Self::unknown_model(message),
            Error::Decode { ref what, .. } if what.starts_with("image") || what.starts_with("mask") => {
                let param = what.split(' ').next().unwrap_or("image").to_string();
                Self::invalid_all(vec![Violation::new(param.clone(), message.clone())], param, message)
            }
            Error::ContentPolicy(ref detail) => Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
                .code(detail.code.clone().unwrap_or_else(|| "content_policy_violation".into()))
                .metric("content_policy"),
            Error::Rejected(ref detail) => {
                let mut api = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
                    .metric("upstream_rejected")
                    .no_retry();
                api.param = detail.param.clone();
                api.code = detail.code.clone();
                api
            }
            Error::NotFound(ref detail) => Self::not_found(upstream(detail)).code("model_not_found"),
            Error::RateLimited(ref detail) => {
                let mut api = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message)
                    .code("rate_limit_exceeded")
                    .metric("upstream_rate_limit");
                api.retry_after = Some(detail.retry_after.unwrap_or(Duration::from_secs(1)));
                api.should_retry = Some(true);
                api
            }
            Error::QuotaExceeded(_) => Self::new(StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", message)
                .code("insufficient_quota")
                .metric("upstream_quota")
                .no_retry(),
            // The gateway's provider key is wrong: the client cannot fix that, the operator can.
            Error::Unauthenticated(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                format!("the gateway's credentials for this provider were refused upstream: {message}"),
            )
            .code("upstream_authentication")
            .metric("upstream_unauthenticated")
            .no_retry(),
            Error::PermissionDenied(_) => Self::forbidden(message).code("upstream_permission_denied"),
            Error::Timeout { maybe_billed, .. } => {
                let mut api = Self::new(StatusCode::GATEWAY_TIMEOUT, "server_error", message)
                    .code("upstream_timeout")
                    .metric("upstream_timeout");
                api.should_retry = Some(!maybe_billed);
                api
            }
            Error::Network { request_sent, .. } => {
                let mut api = Self::new(StatusCode::BAD_GATEWAY, "server_error", message)
                    .code("upstream_unreachable")
                    .metric("upstream_network");
                api.should_retry = Some(!request_sent);
                api
            }
            Error::Server(_) | Error::Cancelled(_) | Error::InvalidResponse { .. } | Error::Decode { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "server_error", message)
                    .code("upstream_error")
                    .metric("upstream_server")
                    .no_retry()
            }
            Error::Config { .. } => Self::internal(format!("the gateway is misconfigured for this model: {message}"))
                .code("gateway_configuration"),
            _ => Self::internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.body() });
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            headers.insert("retry-after-ms", HeaderValue::from(wait.as_millis().max(1) as u64));
        }
        if let Some(retry) = self.should_retry {
            headers.insert(
                "x-should-retry",
                HeaderValue::from_static(if retry { "true" } else { "false" }),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_is_400_with_the_param() {
        let api = ApiError::from(Error::invalid("mask", "mask is 512x512 but image is 1024x1024"));
        assert_eq!(api.status, StatusCode::BAD_REQUEST);
        assert_eq!(api.param.as_deref(), Some("mask"));
    }

    #[test]
    fn every_violation_is_listed_with_its_own_param() {
        let err = Error::invalid_all(vec![
            Violation::new("n", "must be between 1 and 1 for this model, got 2"),
            Violation::new("option radius", "must be between 1 and 32, got 40"),
        ])
        .unwrap();
        let body = ApiError::from(err).body();
        assert_eq!(body["param"], "n");
        assert_eq!(body["violations"][1]["param"], "option radius");
        assert_eq!(body["violations"][1]["message"], "must be between 1 and 32, got 40");
    }

    #[test]
    fn errors_that_name_no_field_carry_no_violations() {
        let body = ApiError::unauthenticated("missing gateway key").body();
        assert!(body.get("violations").is_none(), "{body}");
    }

    #[test]
    fn an_upstream_timeout_after_sending_is_never_retried_by_the_client() {
        let api = ApiError::from(Error::Timeout {
            provider: "openai".into(),
            after: Duration::from_secs(1),
            maybe_billed: true,
            message: "waiting".into(),
        });
        assert_eq!(api.status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(api.should_retry, Some(false));
    }

    #[test]
    fn upstream_rate_limits_keep_the_wait() {
        let detail = ProviderError::new("openai", "slow down").with_retry_after(Some(Duration::from_secs(7)));
        let api = ApiError::from(Error::RateLimited(Box::new(detail)));
        assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(api.retry_after, Some(Duration::from_secs(7)));
    }
}
