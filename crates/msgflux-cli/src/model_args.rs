//! The flags that pick and configure a model (`--model`, `--option`,
//! `--api-key-env`, `--base-url`, `--setting`), shared by `edit` and `batch`, and the one
//! place that turns them into a `msgflux::Model` and typed options.

use std::collections::BTreeMap;

use clap::Args;
use msgflux::{Capabilities, Error, Model, OptionValue, Registry, Result};

/// Which model, with which credentials and provider options.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// The model, as PROVIDER/MODEL: local/patchmatch, openai/gpt-image-1, replicate/OWNER/NAME (see `msgflux providers`).
    #[arg(long, short = 'm', value_name = "PROVIDER/MODEL")]
    pub model: String,

    /// A provider option, checked against the model's option table (repeatable): --option quality=high.
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = crate::parse::key_value)]
    pub options: Vec<(String, String)>,

    /// Read the API key from this environment variable instead of the provider's own (OPENAI_API_KEY, REPLICATE_API_TOKEN).
    #[arg(long, value_name = "NAME")]
    pub api_key_env: Option<String>,

    /// Send requests to this base URL: an OpenAI-compatible server, a proxy, an emulator.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// A provider setting (repeatable): --setting api_version=2025-04-01-preview (Azure),
    /// --setting poll_interval_ms=250 (Replicate), --setting max_pixels=50000000 (local).
    #[arg(long = "setting", value_name = "KEY=VALUE", value_parser = crate::parse::key_value)]
    pub settings: Vec<(String, String)>,
}

/// A model ready to call, and the options every request carries.
#[derive(Debug)]
pub struct ConfiguredModel {
    /// The model.
    pub model: Model,
    /// `--option` values, typed and checked.
    pub options: BTreeMap<String, OptionValue>,
}

impl ModelArgs {
    /// Builds the model and types the options.
    ///
    /// Options are checked against the model's published capabilities
    /// (`Registry::describe`, no credentials needed) first; a name the table
    /// does not list is looked up again after the provider has resolved its
    /// capabilities at run time (Replicate reads a model's input schema).
    pub async fn configure(&self) -> Result<ConfiguredModel> {
        let described = Registry::global().describe(&self.model)?;
        let mut options = BTreeMap::new();
        let mut unknown = Vec::new();
        for (name, raw) in &self.options {
            match described.option(name) {
                Some(spec) => {
                    options.insert(name.clone(), spec.parse(raw)?);
                }
                None => unknown.push((name, raw)),
            }
        }
        let model = match self.build() {
            Ok(model) => model,
            // An unknown option is the first thing to fix, whatever else is missing.
            Err(err) => {
                return Err(unknown
                    .first()
                    .map_or(err, |(name, _)| unknown_option(name, &described)));
            }
        };
        if !unknown.is_empty() {
            model.provider().resolve_capabilities().await?;
            let resolved = model.capabilities();
            for (name, raw) in unknown {
                let spec = resolved.option(name).ok_or_else(|| unknown_option(name, resolved))?;
                options.insert(name.clone(), spec.parse(raw)?);
            }
        }
        Ok(ConfiguredModel { model, options })
    }

    fn build(&self) -> Result<Model> {
        let mut builder = Model::builder(&self.model);
        if let Some(var) = &self.api_key_env {
            let key = std::env::var(var).map_err(|_| {
                Error::invalid(
                    "api-key-env",
                    format!("the environment variable {var} is not set (or not valid UTF-8)"),
                )
            })?;
            if key.trim().is_empty() {
                return Err(Error::invalid(
                    "api-key-env",
                    format!("the environment variable {var} is empty"),
                ));
            }
            builder = builder.api_key(key);
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url);
        }
        for (key, value) in &self.settings {
            builder = builder.setting(key, value);
        }
        builder.build()
    }
}

fn unknown_option(name: &str, caps: &Capabilities) -> Error {
    let accepted: Vec<String> = caps.options.iter().map(|o| o.name.clone()).collect();
    Error::invalid(
        format!("option {name}"),
        if accepted.is_empty() {
            "this model accepts no provider options".to_string()
        } else {
            format!(
                "is not accepted by this model; accepted: {} (see `msgflux providers`)",
                accepted.join(", ")
            )
        },
    )
}
