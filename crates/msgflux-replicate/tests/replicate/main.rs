//! The crate's integration tests, one binary (one link) with a module per topic.

mod common;
mod conformance;
mod faults;
mod inputs;
mod lifecycle;
mod registry;
mod responses;
mod routing;
mod spec;
