//! What a model costs: the one price table of this crate, with the date it
//! was read. Prices change; a cost is always reported as an estimate with
//! its basis, and models missing here report none.

use msgflux_core::Cost;

/// When the table below was read.
pub(crate) const PRICES_READ_ON: &str = "2026-11-28";

/// How a model is billed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Price {
    /// A fixed price per output image (official models).
    PerImage(f64),
    /// GPU time: `predict_time` seconds at this hardware's rate (community models).
    PerSecond { usd: f64, hardware: &'static str },
}

/// Sources: replicate.com/pricing (hardware rates) and the model pages;
/// Black Forest Labs' price list for the FLUX models.
fn price(model: &str) -> Option<Price> {
    Some(match model {
        "stability-ai/stable-diffusion-inpainting" => Price::PerSecond {
            usd: 0.0014,
            hardware: "Nvidia A100 (80GB)",
        },
        "black-forest-labs/flux-fill-pro" => Price::PerImage(0.05),
        "black-forest-labs/flux-kontext-pro" => Price::PerImage(0.04),
        "google/nano-banana" => Price::PerImage(0.039),
        _ => return None,
    })
}

/// The estimated cost of `images` outputs that took `predict_seconds` of model time.
pub(crate) fn estimate(model: &str, images: usize, predict_seconds: Option<f64>) -> Option<Cost> {
    match price(model)? {
        Price::PerImage(usd) => Some(Cost::usd(
            usd * images as f64,
            format!("{images} image(s) at ${usd} per image ({model}, Replicate prices of {PRICES_READ_ON})"),
        )),
        Price::PerSecond { usd, hardware } => {
            let seconds = predict_seconds?;
            Some(Cost::usd(
                usd * seconds,
                format!(
                    "{seconds:.2} s of predict time at ${usd}/s on {hardware} ({model}, Replicate prices of {PRICES_READ_ON})"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_image_models_cost_their_price_per_image() {
        let cost = estimate("black-forest-labs/flux-fill-pro", 3, None).expect("priced");
        assert!((cost.usd - 0.15).abs() < 1e-9, "{cost:?}");
        assert!(cost.basis.contains(PRICES_READ_ON), "{}", cost.basis);
    }

    #[test]
    fn time_billed_models_need_the_predict_time() {
        assert!(estimate("stability-ai/stable-diffusion-inpainting", 1, None).is_none());
        let cost = estimate("stability-ai/stable-diffusion-inpainting", 1, Some(2.0)).expect("priced");
        assert!((cost.usd - 0.0028).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn unknown_models_have_no_estimate() {
        assert!(estimate("someone/something", 1, Some(1.0)).is_none());
    }
}
