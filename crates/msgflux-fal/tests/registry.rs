//! Registration: the registry builds the provider from a `ProviderConfig`,
//! describes built-in apps offline, and refuses unknown settings.

mod common;

use common::{FILL, SUBMIT, emulator};
use msgflux_core::kit::ProviderConfig;
use msgflux_core::{EditRequest, Model, Registry};

#[tokio::test]
async fn the_registry_builds_a_working_provider_from_a_config() {
    let emulator = emulator().await;
    let registry = Registry::new();
    msgflux_fal::register(&registry).expect("register");
    let config = ProviderConfig::default()
        .with_api_key(emulator.key())
        .with_base_url(emulator.base_url())
        .with_setting("poll_interval_ms", "1")
        .with_setting("max_poll_interval_ms", "2");
    let provider = registry.create(&format!("fal/{FILL}"), &config).expect("provider");
    let model = Model::from_provider(provider);
    model
        .call(EditRequest::new("x").image(common::image()).mask(common::mask()))
        .await
        .expect("edit");
    assert_eq!(emulator.count(SUBMIT), 1);
}

#[test]
fn built_in_apps_are_described_without_a_key() {
    let caps = (msgflux_fal::FAL_REGISTRATION.describe)("fal-ai/flux-pro/kontext").expect("describe");
    assert!(caps.seed);
}

#[test]
fn an_unknown_setting_names_the_known_ones() {
    let config = ProviderConfig::default().with_api_key("k").with_setting("polling", "1");
    let err = msgflux_fal::FalBuilder::from_provider_config(&config).expect_err("unknown");
    assert!(err.to_string().contains("poll_interval_ms"), "{err}");
}
