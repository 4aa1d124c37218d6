//! Which providers exist: registrations collected at link time through
//! [`register_provider!`](crate::register_provider), plus explicit
//! [`Registry::register`] calls.
//!
//! # The linking trap
//!
//! Rust links a dependency only if the code names it, so a provider crate's
//! registration is dropped unless something refers to the crate. The
//! `msgflux` facade names every provider crate it enables; users of a
//! third-party provider write `use the_provider_crate as _;` once, or call
//! [`Registry::register`] explicitly.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::kit::provider::{EditProvider, ProviderConfig};

/// Builds a provider instance for a model.
pub type CreateProvider = fn(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>>;

/// Describes a model's capabilities without credentials (for listings and CLI help).
pub type DescribeModel = fn(model: &str) -> Result<Capabilities>;

/// A provider's registration record: names and function pointers, built in a `const`.
///
/// ```
/// use std::sync::Arc;
/// use msgflux_core::Capabilities;
/// use msgflux_core::kit::ProviderRegistration;
/// # use msgflux_core::Result;
/// # use msgflux_core::kit::{EditProvider, ProviderConfig};
/// # fn create(model: &str, _: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
/// #     Err(msgflux_core::Error::config(format!("demo cannot build {model}")))
/// # }
/// fn describe(_model: &str) -> Result<Capabilities> { Ok(Capabilities::new()) }
///
/// const ACME: ProviderRegistration = ProviderRegistration::new("acme", env!("CARGO_PKG_NAME"), create, describe)
///     .with_description("Acme image edits")
///     .with_models(&["acme-edit-1"]);
/// assert_eq!(ACME.name, "acme");
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct ProviderRegistration {
    /// Provider name, the text before the first `/` of a model id.
    pub name: &'static str,
    /// The crate that registered it (for duplicate reports).
    pub crate_name: &'static str,
    /// One line for listings.
    pub description: &'static str,
    /// Well-known model names (a provider may accept others).
    pub models: &'static [&'static str],
    /// Environment variables the provider reads.
    pub env_vars: &'static [&'static str],
    /// Factory.
    pub create: CreateProvider,
    /// Capabilities of a model, without credentials.
    pub describe: DescribeModel,
}

impl ProviderRegistration {
    /// A registration with a name, the registering crate, a factory and a describer.
    pub const fn new(
        name: &'static str,
        crate_name: &'static str,
        create: CreateProvider,
        describe: DescribeModel,
    ) -> Self {
        Self {
            name,
            crate_name,
            description: "",
            models: &[],
            env_vars: &[],
            create,
            describe,
        }
    }

    /// Sets the description.
    pub const fn with_description(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// Sets the well-known models.
    pub const fn with_models(mut self, models: &'static [&'static str]) -> Self {
        self.models = models;
        self
    }

    /// Sets the environment variables the provider reads.
    pub const fn with_env_vars(mut self, vars: &'static [&'static str]) -> Self {
        self.env_vars = vars;
        self
    }
}

impl fmt::Debug for ProviderRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderRegistration")
            .field("name", &self.name)
            .field("crate_name", &self.crate_name)
            .field("models", &self.models)
            .finish_non_exhaustive()
    }
}

/// Link-time registration, read once by [`Registry::global`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Submitted(pub ProviderRegistration);

inventory::collect!(Submitted);

/// Registers a provider at link time, without naming `inventory`.
///
/// ```ignore
/// msgflux_core::register_provider!(ProviderRegistration::new("acme", env!("CARGO_PKG_NAME"), create, describe));
/// ```
#[macro_export]
macro_rules! register_provider {
    ($registration:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::__private::Submitted($registration)
        }
    };
}

/// How to get a provider that is not linked into the program, shown in
/// [`Error::ProviderUnavailable`]. The `msgflux` facade submits one for each
/// provider it can add (`enable the openai feature ...`); core knows none.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ProviderHint {
    /// The provider name (`openai`).
    pub provider: &'static str,
    /// What to do, as one clause (`enable the `openai` feature of the `msgflux` crate`).
    pub hint: &'static str,
}

impl ProviderHint {
    /// A hint.
    pub const fn new(provider: &'static str, hint: &'static str) -> Self {
        Self { provider, hint }
    }
}

#[doc(hidden)]
#[derive(Debug)]
pub struct SubmittedHint(pub ProviderHint);

inventory::collect!(SubmittedHint);

/// Registers a [`ProviderHint`] at link time.
///
/// ```ignore
/// msgflux_core::register_provider_hint!(ProviderHint::new("acme", "add the acme-msgflux crate"));
/// ```
#[macro_export]
macro_rules! register_provider_hint {
    ($hint:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::__private::SubmittedHint($hint)
        }
    };
}

fn hint_for(provider: &str) -> Option<&'static str> {
    inventory::iter::<SubmittedHint>
        .into_iter()
        .find(|s| s.0.provider == provider)
        .map(|s| s.0.hint)
}

/// The set of known providers.
///
/// Use [`Registry::global`] for everything linked into the program, or
/// [`Registry::new`] for an isolated set (tests, sandboxes).
pub struct Registry {
    entries: RwLock<BTreeMap<&'static str, ProviderRegistration>>,
    conflicts: RwLock<BTreeMap<&'static str, (String, String)>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("providers", &self.names()).finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            entries: RwLock::new(BTreeMap::new()),
            conflicts: RwLock::new(BTreeMap::new()),
        }
    }

    /// The process-wide registry, holding every provider registered with
    /// [`register_provider!`](crate::register_provider) in a linked crate.
    /// Two link-time registrations of one name make that name unusable: looking
    /// it up returns [`Error::DuplicateProvider`].
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let registry = Registry::new();
            for Submitted(registration) in inventory::iter::<Submitted> {
                if let Err(err) = registry.register(*registration) {
                    tracing::error!(%err, "provider registration conflict");
                }
            }
            registry
        })
    }

    /// Adds a provider. A name that is already taken is an
    /// [`Error::DuplicateProvider`], and the name is then refused on lookup
    /// until one of the two is removed from the program.
    pub fn register(&self, registration: ProviderRegistration) -> Result<()> {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = entries.get(registration.name) {
            let err = Error::DuplicateProvider {
                name: registration.name.into(),
                first: existing.crate_name.into(),
                second: registration.crate_name.into(),
            };
            self.conflicts.write().unwrap_or_else(|e| e.into_inner()).insert(
                registration.name,
                (existing.crate_name.into(), registration.crate_name.into()),
            );
            return Err(err);
        }
        entries.insert(registration.name, registration);
        Ok(())
    }

    /// Registered provider names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    /// Every registration, sorted by name.
    pub fn registrations(&self) -> Vec<ProviderRegistration> {
        self.entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .copied()
            .collect()
    }

    /// The registration of a provider name.
    pub fn get(&self, name: &str) -> Result<ProviderRegistration> {
        if let Some((first, second)) = self.conflicts.read().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Err(Error::DuplicateProvider {
                name: name.into(),
                first: first.clone(),
                second: second.clone(),
            });
        }
        self.entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .ok_or_else(|| Error::ProviderUnavailable {
                provider: name.into(),
                registered: self.names(),
                hint: hint_for(name),
            })
    }

    /// Builds the provider instance for `"provider/model"` with these settings
    /// (wrap it in a [`Model`](crate::Model), or use [`Model::builder`](crate::Model::builder)).
    pub fn create(&self, id: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
        let (provider, model) = split_model_id(id)?;
        let registration = self.get(provider)?;
        (registration.create)(model, config)
    }

    /// The capabilities of `"provider/model"`, without credentials.
    pub fn describe(&self, id: &str) -> Result<Capabilities> {
        let (provider, model) = split_model_id(id)?;
        (self.get(provider)?.describe)(model)
    }
}

/// Splits `"provider/model"` at the first `/`; the model may contain more
/// slashes (`replicate/stability-ai/stable-diffusion-inpainting`).
///
/// ```
/// let (provider, model) = msgflux_core::split_model_id("replicate/black-forest-labs/flux-fill-pro").unwrap();
/// assert_eq!((provider, model), ("replicate", "black-forest-labs/flux-fill-pro"));
/// assert!(msgflux_core::split_model_id("dall-e-2").is_err());
/// ```
pub fn split_model_id(id: &str) -> Result<(&str, &str)> {
    match id.split_once('/') {
        Some((provider, model)) if !provider.is_empty() && !model.is_empty() => Ok((provider, model)),
        _ => Err(Error::invalid(
            "model",
            format!("expected `provider/model` such as `openai/dall-e-2`, got `{id}`"),
        )),
    }
}
