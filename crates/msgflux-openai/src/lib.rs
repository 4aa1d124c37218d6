//! The openai provider (being built).
