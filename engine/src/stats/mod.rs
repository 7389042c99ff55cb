//! A running container's resource usage, read straight from its cgroup files (v1 or v2) and
//! from `/proc/<pid>/net/dev` of its network namespace: one [`Sample`] per call, CPU % from
//! two of them ([`cpu_percent`]). No helper process; a sample is a handful of small reads.
//!
//! [`StatsHub`] (hub.rs) samples the containers somebody watches once a second, whatever the
//! number of viewers, and every running container every 10 s in one pass, keeping the last
//! hour of each ([`history`]) and of the host ([`host`]).

mod files;
pub mod history;
pub mod host;
mod hub;
mod parse;

pub use history::History;
pub use host::HostReading;
pub use hub::{
    HostSubscription, HubConfig, Polled, StatsHub, StatsSource, StatsSubscription, Target,
};

use crate::runtime::cgroup::{Cgroup, CgroupError, CGROUP_ROOT};
pub use berth_wire::stats::{HostPoint, StatsPoint};
use files::{Budget, KeptFiles};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub use berth_wire::stats::Sample;

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error("failed to read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("unexpected contents in {}: {detail}", path.display())]
    Parse { path: PathBuf, detail: String },
    #[error("the {0} controller is not mounted for this cgroup")]
    NoController(&'static str),
}

/// Samples the container whose cgroup is `cgroup_path` (relative to the hierarchy roots,
/// as `ContainerSpec::cgroup_path`) and whose init has host pid `pid`.
pub fn sample(cgroup_path: &str, pid: i32) -> Result<Sample, StatsError> {
    Sampler::open(Path::new(CGROUP_ROOT), Path::new("/proc"), cgroup_path)?.sample(pid)
}

/// A process's resident set (`VmRSS` of /proc/PID/status), or `None` if it is gone.
pub fn resident_bytes(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse::vm_rss_bytes(&status)
}

/// CPU use between two samples of one container, in percent of one CPU (so up to
/// `online_cpus` × 100), as docker computes it: Δcontainer / Δhost × CPUs × 100; 0 when
/// either delta is not positive (first sample, counter reset, same instant).
pub fn cpu_percent(prev: &Sample, cur: &Sample) -> f64 {
    let container = cur.cpu_usage_ns.saturating_sub(prev.cpu_usage_ns);
    let system = cur.system_cpu_ns.saturating_sub(prev.system_cpu_ns);
    if container == 0 || system == 0 {
        return 0.0;
    }
    container as f64 / system as f64 * f64::from(cur.online_cpus.max(1)) * 100.0
}

/// Samples one container again and again: its cgroup is opened once, and the files it reads
/// stay open between samples while the process's descriptor budget allows (files.rs).
#[derive(Debug)]
pub struct Sampler {
    cgroup: Cgroup,
    proc_root: PathBuf,
    files: Mutex<KeptFiles>,
}

impl Sampler {
    /// Opens `cgroup_path` on the hierarchy mounted at `cgroup_root`; host files are read
    /// under `proc_root` (normally `/proc`).
    pub fn open(
        cgroup_root: &Path,
        proc_root: &Path,
        cgroup_path: &str,
    ) -> Result<Self, StatsError> {
        Ok(Self::new(
            Cgroup::open(cgroup_root, cgroup_path)?,
            proc_root,
        ))
    }

    /// A sampler of an already opened cgroup (the tests' temp-dir fixtures use this).
    pub fn new(cgroup: Cgroup, proc_root: &Path) -> Self {
        Self {
            cgroup,
            proc_root: proc_root.to_path_buf(),
            files: Mutex::new(KeptFiles::new(Budget::process())),
        }
    }

    /// Reads everything once. `pid` is the container's init on the host; its
    /// `net/dev` is the container's network namespace's (a sampler is for one pid: a kept
    /// `net/dev` of an exited init would read its dead namespace's counters).
    pub fn sample(&self, pid: i32) -> Result<Sample, StatsError> {
        self.sample_with_host(pid, &host::read(&self.proc_root)?)
    }

    /// [`Sampler::sample`] with the host's files already read (once for a whole pass).
    pub fn sample_with_host(&self, pid: i32, host: &HostReading) -> Result<Sample, StatsError> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = match &self.cgroup {
            Cgroup::V1(v1) => parse::v1(&mut files, v1)?,
            Cgroup::V2(v2) => parse::v2(&mut files, &v2.dir())?,
        };
        s.read_at_ns = now_ns();
        s.system_cpu_ns = host.system_cpu_ns;
        s.online_cpus = host.online_cpus;
        if s.memory_limit_bytes == 0 || s.memory_limit_bytes > host.memory_total_bytes {
            s.memory_limit_bytes = host.memory_total_bytes;
        }
        let net_dev = self.proc_root.join(pid.to_string()).join("net/dev");
        let (rx, tx) = parse::net_dev(&mut files, &net_dev)?;
        s.net_rx_bytes = rx;
        s.net_tx_bytes = tx;
        Ok(s)
    }
}

/// The wall clock, ns since the Unix epoch.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Working set in percent of the limit (0 without a limit).
pub fn memory_percent(s: &Sample) -> f64 {
    if s.memory_limit_bytes > 0 {
        s.memory_working_set_bytes as f64 / s.memory_limit_bytes as f64 * 100.0
    } else {
        0.0
    }
}

/// The wire form of `cur`, its CPU % measured from `prev` (0 without one).
pub fn to_point(prev: Option<&Sample>, cur: &Sample) -> StatsPoint {
    StatsPoint {
        time_ms: cur.read_at_ns / 1_000_000,
        cpu_percent: prev.map_or(0.0, |p| cpu_percent(p, cur)),
        memory_bytes: cur.memory_working_set_bytes,
        memory_limit_bytes: cur.memory_limit_bytes,
        memory_percent: memory_percent(cur),
        net_rx_bytes: cur.net_rx_bytes,
        net_tx_bytes: cur.net_tx_bytes,
        block_read_bytes: cur.block_read_bytes,
        block_write_bytes: cur.block_write_bytes,
        pids: cur.pids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_carries_the_sample_and_the_cpu_since_the_previous() {
        let prev = at(1_000, 10_000, 2);
        let cur = Sample {
            read_at_ns: 1_500_000_000_123,
            memory_working_set_bytes: 25,
            memory_limit_bytes: 100,
            pids: 4,
            block_read_bytes: 7,
            net_tx_bytes: 9,
            ..at(6_000, 20_000, 2)
        };
        let p = to_point(Some(&prev), &cur);
        assert_eq!(p.time_ms, 1_500_000);
        assert!((p.cpu_percent - 100.0).abs() < 1e-9);
        assert_eq!((p.memory_bytes, p.memory_limit_bytes), (25, 100));
        assert!((p.memory_percent - 25.0).abs() < 1e-9);
        assert_eq!((p.pids, p.block_read_bytes, p.net_tx_bytes), (4, 7, 9));
        assert_eq!(to_point(None, &cur).cpu_percent, 0.0);
    }

    fn at(cpu: u64, system: u64, cpus: u32) -> Sample {
        Sample {
            cpu_usage_ns: cpu,
            system_cpu_ns: system,
            online_cpus: cpus,
            ..Default::default()
        }
    }

    #[test]
    fn cpu_percent_is_the_share_of_all_cpus_times_cpus() {
        // Half of the host's CPU time on a 2-CPU host: one whole CPU.
        let p = cpu_percent(&at(1_000, 10_000, 2), &at(6_000, 20_000, 2));
        assert!((p - 100.0).abs() < 1e-9, "{p}");
        let p = cpu_percent(&at(0, 0, 4), &at(1_000, 40_000, 4));
        assert!((p - 10.0).abs() < 1e-9, "{p}");
    }

    #[test]
    fn cpu_percent_is_zero_without_positive_deltas() {
        assert_eq!(cpu_percent(&at(5, 10, 2), &at(5, 20, 2)), 0.0);
        assert_eq!(cpu_percent(&at(5, 10, 2), &at(9, 10, 2)), 0.0);
        // A counter that went backwards (new cgroup) is not a negative percentage.
        assert_eq!(cpu_percent(&at(50, 10, 2), &at(5, 20, 2)), 0.0);
    }
}
