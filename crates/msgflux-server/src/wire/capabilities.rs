//! What a model accepts, as the `capabilities` field of each `GET /v1/models`
//! entry (a msgflux extension; OpenAI's SDKs keep fields they do not know):
//! the model's capability table, in words a client can build a form from.

use msgflux_core::{Capabilities, MaskSupport, OptionKind, OptionSpec, SizeRule};
use serde_json::{Value, json};

/// The `capabilities` object of one model.
pub(crate) fn capabilities(caps: &Capabilities) -> Value {
    json!({
        "honours_prompt": caps.honours_prompt,
        "max_prompt_chars": caps.max_prompt_chars,
        "max_images": caps.max_images,
        "input_formats": caps.input_formats.iter().map(|f| f.mime()).collect::<Vec<_>>(),
        "square_input": caps.square_input,
        "mask": match caps.mask {
            MaskSupport::Unsupported => "unsupported",
            MaskSupport::Optional => "optional",
            MaskSupport::Required => "required",
        },
        // A model that takes no mask gets the original pasted back outside it unless told otherwise.
        "keep_unmasked_default": caps.mask == MaskSupport::Unsupported,
        "n": { "min": caps.n.start(), "max": caps.n.end() },
        "sizes": sizes(&caps.sizes),
        "auto_size": caps.auto_size,
        "seed": caps.seed,
        "streaming": caps.streaming,
        "options": caps.options.iter().map(option).collect::<Vec<_>>(),
    })
}

fn sizes(rule: &SizeRule) -> Value {
    let mut value = match rule {
        SizeRule::InputSize => json!({ "rule": "input_size" }),
        SizeRule::OneOf(sizes) => json!({
            "rule": "one_of",
            "sizes": sizes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }),
        SizeRule::MultipleOf { step, min, max } => {
            json!({ "rule": "multiple_of", "step": step, "min": min, "max": max })
        }
        SizeRule::Any { max_side } => json!({ "rule": "any", "max_side": max_side }),
        _ => json!({ "rule": "other" }),
    };
    value["text"] = Value::String(rule.to_string());
    value
}

fn option(spec: &OptionSpec) -> Value {
    let mut value = match &spec.kind {
        OptionKind::Choice(choices) => json!({ "type": "choice", "choices": choices }),
        OptionKind::Integer { min, max } => json!({ "type": "integer", "min": min, "max": max }),
        OptionKind::Number { min, max } => json!({ "type": "number", "min": min, "max": max }),
        OptionKind::Bool => json!({ "type": "bool" }),
        _ => json!({ "type": "text" }),
    };
    value["name"] = Value::String(spec.name.clone());
    value["help"] = Value::String(spec.help.clone());
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::Size;

    #[test]
    fn a_fixed_size_list_is_given_as_words() {
        let caps = Capabilities::new().with_sizes(SizeRule::OneOf(vec![Size::square(256), Size::square(512)]));
        let value = capabilities(&caps);
        assert_eq!(value["sizes"]["rule"], "one_of");
        assert_eq!(value["sizes"]["sizes"][1], "512x512");
    }

    #[test]
    fn options_carry_their_type_and_range() {
        let caps = Capabilities::new().with_option(OptionSpec::integer("radius", 1..=32, "neighbourhood radius"));
        let option = &capabilities(&caps)["options"][0];
        assert_eq!(option["name"], "radius");
        assert_eq!(option["type"], "integer");
        assert_eq!(option["max"], 32);
    }
}
