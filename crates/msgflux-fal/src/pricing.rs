//! What an app costs: the one price table of this crate, with the date it
//! was read. Prices change; a cost is always an estimate with its basis, and
//! apps missing here report none.
//!
//! Source: each app's page on fal.ai (`https://fal.ai/models/<id>/llms.txt`,
//! "Pricing is subject to change"), as quoted in `fal-edit-contract.md` §6.
//! The prices of Nano Banana (`fal-ai/nano-banana/edit`), Nano Banana Pro
//! and Kontext max were not found on fal's own pages, so they report no
//! estimate; Nano Banana 2 (`fal-ai/nano-banana-2/edit`, reached through its
//! schema) is priced from its page.

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
    /// A price per 1K image, times 0.75 at 0.5K, 1.5 at 2K and 2 at 4K
    /// (the tier read from each result's longer side).
    ImageByTier(f64),
}

/// Nano Banana 2's multiplier for a result of this size: 0.5K (512 px)
/// 0.75, 1K 1, 2K 1.5, 4K 2, from the longer side.
fn tier_multiplier((w, h): (u32, u32)) -> f64 {
    match w.max(h) {
        0..=768 => 0.75,
        769..=1536 => 1.0,
        1537..=3072 => 1.5,
        _ => 2.0,
    }
}

fn price(app: &str) -> Option<Price> {
    Some(match app {
        "fal-ai/flux-pro/kontext" => Price::Image(0.04),
        "fal-ai/flux-pro/v1/fill" => Price::MegapixelRoundedUp(0.05),
        "fal-ai/qwen-image-edit" => Price::Megapixel(0.03),
        "fal-ai/bytedance/seedream/v4/edit" => Price::Image(0.03),
        "fal-ai/nano-banana-2/edit" => Price::ImageByTier(0.08),
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
        Price::ImageByTier(usd) => {
            let billed: f64 = sizes.iter().map(|s| tier_multiplier(*s)).sum();
            Cost::usd(
                usd * billed,
                format!(
                    "{images} image(s) at ${usd} per 1K image, x0.75 at 0.5K, x1.5 at 2K, x2 at 4K ({app}, fal prices of {PRICES_READ_ON}; web search and high thinking cost extra)"
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
    fn nano_banana_2_costs_by_the_tier_of_each_result() {
        let cost = estimate("fal-ai/nano-banana-2/edit", &[(1024, 1024), (2048, 1152), (512, 512)]).expect("priced");
        assert!((cost.usd - 0.08 * (1.0 + 1.5 + 0.75)).abs() < 1e-9, "{cost:?}");
        let four_k = estimate("fal-ai/nano-banana-2/edit", &[(4096, 4096)]).expect("priced");
        assert!((four_k.usd - 0.16).abs() < 1e-9, "{four_k:?}");
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
