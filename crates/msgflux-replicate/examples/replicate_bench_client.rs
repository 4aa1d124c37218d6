//! Our side of `bench/replicate/run.sh`: the client overhead of an edit
//! through a Replicate server (the emulator), sequentially and concurrently.
//!
//! ```text
//! replicate_bench_client BASE_URL TOKEN IMAGE EDITS CONCURRENT ROUNDS
//! ```
//!
//! Each edit loads the photo, builds a mask (transparent = edit) and sends it
//! through the provider, which converts the mask to white = repaint, uploads
//! the photo through the files API, creates the prediction with
//! `Prefer: wait`, and downloads the output (base64). Prints JSON: the best
//! round's milliseconds per sequential edit and for the concurrent batch.

use std::sync::Arc;
use std::time::Instant;

use msgflux_core::{Model, ResponseFormat, RetryPolicy};
use msgflux_image::{Mask, Rect};
use msgflux_replicate::ReplicateBuilder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, token, image, edits, concurrent, rounds] = args.as_slice() else {
        return Err("usage: replicate_bench_client BASE_URL TOKEN IMAGE EDITS CONCURRENT ROUNDS".into());
    };
    let (edits, concurrent, rounds): (usize, usize, usize) = (edits.parse()?, concurrent.parse()?, rounds.parse()?);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let provider = ReplicateBuilder::new()
            .with_api_token(token)
            .with_base_url(base_url)
            .with_retry(RetryPolicy::none())
            .build("black-forest-labs/flux-fill-pro")?;
        let model = Model::from_provider(Arc::new(provider));
        let decoded = msgflux_image::decode_file(image, &Default::default())?.image;
        let (w, h) = (decoded.width(), decoded.height());
        let mask = Mask::ellipse(w, h, Rect::new(w * 34 / 100, h * 23 / 100, w * 28 / 100, h * 26 / 100))
            .to_png(msgflux_core::MaskConvention::TransparentIsEdit)?;
        let edit = |model: Model, mask: Vec<u8>| {
            let image = image.clone();
            async move {
                let response = model
                    .edit("a cappuccino with latte art")
                    .image(image)
                    .mask(mask)
                    .response_format(ResponseFormat::Base64)
                    .await?;
                assert_eq!(response.images.len(), 1);
                Ok::<_, msgflux_core::Error>(())
            }
        };
        edit(model.clone(), mask.clone()).await?; // warm-up: connections, model resolution
        let mut sequential = f64::MAX;
        let mut batch = f64::MAX;
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..edits {
                edit(model.clone(), mask.clone()).await?;
            }
            sequential = sequential.min(start.elapsed().as_secs_f64() * 1000.0 / edits as f64);
            let start = Instant::now();
            futures::future::try_join_all((0..concurrent).map(|_| edit(model.clone(), mask.clone()))).await?;
            batch = batch.min(start.elapsed().as_secs_f64() * 1000.0);
        }
        println!("{{\"sequential_ms_per_edit\": {sequential:.3}, \"concurrent_batch_ms\": {batch:.3}}}");
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
