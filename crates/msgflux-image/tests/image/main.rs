//! The crate's integration tests, one binary (one link) with a module per topic.

mod compare;
mod composite;
mod conventions;
mod hostile;
mod masks;
mod prepare;
