//! Pure text formatting for the pages: relative ages, UTC timestamps, log line clocks.

/// "5 seconds ago", "3 minutes ago", "2 days ago" for a moment `then_ms` seen at `now_ms`
/// (both Unix milliseconds). Moments in the future (clock skew) read as "just now".
pub fn humanize_age(now_ms: i64, then_ms: i64) -> String {
    let secs = now_ms.saturating_sub(then_ms) / 1000;
    if secs < 1 {
        return "just now".to_string();
    }
    let (n, unit) = match secs {
        s if s < 60 => (s, "second"),
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s if s < 30 * 86_400 => (s / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

/// `2026-11-27 21:11:12 UTC` for Unix milliseconds.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3_600,
        (rem % 3_600) / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`: eras of 400 years, March-based years so leap days come last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The wall-clock time of a log line, to the millisecond, UTC: `21:11:12.123`.
pub fn log_clock(ms: i64) -> String {
    let day_ms = ms.rem_euclid(86_400_000);
    let secs = day_ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3_600,
        (secs % 3_600) / 60,
        secs % 60,
        day_ms % 1000
    )
}

/// "3 hours", "5 minutes", "2 days" from `then_ms` to `now_ms`: how long something has run.
pub fn humanize_span(now_ms: i64, then_ms: i64) -> String {
    let age = humanize_age(now_ms, then_ms);
    match age.strip_suffix(" ago") {
        Some(span) => span.to_string(),
        None => "a moment".to_string(),
    }
}

/// Bytes in binary units, three significant figures: `512 B`, `1.50 KiB`, `23.4 MiB`, `1.07 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    format!("{text} {}", UNITS[unit])
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode_query(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_sizes_read_like_docker_desktops() {
        assert_eq!(humanize_span(3 * 3_600_000, 0), "3 hours");
        assert_eq!(humanize_span(500, 0), "a moment");
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.50 KiB");
        assert_eq!(format_bytes(23_400_000), "22.3 MiB");
        assert_eq!(format_bytes(1_150_000_000), "1.07 GiB");
        assert_eq!(format_bytes(u64::MAX), "16384 PiB");
    }

    #[test]
    fn ages_pick_the_largest_whole_unit() {
        assert_eq!(humanize_age(10_000, 10_000), "just now");
        assert_eq!(humanize_age(10_000, 20_000), "just now");
        assert_eq!(humanize_age(6_000, 1_000), "5 seconds ago");
        assert_eq!(humanize_age(61_000, 0), "1 minute ago");
        assert_eq!(humanize_age(3 * 3_600_000 + 5, 0), "3 hours ago");
        assert_eq!(humanize_age(86_400_000, 0), "1 day ago");
        assert_eq!(humanize_age(400 * 86_400_000, 0), "1 year ago");
    }

    #[test]
    fn utc_dates_match_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        // 2000-02-29, a leap day in a century year divisible by 400.
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_795_900_272_999), "2026-11-28 21:11:12 UTC");
        assert_eq!(format_utc(-1_000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn log_clocks_are_utc_to_the_millisecond() {
        assert_eq!(log_clock(1_795_900_272_123), "21:11:12.123");
        assert_eq!(log_clock(0), "00:00:00.000");
        assert_eq!(log_clock(-1), "23:59:59.999");
    }
}
