//! `msgflux providers`: the providers compiled in, their models and what each
//! accepts, and the cargo features of the `msgflux` crate that would add the
//! built-in providers this build lacks.

use clap::Args;
use msgflux::kit::human_bytes;
use msgflux::{BUILTIN_PROVIDERS, Capabilities, MaskConvention, MaskSupport, OptionKind, OptionSpec, Registry, Result};
use serde_json::{Value, json};

use crate::exit::Exit;
use crate::output::Output;

/// Flags of `msgflux providers`.
#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// Only this provider (local, openai, azure, replicate, ...).
    #[arg(value_name = "PROVIDER")]
    pub provider: Option<String>,
}

/// One model's listing: its id and capabilities, or why they are unknown.
struct ModelListing {
    id: String,
    capabilities: Result<Capabilities>,
}

/// Lists the registry.
pub fn run(args: ProvidersArgs, output: &Output) -> Result<Exit> {
    let registry = Registry::global();
    let registrations = match &args.provider {
        Some(name) => vec![registry.get(name)?],
        None => registry.registrations(),
    };
    let registered = registry.names();
    let missing: Vec<(&str, &str)> = BUILTIN_PROVIDERS
        .iter()
        .filter(|(provider, _)| !registered.iter().any(|r| r == provider))
        .copied()
        .collect();

    let mut providers_json = Vec::new();
    for registration in &registrations {
        let models: Vec<ModelListing> = registration
            .models
            .iter()
            .map(|model| {
                let id = format!("{}/{model}", registration.name);
                let capabilities = registry.describe(&id);
                ModelListing { id, capabilities }
            })
            .collect();

        output.line(format!("{} ({})", registration.name, registration.crate_name));
        if !registration.description.is_empty() {
            output.line(format!("  {}", registration.description));
        }
        output.line(format!(
            "  environment: {}",
            if registration.env_vars.is_empty() {
                "none (no key needed)".to_string()
            } else {
                registration.env_vars.join(", ")
            }
        ));
        if models.is_empty() {
            output.line(format!(
                "  models: any, written {}/<model>; none are listed in advance",
                registration.name
            ));
        }
        for listing in &models {
            output.line(format!("  {}", listing.id));
            match &listing.capabilities {
                Ok(caps) => {
                    for line in describe_capabilities(caps) {
                        output.line(format!("      {line}"));
                    }
                }
                Err(err) => output.line(format!("      capabilities unknown: {err}")),
            }
        }
        output.line("");

        providers_json.push(json!({
            "name": registration.name,
            "crate": registration.crate_name,
            "description": registration.description,
            "env_vars": registration.env_vars,
            "models": models.iter().map(|listing| match &listing.capabilities {
                Ok(caps) => json!({ "id": listing.id, "capabilities": caps }),
                Err(err) => json!({ "id": listing.id, "capabilities": Value::Null, "error": err.to_string() }),
            }).collect::<Vec<_>>(),
        }));
    }

    if missing.is_empty() {
        output.line("Every built-in provider is compiled in.");
    } else {
        output.line("Built-in providers not compiled in (cargo features of the `msgflux` crate):");
        for (provider, feature) in &missing {
            output.line(format!("  {provider}: enable feature `{feature}`"));
        }
    }
    output.document(&json!({
        "providers": providers_json,
        "missing_builtins": missing.iter().map(|(provider, feature)| json!({
            "provider": provider,
            "feature": feature,
        })).collect::<Vec<_>>(),
    }));
    Ok(Exit::Success)
}

/// A capability table as a few readable lines.
fn describe_capabilities(caps: &Capabilities) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(format!(
        "prompt: {}",
        match (caps.honours_prompt, caps.max_prompt_chars) {
            (false, _) => "ignored (the fill comes from the image itself)".to_string(),
            (true, Some(max)) => format!("followed, up to {max} characters"),
            (true, None) => "followed".to_string(),
        }
    ));
    let mask = match caps.mask {
        MaskSupport::Unsupported => "not accepted",
        MaskSupport::Optional => "optional",
        MaskSupport::Required => "required",
    };
    if caps.mask == MaskSupport::Unsupported || caps.mask_convention == MaskConvention::TransparentIsEdit {
        lines.push(format!("mask: {mask}"));
    } else {
        lines.push(format!(
            "mask: {mask} (give transparent = edit; converted to {} for this API)",
            caps.mask_convention
        ));
    }
    let formats: Vec<String> = caps.input_formats.iter().map(ToString::to_string).collect();
    let mut images = format!(
        "images: up to {} ({})",
        caps.max_images,
        if formats.is_empty() {
            "any format".to_string()
        } else {
            formats.join(", ")
        }
    );
    if let Some(max) = caps.max_input_bytes {
        images.push_str(&format!(", at most {}", human_bytes(max)));
    }
    if caps.square_input {
        images.push_str(", square");
    }
    lines.push(images);
    let n = if caps.n.start() == caps.n.end() {
        caps.n.start().to_string()
    } else {
        format!("{}-{}", caps.n.start(), caps.n.end())
    };
    lines.push(format!(
        "sizes: {}; n: {n}; output: {}",
        caps.sizes,
        caps.response_formats
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    ));
    lines.push(format!(
        "seed: {}; streaming of partial images: {}",
        if caps.seed { "yes" } else { "no" },
        if caps.streaming { "yes" } else { "no" }
    ));
    if caps.options.is_empty() {
        lines.push("options: none".to_string());
    } else {
        lines.push("options (--option KEY=VALUE):".to_string());
        for spec in &caps.options {
            lines.push(format!("  {}", describe_option(spec)));
        }
    }
    lines
}

fn describe_option(spec: &OptionSpec) -> String {
    let kind = match &spec.kind {
        OptionKind::Choice(choices) => choices.join("|"),
        OptionKind::Integer { min, max } => format!("whole number {min}-{max}"),
        OptionKind::Number { min, max } => format!("number {min}-{max}"),
        OptionKind::Bool => "true|false".to_string(),
        OptionKind::Text => "text".to_string(),
        _ => "value".to_string(),
    };
    if spec.help.is_empty() {
        format!("{} = {kind}", spec.name)
    } else {
        format!("{} = {kind}: {}", spec.name, spec.help)
    }
}
