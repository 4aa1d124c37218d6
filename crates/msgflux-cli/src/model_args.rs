//! The flags `edit` and `batch` share: those that pick and configure a model
//! (`--model`, `--option`, `--api-key-env`, `--base-url`, `--setting`) and
//! those that shape every request (`-n`, `--size`, `--format`, `--seed`,
//! `--prepare`, `--keep-unmasked`), and the one place that turns them into a
//! `msgflux::Model`, typed options and a request.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::{Args, ValueEnum};
use msgflux::{Capabilities, EditRequest, Error, Model, OptionValue, OutputSize, ResponseFormat, Result};

/// Which model, with which credentials and provider options.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// The model, as PROVIDER/MODEL: local/patchmatch, openai/gpt-image-1, replicate/OWNER/NAME (see `msgflux providers`).
    // An `Option` only so that `batch status` can do without it; clap requires it everywhere else.
    #[arg(long, short = 'm', value_name = "PROVIDER/MODEL", required = true)]
    pub model: Option<String>,

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
    /// Builds the model and types the options against its capabilities
    /// (which a provider may read from its API, once: Replicate reads a
    /// model's input schema). An unknown option is the first thing reported,
    /// whatever else is wrong.
    pub async fn configure(&self) -> Result<ConfiguredModel> {
        let model = self.build()?;
        let caps = model.capabilities().await?;
        let mut options = BTreeMap::new();
        for (name, raw) in &self.options {
            let spec = caps.option(name).ok_or_else(|| unknown_option(name, caps))?;
            options.insert(name.clone(), spec.parse(raw)?);
        }
        Ok(ConfiguredModel { model, options })
    }

    fn build(&self) -> Result<Model> {
        let mut builder = Model::builder(self.model.as_deref().unwrap_or_default());
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

/// The request flags `edit` and `batch` share (a job of a batch may set its own `n`).
#[derive(Debug, Clone, Args)]
pub struct RequestArgs {
    /// Number of variations.
    #[arg(short = 'n', long = "variations", value_name = "N", default_value_t = 1)]
    pub n: u32,

    /// Output size, WIDTHxHEIGHT, or `auto` to let the model choose, where the model lets you choose.
    #[arg(long, value_name = "WxH|auto", value_parser = crate::parse::output_size)]
    pub size: Option<OutputSize>,

    /// How the provider returns results.
    #[arg(long, value_enum, default_value_t = Format::Url)]
    pub format: Format,

    /// Seed for repeatable results, where the model takes one.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Let the provider fix inputs that break its rules (resize, re-encode) instead of refusing them.
    #[arg(long)]
    pub prepare: bool,

    /// Paste the original back outside the mask after the provider answers, and report what it had changed
    /// there (always on for models that take no mask; off by default elsewhere: `--keep-unmasked=false` turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub keep_unmasked: Option<bool>,

    /// Give up (and cancel the call) after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = crate::parse::seconds)]
    pub timeout: Option<Duration>,
}

impl RequestArgs {
    /// A request with these settings, the options every request carries, and `n` (a job's own, or the flag's).
    pub fn request(&self, prompt: &str, options: &BTreeMap<String, OptionValue>, n: Option<u32>) -> EditRequest {
        let mut request = EditRequest::new(prompt)
            .n(n.unwrap_or(self.n))
            .response_format(self.format.into())
            .options(options.clone())
            .prepare(self.prepare);
        if let Some(size) = self.size {
            request = request.size(size);
        }
        if let Some(seed) = self.seed {
            request = request.seed(seed);
        }
        if let Some(keep) = self.keep_unmasked {
            request = request.keep_unmasked(keep);
        }
        request
    }
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A URL per result (providers that only return bytes give a data: URL).
    Url,
    /// Base64 of each result file.
    Base64,
}

impl From<Format> for ResponseFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Url => ResponseFormat::Url,
            Format::Base64 => ResponseFormat::Base64,
        }
    }
}
