//! Two crates registering one provider name at link time make the name
//! unusable, with an error naming both, instead of one silently winning.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Error, Registry, Result};

fn create(model: &str, _: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(msgflux_core::kit::testkit::MemoryProvider::new(model)))
}

fn describe(_: &str) -> Result<Capabilities> {
    Ok(Capabilities::new())
}

msgflux_core::register_provider!(ProviderRegistration::new("twice", "first-crate", create, describe));
msgflux_core::register_provider!(ProviderRegistration::new("twice", "second-crate", create, describe));
msgflux_core::register_provider!(ProviderRegistration::new("once", "only-crate", create, describe));

#[test]
fn link_time_registrations_reach_the_global_registry() {
    let provider = Registry::global()
        .create("once/anything", &ProviderConfig::default())
        .expect("registered through register_provider!");
    assert_eq!(msgflux_core::Model::from_provider(provider).id(), "memory/anything");
}

#[test]
fn a_name_registered_twice_at_link_time_is_refused_naming_both_crates() {
    let err = Registry::global().get("twice").expect_err("duplicate");
    let text = err.to_string();
    assert!(matches!(err, Error::DuplicateProvider { .. }), "{text}");
    assert!(text.contains("first-crate") && text.contains("second-crate"), "{text}");
}
