//! Which endpoint creates a prediction, decided without ever billing a run to find out.
//!
//! - Official models (FLUX, nano-banana, ...): `POST /models/{owner}/{name}/predictions`.
//! - Community models (stable-diffusion-inpainting, ...) need a version:
//!   `latest_version.id` from `GET /models/{owner}/{name}` (read once), then
//!   `POST /predictions` with `version`.
//! - `owner/name:version` pins a version: `POST /predictions` with it.
//! - `deployments/owner/name`: `POST /deployments/{owner}/{name}/predictions`;
//!   the deployment's current release says which model's inputs to use.
//!
//! Built-in adapters know whether their model is official; for other models
//! the answer of `GET /models/{owner}/{name}` (`is_official`) decides.

use std::sync::Arc;

use msgflux_core::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::builder::Settings;
use crate::client::ReplicateClient;
use crate::models::{self, ModelAdapter};
use crate::schema;

/// What a model id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModelRef {
    /// `owner/name`, optionally pinned to `:version`.
    Model {
        owner: String,
        name: String,
        version: Option<String>,
    },
    /// `deployments/owner/name`.
    Deployment { owner: String, name: String },
}

impl ModelRef {
    /// Parses `owner/name`, `owner/name:version` or `deployments/owner/name`.
    pub(crate) fn parse(id: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(
                "model",
                format!(
                    "`{id}` {why}; expected `owner/name` (black-forest-labs/flux-fill-pro), `owner/name:version` or `deployments/owner/name`"
                ),
            )
        };
        let parts: Vec<&str> = id.trim().split('/').collect();
        match parts.as_slice() {
            ["deployments", owner, name] => {
                check_segment(owner).map_err(|w| bad(&w))?;
                check_segment(name).map_err(|w| bad(&w))?;
                Ok(Self::Deployment {
                    owner: owner.to_string(),
                    name: name.to_string(),
                })
            }
            [owner, name_version] => {
                let (name, version) = match name_version.split_once(':') {
                    Some((name, version)) => {
                        if version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric()) {
                            return Err(bad("has a version that is not a Replicate version id"));
                        }
                        (name, Some(version.to_string()))
                    }
                    None => (*name_version, None),
                };
                check_segment(owner).map_err(|w| bad(&w))?;
                check_segment(name).map_err(|w| bad(&w))?;
                Ok(Self::Model {
                    owner: owner.to_string(),
                    name: name.to_string(),
                    version,
                })
            }
            _ => Err(bad("is not a Replicate model")),
        }
    }

    /// `owner/name` of a model reference.
    pub(crate) fn model_name(&self) -> Option<String> {
        match self {
            Self::Model { owner, name, .. } => Some(format!("{owner}/{name}")),
            Self::Deployment { .. } => None,
        }
    }
}

fn check_segment(segment: &str) -> std::result::Result<(), String> {
    let fine = !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fine {
        Ok(())
    } else {
        Err(format!("has an invalid part `{segment}`"))
    }
}

/// The endpoint that creates predictions for a resolved model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /models/{owner}/{name}/predictions`.
    Official { owner: String, name: String },
    /// `POST /predictions` with `version`.
    Version { version: String },
    /// `POST /deployments/{owner}/{name}/predictions`.
    Deployment { owner: String, name: String },
}

impl Route {
    /// The API path of the create call.
    pub(crate) fn create_path(&self) -> String {
        match self {
            Self::Official { owner, name } => format!("models/{owner}/{name}/predictions"),
            Self::Version { .. } => "predictions".into(),
            Self::Deployment { owner, name } => format!("deployments/{owner}/{name}/predictions"),
        }
    }

    /// The create call's body: the input, plus the version where the route needs one.
    pub(crate) fn create_body(&self, input: Map<String, Value>) -> Value {
        let mut body = Map::new();
        if let Self::Version { version } = self {
            body.insert("version".into(), Value::String(version.clone()));
        }
        body.insert("input".into(), Value::Object(input));
        Value::Object(body)
    }
}

/// A model ready to run: where to create predictions and how to fill their input.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) route: Route,
    pub(crate) adapter: Arc<ModelAdapter>,
}

#[derive(Debug, Deserialize)]
struct ModelInfo {
    is_official: Option<bool>,
    latest_version: Option<VersionInfo>,
}

#[derive(Debug, Deserialize)]
struct VersionInfo {
    id: String,
    openapi_schema: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct DeploymentInfo {
    current_release: Option<Release>,
}

#[derive(Debug, Deserialize)]
struct Release {
    model: Option<String>,
    version: Option<String>,
}

/// Finds the route and the adapter of a model, reading the API only where the
/// built-in table does not already know the answer.
pub(crate) async fn resolve(client: &ReplicateClient, reference: &ModelRef, settings: &Settings) -> Result<Resolved> {
    match reference {
        ModelRef::Model { owner, name, version } => {
            let model = format!("{owner}/{name}");
            let builtin = models::builtin(&model);
            match (version, builtin) {
                (Some(version), Some(adapter)) => Ok(Resolved {
                    route: Route::Version {
                        version: version.clone(),
                    },
                    adapter: Arc::new(adapter),
                }),
                (Some(version), None) => {
                    let info: VersionInfo = client
                        .get_json(
                            &format!("models/{owner}/{name}/versions/{version}"),
                            "reading the model version",
                        )
                        .await?;
                    let adapter = schema_adapter(&model, info.openapi_schema.as_ref(), settings)?;
                    Ok(Resolved {
                        route: Route::Version { version: info.id },
                        adapter: Arc::new(adapter),
                    })
                }
                (None, Some(adapter)) if adapter.official => Ok(Resolved {
                    route: Route::Official {
                        owner: owner.clone(),
                        name: name.clone(),
                    },
                    adapter: Arc::new(adapter),
                }),
                (None, builtin) => {
                    let info: ModelInfo = client
                        .get_json(&format!("models/{owner}/{name}"), "reading the model")
                        .await?;
                    let official = info.is_official == Some(true);
                    let adapter = match builtin {
                        Some(adapter) => adapter,
                        None => schema_adapter(
                            &model,
                            info.latest_version.as_ref().and_then(|v| v.openapi_schema.as_ref()),
                            settings,
                        )?,
                    };
                    let route = if official {
                        Route::Official {
                            owner: owner.clone(),
                            name: name.clone(),
                        }
                    } else {
                        let version = info.latest_version.map(|v| v.id).ok_or_else(|| {
                            Error::invalid("model", format!("{model} has no published version to run"))
                        })?;
                        Route::Version { version }
                    };
                    Ok(Resolved {
                        route,
                        adapter: Arc::new(adapter),
                    })
                }
            }
        }
        ModelRef::Deployment { owner, name } => {
            let info: DeploymentInfo = client
                .get_json(&format!("deployments/{owner}/{name}"), "reading the deployment")
                .await?;
            let release = info
                .current_release
                .ok_or_else(|| Error::invalid("model", format!("deployment {owner}/{name} has no current release")))?;
            let model = release.model.ok_or_else(|| {
                Error::invalid(
                    "model",
                    format!("deployment {owner}/{name} does not say which model it runs"),
                )
            })?;
            let adapter = match models::builtin(&model) {
                Some(adapter) => adapter,
                None => {
                    let version = release.version.ok_or_else(|| {
                        Error::invalid(
                            "model",
                            format!("deployment {owner}/{name} does not say which version it runs"),
                        )
                    })?;
                    let info: VersionInfo = client
                        .get_json(
                            &format!("models/{model}/versions/{version}"),
                            "reading the model version",
                        )
                        .await?;
                    schema_adapter(&model, info.openapi_schema.as_ref(), settings)?
                }
            };
            Ok(Resolved {
                route: Route::Deployment {
                    owner: owner.clone(),
                    name: name.clone(),
                },
                adapter: Arc::new(adapter),
            })
        }
    }
}

fn schema_adapter(model: &str, openapi_schema: Option<&Value>, settings: &Settings) -> Result<ModelAdapter> {
    let openapi_schema = openapi_schema.ok_or_else(|| {
        Error::invalid(
            "model",
            format!("{model} publishes no input schema, so its inputs cannot be mapped"),
        )
    })?;
    schema::adapter_from_schema(model, openapi_schema, settings.mask_convention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_and_name_is_a_model() {
        assert_eq!(
            ModelRef::parse("stability-ai/stable-diffusion-inpainting").expect("parse"),
            ModelRef::Model {
                owner: "stability-ai".into(),
                name: "stable-diffusion-inpainting".into(),
                version: None
            }
        );
    }

    #[test]
    fn a_version_after_a_colon_pins_the_model() {
        let parsed = ModelRef::parse("stability-ai/stable-diffusion-inpainting:95b72231").expect("parse");
        assert!(matches!(parsed, ModelRef::Model { version: Some(ref v), .. } if v == "95b72231"));
    }

    #[test]
    fn deployments_have_their_own_prefix() {
        assert_eq!(
            ModelRef::parse("deployments/acme/inpaint").expect("parse"),
            ModelRef::Deployment {
                owner: "acme".into(),
                name: "inpaint".into()
            }
        );
    }

    #[test]
    fn other_shapes_are_invalid_models() {
        for id in [
            "flux-fill-pro",
            "a/b/c",
            "owner/",
            "owner/name:",
            "own er/name",
            "a/b:not-hex!",
        ] {
            let err = ModelRef::parse(id).expect_err(id);
            assert!(
                matches!(&err, Error::InvalidInput { param, .. } if param == "model"),
                "{id}: {err:?}"
            );
        }
    }

    #[test]
    fn the_version_route_puts_the_version_in_the_body() {
        let route = Route::Version { version: "abc".into() };
        assert_eq!(route.create_path(), "predictions");
        let body = route.create_body(Map::new());
        assert_eq!(body["version"], "abc");
        assert!(body["input"].is_object());
    }

    #[test]
    fn official_and_deployment_routes_name_the_model_in_the_path() {
        let official = Route::Official {
            owner: "google".into(),
            name: "nano-banana".into(),
        };
        assert_eq!(official.create_path(), "models/google/nano-banana/predictions");
        assert!(official.create_body(Map::new()).get("version").is_none());
        let deployment = Route::Deployment {
            owner: "acme".into(),
            name: "fill".into(),
        };
        assert_eq!(deployment.create_path(), "deployments/acme/fill/predictions");
    }
}
