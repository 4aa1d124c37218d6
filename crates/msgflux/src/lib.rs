//! msgflux facade (being built).
pub use msgflux_core::*;
