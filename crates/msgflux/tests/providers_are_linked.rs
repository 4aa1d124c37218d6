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
