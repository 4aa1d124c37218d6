//! Our side of `bench/openai/run.sh`: dall-e-2 edits through msgflux against
//! the OpenAI emulator (`msgflux-emulator openai`), timed the way
//! `bench/openai/bench.py` times openai-python.
//!
//! ```text
//! openai_bench_client inputs SRC SIZE IMAGE_OUT MASK_OUT        make the inputs both clients send
//! openai_bench_client sequential EDITS IMAGE MASK               one edit after another (after one warm-up edit)
//! openai_bench_client batch EDITS CONCURRENCY IMAGE MASK        map_gather with BatchOptions::concurrency
//! openai_bench_client fault READ_TIMEOUT_S IMAGE MASK           one edit with default retries, short read timeout
//! ```
//!
//! The edit commands read `OPENAI_BASE_URL` and `OPENAI_API_KEY` (the
//! emulator sets them when it runs a command) and print one JSON line. CPU
//! time is the process's user and system time (`/proc/self/stat`, in clock
//! ticks of `1/CLK_TCK` s; set `CLK_TCK` when it is not 100) over the timed
//! part only; peak RSS is the process's high-water mark (`VmHWM`).

use std::time::{Duration, Instant};

use msgflux_core::functional::{BatchOptions, map_gather};
use msgflux_core::{EditRequest, EditResponse, Model, ResponseFormat, Size};
use msgflux_image::{Mask, PrepareTarget, Rect};
use serde_json::{Value, json};

// Link the provider, so that `openai/...` is registered (the facade does this for its users).
use msgflux_openai as _;

type BoxError = Box<dyn std::error::Error>;

const PROMPT: &str = "Add a small red planet in the sky";
const USAGE: &str = "usage: openai_bench_client inputs SRC SIZE IMAGE_OUT MASK_OUT | sequential EDITS IMAGE MASK \
                     | batch EDITS CONCURRENCY IMAGE MASK | fault READ_TIMEOUT_S IMAGE MASK";

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match strs.as_slice() {
        ["inputs", src, size, image_out, mask_out] => inputs(src, size.parse()?, image_out, mask_out)?,
        ["sequential", edits, image, mask] => sequential(edits.parse()?, image, mask).await?,
        ["batch", edits, concurrency, image, mask] => batch(edits.parse()?, concurrency.parse()?, image, mask).await?,
        ["fault", timeout, image, mask] => fault(timeout.parse()?, image, mask).await?,
        _ => return Err(USAGE.into()),
    };
    println!("{out}");
    Ok(())
}

/// The source photo as a square RGBA PNG of `size` (Lanczos), and a mask
/// of the same size whose ellipse in the upper right is transparent (edit
/// there), the rest opaque.
fn inputs(src: &str, size: u32, image_out: &str, mask_out: &str) -> Result<Value, BoxError> {
    let photo = msgflux_image::decode_file(src, &Default::default())?.image;
    let (w, h) = (photo.width(), photo.height());
    let sky = Mask::ellipse(w, h, Rect::new(w * 55 / 100, h * 5 / 100, w * 40 / 100, h * 30 / 100));
    let target = PrepareTarget::new()
        .with_size(Size::square(size))
        .with_max_bytes(4 * 1024 * 1024);
    let prepared = msgflux_image::prepare(&photo, Some(&sky), &target)?;
    let mask = prepared.mask.as_ref().ok_or("prepare kept no mask")?;
    std::fs::write(image_out, &prepared.image_bytes)?;
    std::fs::write(mask_out, mask.to_png(msgflux_core::MaskConvention::TransparentIsEdit)?)?;
    Ok(json!({
        "image": image_out,
        "image_bytes": prepared.image_bytes.len(),
        "mask": mask_out,
        "size": size,
    }))
}

fn request(image: &str, mask: &str) -> EditRequest {
    EditRequest::new(PROMPT)
        .image(image)
        .mask(mask)
        .response_format(ResponseFormat::Base64)
}

/// Reads the result's bytes (base64-decoded) and checks that they are a PNG.
async fn png_of(response: &EditResponse) -> Result<usize, BoxError> {
    let image = response.first().ok_or("no image in the answer")?;
    let bytes = image.bytes().await?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err("the result is not a PNG".into());
    }
    Ok(bytes.len())
}

/// User and system CPU seconds of this process so far.
fn cpu_times() -> Result<(f64, f64), BoxError> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').ok_or("odd /proc/self/stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let tick: f64 = std::env::var("CLK_TCK")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(100.0);
    Ok((fields[11].parse::<f64>()? / tick, fields[12].parse::<f64>()? / tick))
}

/// Peak resident set size of this process, in KiB.
fn peak_rss_kib() -> Result<u64, BoxError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(line.split_whitespace().nth(1).ok_or("odd VmHWM line")?.parse()?)
}

struct Meter {
    started: Instant,
    cpu: (f64, f64),
}

impl Meter {
    fn start() -> Result<Self, BoxError> {
        Ok(Self {
            cpu: cpu_times()?,
            started: Instant::now(),
        })
    }

    fn finish(self, edits: usize, extra: Value) -> Result<Value, BoxError> {
        let wall = self.started.elapsed().as_secs_f64();
        let (user, sys) = cpu_times()?;
        let (user, sys) = (user - self.cpu.0, sys - self.cpu.1);
        let mut out = json!({
            "client": "msgflux",
            "edits": edits,
            "wall_s": wall,
            "edits_per_s": edits as f64 / wall,
            "cpu_user_s": user,
            "cpu_sys_s": sys,
            "cpu_ms_per_edit": (user + sys) * 1000.0 / edits as f64,
            "peak_rss_kib": peak_rss_kib()?,
        });
        if let (Value::Object(out), Value::Object(extra)) = (&mut out, extra) {
            out.extend(extra);
        }
        Ok(out)
    }
}

async fn sequential(edits: usize, image: &str, mask: &str) -> Result<Value, BoxError> {
    let model = Model::image_text_to_image("openai/dall-e-2")?; // OPENAI_BASE_URL, OPENAI_API_KEY
    let warm_up = model.call(request(image, mask)).await?;
    png_of(&warm_up).await?;
    let meter = Meter::start()?;
    let mut result_bytes = 0;
    for _ in 0..edits {
        let response = model
            .edit(PROMPT)
            .image(image)
            .mask(mask)
            .response_format(ResponseFormat::Base64)
            .await?;
        result_bytes = png_of(&response).await?;
    }
    meter.finish(edits, json!({"result_bytes": result_bytes}))
}

async fn batch(edits: usize, concurrency: usize, image: &str, mask: &str) -> Result<Value, BoxError> {
    let model = Model::image_text_to_image("openai/dall-e-2")?;
    let warm_up = model.call(request(image, mask)).await?;
    png_of(&warm_up).await?;
    let meter = Meter::start()?;
    let jobs = (0..edits).map(|_| request(image, mask));
    let results = map_gather(&model, jobs, BatchOptions::default().concurrency(concurrency)).await;
    let mut ok = 0;
    for result in &results {
        png_of(result.as_ref().map_err(|e| e.to_string())?).await?;
        ok += 1;
    }
    meter.finish(edits, json!({"ok": ok, "concurrency": concurrency}))
}

async fn fault(read_timeout_s: f64, image: &str, mask: &str) -> Result<Value, BoxError> {
    // Base URL and key from the environment; only the read timeout is set. The retry policy is
    // the default one (msgflux_openai::default_retry_policy(): 2 retries).
    let model = Model::builder("openai/dall-e-2")
        .timeout(Duration::from_secs_f64(read_timeout_s))
        .build()?;
    let started = Instant::now();
    let result = model.call(request(image, mask)).await;
    let elapsed = started.elapsed().as_secs_f64();
    Ok(match result {
        Ok(response) => json!({
            "client": "msgflux", "ok": true, "elapsed_s": elapsed,
            "result_bytes": png_of(&response).await?,
        }),
        Err(err) => json!({
            "client": "msgflux", "ok": false, "elapsed_s": elapsed,
            "error": err.to_string(),
            "may_have_been_billed": err.may_have_been_billed(),
        }),
    })
}
