//! The replicate provider (being built).
