//! `msgflux edit`: one edit, its results saved (or printed), partial images
//! shown as they stream in, and optionally a before/after picture.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use futures::StreamExt as _;
use indicatif::ProgressBar;
use msgflux::{EditEvent, EditRequest, EditResponse, Error, GeneratedImage, ImageData, Model, Progress, Result};
use msgflux_storage::{Location, Storage};
use serde_json::{Value, json};

use crate::commands::compare;
use crate::exit::Exit;
use crate::files;
use crate::model_args::{ConfiguredModel, ModelArgs, RequestArgs};
use crate::output::Output;

/// Flags of `msgflux edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    /// An input image: a file, an http(s) URL, or s3://, gs://, az://. Repeat for models that take several;
    /// the mask applies to the first.
    #[arg(long = "image", short = 'i', required = true, value_name = "FILE|URL")]
    pub images: Vec<String>,

    /// Where to edit: transparent pixels (alpha 0) are edited, opaque ones kept. Same size as the first image.
    #[arg(long, value_name = "FILE|URL")]
    pub mask: Option<String>,

    /// What to change. Models that only fill from the image (local/*) accept and ignore it.
    #[arg(long, short = 'p', value_name = "TEXT")]
    pub prompt: String,

    #[command(flatten)]
    pub request: RequestArgs,

    /// Save results (and partial images) into this folder (or s3://, gs://, az:// prefix), each written whole.
    /// Without it, URLs or base64 are printed.
    #[arg(long, value_name = "DIR|URL")]
    pub out: Option<String>,

    /// Also write a before/after picture of each result into --out (a local folder).
    #[arg(long, requires = "out")]
    pub compare: bool,
}

/// A partial image that arrived while streaming.
struct Partial {
    index: u32,
    bytes: usize,
    path: Option<String>,
}

/// What the edit is doing while it waits: a spinner line on a terminal
/// (never with `--json`), and an info log line (`-v`) for every step.
struct ProgressLine {
    bar: ProgressBar,
}

impl ProgressLine {
    fn new(output: &Output) -> Self {
        let bar = if output.is_json() || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        };
        Self { bar }
    }

    fn sink(&self) -> impl Fn(&Progress) + Send + Sync + 'static {
        let bar = self.bar.clone();
        move |step: &Progress| {
            tracing::info!(step = %step, "progress");
            bar.set_message(step.to_string());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for ProgressLine {
    // An edit that fails leaves no spinner behind its error message.
    fn drop(&mut self) {
        self.finish();
    }
}

/// Runs the edit.
pub async fn run(args: EditArgs, output: &Output) -> Result<Exit> {
    let storage = Storage::new();
    // A bad --out is refused before anything is sent.
    let out = match &args.out {
        Some(raw) => {
            let out = files::location_arg("out", raw)?;
            if args.compare && !out.is_local() {
                return Err(Error::invalid("compare", "needs --out to be a local folder"));
            }
            storage
                .check_writable(&out)
                .await
                .map_err(|err| files::storage_error("out", err))?;
            Some(out)
        }
        None => None,
    };
    let ConfiguredModel { model, options } = args.model.configure().await?;
    let several = args.images.len() > 1;
    let mut images = Vec::with_capacity(args.images.len());
    for (i, image) in args.images.iter().enumerate() {
        let what = if several { format!("image[{i}]") } else { "image".into() };
        images.push(files::load_input(&storage, &files::input_from_arg(image, None), &what).await?);
    }
    let mut request = args.request.request(&args.prompt, &options, None).images(images);
    if let Some(mask) = &args.mask {
        request = request.mask(files::load_input(&storage, &files::input_from_arg(mask, None), "mask").await?);
    }
    let timeout = args.request.timeout;
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    let progress = ProgressLine::new(output);
    request = request.on_progress(progress.sink());
    let stem = files::stem_for(&args.images[0]);

    let mut partials = Vec::new();
    let response = if model.capabilities().await?.streaming {
        let streamed = stream_edit(&model, request, &stem, (&storage, out.as_ref()), output, &mut partials);
        match timeout {
            Some(limit) => tokio::time::timeout(limit, streamed).await.unwrap_or_else(|_| {
                Err(Error::Timeout {
                    provider: model.provider().name().to_string(),
                    after: limit,
                    maybe_billed: true,
                    message: "for the whole edit (the call was cancelled)".into(),
                })
            })?,
            None => streamed.await?,
        }
    } else {
        model.call(request).await?
    };

    progress.finish();
    let saved = match &out {
        Some(out) => Some(
            files::save_results(&storage, out, &format!("{stem}-edited"), &response)
                .await?
                .iter()
                .map(|name| out.join(name).to_string())
                .collect::<Vec<String>>(),
        ),
        None => None,
    };
    let comparisons = match (&saved, args.compare, out.as_ref().and_then(Location::as_local)) {
        (Some(paths), true, Some(dir)) => {
            let mut written = Vec::new();
            for (i, result) in paths.iter().enumerate() {
                let name = if paths.len() == 1 {
                    format!("{stem}-compare.png")
                } else {
                    format!("{stem}-compare-{i}.png")
                };
                let before = args.images[0].as_str();
                let result = std::path::Path::new(result);
                written.push(compare::write_before_after(before, result, args.mask.as_deref(), &dir.join(name)).await?);
            }
            written
        }
        _ => Vec::new(),
    };

    report(&model, &response, saved.as_deref(), &comparisons, &partials, output);
    Ok(Exit::Success)
}

/// Streams the edit, saving or announcing each partial image as it arrives.
async fn stream_edit(
    model: &Model,
    request: EditRequest,
    stem: &str,
    (storage, out): (&Storage, Option<&Location>),
    output: &Output,
    partials: &mut Vec<Partial>,
) -> Result<EditResponse> {
    let mut events = model.stream(request);
    let mut completed = None;
    while let Some(event) = events.next().await {
        match event? {
            EditEvent::Partial { index, image } => {
                let bytes = image.bytes().await?;
                let path = match out {
                    Some(dir) => {
                        let target = dir.join(&format!("{stem}-partial-{index}.{}", files::extension_of(&bytes)));
                        files::write(storage, &target, bytes.clone()).await?;
                        Some(target.to_string())
                    }
                    None => None,
                };
                match &path {
                    Some(path) => output.note(format!("partial image {index}: {path}")),
                    None => output.note(format!(
                        "partial image {index} received ({} bytes; --out DIR keeps partial images)",
                        bytes.len()
                    )),
                }
                partials.push(Partial {
                    index,
                    bytes: bytes.len(),
                    path,
                });
            }
            EditEvent::Completed(response) => completed = Some(response),
            _ => {}
        }
    }
    completed.ok_or_else(|| Error::InvalidResponse {
        provider: model.provider().name().to_string(),
        message: "the stream ended without a completed result".into(),
        request_id: None,
    })
}

/// Prints the results: paths or URLs on stdout, notes on stderr, or one JSON document.
fn report(
    model: &Model,
    response: &EditResponse,
    saved: Option<&[String]>,
    comparisons: &[PathBuf],
    partials: &[Partial],
    output: &Output,
) {
    let results: Vec<Value> = response
        .images
        .iter()
        .enumerate()
        .map(|(index, image)| {
            let mut entry = json!({ "index": index });
            match saved.and_then(|paths| paths.get(index)) {
                Some(path) => entry["path"] = json!(path),
                None => match &image.data {
                    ImageData::Url(url) => entry["url"] = json!(url),
                    _ => entry["base64"] = json!(image.as_consumed()),
                },
            }
            if let Some(prompt) = &image.revised_prompt {
                entry["revised_prompt"] = json!(prompt);
            }
            if let Some(seed) = image.seed {
                entry["seed"] = json!(seed);
            }
            if let Some(unmasked) = &image.unmasked {
                entry["unmasked"] = json!(unmasked);
            }
            entry
        })
        .collect();
    output.document(&json!({
        "model": model.id(),
        "request_id": response.request_id,
        "prompt_used": response.prompt_used,
        "results": results,
        "partials": partials.iter().map(|p| json!({ "index": p.index, "bytes": p.bytes, "path": p.path })).collect::<Vec<_>>(),
        "comparisons": comparisons,
        "usage": response.usage,
        "cost": response.cost,
        "elapsed_ms": response.elapsed.as_millis() as u64,
        "metadata": response.metadata,
    }));
    if output.is_json() {
        return;
    }

    match saved {
        Some(paths) => paths.iter().for_each(|path| output.line(path)),
        None => {
            for image in &response.images {
                output.line(shown_result(image, output));
            }
        }
    }
    comparisons
        .iter()
        .for_each(|path| output.line(path.display().to_string()));
    if !response.prompt_used {
        output.note(format!(
            "note: {} does not follow the prompt; the result is filled from the image itself",
            model.id()
        ));
    }
    for (i, image) in response.images.iter().enumerate() {
        if let Some(prompt) = &image.revised_prompt {
            output.note(format!("revised prompt {i}: {prompt}"));
        }
        if let Some(unmasked) = &image.unmasked {
            output.note(format!(
                "result {i}: kept the original outside the mask; the provider had changed {:.2}% of it{}",
                unmasked.leak.changed_fraction * 100.0,
                unmasked
                    .resized_from
                    .map(|size| format!(" (and answered at {size}, resized back)"))
                    .unwrap_or_default()
            ));
        }
    }
    if let Some(cost) = &response.cost {
        output.note(format!("cost: ${:.4} ({})", cost.usd, cost.basis));
    }
    if let Some(id) = &response.request_id {
        output.note(format!("request id: {id}"));
    }
}

/// What to print for a result that was not saved: the URL or base64 the
/// provider gave, except that megabytes of inline data are not dumped on a terminal.
fn shown_result(image: &GeneratedImage, output: &Output) -> String {
    let consumed = image.as_consumed();
    let inline = !matches!(&image.data, ImageData::Url(url) if !url.starts_with("data:"));
    if inline && output.stdout_is_terminal() && consumed.len() > 4096 {
        format!(
            "<inline image, {} characters of base64: pass --out DIR to save it, or pipe stdout>",
            consumed.len()
        )
    } else {
        consumed
    }
}
