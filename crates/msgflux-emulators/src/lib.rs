#![doc = include_str!("../README.md")]

// What every emulator shares: contracts, faults, the journal, painting, serving.
pub mod engine;

// OpenAI's `POST /v1/images/edits` and the Azure OpenAI deployment route.
pub mod openai;
// Replicate's predictions, files, models and deployments.
pub mod replicate;
// Stability AI's v2beta edit services and the results poll.
pub mod stability;
// Black Forest Labs' FLUX API: submits, `get_result` polls, signed result URLs.
pub mod bfl;
// fal.ai's queue (submit, status, result, cancel), storage uploads and the apps' OpenAPI schemas.
pub mod fal;
// Google's Gemini API (generateContent, the Files API) and Vertex AI's route for the same models.
pub mod google;

pub use engine::{Fault, JobEnd, Recorded};
