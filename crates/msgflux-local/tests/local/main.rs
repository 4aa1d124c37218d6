//! The crate's integration tests, one binary (one link) with a module per topic.

mod fill;
mod provider;
