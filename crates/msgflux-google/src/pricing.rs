//! Gemini's image-model prices, in one table with its date, and the cost
//! estimate computed from `usageMetadata`. Image output is billed as
//! output tokens (about 1,290 tokens per 1K image on Gemini 2.5 Flash
//! Image, 1,120 on the Gemini 3 models). Prices change: update the table
//! and the date together, and check <https://ai.google.dev/gemini-api/docs/pricing>
//! before trusting an estimate.

use msgflux_core::Cost;

/// When the price table was last checked (Gemini API paid tier, standard, not batch).
///
/// Sources, read 2026-12-01: Google's pricing page as quoted on Google's
/// own developer forum (discuss.ai.google.dev, Gemini 2.5 Flash Image: $0.30
/// input, $30 per 1M image tokens, 1,290 tokens per image); the Gemini 3
/// image prices as summarised from the same page by aifreeapi.com
/// (2026-03-20: $0.134/$0.24 per 1K-2K/4K image on 3 Pro, $0.045-$0.151 on
/// 3.1 Flash at $60 per 1M image tokens) and by Puter's price map (PR 2562).
/// Google's own Vertex AI model page of gemini-3.1-flash-image gives the
/// token counts (1,120 input tokens per input image; 747 / 1,120 / 1,680 /
/// 2,520 output tokens at 512 / 1K / 2K / 4K), and those counts times the
/// table's rates give the per-image prices the sources quote ($0.067 at 1K),
/// which is the check the table passed. Nano Banana 2.1
/// (gemini-nano-banana-2.1) has no price here: no Google page read gives one,
/// and resellers' figures are their own, so its cost is reported as unknown.
pub const PRICES_AS_OF: &str = "2026-12-01";

/// Token counts of one or more calls, split the way prices are.
///
/// ```
/// let mut total = msgflux_google::TokenCounts::default();
/// total.output_image = 1290;
/// total.add(&total.clone());
/// assert_eq!(total.output_image, 2580);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCounts {
    /// Prompt text tokens.
    pub input_text: u64,
    /// Input image tokens.
    pub input_image: u64,
    /// Generated image tokens.
    pub output_image: u64,
    /// Generated text and thinking tokens.
    pub output_text: u64,
}

impl TokenCounts {
    /// Adds another call's counts.
    pub fn add(&mut self, other: &TokenCounts) {
        self.input_text += other.input_text;
        self.input_image += other.input_image;
        self.output_image += other.output_image;
        self.output_text += other.output_text;
    }
}

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Prices {
    input: f64,
    output_text: f64,
    output_image: f64,
}

const PRICES: &[(&str, Prices)] = &[
    (
        "gemini-2.5-flash-image",
        Prices {
            input: 0.30,
            output_text: 2.50,
            output_image: 30.0,
        },
    ),
    (
        "gemini-3-pro-image",
        Prices {
            input: 2.00,
            output_text: 12.0,
            output_image: 120.0,
        },
    ),
    (
        "gemini-3.1-flash-image",
        Prices {
            input: 0.50,
            output_text: 3.00,
            output_image: 60.0,
        },
    ),
];

/// The priced model a name is (previews cost what their model costs).
fn priced(model: &str) -> Option<(&'static str, Prices)> {
    let base = model.strip_suffix("-preview").unwrap_or(model);
    PRICES.iter().find(|(name, _)| *name == base).map(|(n, p)| (*n, *p))
}

/// Estimates what calls cost from their token counts; `None` for a model
/// without a price (gemini-3.1-flash-lite-image, unknown names).
///
/// ```
/// let mut tokens = msgflux_google::TokenCounts::default();
/// tokens.output_image = 1290;
/// let cost = msgflux_google::estimate_cost("gemini-2.5-flash-image", &tokens).unwrap();
/// assert!((cost.usd - 0.0387).abs() < 1e-9);
/// assert!(cost.basis.contains(msgflux_google::PRICES_AS_OF));
/// ```
pub fn estimate_cost(model: &str, tokens: &TokenCounts) -> Option<Cost> {
    let (name, prices) = priced(model)?;
    let per = |count: u64, per_million: f64| count as f64 * per_million / 1_000_000.0;
    let input = tokens.input_text + tokens.input_image;
    let usd = per(input, prices.input)
        + per(tokens.output_text, prices.output_text)
        + per(tokens.output_image, prices.output_image);
    Some(Cost::usd(
        usd,
        format!(
            "{input} input tokens at ${}/1M + {} text/thinking tokens at ${}/1M + {} image tokens at ${}/1M ({name} prices as of {PRICES_AS_OF})",
            prices.input, tokens.output_text, prices.output_text, tokens.output_image, prices.output_image
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_3_pro_1k_image_costs_about_13_cents() {
        let tokens = TokenCounts {
            output_image: 1120,
            ..TokenCounts::default()
        };
        let cost = estimate_cost("gemini-3-pro-image-preview", &tokens).expect("priced");
        assert!((cost.usd - 0.1344).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn a_31_flash_1k_image_costs_about_7_cents() {
        let tokens = TokenCounts {
            output_image: 1120,
            ..TokenCounts::default()
        };
        let cost = estimate_cost("gemini-3.1-flash-image", &tokens).expect("priced");
        assert!((cost.usd - 0.0672).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn unpriced_models_have_no_estimate() {
        assert!(estimate_cost("gemini-3.1-flash-lite-image", &TokenCounts::default()).is_none());
        assert!(estimate_cost("someone-elses-model", &TokenCounts::default()).is_none());
    }
}
