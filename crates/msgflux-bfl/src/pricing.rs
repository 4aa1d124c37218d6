//! What a call costs: the credits BFL reports when it accepts a task
//! (`cost`, 1 credit = $0.01), or, when an answer does not report them, an
//! estimate from a dated price table.
//!
//! Prices read 2026-12-01 from docs.bfl.ai/quick_start/pricing (1 credit =
//! $0.01; FLUX.2 priced by megapixel: a rate for the first output megapixel
//! and a lower one for each further megapixel, input megapixels of an edit
//! included, which gives the page's "1 MP image editing" figures). Kontext
//! \[pro\] 4 credits, Kontext \[max\] 8, Fill \[pro\] 5 per image. Expand \[pro\]
//! is priced as Fill \[pro\] here (not on the page snapshot; treat it as an
//! estimate). `flux-2-pro-preview` and `flux-2-klein-9b-preview` are priced
//! as the models they preview.

use msgflux_core::Cost;

/// When the table was read.
pub(crate) const PRICES_READ: &str = "2026-12-01";

/// How a model is priced, in credits.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Price {
    PerImage(f64),
    PerMegapixel { first: f64, further: f64 },
}

fn price(model: &str) -> Option<Price> {
    let mp = |first, further| Some(Price::PerMegapixel { first, further });
    match model {
        "flux-kontext-pro" => Some(Price::PerImage(4.0)),
        "flux-kontext-max" => Some(Price::PerImage(8.0)),
        "flux-pro-1.0-fill" | "flux-pro-1.0-expand" => Some(Price::PerImage(5.0)),
        "flux-2-pro" | "flux-2-pro-preview" => mp(3.0, 1.5),
        "flux-2-max" => mp(7.0, 3.0),
        "flux-2-flex" => mp(5.0, 5.0),
        "flux-2-klein-4b" => mp(1.4, 0.1),
        "flux-2-klein-9b" | "flux-2-klein-9b-preview" => mp(1.5, 0.2),
        _ => None,
    }
}

/// What one task was, for the estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct TaskUse {
    /// Credits BFL reported at submit.
    pub(crate) credits: Option<f64>,
    /// Input megapixels (reported, or counted from the request).
    pub(crate) input_mp: f64,
    /// Output megapixels (reported, or expected from the request).
    pub(crate) output_mp: f64,
}

/// The cost of a call's tasks: BFL's reported credits when every task
/// reported them, else the table's estimate (None for a model it does not list).
///
/// The credits of one task by the table: per image, or for FLUX.2 the first
/// output megapixel at one rate and every further megapixel (output beyond
/// the first, and the inputs) at the other.
pub(crate) fn estimate(model: &str, tasks: &[TaskUse]) -> Option<Cost> {
    if !tasks.is_empty() && tasks.iter().all(|t| t.credits.is_some()) {
        let credits: f64 = tasks.iter().filter_map(|t| t.credits).sum();
        return Some(Cost::usd(
            credits / 100.0,
            format!(
                "{credits} credits as BFL reported when accepting {} task(s); 1 credit = $0.01",
                tasks.len()
            ),
        ));
    }
    let credits: f64 = match price(model)? {
        Price::PerImage(each) => each * tasks.len() as f64,
        Price::PerMegapixel { first, further } => tasks
            .iter()
            .map(|t| first + further * ((t.output_mp - 1.0).max(0.0) + t.input_mp))
            .sum(),
    };
    Some(Cost::usd(
        credits / 100.0,
        format!("estimated from BFL's price table read {PRICES_READ} (docs.bfl.ai/quick_start/pricing)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_credits_win() {
        let tasks = [TaskUse {
            credits: Some(4.5),
            input_mp: 1.0,
            output_mp: 1.0,
        }];
        let cost = estimate("flux-2-pro", &tasks).expect("cost");
        assert!((cost.usd - 0.045).abs() < 1e-9, "{cost:?}");
        assert!(cost.basis.contains("reported"), "{}", cost.basis);
    }

    #[test]
    fn a_one_megapixel_flux2_pro_edit_costs_what_the_page_says() {
        let tasks = [TaskUse {
            credits: None,
            input_mp: 1.0,
            output_mp: 1.0,
        }];
        let cost = estimate("flux-2-pro", &tasks).expect("cost");
        assert!((cost.usd - 0.045).abs() < 1e-9, "{cost:?}");
        let max = estimate("flux-2-max", &tasks).expect("cost");
        assert!((max.usd - 0.10).abs() < 1e-9, "{max:?}");
    }

    #[test]
    fn kontext_is_priced_per_image() {
        let tasks = [TaskUse::default(); 2];
        let cost = estimate("flux-kontext-max", &tasks).expect("cost");
        assert!((cost.usd - 0.16).abs() < 1e-9, "{cost:?}");
        assert!(cost.basis.contains(PRICES_READ));
    }
}
