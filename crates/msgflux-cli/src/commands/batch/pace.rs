//! `--rate N/min`: at most N job starts per minute from this worker, so N
//! workers stay under a known quota together. Requests are spread evenly
//! (one every 60/N seconds) rather than sent in bursts.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A start rate, as given to `--rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Time between two starts.
    pub interval: Duration,
}

/// Parses `N/min`, `N/s` or `N/h` (N may be a fraction, above 0).
pub fn parse_rate(raw: &str) -> Result<Rate, String> {
    let bad = || format!("expected a rate such as 60/min, 2/s or 500/h, got `{raw}`");
    let (count, unit) = raw.trim().split_once('/').ok_or_else(bad)?;
    let count: f64 = count.trim().parse().map_err(|_| bad())?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "min" | "m" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(bad()),
    };
    if !(count.is_finite() && count > 0.0 && count <= 1_000_000.0) {
        return Err(format!("the count must be above 0 and at most 1000000, got `{raw}`"));
    }
    Ok(Rate {
        interval: Duration::from_secs_f64(per / count),
    })
}

/// Hands out start times, one interval apart.
#[derive(Debug)]
pub struct Pace {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl Pace {
    /// A pace for this rate, or none (start as soon as a slot is free).
    pub fn new(rate: Option<Rate>) -> Self {
        Self {
            interval: rate.map(|rate| rate.interval),
            next: Mutex::new(None),
        }
    }

    /// Waits for this caller's turn.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |next| next.max(now));
            *next = Some(slot + interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_per_minute_is_an_interval() {
        assert_eq!(parse_rate("120/min").unwrap().interval, Duration::from_millis(500));
        assert_eq!(parse_rate("4/s").unwrap().interval, Duration::from_millis(250));
    }

    #[test]
    fn a_rate_needs_a_positive_count_and_a_unit() {
        assert!(parse_rate("0/min").is_err());
        assert!(parse_rate("10").is_err());
        assert!(parse_rate("10/week").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn starts_are_one_interval_apart() {
        let pace = Pace::new(Some(parse_rate("60/min").unwrap()));
        let start = Instant::now();
        for _ in 0..3 {
            pace.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
