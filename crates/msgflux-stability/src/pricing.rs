//! What an edit costs: Stability bills credits per successful generation
//! (failed ones are free), a fixed number per service, and sells credits at
//! a fixed price. Both are read on [`PRICES_READ_ON`]:
//!
//! - credits per service: the "Credits" paragraph of each endpoint's
//!   description in Stability's v2beta OpenAPI document (snapshot of
//!   2026-09-22): inpaint, erase, search-and-replace, search-and-recolor and
//!   remove-background 5, outpaint 4, replace-background-and-relight 8;
//! - the credit price, $10 for 1,000 credits ($0.01 each), as
//!   platform.stability.ai/pricing states it (quoted by
//!   developer.puter.com and aicredits.dev; the official page was not
//!   reachable from this workspace).

use msgflux_core::Cost;

use crate::models::Service;

/// When the credits and the credit price were read.
pub const PRICES_READ_ON: &str = "2026-12-01";

/// The price of one credit in US dollars ($10 buys 1,000 credits).
pub const USD_PER_CREDIT: f64 = 0.01;

/// The estimated cost of `images` successful generations of `service`.
///
/// ```
/// use msgflux_stability::{Service, estimate_cost};
/// let cost = estimate_cost(Service::ReplaceBackgroundAndRelight, 2);
/// assert!((cost.usd - 0.16).abs() < 1e-9);
/// assert!(cost.basis.contains("8 credits"), "{}", cost.basis);
/// ```
pub fn estimate_cost(service: Service, images: usize) -> Cost {
    let credits = service.credits() * images as f64;
    Cost::usd(
        credits * USD_PER_CREDIT,
        format!(
            "{images} generation(s) of {} at {} credits each, ${USD_PER_CREDIT} per credit (Stability AI prices of {PRICES_READ_ON})",
            service.model(),
            service.credits()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outpaint_costs_four_credits_and_the_rest_five() {
        assert!((estimate_cost(Service::Outpaint, 1).usd - 0.04).abs() < 1e-9);
        assert!((estimate_cost(Service::Inpaint, 3).usd - 0.15).abs() < 1e-9);
        assert!(estimate_cost(Service::Erase, 1).basis.contains(PRICES_READ_ON));
    }
}
