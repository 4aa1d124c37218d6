//! OpenAI's image-edit prices, in one table with its date, and the cost
//! estimate computed from them. Prices change: update the table and the date
//! together, and check OpenAI's pricing page before trusting an estimate.

use msgflux_core::{Cost, Size, Usage};

/// When the price table was last checked against OpenAI's published prices.
pub const PRICES_AS_OF: &str = "2026-11-28";

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TokenPrices {
    text_input: f64,
    image_input: f64,
    image_output: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Price {
    /// dall-e-2: a flat price per result image, by (square) side.
    PerImage(&'static [(u32, f64)]),
    /// GPT image models: billed by tokens.
    Tokens(TokenPrices),
}

/// Standard (not batch) prices, per model.
const PRICES: &[(&str, Price)] = &[
    (
        "dall-e-2",
        Price::PerImage(&[(256, 0.016), (512, 0.018), (1024, 0.020)]),
    ),
    (
        "gpt-image-1",
        Price::Tokens(TokenPrices {
            text_input: 5.0,
            image_input: 10.0,
            image_output: 40.0,
        }),
    ),
    (
        "gpt-image-1-mini",
        Price::Tokens(TokenPrices {
            text_input: 2.0,
            image_input: 2.5,
            image_output: 8.0,
        }),
    ),
    (
        "gpt-image-1.5",
        Price::Tokens(TokenPrices {
            text_input: 5.0,
            image_input: 8.0,
            image_output: 32.0,
        }),
    ),
    (
        "chatgpt-image-latest",
        Price::Tokens(TokenPrices {
            text_input: 5.0,
            image_input: 8.0,
            image_output: 32.0,
        }),
    ),
    (
        "gpt-image-2",
        Price::Tokens(TokenPrices {
            text_input: 5.0,
            image_input: 8.0,
            image_output: 30.0,
        }),
    ),
];

/// Estimates what an edit cost from the price table.
///
/// `model` is a known model name (dated snapshots use their base model's
/// price); `usage` is the token count the API reported (GPT image models);
/// `images` and `size` price dall-e-2, which bills per image. Returns `None`
/// when the model has no price or a token-priced model reported no usage.
///
/// ```
/// use msgflux_core::{Size, Usage};
/// let cost = msgflux_openai::estimate_cost("dall-e-2", None, 2, Some(Size::square(512))).unwrap();
/// assert!((cost.usd - 0.036).abs() < 1e-9);
/// assert!(cost.basis.contains(msgflux_openai::PRICES_AS_OF));
/// ```
pub fn estimate_cost(model: &str, usage: Option<&Usage>, images: usize, size: Option<Size>) -> Option<Cost> {
    let (_, price) = PRICES.iter().find(|(name, _)| *name == model)?;
    match price {
        Price::PerImage(table) => {
            let side = size.map_or(1024, |s| s.width);
            let (_, each) = table.iter().find(|(s, _)| *s == side)?;
            Some(Cost::usd(
                each * images as f64,
                format!("{images} x {side}x{side} image at ${each} ({model} prices as of {PRICES_AS_OF})"),
            ))
        }
        Price::Tokens(prices) => {
            let usage = usage?;
            let per_token = |per_million: f64| per_million / 1_000_000.0;
            let output = usage.output_tokens.unwrap_or(0);
            let (input_cost, input_basis) = match (usage.input_text_tokens, usage.input_image_tokens) {
                (None, None) => {
                    // No split reported: price all input at the (higher) image rate.
                    let input = usage.input_tokens.unwrap_or(0);
                    (
                        input as f64 * per_token(prices.image_input),
                        format!("{input} input tokens at ${}/1M", prices.image_input),
                    )
                }
                (text, image) => {
                    let (text, image) = (text.unwrap_or(0), image.unwrap_or(0));
                    (
                        text as f64 * per_token(prices.text_input) + image as f64 * per_token(prices.image_input),
                        format!(
                            "{text} text tokens at ${}/1M + {image} image tokens at ${}/1M",
                            prices.text_input, prices.image_input
                        ),
                    )
                }
            };
            Some(Cost::usd(
                input_cost + output as f64 * per_token(prices.image_output),
                format!(
                    "{input_basis} + {output} output tokens at ${}/1M ({model} prices as of {PRICES_AS_OF})",
                    prices.image_output
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(text: u64, image: u64, output: u64) -> Usage {
        let mut usage = Usage::default();
        usage.input_text_tokens = Some(text);
        usage.input_image_tokens = Some(image);
        usage.input_tokens = Some(text + image);
        usage.output_tokens = Some(output);
        usage
    }

    #[test]
    fn gpt_image_1_costs_follow_the_token_split() {
        let cost =
            estimate_cost("gpt-image-1", Some(&usage(1_000_000, 1_000_000, 1_000_000)), 1, None).expect("priced");
        assert!((cost.usd - (5.0 + 10.0 + 40.0)).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn dall_e_2_defaults_to_the_1024_price() {
        let cost = estimate_cost("dall-e-2", None, 1, None).expect("priced");
        assert!((cost.usd - 0.020).abs() < 1e-9);
    }

    #[test]
    fn token_priced_models_without_usage_have_no_estimate() {
        assert!(estimate_cost("gpt-image-1.5", None, 1, None).is_none());
    }

    #[test]
    fn unknown_models_have_no_estimate() {
        assert!(estimate_cost("someone-elses-model", Some(&usage(1, 1, 1)), 1, None).is_none());
    }

    #[test]
    fn every_known_model_has_a_price() {
        for model in crate::KNOWN_MODELS {
            assert!(PRICES.iter().any(|(name, _)| name == model), "{model} has no price");
        }
    }
}
