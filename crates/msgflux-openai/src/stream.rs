//! Streamed edits: `stream=true` answers with server-sent events
//! (`image_edit.partial_image`, then `image_edit.completed`), which become
//! `EditEvent::Partial` items and one final `EditEvent::Completed`.
//!
//! SSE framing is parsed by `eventsource-stream` (the parser under
//! reqwest-eventsource and async-openai); each network read gets the
//! provider's read timeout, so a stalled stream ends with a timeout error.

use eventsource_stream::{Event, EventStreamError, Eventsource as _};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use msgflux_core::kit::http::body_snippet;
use msgflux_core::{EditEvent, Error, GeneratedImage, Result};
use serde::Deserialize;

use crate::client::OpenAIClient;
use crate::error::{ErrorBody, request_id, stream_error};
use crate::form::Field;
use crate::response::{Answer, OutputSettings, UsageJson, base64_result};

const PARTIAL_IMAGE: &str = "image_edit.partial_image";
const COMPLETED: &str = "image_edit.completed";

/// One event's JSON (`ImageEditPartialImageEvent` / `ImageEditCompletedEvent`).
#[derive(Debug, Deserialize)]
struct StreamEvent {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "msgflux_core::kit::http::optional_base64_string")]
    b64_json: Option<String>,
    #[serde(default)]
    partial_image_index: Option<u32>,
    #[serde(default)]
    created_at: Option<i64>,
    #[serde(default)]
    usage: Option<UsageJson>,
    #[serde(flatten)]
    settings: OutputSettings,
}

/// Starts a streamed edit of `fields` (built with `stream=true`). Nothing is
/// sent until the stream is first polled; dropping the stream closes the connection.
pub(crate) fn edit_stream(
    client: OpenAIClient,
    fields: Vec<Field>,
    answer: Answer,
) -> BoxStream<'static, Result<EditEvent>> {
    futures::stream::unfold(Phase::Start(Box::new(Call { client, fields, answer })), Phase::step).boxed()
}

/// What a streamed edit sends, and what its answer is built for.
struct Call {
    client: OpenAIClient,
    fields: Vec<Field>,
    answer: Answer,
}

enum Phase {
    Start(Box<Call>),
    Reading(Box<Reading>),
    Done,
}

struct Reading {
    answer: Answer,
    events: BoxStream<'static, std::result::Result<Event, EventStreamError<Error>>>,
    images: Vec<GeneratedImage>,
    usage: Option<UsageJson>,
    settings: OutputSettings,
    created: Option<i64>,
}

impl Phase {
    async fn step(self) -> Option<(Result<EditEvent>, Phase)> {
        match self {
            Phase::Done => None,
            Phase::Start(call) => match start(*call).await {
                Ok(Started::Events(reading)) => reading.next_event().await,
                Ok(Started::Whole(response)) => Some((Ok(EditEvent::Completed(*response)), Phase::Done)),
                Err(err) => Some((Err(err), Phase::Done)),
            },
            Phase::Reading(reading) => reading.next_event().await,
        }
    }
}

enum Started {
    /// Server-sent events to read.
    Events(Box<Reading>),
    /// A server that ignores `stream` answered with plain JSON: still a result.
    Whole(Box<msgflux_core::EditResponse>),
}

async fn start(call: Call) -> Result<Started> {
    let Call {
        client,
        fields,
        mut answer,
    } = call;
    let response = client.post(&fields).await?;
    answer.request_id = request_id(response.headers());
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_sse {
        let body = client.read_body(response).await?;
        let whole = answer.parse_body(&body)?;
        return Ok(Started::Whole(Box::new(whole)));
    }
    let events = client.pieces(response).eventsource().boxed();
    Ok(Started::Events(Box::new(Reading {
        answer,
        events,
        images: Vec::new(),
        usage: None,
        settings: OutputSettings::default(),
        created: None,
    })))
}

impl Reading {
    fn invalid(&self, message: String) -> Error {
        Error::InvalidResponse {
            provider: self.answer.provider.into(),
            message,
            request_id: self.answer.request_id.clone(),
        }
    }

    /// The final event from what was collected.
    fn completed(self: Box<Self>) -> Result<EditEvent> {
        let this = *self;
        this.answer
            .finish(this.images, this.usage, this.settings, this.created)
            .map(EditEvent::Completed)
    }

    async fn next_event(mut self: Box<Self>) -> Option<(Result<EditEvent>, Phase)> {
        loop {
            let event = match self.events.next().await {
                None => break,
                Some(Ok(event)) => event,
                Some(Err(EventStreamError::Transport(err))) => return Some((Err(err), Phase::Done)),
                Some(Err(err)) => {
                    let err = self.invalid(format!("the event stream is malformed: {err}"));
                    return Some((Err(err), Phase::Done));
                }
            };
            if event.data.trim() == "[DONE]" {
                break;
            }
            if event.data.trim().is_empty() {
                continue;
            }
            let parsed: StreamEvent = match serde_json::from_str(&event.data) {
                Ok(parsed) => parsed,
                Err(err) => {
                    let err = self.invalid(format!(
                        "a streamed event is not the expected JSON ({err}): {}",
                        body_snippet(event.data.as_bytes())
                    ));
                    return Some((Err(err), Phase::Done));
                }
            };
            let kind = parsed.kind.clone().unwrap_or_else(|| event.event.clone());
            match kind.as_str() {
                PARTIAL_IMAGE => {
                    let Some(b64) = parsed.b64_json else {
                        let err = self.invalid("a partial image event has no b64_json".into());
                        return Some((Err(err), Phase::Done));
                    };
                    let data = base64_result(
                        b64,
                        self.answer.response_format,
                        parsed.settings.output_format.as_deref(),
                    );
                    let partial = EditEvent::Partial {
                        index: parsed.partial_image_index.unwrap_or(0),
                        image: GeneratedImage::new(data),
                    };
                    return Some((Ok(partial), Phase::Reading(self)));
                }
                COMPLETED => {
                    let Some(b64) = parsed.b64_json else {
                        let err = self.invalid("the completed event has no b64_json".into());
                        return Some((Err(err), Phase::Done));
                    };
                    let data = base64_result(
                        b64,
                        self.answer.response_format,
                        parsed.settings.output_format.as_deref(),
                    );
                    self.images.push(GeneratedImage::new(data));
                    if let Some(usage) = &parsed.usage {
                        self.usage.get_or_insert_with(UsageJson::default).accumulate(usage);
                    }
                    self.settings = parsed.settings;
                    self.created = parsed.created_at.or(self.created);
                    if self.images.len() >= self.answer.n as usize {
                        return Some((self.completed(), Phase::Done));
                    }
                }
                "error" => {
                    let body: ErrorBody = serde_json::from_str(&event.data).unwrap_or_default();
                    let object = body.into_object().unwrap_or_default();
                    let err = stream_error(self.answer.provider, object, self.answer.request_id.clone());
                    return Some((Err(err), Phase::Done));
                }
                other => tracing::debug!(event = other, "ignoring an unknown streamed event"),
            }
        }
        if self.images.is_empty() {
            let err = self.invalid(format!(
                "the stream ended before `{COMPLETED}`; the edit may have been done and billed"
            ));
            return Some((Err(err), Phase::Done));
        }
        Some((self.completed(), Phase::Done))
    }
}
