//! Prometheus metrics: requests by model and status, latency, upstream
//! errors by kind, estimated cost, edits in flight.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    model: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    model: String,
    kind: String,
}

/// The gateway's metrics.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<ModelLabels, Histogram>,
    errors: Family<ErrorLabels, Counter>,
    cost: Family<ModelLabels, Counter<f64, AtomicU64>>,
    images: Family<ModelLabels, Counter>,
    in_flight: Gauge,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("msgflux_gateway");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<ModelLabels, Histogram>::new_with_constructor(|| {
            // 5 ms to about 10 minutes: local fills are fast, hosted models take tens of seconds.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.005, 2.5, 14,
            ))
        });
        let errors = Family::<ErrorLabels, Counter>::default();
        let cost = Family::<ModelLabels, Counter<f64, AtomicU64>>::default();
        let images = Family::<ModelLabels, Counter>::default();
        let in_flight = Gauge::default();
        registry.register(
            "edit_requests",
            "Edit requests answered, by model and HTTP status",
            requests.clone(),
        );
        registry.register(
            "edit_duration_seconds",
            "Time to answer an edit request",
            latency.clone(),
        );
        registry.register("edit_errors", "Failed edit requests, by kind", errors.clone());
        registry.register(
            "estimated_cost_usd",
            "Estimated provider cost of answered edits, in US dollars",
            cost.clone(),
        );
        registry.register("images", "Result images returned", images.clone());
        registry.register("edits_in_flight", "Edits being processed now", in_flight.clone());
        Self {
            registry,
            requests,
            latency,
            errors,
            cost,
            images,
            in_flight,
        }
    }

    /// Counts one answered edit request.
    pub(crate) fn record(&self, model: &str, status: u16, seconds: f64, error_kind: Option<&str>) {
        let model = model.to_string();
        self.requests
            .get_or_create(&RequestLabels {
                model: model.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&ModelLabels { model: model.clone() })
            .observe(seconds);
        if let Some(kind) = error_kind {
            self.errors
                .get_or_create(&ErrorLabels {
                    model,
                    kind: kind.to_string(),
                })
                .inc();
        }
    }

    /// Adds what a successful edit returned and cost.
    pub(crate) fn record_result(&self, model: &str, images: usize, cost_usd: Option<f64>) {
        let labels = ModelLabels {
            model: model.to_string(),
        };
        self.images.get_or_create(&labels).inc_by(images as u64);
        if let Some(usd) = cost_usd.filter(|usd| usd.is_finite() && *usd >= 0.0) {
            self.cost.get_or_create(&labels).inc_by(usd);
        }
    }

    pub(crate) fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// The text exposition format.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
