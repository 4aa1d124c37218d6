//! The gateway, driven over HTTP as clients drive it: edits, errors in
//! OpenAI's shapes, hostile requests, and operations.

// Names the facade, so the providers it compiles in (local, openai, replicate) are linked.
use msgflux as _;

mod common;
mod edits;
mod errors;
mod operations;
mod security;
mod studio;
