//! Checks a container's [`Resources`] and converts them, once, into the values the v1 and v2
//! control files take; `v1.rs` and `v2.rs` only write them.

use super::CgroupError;
use crate::runtime::spec::Resources;

/// Docker refuses memory limits below 6 MiB ("minimum memory limit allowed is 6MB"): less
/// cannot even start most processes.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// The CFS bandwidth bounds, in µs: the kernel rejects a quota or a period below 1 ms and a
/// period above 1 s with EINVAL (Documentation/scheduler/sched-bwc.rst, "Management").
pub const MIN_CPU_QUOTA_US: i64 = 1_000;
pub const MIN_CPU_PERIOD_US: u64 = 1_000;
pub const MAX_CPU_PERIOD_US: u64 = 1_000_000;
/// The period the kernel (and docker for `--cpus`) uses when none is given.
pub const DEFAULT_CPU_PERIOD_US: u64 = 100_000;

/// The range of v1 `cpu.shares`; the kernel clamps other values into it (MIN_SHARES,
/// MAX_SHARES in kernel/sched), and so does berth, so that v1 and v2 agree.
pub const MIN_CPU_SHARES: u64 = 2;
pub const MAX_CPU_SHARES: u64 = 262_144;

/// Memory plus swap, as `--memory-swap` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Swap {
    /// `-1`: swap is not limited.
    Unlimited,
    /// Memory plus swap, in bytes (at least the memory limit).
    Total(u64),
}

/// Limits that passed validation, in the kernel's units; `None` = leave the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Bytes.
    pub memory: Option<u64>,
    /// Only with `memory` set.
    pub swap: Option<Swap>,
    /// µs of CPU time per period.
    pub cpu_quota: Option<u64>,
    /// µs.
    pub cpu_period: Option<u64>,
    /// v1 shares, clamped to [`MIN_CPU_SHARES`]..=[`MAX_CPU_SHARES`].
    pub cpu_shares: Option<u64>,
    /// Maximum number of tasks.
    pub pids: Option<u64>,
}

impl Limits {
    /// Checks `r` as docker does and normalises it. Zero means "not set" for memory, swap,
    /// CPU quota and shares (docker's convention); zero or negative pids mean no limit.
    pub(crate) fn from_resources(r: &Resources) -> Result<Limits, CgroupError> {
        let bad = |m: String| Err(CgroupError::InvalidResources(m));
        let memory = match r.memory {
            None | Some(0) => None,
            Some(m) if m < 0 => return bad(format!("memory limit {m} is negative")),
            Some(m) if m < MIN_MEMORY => {
                return bad(format!(
                    "memory limit {m} bytes is below the minimum of 6 MiB ({MIN_MEMORY} bytes)"
                ))
            }
            Some(m) => Some(m as u64),
        };
        let swap = match r.memory_swap {
            None | Some(0) => None,
            Some(_) if memory.is_none() => {
                return bad("a memory+swap limit needs a memory limit too".into())
            }
            Some(-1) => Some(Swap::Unlimited),
            Some(s) if s < 0 => return bad(format!("memory+swap limit {s} is negative")),
            Some(s) if memory.is_some_and(|m| (s as u64) < m) => {
                return bad(format!(
                    "memory+swap limit {s} is smaller than the memory limit {}",
                    memory.unwrap_or(0)
                ))
            }
            Some(s) => Some(Swap::Total(s as u64)),
        };
        let cpu_quota = match r.cpu_quota {
            None | Some(0) => None,
            Some(q) if q < 0 => return bad(format!("cpu quota {q} µs is negative")),
            Some(q) if q < MIN_CPU_QUOTA_US => {
                return bad(format!(
                    "cpu quota {q} µs is below the kernel's minimum of {MIN_CPU_QUOTA_US} µs"
                ))
            }
            Some(q) => Some(q as u64),
        };
        let cpu_period = match r.cpu_period {
            None | Some(0) => None,
            Some(p) if !(MIN_CPU_PERIOD_US..=MAX_CPU_PERIOD_US).contains(&p) => {
                return bad(format!(
                    "cpu period {p} µs is outside {MIN_CPU_PERIOD_US}..={MAX_CPU_PERIOD_US} µs"
                ))
            }
            Some(p) => Some(p),
        };
        let cpu_shares = match r.cpu_shares {
            None | Some(0) => None,
            Some(s) => Some(s.clamp(MIN_CPU_SHARES, MAX_CPU_SHARES)),
        };
        let pids = match r.pids_limit {
            Some(p) if p > 0 => Some(p as u64),
            _ => None,
        };
        Ok(Limits {
            memory,
            swap,
            cpu_quota,
            cpu_period,
            cpu_shares,
            pids,
        })
    }

    /// v2 `memory.swap.max`: swap alone, i.e. memory+swap minus memory (cgroup-v2.rst,
    /// "memory.swap.max": a hard limit on swap usage, not on memory plus swap as v1's
    /// `memory.memsw.limit_in_bytes` is).
    pub(crate) fn v2_swap_max(&self) -> Option<String> {
        match (self.swap?, self.memory) {
            (Swap::Unlimited, _) => Some("max".into()),
            (Swap::Total(total), Some(mem)) => Some(total.saturating_sub(mem).to_string()),
            // Validation only lets swap through with a memory limit.
            (Swap::Total(total), None) => Some(total.to_string()),
        }
    }

    /// v2 `cpu.max`: "$MAX $PERIOD", `max` when only the period is set.
    pub(crate) fn v2_cpu_max(&self) -> Option<String> {
        if self.cpu_quota.is_none() && self.cpu_period.is_none() {
            return None;
        }
        let quota = self
            .cpu_quota
            .map_or_else(|| "max".to_string(), |q| q.to_string());
        let period = self.cpu_period.unwrap_or(DEFAULT_CPU_PERIOD_US);
        Some(format!("{quota} {period}"))
    }
}

/// v1 shares (2..=262144, default 1024) to v2 `cpu.weight` (1..=10000, default 100), the
/// linear map runc uses so both ends of the ranges meet: 1 + ((shares − 2) × 9999) / 262142.
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(MIN_CPU_SHARES, MAX_CPU_SHARES);
    1 + ((shares - 2) * 9999) / 262_142
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(r: Resources) -> Result<Limits, String> {
        Limits::from_resources(&r).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_resources_set_nothing() {
        assert_eq!(limits(Resources::default()).unwrap(), Limits::default());
        let zeros = Resources {
            memory: Some(0),
            memory_swap: Some(0),
            cpu_quota: Some(0),
            cpu_period: Some(0),
            cpu_shares: Some(0),
            pids_limit: Some(0),
            memory_swap_implicit: false,
        };
        assert_eq!(limits(zeros).unwrap(), Limits::default());
        let unlimited_pids = Resources {
            pids_limit: Some(-1),
            ..Default::default()
        };
        assert_eq!(limits(unlimited_pids).unwrap().pids, None);
    }

    #[test]
    fn memory_below_six_mib_or_negative_is_refused() {
        let err = limits(Resources {
            memory: Some(4 * 1024 * 1024),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("below the minimum of 6 MiB"), "{err}");
        assert!(limits(Resources {
            memory: Some(-5),
            ..Default::default()
        })
        .unwrap_err()
        .contains("negative"));
        let ok = limits(Resources {
            memory: Some(MIN_MEMORY),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.memory, Some(MIN_MEMORY as u64));
    }

    #[test]
    fn swap_needs_memory_and_must_cover_it() {
        let mib = 1024 * 1024;
        let err = limits(Resources {
            memory_swap: Some(64 * mib),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("needs a memory limit"), "{err}");
        let err = limits(Resources {
            memory: Some(64 * mib),
            memory_swap: Some(32 * mib),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("smaller than the memory limit"), "{err}");
        let l = limits(Resources {
            memory: Some(64 * mib),
            memory_swap: Some(96 * mib),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l.swap, Some(Swap::Total(96 * mib as u64)));
        assert_eq!(l.v2_swap_max().as_deref(), Some("33554432"));
        let l = limits(Resources {
            memory: Some(64 * mib),
            memory_swap: Some(-1),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l.v2_swap_max().as_deref(), Some("max"));
        let l = limits(Resources {
            memory: Some(64 * mib),
            memory_swap: Some(64 * mib),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l.v2_swap_max().as_deref(), Some("0"), "no swap at all");
    }

    #[test]
    fn cpu_quota_and_period_are_checked_and_formatted() {
        assert!(limits(Resources {
            cpu_quota: Some(-50_000),
            ..Default::default()
        })
        .unwrap_err()
        .contains("negative"));
        assert!(limits(Resources {
            cpu_quota: Some(999),
            ..Default::default()
        })
        .unwrap_err()
        .contains("minimum of 1000"));
        assert!(limits(Resources {
            cpu_period: Some(2_000_000),
            ..Default::default()
        })
        .is_err());
        let half = limits(Resources {
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(half.v2_cpu_max().as_deref(), Some("50000 100000"));
        let quota_only = limits(Resources {
            cpu_quota: Some(150_000),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(quota_only.v2_cpu_max().as_deref(), Some("150000 100000"));
        let period_only = limits(Resources {
            cpu_period: Some(50_000),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(period_only.v2_cpu_max().as_deref(), Some("max 50000"));
        assert_eq!(Limits::default().v2_cpu_max(), None);
    }

    #[test]
    fn shares_are_clamped_and_mapped_to_weights_like_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(512), 20);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1), 1);
        assert_eq!(shares_to_weight(10_000_000), 10_000);
        let l = limits(Resources {
            cpu_shares: Some(1),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l.cpu_shares, Some(2));
    }
}
