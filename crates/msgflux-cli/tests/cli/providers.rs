//! `msgflux providers`.

use crate::common::{code, json, msgflux, stderr, stdout};

#[test]
fn providers_lists_local_openai_and_replicate_with_their_models() {
    let output = msgflux().arg("providers").output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "local/patchmatch",
        "local/telea",
        "openai/dall-e-2",
        "openai/gpt-image-1",
        "replicate (",
        "bfl/flux-kontext-pro",
        "fal/fal-ai/flux-pro/v1/fill",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
}

#[test]
fn providers_shows_what_a_model_accepts() {
    let output = msgflux().args(["providers", "local"]).output().expect("run");
    let text = stdout(&output);
    assert!(text.contains("prompt: ignored"), "{text}");
    assert!(text.contains("mask: required"), "{text}");
    assert!(text.contains("patch_size = whole number 3-15"), "{text}");
    assert!(text.contains("environment: none"), "{text}");
}

#[test]
fn providers_json_is_one_document_with_capabilities_and_env_vars() {
    let output = msgflux().args(["providers", "--json"]).output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let doc = json(&output);
    let providers = doc["providers"].as_array().expect("providers array");
    let names: Vec<&str> = providers.iter().filter_map(|p| p["name"].as_str()).collect();
    for name in ["local", "openai", "replicate"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let openai = providers.iter().find(|p| p["name"] == "openai").expect("openai");
    assert!(
        openai["env_vars"]
            .as_array()
            .expect("env vars")
            .contains(&"OPENAI_API_KEY".into())
    );
    let local = providers.iter().find(|p| p["name"] == "local").expect("local");
    let patchmatch = &local["models"][0];
    assert_eq!(patchmatch["id"], "local/patchmatch");
    assert_eq!(patchmatch["capabilities"]["mask"], "required");
    assert_eq!(doc["missing_builtins"], serde_json::json!([]));
}

#[test]
fn providers_for_an_unknown_name_lists_the_registered_ones_and_exits_2() {
    let output = msgflux().args(["providers", "acme"]).output().expect("run");
    assert_eq!(code(&output), 2);
    let text = stderr(&output);
    assert!(text.starts_with("error: provider `acme` is not available"), "{text}");
    assert!(text.contains("registered: azure, "), "{text}");
    for name in ["bfl", "fal", "local", "openai", "replicate", "stability"] {
        assert!(text.contains(&format!(" {name}")), "{name} missing from {text}");
    }
}
