//! `map_gather`: order, concurrency cap, failure isolation, timeouts, tuple forms.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use msgflux_core::functional::{BatchOptions, map_gather, map_stream};
use msgflux_core::kit::testkit::{MemoryProvider, sample_image, sample_mask};
use msgflux_core::{EditRequest, Error, Model};

fn model_with(provider: MemoryProvider) -> (Model, Arc<MemoryProvider>) {
    let provider = Arc::new(provider);
    (Model::from_provider(provider.clone()), provider)
}

fn jobs(count: usize) -> Vec<(String, Vec<u8>)> {
    (0..count).map(|i| (format!("job {i}"), sample_image(8, 8))).collect()
}

#[tokio::test(start_paused = true)]
async fn results_come_back_in_input_order() {
    let (model, _) = model_with(MemoryProvider::new("fill").with_delay(Duration::from_millis(10)));
    // Different seeds give different colours, so each result identifies its job.
    let requests: Vec<EditRequest> = (0..6)
        .map(|i| EditRequest::new("same prompt").image(sample_image(8, 8)).seed(i))
        .collect();
    let results = map_gather(&model, requests, BatchOptions::default().concurrency(3)).await;
    let seeds: Vec<u64> = results
        .iter()
        .map(|r| r.as_ref().expect("ok").images[0].seed.expect("seed"))
        .collect();
    assert_eq!(seeds, vec![0, 1, 2, 3, 4, 5]);
}

#[tokio::test(start_paused = true)]
async fn no_more_than_the_concurrency_limit_run_at_once() {
    let (model, provider) = model_with(MemoryProvider::new("fill").with_delay(Duration::from_secs(1)));
    let results = map_gather(&model, jobs(10), BatchOptions::default().concurrency(3)).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(provider.calls(), 10);
    assert_eq!(provider.peak_in_flight(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_default_concurrency_is_bounded() {
    let (model, provider) = model_with(MemoryProvider::new("fill").with_delay(Duration::from_secs(1)));
    map_gather(&model, jobs(20), BatchOptions::default()).await;
    assert_eq!(provider.peak_in_flight(), msgflux_core::functional::DEFAULT_CONCURRENCY);
}

#[tokio::test(start_paused = true)]
async fn a_failing_item_is_its_own_error_and_the_rest_continue() {
    let (model, provider) = model_with(MemoryProvider::new("fill").failing_on("explode"));
    let items = vec![
        EditRequest::new("fine").image(sample_image(8, 8)),
        EditRequest::new("please explode").image(sample_image(8, 8)),
        EditRequest::new("fine again").image(sample_image(8, 8)),
    ];
    let results = map_gather(&model, items, BatchOptions::default()).await;
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(Error::Server(_))));
    assert!(results[2].is_ok());
    assert_eq!(provider.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_item_over_the_timeout_is_cancelled_and_reported() {
    let (model, _) = model_with(MemoryProvider::new("fill").with_delay(Duration::from_secs(60)));
    let started = tokio::time::Instant::now();
    let results = map_gather(&model, jobs(2), BatchOptions::default().timeout(Duration::from_secs(5))).await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the timeout cut the wait short"
    );
    for result in results {
        assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_item_stops_running_in_the_provider_and_is_not_retried() {
    let (model, provider) = model_with(MemoryProvider::new("fill").with_delay(Duration::from_secs(60)));
    map_gather(&model, jobs(1), BatchOptions::default().timeout(Duration::from_secs(1))).await;
    assert_eq!(provider.in_flight(), 0, "the provider's future was dropped");
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(
        provider.calls(),
        1,
        "a timed-out item is not resent behind the caller's back"
    );
}

#[tokio::test(start_paused = true)]
async fn the_three_tuple_form_sends_the_mask() {
    let (model, _) = model_with(MemoryProvider::new("fill"));
    let items = vec![("paint", sample_image(16, 16), sample_mask(16, 16))];
    let results = map_gather(&model, items, BatchOptions::default()).await;
    let image = results[0].as_ref().expect("ok").images[0]
        .to_image()
        .await
        .expect("decode")
        .to_rgba8();
    // sample_mask keeps the corners: they must be the original pixels.
    let original = image::load_from_memory(&sample_image(16, 16))
        .expect("decode")
        .to_rgba8();
    assert_eq!(image.get_pixel(0, 0), original.get_pixel(0, 0));
    assert_ne!(image.get_pixel(8, 8), original.get_pixel(8, 8));
}

#[tokio::test(start_paused = true)]
async fn progress_is_reported_once_per_item() {
    let (model, _) = model_with(MemoryProvider::new("fill").failing_on("bad"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let items = vec![
        ("ok", sample_image(8, 8)),
        ("bad", sample_image(8, 8)),
        ("ok", sample_image(8, 8)),
    ];
    map_gather(
        &model,
        items,
        BatchOptions::default()
            .concurrency(1)
            .on_progress(move |p| sink.lock().expect("lock").push(p)),
    )
    .await;
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.iter().map(|p| p.done).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(seen.last().expect("last").failed, 1);
    assert!(seen.iter().all(|p| p.total == 3));
}

#[tokio::test(start_paused = true)]
async fn map_stream_yields_each_result_with_its_index() {
    let (model, _) = model_with(MemoryProvider::new("fill"));
    let indices: Vec<usize> = map_stream(&model, jobs(4), BatchOptions::default())
        .map(|(i, r)| {
            assert!(r.is_ok());
            i
        })
        .collect::<Vec<_>>()
        .await;
    let mut sorted = indices.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![0, 1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn a_model_concurrency_limit_applies_across_batches() {
    let provider = Arc::new(MemoryProvider::new("fill").with_delay(Duration::from_secs(1)));
    let model = Model::from_provider(provider.clone()).with_concurrency_limit(2);
    let a = map_gather(&model, jobs(5), BatchOptions::default().concurrency(5));
    let b = map_gather(&model, jobs(5), BatchOptions::default().concurrency(5));
    let (a, b) = tokio::join!(a, b);
    assert!(a.iter().chain(&b).all(Result::is_ok));
    assert_eq!(provider.calls(), 10);
    assert_eq!(provider.peak_in_flight(), 2);
}
