//! The core conformance suite, run over the provider against the emulator.

use std::sync::Arc;

use msgflux_core::Model;
use msgflux_core::testkit::conformance;
use msgflux_openai::{AzureConfig, OpenAIBuilder};

use crate::support::{assert_clean, fast_retry, model};
use msgflux_openai::emulator::{EMULATOR_API_VERSION, EMULATOR_KEY, Emulator};

#[tokio::test]
async fn dall_e_2_passes_the_conformance_suite() {
    let emulator = Emulator::start().await;
    conformance::run_all(&model(&emulator, "dall-e-2")).await;
    assert_clean(&emulator);
}

#[tokio::test]
async fn gpt_image_1_passes_the_conformance_suite() {
    let emulator = Emulator::start().await;
    conformance::run_all(&model(&emulator, "gpt-image-1")).await;
    assert_clean(&emulator);
}

#[tokio::test]
async fn an_azure_deployment_passes_the_conformance_suite() {
    let emulator = Emulator::start().await;
    let config = AzureConfig::new(emulator.azure_endpoint(), "edits-deployment")
        .with_api_key(EMULATOR_KEY)
        .with_api_version(EMULATOR_API_VERSION)
        .with_model("gpt-image-1.5");
    let provider = OpenAIBuilder::azure(config)
        .with_retry(fast_retry())
        .build()
        .expect("builds");
    conformance::run_all(&Model::from_provider(Arc::new(provider))).await;
    assert_clean(&emulator);
}
