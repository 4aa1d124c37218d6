//! Which models the gateway serves: `provider/model` ids of every provider
//! compiled in, and the aliases of the settings. Each model is built once
//! (its HTTP connections and capability table then shared by every request).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use msgflux_core::{InputLoader, Model, Registry};
use serde_json::{Value, json};

use crate::config::ServerConfig;
use crate::wire::ApiError;
use crate::wire::capabilities::capabilities;

/// Most models kept built at once.
const MAX_CACHED_MODELS: usize = 256;

/// The models, built on first use.
#[derive(Debug)]
pub(crate) struct Catalog {
    config: ServerConfig,
    registry: &'static Registry,
    built: Mutex<HashMap<String, Model>>,
}

impl Catalog {
    pub(crate) fn new(config: ServerConfig, registry: &'static Registry) -> Self {
        Self {
            config,
            registry,
            built: Mutex::default(),
        }
    }

    /// The `provider/model` id a client's model name means.
    pub(crate) fn resolve_name<'a>(&'a self, asked: Option<&'a str>) -> &'a str {
        let asked = asked.unwrap_or(&self.config.default_model);
        self.config.aliases.get(asked).map(String::as_str).unwrap_or(asked)
    }

    /// The model for an id, built with its provider's settings.
    pub(crate) fn model(&self, id: &str) -> Result<Model, ApiError> {
        let mut built = self.built.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(model) = built.get(id) {
            return Ok(model.clone());
        }
        let Some((provider, _)) = id.split_once('/') else {
            return Err(ApiError::unknown_model(format!(
                "model `{id}` is neither a provider/model id nor an alias of this gateway; GET /v1/models lists them"
            )));
        };
        let model = Model::builder(id)
            .registry(self.registry)
            .config(self.config.provider_config(provider))
            // Provider result URLs come from the provider, not from the client.
            .loader(InputLoader::default())
            .build()
            .map_err(|err| match err {
                msgflux_core::Error::ProviderUnavailable { .. } | msgflux_core::Error::InvalidInput { .. } => {
                    ApiError::unknown_model(format!("model `{id}` is not served here: {err}"))
                }
                other => ApiError::from(other),
            })?;
        // Ids are client-chosen (any Replicate or fal model path is valid), so
        // the cache is bounded; past the bound a model is built per request.
        if built.len() < MAX_CACHED_MODELS {
            built.insert(id.to_string(), model.clone());
        }
        Ok(model)
    }

    /// `GET /v1/models`: every model of every provider that is set up
    /// (needs no key, or has its key), and the aliases that lead to one,
    /// each with what it accepts (`capabilities`).
    pub(crate) fn list(&self) -> Value {
        let mut entries: BTreeMap<String, String> = BTreeMap::new();
        for registration in self.registry.registrations() {
            if !self.configured(registration.name, registration.env_vars) {
                continue;
            }
            for model in registration.models {
                entries.insert(format!("{}/{model}", registration.name), registration.name.to_string());
            }
        }
        for (alias, target) in &self.config.aliases {
            if let Some(owner) = entries.get(target).cloned() {
                entries.insert(alias.clone(), owner);
            }
        }
        let data: Vec<Value> = entries
            .into_iter()
            .map(|(id, owner)| {
                // Described offline from the provider's table; a model that cannot be is listed without.
                let caps = self.registry.describe(self.resolve_name(Some(id.as_str())));
                let mut entry = json!({ "id": id, "object": "model", "created": 0, "owned_by": owner });
                if let Ok(caps) = caps {
                    entry["capabilities"] = capabilities(&caps);
                }
                entry
            })
            .collect();
        json!({ "object": "list", "data": data })
    }

    /// Whether a provider can be called: it needs no key, or the key is there.
    fn configured(&self, provider: &str, env_vars: &[&str]) -> bool {
        if env_vars.is_empty() {
            return true;
        }
        let section = self.config.providers.get(provider);
        if section.is_some_and(|s| s.api_key.is_some()) {
            return true;
        }
        if let Some(var) = section.and_then(|s| s.api_key_env.as_ref()) {
            return std::env::var(var).is_ok_and(|v| !v.is_empty());
        }
        env_vars
            .iter()
            .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty()))
    }
}
