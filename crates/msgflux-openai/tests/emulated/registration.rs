//! Registration under `openai` and `azure`.

use msgflux_core::kit::ProviderConfig;
use msgflux_core::{Error, Model, Registry};
use msgflux_openai::{OPENAI_SCHEME, register};

use crate::support::{
    EMULATOR_API_VERSION, EMULATOR_KEY, assert_clean, emulator, fast_retry, last_edit, mask, rgba_png,
};

#[test]
fn linking_the_crate_registers_openai_and_azure_globally() {
    let names = Registry::global().names();
    assert!(names.contains(&OPENAI_SCHEME.to_string()), "{names:?}");
    assert!(names.contains(&"azure".to_string()), "{names:?}");
    let registration = Registry::global().get("openai").expect("registered");
    assert_eq!(registration.crate_name, "msgflux-openai");
    assert!(registration.models.contains(&"gpt-image-2"));
}

#[test]
fn registering_twice_in_one_registry_is_a_duplicate() {
    let registry = Registry::new();
    register(&registry).expect("first time");
    let err = register(&registry).expect_err("second time");
    assert!(matches!(err, Error::DuplicateProvider { .. }), "{err}");
}

#[test]
fn describe_gives_each_model_its_table_without_a_key() {
    let registry = Registry::new();
    register(&registry).expect("registers");
    assert_eq!(registry.describe("openai/dall-e-2").expect("describes").max_images, 1);
    assert_eq!(
        registry.describe("openai/gpt-image-1").expect("describes").max_images,
        16
    );
}

#[test]
fn an_unknown_setting_is_refused_listing_the_known_ones() {
    let registry = Registry::new();
    register(&registry).expect("registers");
    let config = ProviderConfig::default()
        .with_api_key(EMULATOR_KEY)
        .with_setting("colour", "blue");
    let err = registry
        .create("openai/gpt-image-1", &config)
        .expect_err("unknown setting");
    let text = err.to_string();
    assert!(
        text.contains("unknown field `colour`") && text.contains("`organization`"),
        "{text}"
    );
}

#[tokio::test]
async fn the_registry_builds_a_working_model_from_a_provider_config() {
    let emulator = emulator().await;
    let registry = Registry::new();
    register(&registry).expect("registers");
    let config = ProviderConfig::default()
        .with_api_key(EMULATOR_KEY)
        .with_base_url(emulator.base_url())
        .with_retry(fast_retry());
    let model = Model::from_provider(registry.create("openai/gpt-image-1.5", &config).expect("builds"));
    model.edit("x").image(rgba_png(16, 16)).await.expect("edit succeeds");
    assert_eq!(last_edit(&emulator).text("model"), Some("gpt-image-1.5"));
    assert_clean(&emulator);
}

#[tokio::test]
async fn the_registry_builds_an_azure_deployment_from_settings() {
    let emulator = emulator().await;
    emulator.deploy("my-dalle", "dall-e-2");
    let registry = Registry::new();
    register(&registry).expect("registers");
    let config = ProviderConfig::default()
        .with_api_key(EMULATOR_KEY)
        .with_base_url(emulator.azure_endpoint())
        .with_setting("api_version", EMULATOR_API_VERSION)
        .with_setting("azure_model", "dall-e-2")
        .with_retry(fast_retry());
    let model = Model::from_provider(registry.create("azure/my-dalle", &config).expect("builds"));
    assert_eq!(
        model.capabilities().await.expect("capabilities").max_images,
        1,
        "the azure_model setting picks dall-e-2's rules"
    );
    model
        .edit("x")
        .image(rgba_png(16, 16))
        .mask(mask(16, 16))
        .await
        .expect("edit succeeds");
    assert_eq!(last_edit(&emulator).path, "/openai/deployments/my-dalle/images/edits");
    assert_clean(&emulator);
}

#[test]
fn dall_e_3_on_the_official_api_is_refused_before_anything_is_sent() {
    let registry = Registry::new();
    register(&registry).expect("registers");
    let config = ProviderConfig::default().with_api_key("sk-test");
    let err = registry
        .create("openai/dall-e-3", &config)
        .expect_err("dall-e-3 cannot edit");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "model"),
        "{err:?}"
    );
    assert!(err.to_string().contains("dall-e-2"), "{err}");
}
