//! The crate's integration tests, one binary (one link) with a module per topic.

mod batch;
mod inputs;
mod model;
