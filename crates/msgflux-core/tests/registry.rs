//! The provider registry: lookup, duplicates, unknown providers, model ids.

use std::sync::Arc;

use msgflux_core::kit::testkit::MemoryProvider;
use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Error, Model, Registry, Result, split_model_id};

fn create_other(model: &str, _: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(MemoryProvider::new(model)))
}

fn describe_other(_: &str) -> Result<Capabilities> {
    Ok(Capabilities::new())
}

#[test]
fn a_registered_provider_builds_a_model_for_its_id() {
    let registry = Registry::new();
    registry.register(MemoryProvider::registration()).expect("register");
    let provider = registry
        .create("memory/fill", &ProviderConfig::default())
        .expect("provider");
    assert_eq!(Model::from_provider(provider).id(), "memory/fill");
}

#[test]
fn a_second_registration_of_one_name_is_refused_and_poisons_the_name() {
    let registry = Registry::new();
    registry.register(MemoryProvider::registration()).expect("first");
    let impostor = ProviderRegistration::new("memory", "impostor-crate", create_other, describe_other);
    let err = registry.register(impostor).expect_err("duplicate");
    assert!(
        matches!(&err, Error::DuplicateProvider { name, first, second } if name == "memory" && first == "msgflux-core" && second == "impostor-crate"),
        "{err:?}"
    );
    let err = registry.get("memory").expect_err("ambiguous name is refused");
    assert!(err.to_string().contains("registered twice"), "{err}");
}

#[test]
fn an_unknown_provider_with_a_hint_gives_the_hint_and_lists_the_registered_ones() {
    let registry = Registry::new();
    registry.register(MemoryProvider::registration()).expect("register");
    let err = registry
        .create("hinted/model", &ProviderConfig::default())
        .expect_err("not registered");
    let text = err.to_string();
    assert!(
        matches!(err, Error::ProviderUnavailable { hint: Some(HINT), .. }),
        "{text}"
    );
    assert!(text.contains(HINT), "{text}");
    assert!(text.contains("registered: memory"), "{text}");
}

const HINT: &str = "add the hinted-provider crate";
msgflux_core::register_provider_hint!(msgflux_core::kit::ProviderHint::new("hinted", HINT));

#[test]
fn an_unknown_third_party_provider_explains_how_to_link_it() {
    let err = Registry::new().get("acme").expect_err("unknown");
    assert!(matches!(err, Error::ProviderUnavailable { hint: None, .. }));
    assert!(err.to_string().contains("use the_crate as _;"));
}

#[test]
fn names_are_listed_sorted() {
    let registry = Registry::new();
    registry
        .register(ProviderRegistration::new("zeta", "z", create_other, describe_other))
        .expect("zeta");
    registry.register(MemoryProvider::registration()).expect("memory");
    assert_eq!(registry.names(), vec!["memory".to_string(), "zeta".to_string()]);
}

#[test]
fn a_model_id_splits_at_the_first_slash_only() {
    assert_eq!(
        split_model_id("replicate/stability-ai/stable-diffusion-inpainting").expect("split"),
        ("replicate", "stability-ai/stable-diffusion-inpainting")
    );
}

#[test]
fn a_model_id_without_a_provider_is_invalid_input() {
    for id in ["dall-e-2", "/dall-e-2", "openai/"] {
        let err = split_model_id(id).expect_err(id);
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "model"),
            "{id}: {err}"
        );
    }
}

#[test]
fn describe_gives_capabilities_without_credentials() {
    let registry = Registry::new();
    registry.register(MemoryProvider::registration()).expect("register");
    let caps = registry.describe("memory/fill").expect("describe");
    assert!(caps.option("tint").is_some());
}
