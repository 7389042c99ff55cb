//! Parsing of the human units users type: sizes (`32m`, `1.5g`), CPU counts (`0.5`), and
//! signal names (`SIGTERM`, `term`, `15`), with docker's meanings.

use crate::{Error, Result};
use nix::sys::signal::Signal;

/// A size in bytes from `512`, `512b`, `64k`, `32m`, `1.5g`, `1t` (binary multiples, as
/// docker's `RAMInBytes`).
pub fn parse_size(text: &str) -> Result<i64> {
    let invalid = || Error::InvalidInput(format!("invalid size: {text:?}"));
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').filter(|s| !s.is_empty()).unwrap_or(&t);
    let (number, multiplier) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        Some(c) if c.is_ascii_digit() => (t, 1),
        _ => return Err(invalid()),
    };
    let value: f64 = number.parse().map_err(|_| invalid())?;
    if !value.is_finite() || value < 0.0 {
        return Err(invalid());
    }
    let bytes = value * multiplier as f64;
    if bytes > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes as i64)
}

/// `--memory-swap`: a size, or `-1` for unlimited swap.
pub fn parse_swap(text: &str) -> Result<i64> {
    if text.trim() == "-1" {
        Ok(-1)
    } else {
        parse_size(text)
    }
}

/// `--cpus 0.5` → a CFS quota of 50 000 µs per 100 000 µs period.
pub fn cpus_to_quota(cpus: f64) -> Result<(i64, u64)> {
    const PERIOD: u64 = 100_000;
    if !cpus.is_finite() || cpus <= 0.0 {
        return Err(Error::InvalidInput(format!(
            "invalid value for --cpus: {cpus}: it must be a positive number"
        )));
    }
    let quota = (cpus * PERIOD as f64).round() as i64;
    // The kernel's minimum quota is 1 ms (Documentation/scheduler/sched-bwc.rst).
    if quota < 1_000 {
        return Err(Error::InvalidInput(format!(
            "invalid value for --cpus: {cpus}: the minimum is 0.01"
        )));
    }
    Ok((quota, PERIOD))
}

/// `KILL`, `SIGKILL` or `9`.
pub fn parse_signal(text: &str) -> Result<Signal> {
    let invalid = || Error::InvalidInput(format!("invalid signal: {text}"));
    if let Ok(number) = text.trim().parse::<i32>() {
        return Signal::try_from(number).map_err(|_| invalid());
    }
    let upper = text.trim().to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| invalid())
}

/// A point in time for `--since/--until`, as unix nanoseconds: RFC 3339 (`2026-11-27T10:00:00Z`),
/// unix seconds with an optional fraction (`1700000000.5`), or a duration before `now_ns`
/// (`10m`, `1h30m`), as docker accepts them.
pub fn parse_time(text: &str, now_ns: i64) -> Result<i64> {
    let text = text.trim();
    let invalid = || {
        Error::InvalidInput(format!(
            "invalid time {text:?}: use RFC 3339, unix seconds or a duration like 10m"
        ))
    };
    if let Ok(time) = humantime::parse_rfc3339_weak(text) {
        let ns = time
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| invalid())?
            .as_nanos();
        return i64::try_from(ns).map_err(|_| invalid());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        if (0.0..1e11).contains(&seconds) {
            return Ok((seconds * 1e9) as i64);
        }
        return Err(invalid());
    }
    let ago = humantime::parse_duration(text).map_err(|_| invalid())?;
    let ago = i64::try_from(ago.as_nanos()).map_err(|_| invalid())?;
    Ok(now_ns.saturating_sub(ago))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_unix_seconds_or_durations_ago() {
        let now = 1_800_000_000_000_000_000;
        assert_eq!(
            parse_time("1700000000", now).ok(),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_time("1700000000.5", now).ok(),
            Some(1_700_000_000_500_000_000)
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z", now).ok(),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(parse_time("10m", now).ok(), Some(now - 600_000_000_000));
        assert!(parse_time("yesterday-ish", now).is_err());
        assert!(parse_time("-5", now).is_err());
    }

    #[test]
    fn sizes_use_binary_multiples() {
        assert_eq!(parse_size("512").ok(), Some(512));
        assert_eq!(parse_size("512b").ok(), Some(512));
        assert_eq!(parse_size("64k").ok(), Some(64 << 10));
        assert_eq!(parse_size("32m").ok(), Some(32 << 20));
        assert_eq!(parse_size("32MB").ok(), Some(32 << 20));
        assert_eq!(parse_size("1.5g").ok(), Some(3 << 29));
        for bad in ["", "m", "-1m", "12q", "1e400"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_swap("-1").ok(), Some(-1));
    }

    #[test]
    fn cpus_become_a_quota_per_100ms() {
        assert_eq!(cpus_to_quota(0.5).ok(), Some((50_000, 100_000)));
        assert_eq!(cpus_to_quota(2.0).ok(), Some((200_000, 100_000)));
        assert!(cpus_to_quota(0.0).is_err());
        assert!(cpus_to_quota(-1.0).is_err());
        assert!(cpus_to_quota(0.001).is_err());
    }

    #[test]
    fn signals_parse_by_name_short_name_and_number() {
        assert_eq!(parse_signal("SIGTERM").ok(), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("hup").ok(), Some(Signal::SIGHUP));
        assert_eq!(parse_signal("9").ok(), Some(Signal::SIGKILL));
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}

/// Property tests: whatever the user types, a value or an error, never a panic.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    use crate::proptest_cases::config;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn sizes_never_panic(text in any::<String>(), unit in "[0-9.eE+-]{0,24}[bkmgtKMGTB]{0,2}") {
            let _ = parse_size(&text);
            let _ = parse_swap(&text);
            if let Ok(bytes) = parse_size(&unit) {
                prop_assert!(bytes >= 0);
            }
        }

        #[test]
        fn whole_sizes_are_exact(n in 0i64..(1 << 20), unit in 0usize..5) {
            let (suffix, shift) = [("", 0), ("k", 10), ("m", 20), ("g", 30), ("t", 40)][unit];
            prop_assert_eq!(parse_size(&format!("{n}{suffix}")).unwrap(), n << shift);
        }

        #[test]
        fn cpus_never_panic(cpus in any::<f64>()) {
            if let Ok((quota, period)) = cpus_to_quota(cpus) {
                prop_assert!(quota >= 1_000);
                prop_assert_eq!(period, 100_000);
            }
        }

        #[test]
        fn signals_never_panic(text in any::<String>(), number in any::<i32>()) {
            let _ = parse_signal(&text);
            if let Ok(signal) = parse_signal(&number.to_string()) {
                prop_assert_eq!(signal as i32, number);
                prop_assert_eq!(parse_signal(signal.as_str()).unwrap(), signal);
            }
        }

        #[test]
        fn times_never_panic(text in any::<String>(), duration in "[0-9]{1,22}(ns|us|ms|s|m|h|d|w|y)", now in any::<i64>()) {
            let _ = parse_time(&text, now);
            if let Ok(at) = parse_time(&duration, now) {
                prop_assert!(at <= now);
            }
        }
    }
}
