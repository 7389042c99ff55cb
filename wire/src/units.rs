//! Sizes and durations in docker's words, the same in the CLI and the dashboard: decimal units
//! for image sizes and I/O (`522MB`), binary units for memory (`3.848MiB`), as go-units
//! prints them; Go durations (`1m30s`) as docker's flags take them.

/// `522MB`, `9.24kB`, `12B`: decimal units with three significant digits, as docker prints
/// image sizes and I/O (go-units' HumanSizeWithPrecision(size, 3)).
pub fn decimal_size(bytes: f64) -> String {
    scaled(
        bytes.max(0.0),
        1000.0,
        &["B", "kB", "MB", "GB", "TB", "PB"],
        3,
    )
}

/// `1.5MiB`, `3.848GiB`: binary units with four significant digits, as docker's stats prints
/// memory (go-units' BytesSize).
pub fn binary_size(bytes: u64) -> String {
    scaled(
        bytes as f64,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB"],
        4,
    )
}

/// `value` in the largest unit that keeps it at or above 1, with `digits` significant
/// digits and no trailing zeros (Go's `%.Ng`); a value that rounds up to `base` moves on to
/// the next unit (go-units would print `1e+03MB` there).
fn scaled(mut value: f64, base: f64, units: &[&str], digits: i32) -> String {
    let mut unit = 0;
    while value >= base && unit + 1 < units.len() {
        value /= base;
        unit += 1;
    }
    let mut text = significant(value, digits);
    if text.parse::<f64>().is_ok_and(|v| v >= base) && unit + 1 < units.len() {
        value /= base;
        unit += 1;
        text = significant(value, digits);
    }
    format!("{text}{}", units[unit])
}

/// `value` rounded to `digits` significant digits, trailing zeros dropped.
fn significant(value: f64, digits: i32) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    let exponent = value.abs().log10().floor() as i32;
    let decimals = (digits - 1 - exponent).max(0) as usize;
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// A Go duration (`30s`, `1m30s`, `500ms`, `1.5h`; units ns, us, µs, ms, s, m, h), as
/// docker's `--health-interval` takes it, in nanoseconds; `0` alone is zero.
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("invalid duration {text:?}: expected e.g. 30s, 1m30s or 500ms");
    if text == "0" {
        return Ok(0);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    if total > i64::MAX as f64 {
        return Err(bad());
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(decimal_size(12.0), "12B");
        assert_eq!(decimal_size(0.0), "0B");
        assert_eq!(decimal_size(-5.0), "0B");
        assert_eq!(decimal_size(1_500_000.0), "1.5MB");
        assert_eq!(decimal_size(9_240.0), "9.24kB");
        assert_eq!(decimal_size(999_960.0), "1MB");
        assert_eq!(decimal_size(189_400_000_000.0), "189GB");
        assert_eq!(binary_size(512), "512B");
        assert_eq!(binary_size(4_035_000), "3.848MiB");
        assert_eq!(binary_size(1 << 30), "1GiB");
    }
}
