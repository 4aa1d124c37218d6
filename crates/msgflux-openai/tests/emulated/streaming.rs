//! Streamed edits: partial images, then the completed result.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use msgflux_core::{EditEvent, Error, ImageData, Model, ResponseFormat};
use msgflux_openai::OpenAIEditOptions;

use msgflux_emulators::Fault;

use crate::support::{assert_clean, bounded, builder, emulator, last_edit, mask, model, rgba_png};

async fn collect(model: &Model, partials: Option<u8>, n: u32) -> Vec<msgflux_core::Result<EditEvent>> {
    let mut edit = model
        .edit("Paint it as a watercolour")
        .image(rgba_png(32, 32))
        .mask(mask(32, 32))
        .n(n);
    if let Some(partials) = partials {
        edit = edit.options(OpenAIEditOptions::new().with_partial_images(partials));
    }
    bounded(edit.stream().collect::<Vec<_>>()).await
}

#[tokio::test]
async fn partial_images_arrive_before_the_completed_result() {
    let emulator = emulator().await;
    let events = collect(&model(&emulator, "gpt-image-1"), Some(2), 1).await;
    assert_eq!(events.len(), 3, "two partial images and the result");
    let indices: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            Ok(EditEvent::Partial { index, .. }) => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(indices, [0, 1]);
    match events.last() {
        Some(Ok(EditEvent::Completed(response))) => {
            assert_eq!(response.images.len(), 1);
            assert_eq!(response.usage.as_ref().and_then(|u| u.output_tokens), Some(1000));
            assert!(response.cost.is_some());
            assert_eq!(response.request_id.as_deref(), Some("req_emu_1"));
        }
        other => panic!("the last event must be the completed result, got {other:?}"),
    }
    let sent = last_edit(&emulator);
    assert_eq!(sent.text("stream"), Some("true"));
    assert_eq!(sent.text("partial_images"), Some("2"));
    assert_clean(&emulator);
}

#[tokio::test]
async fn partial_images_follow_the_requested_response_format() {
    let emulator = emulator().await;
    let events = bounded(
        model(&emulator, "gpt-image-1")
            .edit("x")
            .image(rgba_png(16, 16))
            .response_format(ResponseFormat::Base64)
            .options(OpenAIEditOptions::new().with_partial_images(1))
            .stream()
            .collect::<Vec<_>>(),
    )
    .await;
    match &events[0] {
        Ok(EditEvent::Partial { image, .. }) => assert!(matches!(image.data, ImageData::Base64(_))),
        other => panic!("expected a partial image, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_of_two_results_completes_after_both() {
    let emulator = emulator().await;
    let events = collect(&model(&emulator, "gpt-image-1.5"), None, 2).await;
    assert_eq!(events.len(), 1);
    match &events[0] {
        Ok(EditEvent::Completed(response)) => {
            assert_eq!(response.images.len(), 2);
            assert_eq!(response.usage.as_ref().and_then(|u| u.output_tokens), Some(2000));
        }
        other => panic!("expected the completed result, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_that_stalls_ends_with_a_timeout_after_its_partial_images() {
    let emulator = emulator().await;
    emulator.inject(Fault::StallAfterPartials(1));
    let provider = builder(&emulator)
        .with_read_timeout(Duration::from_millis(300))
        .build("gpt-image-1")
        .expect("builds");
    let events = collect(&Model::from_provider(Arc::new(provider)), Some(3), 1).await;
    assert!(matches!(events[0], Ok(EditEvent::Partial { index: 0, .. })));
    match &events[1] {
        Err(err @ Error::Timeout { maybe_billed: true, .. }) => {
            assert!(err.to_string().contains("streamed event"), "{err}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(events.len(), 2);
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn an_error_event_in_the_stream_maps_to_its_error() {
    let emulator = emulator().await;
    emulator.inject(Fault::StreamErrorAfterPartials(1, "moderation_blocked".into()));
    let events = collect(&model(&emulator, "gpt-image-1"), Some(2), 1).await;
    assert!(matches!(events[0], Ok(EditEvent::Partial { .. })));
    match &events[1] {
        Err(Error::ContentPolicy(detail)) => assert_eq!(detail.request_id.as_deref(), Some("req_emu_1")),
        other => panic!("expected a content policy error, got {other:?}"),
    }
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn a_refusal_before_the_stream_starts_is_the_only_event() {
    let emulator = emulator().await;
    emulator.inject(Fault::Status {
        status: 400,
        code: "content_policy_violation".into(),
        headers: Vec::new(),
    });
    let events = collect(&model(&emulator, "gpt-image-1"), Some(1), 1).await;
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], Err(Error::ContentPolicy(_))));
}

#[tokio::test]
async fn a_server_that_ignores_stream_still_gives_the_result() {
    // A 1x1 PNG.
    const ONE_PIXEL: &str = r#"{"created": 1700000000, "data": [{"b64_json": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}]}"#;
    let emulator = emulator().await;
    emulator.inject(Fault::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: ONE_PIXEL.into(),
    });
    let events = collect(&model(&emulator, "gpt-image-1"), None, 1).await;
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0], Ok(EditEvent::Completed(r)) if r.images.len() == 1));
}

#[tokio::test]
async fn dall_e_2_streams_just_the_completed_result() {
    let emulator = emulator().await;
    let events = collect(&model(&emulator, "dall-e-2"), None, 1).await;
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], Ok(EditEvent::Completed(_))), "{events:?}");
    assert!(
        last_edit(&emulator).text("stream").is_none(),
        "dall-e-2 is never asked to stream"
    );
    assert_clean(&emulator);
}
