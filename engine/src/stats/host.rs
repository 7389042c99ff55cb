//! The host's side of the stats: CPU time from /proc/stat and memory from /proc/meminfo,
//! read once per tick and shared by every container sampled in it (a container's CPU % is
//! measured against the host's CPU time) and by the host totals.

use super::StatsError;
use std::path::Path;

/// One reading of the host's /proc/stat and /proc/meminfo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostReading {
    /// When it was read, ns since the Unix epoch (0 from [`parse`]).
    pub read_at_ns: i64,
    /// CPU time of every CPU in user, nice, system, idle, iowait, irq and softirq, ns (the
    /// denominator of a container's CPU %, as docker sums it).
    pub system_cpu_ns: u64,
    /// The part of `system_cpu_ns` spent idle or waiting for I/O.
    pub idle_cpu_ns: u64,
    /// CPUs online (the `cpuN` lines of /proc/stat).
    pub online_cpus: u32,
    pub memory_total_bytes: u64,
    /// MemAvailable (kernels before 3.14 lack it: MemFree + Buffers + Cached then).
    pub memory_available_bytes: u64,
}

impl HostReading {
    pub fn memory_used_bytes(&self) -> u64 {
        self.memory_total_bytes
            .saturating_sub(self.memory_available_bytes)
    }
}

/// Clock ticks per second (USER_HZ) of /proc/stat.
fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

/// The `cpu` line of a /proc/stat text (proc(5)): (all ticks, idle + iowait ticks) over
/// the first seven states, and the number of `cpuN` lines. `None` if there is no usable
/// `cpu` line.
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64, u32)> {
    let cpu = text.lines().find_map(|l| l.strip_prefix("cpu "))?;
    let fields: Vec<u64> = cpu
        .split_whitespace()
        .take(7)
        .map(|f| f.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    if fields.len() < 7 {
        return None;
    }
    let online = text
        .lines()
        .filter(|l| {
            l.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count() as u32;
    Some((fields.iter().sum(), fields[3] + fields[4], online.max(1)))
}

/// (MemTotal, MemAvailable) of a /proc/meminfo text, in bytes.
pub fn parse_meminfo(text: &str) -> Option<(u64, u64)> {
    let kib = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|v| v * 1024)
    };
    let total = kib("MemTotal")?;
    let available = kib("MemAvailable").unwrap_or_else(|| {
        ["MemFree", "Buffers", "Cached"]
            .iter()
            .filter_map(|k| kib(k))
            .sum()
    });
    Some((total, available.min(total)))
}

/// A reading from the two texts.
pub fn parse(proc_stat: &str, meminfo: &str) -> Result<HostReading, &'static str> {
    let (ticks, idle, online_cpus) =
        parse_proc_stat(proc_stat).ok_or("no cpu line with seven numbers in /proc/stat")?;
    let (memory_total_bytes, memory_available_bytes) =
        parse_meminfo(meminfo).ok_or("no MemTotal line in kB in /proc/meminfo")?;
    let ns = 1_000_000_000 / ticks_per_second();
    Ok(HostReading {
        read_at_ns: 0,
        system_cpu_ns: ticks * ns,
        idle_cpu_ns: idle * ns,
        online_cpus,
        memory_total_bytes,
        memory_available_bytes,
    })
}

/// Reads `<proc_root>/stat` and `<proc_root>/meminfo`.
pub fn read(proc_root: &Path) -> Result<HostReading, StatsError> {
    let read = |name: &str| {
        let path = proc_root.join(name);
        std::fs::read_to_string(&path).map_err(|source| StatsError::Io { path, source })
    };
    let (stat, meminfo) = (read("stat")?, read("meminfo")?);
    let mut reading = parse(&stat, &meminfo).map_err(|detail| StatsError::Parse {
        path: proc_root.to_path_buf(),
        detail: detail.into(),
    })?;
    reading.read_at_ns = super::now_ns();
    Ok(reading)
}

/// The host's CPU use between two readings, in percent of all its CPUs (0–100); 0 without
/// a positive delta.
pub fn cpu_percent(prev: &HostReading, cur: &HostReading) -> f64 {
    let total = cur.system_cpu_ns.saturating_sub(prev.system_cpu_ns);
    let idle = cur.idle_cpu_ns.saturating_sub(prev.idle_cpu_ns);
    if total == 0 {
        return 0.0;
    }
    (total.saturating_sub(idle)) as f64 / total as f64 * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT_1: &str = "cpu  400 100 300 1000 50 0 150 999 0 0\n\
                          cpu0 200 50 150 500 25 0 75 0 0 0\n\
                          cpu1 200 50 150 500 25 0 75 0 0 0\n\
                          intr 12345\nctxt 99\n";
    // 1000 more ticks: 250 user, 600 idle, 150 iowait.
    const STAT_2: &str = "cpu  650 100 300 1600 200 0 150 999 0 0\n\
                          cpu0 1 1 1 1 1 0 0 0 0 0\ncpu1 1 1 1 1 1 0 0 0 0 0\n";
    const MEMINFO: &str = "MemTotal:        8000000 kB\nMemFree:          500000 kB\n\
                           MemAvailable:    6000000 kB\nBuffers:          100000 kB\n\
                           Cached:          2000000 kB\n";

    #[test]
    fn proc_stat_gives_all_and_idle_ticks_and_the_cpus() {
        // 400+100+300+1000+50+0+150 (steal and guests are not counted); idle+iowait.
        assert_eq!(parse_proc_stat(STAT_1), Some((2000, 1050, 2)));
        assert_eq!(parse_proc_stat("cpu 1 2 3\n"), None);
        assert_eq!(parse_proc_stat("cpu0 1 2 3 4 5 6 7\n"), None);
        assert_eq!(parse_proc_stat("cpu  1 2 x 4 5 6 7\n"), None);
    }

    #[test]
    fn meminfo_gives_total_and_available() {
        assert_eq!(
            parse_meminfo(MEMINFO),
            Some((8_000_000 * 1024, 6_000_000 * 1024))
        );
        // No MemAvailable (kernels before 3.14): free + buffers + cached.
        let old = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n";
        assert_eq!(parse_meminfo(old), Some((1000 * 1024, 420 * 1024)));
        assert_eq!(parse_meminfo("MemFree: 1 kB\n"), None);
        // A MemTotalX line is not MemTotal.
        assert_eq!(parse_meminfo("MemTotalX: 5 kB\n"), None);
    }

    #[test]
    fn host_cpu_percent_is_the_busy_share_of_all_cpus() {
        let a = parse(STAT_1, MEMINFO).unwrap();
        let b = parse(STAT_2, MEMINFO).unwrap();
        // 1000 ticks, of which 750 idle or iowait: 25 % busy.
        let p = cpu_percent(&a, &b);
        assert!((p - 25.0).abs() < 1e-9, "{p}");
        assert_eq!(cpu_percent(&a, &a), 0.0);
        assert_eq!(
            cpu_percent(&b, &a),
            0.0,
            "a counter going back is not negative"
        );
        assert_eq!(a.memory_used_bytes(), 2_000_000 * 1024);
        assert_eq!(a.online_cpus, 2);
        assert!(parse("nothing", MEMINFO).is_err());
        assert!(parse(STAT_1, "").is_err());
    }

    #[test]
    fn reads_the_files_under_a_proc_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stat"), STAT_1).unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("meminfo"), "{err}");
        std::fs::write(dir.path().join("meminfo"), MEMINFO).unwrap();
        let r = read(dir.path()).unwrap();
        assert_eq!(r.memory_total_bytes, 8_000_000 * 1024);
        assert_eq!(r.system_cpu_ns, 2000 * (1_000_000_000 / ticks_per_second()));
    }
}
