//! Resource usage as the stats stream and the history endpoints send it: one
//! [`StatsPoint`] per reading of a container, one [`HostPoint`] per reading of the host.
//! Sizes are bytes, times milliseconds since the Unix epoch; counters (network, block I/O)
//! are totals since the container started, so a client draws rates from two points.
//! [`Sample`] is one raw reading and [`ContainerStats`] what `GET /containers/{id}/stats` answers.

use serde::{Deserialize, Serialize};

/// One reading of one container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsPoint {
    /// When it was read, ms since the Unix epoch.
    pub time_ms: i64,
    /// CPU use since the previous reading, in percent of one CPU (docker's scale: up to
    /// 100 × the host's CPUs). In a 10 s history point, the mean of its readings.
    pub cpu_percent: f64,
    /// The working set: memory charged to the container minus the file cache the kernel can
    /// drop at once (what docker shows as used).
    pub memory_bytes: u64,
    /// The container's memory limit; the host's memory when it has none.
    pub memory_limit_bytes: u64,
    /// `memory_bytes` in percent of `memory_limit_bytes`.
    pub memory_percent: f64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
    /// Processes and threads in the container.
    pub pids: u64,
}

/// One reading of the host and of its containers together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostPoint {
    /// When it was read, ms since the Unix epoch.
    pub time_ms: i64,
    /// The host's CPU use since the previous reading, in percent of all its CPUs (0–100,
    /// unlike a container's). In a 10 s history point, the mean of its readings.
    pub cpu_percent: f64,
    /// CPUs online, to turn `containers_cpu_percent` into the host's scale.
    #[serde(default)]
    pub online_cpus: u32,
    /// MemTotal − MemAvailable of /proc/meminfo.
    pub memory_used_bytes: u64,
    pub memory_total_bytes: u64,
    /// Containers running (or paused).
    pub containers_running: u32,
    /// The sum of the running containers' latest `cpu_percent` (percent of one CPU).
    #[serde(default)]
    pub containers_cpu_percent: f64,
    /// The sum of the running containers' latest `memory_bytes`.
    #[serde(default)]
    pub containers_memory_bytes: u64,
}

/// One reading of a container's usage. Units are normalised here, once: time in
/// nanoseconds, sizes in bytes; counters (CPU, block I/O, network) only grow while the
/// container runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sample {
    /// When it was taken, in nanoseconds since the Unix epoch (for rates between samples).
    pub read_at_ns: i64,
    /// CPU time used by the container's processes, ns (v1 `cpuacct.usage`; v2 `cpu.stat`
    /// `usage_usec` × 1000).
    pub cpu_usage_ns: u64,
    /// CPU time of the whole host, every CPU and every state (idle too), ns, from the `cpu`
    /// line of /proc/stat: the denominator of CPU %.
    pub system_cpu_ns: u64,
    /// CPUs online on the host (the `cpuN` lines of /proc/stat).
    pub online_cpus: u32,
    /// Memory charged to the cgroup, page cache included, bytes (v1 `memory.usage_in_bytes`,
    /// v2 `memory.current`).
    pub memory_usage_bytes: u64,
    /// `memory_usage_bytes` minus the inactive file cache the kernel can drop at once (v1
    /// `total_inactive_file`, v2 `inactive_file` of memory.stat): what docker shows as used.
    pub memory_working_set_bytes: u64,
    /// The memory limit, bytes; the host's total memory when the container has no (or a
    /// larger) limit.
    pub memory_limit_bytes: u64,
    /// Tasks (processes and threads) in the cgroup.
    pub pids: u64,
    /// Bytes read from block devices (v1 `blkio.throttle.io_service_bytes` Read, v2 io.stat
    /// `rbytes`), summed over devices.
    pub block_read_bytes: u64,
    /// Bytes written to block devices (Write / `wbytes`), summed over devices.
    pub block_write_bytes: u64,
    /// Bytes received on the container's interfaces except `lo`.
    pub net_rx_bytes: u64,
    /// Bytes sent on the container's interfaces except `lo`.
    pub net_tx_bytes: u64,
}

/// One container's usage as `stats` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContainerStats {
    pub id: String,
    pub name: String,
    /// CPU use in percent of one CPU since the previous sample.
    pub cpu_percent: f64,
    /// Working set in percent of the limit.
    pub memory_percent: f64,
    /// Resident memory of the container's shim (its monitor process), outside the container's
    /// cgroup: what each running container costs the host beyond its own processes.
    #[serde(default)]
    pub shim_rss_bytes: Option<u64>,
    #[serde(flatten)]
    pub sample: Sample,
}

/// `GET /api/v1/stats`'s query: which containers (default: every running one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct StatsQuery {
    /// Container names or ids, comma-separated; each must exist and run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<String>,
}

impl StatsQuery {
    /// The containers asked for, or `None` for every running one.
    pub fn keys(&self) -> Option<Vec<String>> {
        self.containers.as_ref().map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_with_their_field_names() {
        let p = StatsPoint {
            time_ms: 1_700_000_000_000,
            cpu_percent: 12.5,
            memory_bytes: 1 << 20,
            memory_limit_bytes: 1 << 30,
            memory_percent: 0.1,
            pids: 3,
            ..Default::default()
        };
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json["time_ms"], 1_700_000_000_000i64);
        assert_eq!(json["memory_bytes"], 1 << 20);
        assert_eq!(serde_json::from_value::<StatsPoint>(json).unwrap(), p);
        let h = HostPoint {
            time_ms: 1,
            cpu_percent: 50.0,
            online_cpus: 4,
            memory_used_bytes: 2,
            memory_total_bytes: 8,
            containers_running: 3,
            containers_cpu_percent: 150.0,
            containers_memory_bytes: 1,
        };
        let back: HostPoint = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
    }
}
