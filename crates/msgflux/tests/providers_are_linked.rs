//! The facade names every enabled provider crate, so their link-time
//! registrations reach the global registry without any call.

#[cfg(feature = "openai")]
#[test]
fn openai_is_registered_when_its_feature_is_on() {
    assert!(msgflux::Registry::global().get("openai").is_ok());
}

#[cfg(feature = "replicate")]
#[test]
fn replicate_is_registered_when_its_feature_is_on() {
    assert!(msgflux::Registry::global().get("replicate").is_ok());
}

#[cfg(feature = "stability")]
#[test]
fn stability_is_registered_when_its_feature_is_on() {
    assert!(msgflux::Registry::global().get("stability").is_ok());
}

#[cfg(feature = "bfl")]
#[test]
fn bfl_is_registered_when_its_feature_is_on() {
    assert!(msgflux::Registry::global().get("bfl").is_ok());
}

#[cfg(feature = "fal")]
#[test]
fn fal_is_registered_when_its_feature_is_on() {
    assert!(msgflux::Registry::global().get("fal").is_ok());
}

#[cfg(feature = "local")]
#[test]
fn local_is_registered_when_its_feature_is_on() {
    assert!(msgflux::Registry::global().get("local").is_ok());
}

#[cfg(not(feature = "openai"))]
#[test]
fn a_disabled_provider_names_the_feature_that_adds_it() {
    let err = msgflux::Model::image_text_to_image("openai/dall-e-2").expect_err("not compiled in");
    assert!(err.to_string().contains("enable the `openai` feature"), "{err}");
}

#[test]
fn a_built_in_provider_that_is_not_registered_names_the_feature_that_adds_it() {
    // An empty registry, whatever this build's features: the hint comes from the facade.
    let err = msgflux::Registry::new().get("replicate").expect_err("empty registry");
    assert!(
        err.to_string()
            .contains("enable the `replicate` feature of the `msgflux` crate"),
        "{err}"
    );
    let err = msgflux::Registry::new().get("acme").expect_err("not a built-in");
    assert!(err.to_string().contains("use the_crate as _;"), "{err}");
}
