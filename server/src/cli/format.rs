//! How the CLI prints things: tables, sizes, ages and container statuses, as docker does.

use berth_wire::container::health::HealthStatus;
use berth_wire::container::{ContainerState, ContainerSummary};

/// Columns padded to the widest cell plus three spaces, as docker's tables.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let header_cells: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header_cells).chain(rows.iter()) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count() + 3;
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub use berth_wire::units::binary_size;

/// `522MB`, `9.24kB`, `12B`: docker's image sizes and I/O (see [`berth_wire::units`]).
pub fn size(bytes: i64) -> String {
    berth_wire::units::decimal_size(bytes.max(0) as f64)
}

pub use berth_wire::units::parse_go_duration;

/// `5 seconds`, `About a minute`, `3 hours` … as docker's human durations.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s < 120 => "About a minute".into(),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 7200 => "About an hour".into(),
        s if s < 48 * 3600 => format!("{} hours", s / 3600),
        // Then days, weeks, months and years, as docker's (go-units) HumanDuration.
        s if s < 14 * 86400 => format!("{} days", s / 86400),
        s if s < 60 * 86400 => format!("{} weeks", s / (7 * 86400)),
        s if s < 730 * 86400 => format!("{} months", s / (30 * 86400)),
        s => format!("{} years", s / (365 * 86400)),
    }
}

/// The 12 hex characters docker shows of an id (`sha256:` dropped).
pub fn short_id(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// An id as lists show it: whole with `--no-trunc`, else its first 12 hex characters.
pub fn list_id(id: &str, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        short_id(id)
    }
}

/// `2 hours ago` from unix milliseconds.
pub fn ago_ms(ms: i64) -> String {
    format!("{} ago", duration(now_ms() - ms))
}

/// When something valid until `ms` ends: `in 3 days`, `expired`, or `never` without an end.
pub fn expires_ms(ms: Option<i64>, now: i64) -> String {
    match ms {
        None => "never".to_string(),
        Some(ms) if ms <= now => "expired".to_string(),
        Some(ms) => format!("in {}", duration(ms - now).to_lowercase()),
    }
}

/// `2 hours ago` from an RFC 3339 time, or the text itself when it cannot be read.
pub fn age(created: &str) -> String {
    match rfc3339_ms(created) {
        Some(ms) => format!("{} ago", duration(now_ms() - ms)),
        None => created.to_string(),
    }
}

/// `2026-11-28 23:46:11 +0000 UTC`, as docker's `CreatedAt` fields print a time.
pub fn timestamp(ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs((ms / 1000).max(0) as u64);
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace('T', " ")
        .replace('Z', " +0000 UTC")
}

/// Unix milliseconds of an RFC 3339 time.
pub fn rfc3339_ms(text: &str) -> Option<i64> {
    let time = humantime::parse_rfc3339_weak(text).ok()?;
    let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(since.as_millis() as i64)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `Up 5 seconds`, `Exited (3) 2 minutes ago`, `Created`.
pub fn status(c: &ContainerSummary, now: i64) -> String {
    match c.state {
        ContainerState::Created => "Created".into(),
        ContainerState::Running => {
            let up = format!("Up {}", duration(now - c.started_at_ms.unwrap_or(now)));
            // docker's words for a running container's health.
            match c.health {
                None => up,
                Some(HealthStatus::Starting) => format!("{up} (health: starting)"),
                Some(HealthStatus::Healthy) => format!("{up} (healthy)"),
                Some(HealthStatus::Unhealthy) => format!("{up} (unhealthy)"),
            }
        }
        ContainerState::Paused => {
            format!(
                "Up {} (Paused)",
                duration(now - c.started_at_ms.unwrap_or(now))
            )
        }
        // Waiting out its restart policy's back-off, as docker words it.
        ContainerState::Exited if c.restarting => format!(
            "Restarting ({}) {} ago",
            c.exit_code.unwrap_or(0),
            duration(now - c.finished_at_ms.unwrap_or(now))
        ),
        ContainerState::Exited => format!(
            "Exited ({}) {} ago",
            c.exit_code.unwrap_or(0),
            duration(now - c.finished_at_ms.unwrap_or(now))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns() {
        let out = table(&["A", "BB"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(out, "A     BB\nxyz   1\n");
    }

    #[test]
    fn expiries_read_as_the_future() {
        assert_eq!(expires_ms(None, 0), "never");
        assert_eq!(expires_ms(Some(5), 10), "expired");
        assert_eq!(expires_ms(Some(3 * 86_400_000), 0), "in 3 days");
        assert_eq!(expires_ms(Some(90_000), 0), "in about a minute");
    }

    #[test]
    fn sizes_and_durations_read_like_docker() {
        assert_eq!(parse_go_duration("30s"), Ok(30_000_000_000));
        assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("500ms"), Ok(500_000_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        for bad in ["", "30", "s", "5x", "1m-3s"] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(size(12), "12B");
        assert_eq!(size(0), "0B");
        assert_eq!(size(1_500_000), "1.5MB");
        assert_eq!(size(2_000_000), "2MB");
        assert_eq!(size(522_123_456), "522MB");
        assert_eq!(size(9_240), "9.24kB");
        assert_eq!(size(77_940_000), "77.9MB");
        assert_eq!(size(999_700_000), "1GB");
        assert_eq!(size(189_400_000_000), "189GB");
        assert_eq!(binary_size(512), "512B");
        assert_eq!(binary_size(1536), "1.5KiB");
        assert_eq!(binary_size(32 << 20), "32MiB");
        assert_eq!(binary_size(4_035_000), "3.848MiB");
        assert_eq!(binary_size(3 << 30), "3GiB");
        assert_eq!(duration(5_000), "5 seconds");
        assert_eq!(duration(90_000), "About a minute");
        assert_eq!(duration(3 * 3600 * 1000), "3 hours");
        assert_eq!(duration(3 * 86_400_000), "3 days");
        assert_eq!(duration(21 * 86_400_000), "3 weeks");
        assert_eq!(duration(90 * 86_400_000), "3 months");
        assert_eq!(duration(800 * 86_400_000), "2 years");
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            timestamp(1_700_000_000_999),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(
            rfc3339_ms("2023-11-14T22:13:20.5Z"),
            Some(1_700_000_000_500)
        );
    }
}
