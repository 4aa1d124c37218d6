//! The jobs file: one job per JSONL line or CSV row, with a prompt, one or
//! more images, an optional mask, `n` and `id`. The file may be a path or in
//! a store (`s3://`, `gs://`, `az://`, http(s)); relative names are taken
//! against its folder, in the same store.
//!
//! A line that cannot be read becomes a failed job of its own (the batch goes
//! on); a file that cannot be read at all, or two jobs with one id, stop the
//! batch before anything runs.

use std::collections::HashMap;

use msgflux::{Error, Result};
use msgflux_storage::{Location, Storage, StorageError};
use serde::Deserialize;

use crate::files::{self, InputArg};

/// One job, ready to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// What to change.
    pub prompt: String,
    /// Input images (relative names resolved).
    pub images: Vec<InputArg>,
    /// The mask (transparent = edit).
    pub mask: Option<InputArg>,
    /// Number of variations, when the job sets it.
    pub n: Option<u32>,
}

/// A line of the jobs file: its id, its line number, and the job or why it cannot run.
#[derive(Debug)]
pub struct JobEntry {
    /// The job's id: its `id` field, or `line-N`. Names its output files.
    pub id: String,
    /// 1-based line number in the jobs file.
    pub line: u64,
    /// What places the job in a shard: its id when it gives one, else its
    /// line's content (never the line number alone).
    pub key: String,
    /// The job, or the reason the line cannot run.
    pub job: Result<Job>,
}

/// Reads a `.jsonl` (or `.ndjson`, `.json`) or `.csv` jobs file.
pub async fn read_jobs(storage: &Storage, location: &Location) -> Result<Vec<JobEntry>> {
    let name = location.file_name().unwrap_or_default();
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(ext.as_str(), "jsonl" | "ndjson" | "json" | "csv") {
        return Err(Error::invalid(
            "jobs",
            format!("{location} must end in .jsonl or .csv (one job per line: prompt, image, optional mask, n, id)"),
        ));
    }
    let bytes = storage
        .read(location, files::MAX_JOBS_BYTES)
        .await
        .map_err(|err| match err {
            StorageError::NotFound { .. } => Error::invalid("jobs", format!("file not found: {location}")),
            other => files::storage_error("jobs", other),
        })?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::invalid("jobs", format!("{location} is not UTF-8 text")))?;
    let base = location.parent();
    let entries = if ext == "csv" {
        parse_csv(&text, &base)?
    } else {
        parse_jsonl(&text, &base)
    };
    check_unique_ids(&entries)?;
    Ok(entries)
}

/// The shard key of a job: its own id, or its line's content.
fn key_of(id: &str, explicit: bool, content: &str) -> String {
    if explicit {
        format!("id:{id}")
    } else {
        format!("content:{}", content.trim())
    }
}

/// One JSONL line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonJob {
    prompt: String,
    image: OneOrMany,
    #[serde(default)]
    mask: Option<String>,
    #[serde(default)]
    n: Option<u32>,
    /// Read by `id_of` before the line is parsed into this struct.
    #[serde(default, rename = "id")]
    _id: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn parse_jsonl(text: &str, base: &Location) -> Vec<JobEntry> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let param = || format!("job on line {line}");
        let value: serde_json::Value = match serde_json::from_str(raw) {
            Ok(value) => value,
            Err(err) => {
                entries.push(JobEntry {
                    id: default_id(line),
                    line,
                    key: key_of("", false, raw),
                    job: Err(Error::invalid(param(), format!("not valid JSON: {err}"))),
                });
                continue;
            }
        };
        let (id, id_error) = id_of(value.get("id"), line);
        let key = key_of(
            &id,
            value.get("id").is_some_and(|v| !v.is_null()) && id_error.is_none(),
            raw,
        );
        let job = match id_error {
            Some(err) => Err(err),
            None => serde_json::from_value::<JsonJob>(value)
                .map_err(|err| Error::invalid(param(), err.to_string()))
                .map(|job| Job {
                    prompt: job.prompt,
                    images: match job.image {
                        OneOrMany::One(image) => vec![files::input_from_arg(&image, Some(base))],
                        OneOrMany::Many(images) => images
                            .iter()
                            .map(|image| files::input_from_arg(image, Some(base)))
                            .collect(),
                    },
                    mask: job.mask.map(|mask| files::input_from_arg(&mask, Some(base))),
                    n: job.n,
                }),
        };
        entries.push(JobEntry { id, line, key, job });
    }
    entries
}

const CSV_COLUMNS: &[&str] = &["prompt", "image", "mask", "n", "id"];

fn parse_csv(text: &str, base: &Location) -> Result<Vec<JobEntry>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|err| Error::invalid("jobs", format!("cannot read the CSV header: {err}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    if let Some(unknown) = headers
        .iter()
        .find(|h| !CSV_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(h)))
    {
        return Err(Error::invalid(
            "jobs",
            format!("unknown CSV column `{unknown}`; columns: {}", CSV_COLUMNS.join(", ")),
        ));
    }
    let (Some(prompt_col), Some(image_col)) = (column("prompt"), column("image")) else {
        return Err(Error::invalid(
            "jobs",
            "the CSV header must name at least the columns prompt and image",
        ));
    };
    let (mask_col, n_col, id_col) = (column("mask"), column("n"), column("id"));

    let mut entries = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(index as u64 + 2, |p| p.line());
                entries.push(JobEntry {
                    id: default_id(line),
                    line,
                    key: key_of("", false, &format!("line {line}: {err}")),
                    job: Err(Error::invalid(format!("job on line {line}"), err.to_string())),
                });
                continue;
            }
        };
        let line = record.position().map_or(index as u64 + 2, |p| p.line());
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).filter(|v| !v.is_empty());
        let (id, id_error) = id_of(cell(id_col).map(|v| serde_json::Value::String(v.into())).as_ref(), line);
        let key = key_of(
            &id,
            cell(id_col).is_some() && id_error.is_none(),
            &record.iter().collect::<Vec<_>>().join(","),
        );
        let job = match (id_error, cell(n_col).map(str::parse::<u32>)) {
            (Some(err), _) => Err(err),
            (None, Some(Err(_))) => Err(Error::invalid(
                format!("job on line {line}"),
                format!("n must be a whole number, got `{}`", cell(n_col).unwrap_or_default()),
            )),
            (None, n) => match cell(Some(image_col)) {
                None => Err(Error::invalid(
                    format!("job on line {line}"),
                    "the image column is empty",
                )),
                Some(image) => Ok(Job {
                    prompt: record.get(prompt_col).unwrap_or_default().to_string(),
                    images: vec![files::input_from_arg(image, Some(base))],
                    mask: cell(mask_col).map(|mask| files::input_from_arg(mask, Some(base))),
                    n: n.and_then(|n| n.ok()),
                }),
            },
        };
        entries.push(JobEntry { id, line, key, job });
    }
    Ok(entries)
}

fn default_id(line: u64) -> String {
    format!("line-{line}")
}

/// The id a job gives itself (a string or a whole number), or `line-N`; an
/// id that cannot name a file is an error for that job.
fn id_of(value: Option<&serde_json::Value>, line: u64) -> (String, Option<Error>) {
    let raw = match value {
        None | Some(serde_json::Value::Null) => return (default_id(line), None),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(other) => {
            return (
                default_id(line),
                Some(Error::invalid(
                    format!("id on line {line}"),
                    format!("must be text or a whole number, got {other}"),
                )),
            );
        }
    };
    if raw.is_empty() || raw.len() > 100 || files::safe_name(&raw) != raw {
        return (
            default_id(line),
            Some(Error::invalid(
                format!("id on line {line}"),
                format!(
                    "`{raw}` cannot name output files; use up to 100 letters, digits, '-', '_' or '.', not starting with '.'"
                ),
            )),
        );
    }
    (raw, None)
}

fn check_unique_ids(entries: &[JobEntry]) -> Result<()> {
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for entry in entries {
        if let Some(first) = seen.insert(&entry.id, entry.line) {
            return Err(Error::invalid(
                "jobs",
                format!(
                    "the id `{}` is used on lines {first} and {}; ids name output files and must be unique",
                    entry.id, entry.line
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use msgflux::ImageInput;
    use std::path::Path;

    fn jobs_dir() -> Location {
        Location::Local("/jobs".into())
    }

    fn jsonl(text: &str) -> Vec<JobEntry> {
        parse_jsonl(text, &jobs_dir())
    }

    #[test]
    fn a_jsonl_line_gives_a_job_with_paths_taken_against_the_jobs_directory() {
        let entries = jsonl(r#"{"prompt": "p", "image": "a.png", "mask": "m.png", "n": 2, "id": "shoe"}"#);
        let job = entries[0].job.as_ref().expect("job");
        assert_eq!(entries[0].id, "shoe");
        assert!(matches!(&job.images[0], InputArg::Ready(ImageInput::Path(p)) if p == Path::new("/jobs/a.png")));
        assert!(matches!(&job.mask, Some(InputArg::Ready(ImageInput::Path(p))) if p == Path::new("/jobs/m.png")));
        assert_eq!(job.n, Some(2));
    }

    #[test]
    fn jobs_without_an_id_are_named_after_their_line() {
        let entries = jsonl("\n{\"prompt\": \"p\", \"image\": \"a.png\"}\n");
        assert_eq!((entries[0].id.as_str(), entries[0].line), ("line-2", 2));
    }

    #[test]
    fn a_misspelt_field_fails_that_job_only() {
        let entries = jsonl("{\"prompt\": \"p\", \"imgae\": \"a.png\"}\n{\"prompt\": \"p\", \"image\": \"b.png\"}");
        let err = entries[0].job.as_ref().expect_err("misspelt").to_string();
        assert!(err.contains("job on line 1"), "{err}");
        assert!(entries[1].job.is_ok());
    }

    #[test]
    fn broken_json_fails_that_job_only() {
        let entries = jsonl("{not json\n{\"prompt\": \"p\", \"image\": \"b.png\"}");
        assert!(
            entries[0]
                .job
                .as_ref()
                .expect_err("broken")
                .to_string()
                .contains("not valid JSON")
        );
        assert!(entries[1].job.is_ok());
    }

    #[test]
    fn an_id_with_a_slash_is_refused() {
        let entries = jsonl(r#"{"prompt": "p", "image": "a.png", "id": "../x"}"#);
        assert!(
            entries[0]
                .job
                .as_ref()
                .expect_err("bad id")
                .to_string()
                .contains("cannot name output files")
        );
    }

    #[test]
    fn duplicate_ids_stop_the_batch() {
        let entries = jsonl(
            "{\"prompt\": \"p\", \"image\": \"a.png\", \"id\": 1}\n{\"prompt\": \"p\", \"image\": \"b.png\", \"id\": \"1\"}",
        );
        let err = check_unique_ids(&entries).expect_err("duplicate").to_string();
        assert!(err.contains("lines 1 and 2"), "{err}");
    }

    #[test]
    fn a_csv_row_gives_a_job() {
        let entries = parse_csv("prompt,image,mask,n,id\nmake it red,a.png,,3,car\n", &jobs_dir()).expect("csv");
        let job = entries[0].job.as_ref().expect("job");
        assert_eq!((entries[0].id.as_str(), entries[0].line), ("car", 2));
        assert!(job.mask.is_none());
        assert_eq!(job.n, Some(3));
    }

    #[test]
    fn the_shard_key_is_the_id_or_else_the_content_not_the_line() {
        let entries = jsonl(
            "{\"prompt\": \"p\", \"image\": \"a.png\", \"id\": \"shoe\"}\n\n{\"prompt\": \"p\", \"image\": \"b.png\"}",
        );
        let moved = jsonl("\n\n\n{\"prompt\": \"p\", \"image\": \"b.png\"}");
        assert_eq!(entries[0].key, "id:shoe");
        assert_eq!(entries[1].key, moved[0].key);
    }

    #[test]
    fn an_unknown_csv_column_stops_the_batch() {
        let err = parse_csv("prompt,image,colour\n", &jobs_dir()).expect_err("unknown column");
        assert!(err.to_string().contains("unknown CSV column `colour`"), "{err}");
    }

    #[test]
    fn a_csv_without_an_image_column_stops_the_batch() {
        assert!(parse_csv("prompt,mask\n", &jobs_dir()).is_err());
    }
}
