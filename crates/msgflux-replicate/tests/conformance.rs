//! Core's provider conformance suite, run over every built-in model and a
//! schema-mapped one through the emulator.

mod common;

use msgflux_core::testkit::conformance;

async fn conforms(model_id: &str) {
    let emulator = common::emulator().await;
    let model = common::model(&emulator, model_id);
    // Schema-mapped models learn their capabilities from the API first.
    model.provider().resolve_capabilities().await.expect("resolve");
    conformance::run_all(&model).await;
    common::assert_no_violations(&emulator);
}

#[tokio::test]
async fn stable_diffusion_inpainting_conforms() {
    conforms("stability-ai/stable-diffusion-inpainting").await;
}

#[tokio::test]
async fn flux_fill_pro_conforms() {
    conforms("black-forest-labs/flux-fill-pro").await;
}

#[tokio::test]
async fn flux_fill_dev_conforms() {
    conforms("black-forest-labs/flux-fill-dev").await;
}

#[tokio::test]
async fn flux_kontext_pro_conforms() {
    conforms("black-forest-labs/flux-kontext-pro").await;
}

#[tokio::test]
async fn nano_banana_conforms() {
    conforms("google/nano-banana").await;
}

#[tokio::test]
async fn a_schema_mapped_model_conforms() {
    conforms("acme/odd-inpainter").await;
}
