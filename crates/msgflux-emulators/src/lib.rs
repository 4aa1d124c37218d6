#![doc = include_str!("../README.md")]

// What every emulator shares: contracts, faults, the journal, painting, serving.
pub mod engine;

// OpenAI's `POST /v1/images/edits` and the Azure OpenAI deployment route.
pub mod openai;
// Replicate's predictions, files, models and deployments.
pub mod replicate;
// Google's Gemini API (generateContent, the Files API) and Vertex AI's route for the same models.
pub mod google;

pub use engine::{Fault, JobEnd, Recorded};
