//! What an app costs: the one price table of this crate, with the date it
//! was read. Prices change; a cost is always an estimate with its basis, and
//! apps missing here report none.
//!
//! Source: each app's page on fal.ai (`https://fal.ai/models/<id>/llms.txt`,
//! "Pricing is subject to change"), as quoted in `fal-edit-contract.md` §6.
//! Nano Banana's edit price was not found there, so it reports no estimate.

use msgflux_core::Cost;

/// When the table below was read.
pub(crate) const PRICES_READ_ON: &str = "2026-12-01";

/// What an app bills per (a price in US dollars).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Price {
    /// A fixed price per output image.
    Image(f64),
    /// A price per output megapixel, each image rounded up to whole megapixels.
    MegapixelRoundedUp(f64),
    /// A price per output megapixel.
    Megapixel(f64),
}

fn price(app: &str) -> Option<Price> {
    Some(match app {
        "fal-ai/flux-pro/kontext" => Price::Image(0.04),
        "fal-ai/flux-pro/v1/fill" => Price::MegapixelRoundedUp(0.05),
        "fal-ai/qwen-image-edit" => Price::Megapixel(0.03),
        "fal-ai/bytedance/seedream/v4/edit" => Price::Image(0.03),
        _ => return None,
    })
}

/// The estimated cost of results of these sizes (width, height).
pub(crate) fn estimate(app: &str, sizes: &[(u32, u32)]) -> Option<Cost> {
    let images = sizes.len();
    let megapixels = |(w, h): &(u32, u32)| f64::from(*w) * f64::from(*h) / 1_000_000.0;
    Some(match price(app)? {
        Price::Image(usd) => Cost::usd(
            usd * images as f64,
            format!("{images} image(s) at ${usd} per image ({app}, fal prices of {PRICES_READ_ON})"),
        ),
        Price::MegapixelRoundedUp(usd) => {
            let billed: f64 = sizes.iter().map(|s| megapixels(s).ceil().max(1.0)).sum();
            Cost::usd(
                usd * billed,
                format!(
                    "{billed} megapixel(s), each image rounded up, at ${usd}/MP ({app}, fal prices of {PRICES_READ_ON})"
                ),
            )
        }
        Price::Megapixel(usd) => {
            let billed: f64 = sizes.iter().map(megapixels).sum();
            Cost::usd(
                usd * billed,
                format!("{billed:.3} megapixel(s) at ${usd}/MP ({app}, fal prices of {PRICES_READ_ON})"),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_image_apps_cost_their_price_per_image() {
        let cost = estimate("fal-ai/flux-pro/kontext", &[(1024, 1024), (1024, 1024)]).expect("priced");
        assert!((cost.usd - 0.08).abs() < 1e-9, "{cost:?}");
        assert!(cost.basis.contains(PRICES_READ_ON), "{}", cost.basis);
    }

    #[test]
    fn fill_rounds_each_image_up_to_whole_megapixels() {
        let cost = estimate("fal-ai/flux-pro/v1/fill", &[(1024, 1024)]).expect("priced");
        assert!((cost.usd - 0.10).abs() < 1e-9, "1.05 MP is billed as 2: {cost:?}");
        let small = estimate("fal-ai/flux-pro/v1/fill", &[(64, 64)]).expect("priced");
        assert!((small.usd - 0.05).abs() < 1e-9, "{small:?}");
    }

    #[test]
    fn unknown_apps_have_no_estimate() {
        assert!(estimate("fal-ai/nano-banana/edit", &[(1024, 1024)]).is_none());
    }
}
