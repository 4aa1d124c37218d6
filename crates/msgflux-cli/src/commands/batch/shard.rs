//! `--shard I/N`: which part of the jobs this worker runs. A job belongs to
//! shard `hash(key) mod N`, where the key is the job's id (or, for a job
//! without one, its line's content), never its line number alone: adding
//! jobs to the file does not move finished ones to another shard.
//!
//! `I` may be `auto`: the index the scheduler hands the worker, from
//! `JOB_COMPLETION_INDEX` (Kubernetes Indexed Jobs) or
//! `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch array jobs), or `MSGFLUX_SHARD_INDEX`.

use std::fmt;

/// The variables `--shard auto/N` reads, in order.
pub const INDEX_VARIABLES: [&str; 3] = [
    "MSGFLUX_SHARD_INDEX",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// Most shards a batch may have.
pub const MAX_SHARDS: u32 = 100_000;

/// One shard of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This worker's index, below `count`.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

/// `--shard` as given: the index may still have to come from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    index: Option<u32>,
    count: u32,
}

impl ShardSpec {
    /// The shard, reading `auto`'s index from the environment.
    pub fn resolve(self) -> Result<Shard, String> {
        let index = match self.index {
            Some(index) => index,
            None => {
                let (name, raw) = INDEX_VARIABLES
                    .iter()
                    .find_map(|name| std::env::var(name).ok().map(|value| (*name, value)))
                    .ok_or_else(|| {
                        format!(
                            "`auto` takes the index from {}, and none is set",
                            INDEX_VARIABLES.join(", ")
                        )
                    })?;
                raw.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("{name} is `{raw}`, not a whole number"))?
            }
        };
        if index >= self.count {
            return Err(format!(
                "index {index} must be below the shard count {} (shards are numbered 0 to {})",
                self.count,
                self.count - 1
            ));
        }
        Ok(Shard {
            index,
            count: self.count,
        })
    }
}

/// Parses `I/N` or `auto/N`: both whole numbers, N at least 1, I below N.
pub fn parse_spec(raw: &str) -> Result<ShardSpec, String> {
    let bad = || format!("expected I/N such as 0/4 (or auto/4, taking I from JOB_COMPLETION_INDEX), got `{raw}`");
    let (index, count) = raw.trim().split_once('/').ok_or_else(bad)?;
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    if count == 0 || count > MAX_SHARDS {
        return Err(format!("the shard count must be 1 to {MAX_SHARDS}, got `{raw}`"));
    }
    let index = match index.trim() {
        "auto" => None,
        digits => Some(digits.parse::<u32>().map_err(|_| bad())?),
    };
    let spec = ShardSpec { index, count };
    if index.is_some() {
        spec.resolve()?;
    }
    Ok(spec)
}

impl Shard {
    /// The whole batch as one shard (no `--shard`).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// True when the job with this key is this shard's.
    pub fn owns(&self, key: &str) -> bool {
        stable_hash(key) % u64::from(self.count) == u64::from(self.index)
    }

    /// The name of the shard in the output store (`all`, `3-of-8`).
    pub fn name(&self) -> String {
        if self.count == 1 {
            "all".into()
        } else {
            format!("{}-of-{}", self.index, self.count)
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a, 64 bits: fixed by its definition, so every worker, build and
/// Rust version puts a job in the same shard (std's hasher promises no such thing).
fn stable_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_spec_is_index_slash_count() {
        assert_eq!(parse_spec("2/4").unwrap().resolve(), Ok(Shard { index: 2, count: 4 }));
    }

    #[test]
    fn an_index_at_or_over_the_count_is_refused() {
        let err = parse_spec("5/4").unwrap_err();
        assert!(err.contains("index 5 must be below the shard count 4"), "{err}");
        assert!(parse_spec("4/4").is_err());
    }

    #[test]
    fn words_and_zero_shards_are_refused() {
        assert!(parse_spec("a/b").unwrap_err().contains("expected I/N"));
        assert!(parse_spec("0/0").unwrap_err().contains("shard count must be 1"));
        assert!(parse_spec("3").is_err());
    }

    #[test]
    fn every_key_belongs_to_exactly_one_shard() {
        for key in ["a", "shoe-17", "line-3", ""] {
            let owners = (0..5).filter(|i| Shard { index: *i, count: 5 }.owns(key)).count();
            assert_eq!(owners, 1, "{key}");
        }
    }

    #[test]
    fn the_partition_is_fixed_by_the_key() {
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c; these must never change between releases.
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert!(Shard { index: 0, count: 2 }.owns("a"));
    }
}
