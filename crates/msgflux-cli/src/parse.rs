//! Parsers for command-line values. Each error names the rule and the value,
//! and clap adds the flag: `invalid value '12' for '--size <WxH>': expected
//! WIDTHxHEIGHT such as 1024x1024, got `12``.

use std::time::Duration;

use msgflux::Size;

/// `WIDTHxHEIGHT`, both above zero.
pub fn size(raw: &str) -> Result<Size, String> {
    raw.parse::<Size>().map_err(|err| match err {
        msgflux::Error::InvalidInput { rule, .. } => rule,
        other => other.to_string(),
    })
}

/// `1024x1024` or `auto`.
pub fn output_size(raw: &str) -> Result<msgflux::OutputSize, String> {
    raw.parse::<msgflux::OutputSize>().map_err(|err| match err {
        msgflux::Error::InvalidInput { rule, .. } => rule,
        other => other.to_string(),
    })
}

/// A positive number of seconds (`90`, `2.5`), at most a week.
pub fn seconds(raw: &str) -> Result<Duration, String> {
    const WEEK: f64 = 7.0 * 24.0 * 3600.0;
    let secs: f64 = raw
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds such as 90 or 2.5, got `{raw}`"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= WEEK) {
        return Err(format!("must be more than 0 and at most {WEEK} seconds, got `{raw}`"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `key=value`, with a non-empty key.
pub fn key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE such as quality=high, got `{raw}`")),
    }
}

/// A point `X,Y` in pixels (fractions allowed).
pub fn point(raw: &str) -> Result<(f32, f32), String> {
    let bad = || format!("expected a point X,Y such as 120,80, got `{raw}`");
    let (x, y) = raw.split_once(',').ok_or_else(bad)?;
    let x: f32 = x.trim().parse().map_err(|_| bad())?;
    let y: f32 = y.trim().parse().map_err(|_| bad())?;
    if !(x.is_finite() && y.is_finite()) {
        return Err(bad());
    }
    Ok((x, y))
}

/// A fraction of pixels, written `0.01` or `1%`, between 0 and 1.
pub fn fraction(raw: &str) -> Result<f64, String> {
    let trimmed = raw.trim();
    let value = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => trimmed.parse::<f64>(),
    }
    .map_err(|_| format!("expected a fraction such as 0.01 or 1%, got `{raw}`"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("must be between 0 and 1 (0% and 100%), got `{raw}`"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_needs_both_sides() {
        assert_eq!(size("640x480"), Ok(Size::new(640, 480)));
        assert!(size("640").unwrap_err().contains("WIDTHxHEIGHT"));
    }

    #[test]
    fn seconds_must_be_positive() {
        assert_eq!(seconds("2.5"), Ok(Duration::from_millis(2500)));
        assert!(seconds("0").is_err());
        assert!(seconds("-3").is_err());
        assert!(seconds("NaN").is_err());
    }

    #[test]
    fn an_option_needs_a_key_and_an_equals_sign() {
        assert_eq!(key_value("quality=high"), Ok(("quality".into(), "high".into())));
        assert_eq!(key_value("user=a=b"), Ok(("user".into(), "a=b".into())));
        assert!(key_value("quality").is_err());
        assert!(key_value("=high").is_err());
    }

    #[test]
    fn a_point_is_two_numbers() {
        assert_eq!(point("10,20.5"), Ok((10.0, 20.5)));
        assert!(point("10").is_err());
    }

    #[test]
    fn a_fraction_takes_percent() {
        assert_eq!(fraction("1%"), Ok(0.01));
        assert_eq!(fraction("0.5"), Ok(0.5));
        assert!(fraction("150%").is_err());
    }
}
