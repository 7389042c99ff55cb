//! Reading and parsing the files a [`super::Sample`] comes from: the cgroup's (v1 or v2) and
//! the host's /proc/stat, /proc/meminfo and the container's /proc/<pid>/net/dev.

use super::files::KeptFiles;
use super::{Sample, StatsError};
use crate::runtime::cgroup::CgroupV1;
use std::io;
use std::path::Path;

fn read(files: &mut KeptFiles, path: &Path) -> Result<String, StatsError> {
    files.read(path).map_err(|source| StatsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `VmRSS:     1368 kB` of a /proc/PID/status text, in bytes.
pub(crate) fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(kib * 1024)
}

/// Like [`read`], but a missing file (a controller without that file, e.g. no pids or blkio
/// accounting) reads as empty.
fn read_or_empty(files: &mut KeptFiles, path: &Path) -> Result<String, StatsError> {
    match files.read(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(StatsError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn number(path: &Path, text: &str) -> Result<u64, StatsError> {
    text.trim().parse().map_err(|_| StatsError::Parse {
        path: path.to_path_buf(),
        detail: format!("expected a number, found {:?}", text.trim()),
    })
}

/// A single-number file such as `memory.current`.
fn read_number(files: &mut KeptFiles, path: &Path) -> Result<u64, StatsError> {
    number(path, &read(files, path)?)
}

/// A limit file: a number, or `max` (v2) meaning none (0 here).
fn read_limit(files: &mut KeptFiles, path: &Path) -> Result<u64, StatsError> {
    let text = read(files, path)?;
    if text.trim() == "max" {
        return Ok(0);
    }
    number(path, &text)
}

/// The value of `key` in "key value" lines (memory.stat, cpu.stat).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Bytes received and sent over every interface but `lo`, from a `net/dev` file (proc(5)):
/// two header lines, then "name: rx_bytes rx_packets … (8 receive fields) tx_bytes …".
pub(super) fn net_dev(files: &mut KeptFiles, path: &Path) -> Result<(u64, u64), StatsError> {
    let text = read(files, path)?;
    let (mut rx, mut tx) = (0u64, 0u64);
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<&str> = counters.split_whitespace().collect();
        let (Some(r), Some(t)) = (fields.first(), fields.get(8)) else {
            return Err(StatsError::Parse {
                path: path.to_path_buf(),
                detail: format!("short line for {}", name.trim()),
            });
        };
        rx += number(path, r)?;
        tx += number(path, t)?;
    }
    Ok((rx, tx))
}

/// v1: cpuacct, memory, pids and blkio hierarchies (cgroup-v1/cpuacct.rst, memory.rst,
/// blkio-controller.rst).
pub(super) fn v1(files: &mut KeptFiles, cg: &CgroupV1) -> Result<Sample, StatsError> {
    let dir = |c: &'static str| cg.controller_dir(c).ok_or(StatsError::NoController(c));
    let cpuacct = dir("cpuacct")?;
    let memory = dir("memory")?;
    let usage = read_number(files, &memory.join("memory.usage_in_bytes"))?;
    let stat = read(files, &memory.join("memory.stat"))?;
    let inactive = keyed(&stat, "total_inactive_file").unwrap_or(0);
    let pids = match cg.controller_dir("pids") {
        Some(p) => read_or_empty(files, &p.join("pids.current"))?,
        None => String::new(),
    };
    let (block_read_bytes, block_write_bytes) = match cg.controller_dir("blkio") {
        Some(b) => blkio_service_bytes(&read_or_empty(
            files,
            &b.join("blkio.throttle.io_service_bytes"),
        )?),
        None => (0, 0),
    };
    Ok(Sample {
        // cpuacct.usage: ns already.
        cpu_usage_ns: read_number(files, &cpuacct.join("cpuacct.usage"))?,
        memory_usage_bytes: usage,
        memory_working_set_bytes: usage.saturating_sub(inactive),
        // Unlimited reads as PAGE_COUNTER_MAX pages in bytes; capped to the host later.
        memory_limit_bytes: read_limit(files, &memory.join("memory.limit_in_bytes"))?,
        pids: pids.trim().parse().unwrap_or(0),
        block_read_bytes,
        block_write_bytes,
        ..Default::default()
    })
}

/// v1 blkio "MAJ:MIN Read N" / "MAJ:MIN Write N" lines (and a "Total N" line), summed.
fn blkio_service_bytes(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0, 0);
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(_dev), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let value: u64 = value.parse().unwrap_or(0);
        match op {
            "Read" => read += value,
            "Write" => write += value,
            _ => {}
        }
    }
    (read, write)
}

/// v2: the one directory (cgroup-v2.rst: cpu.stat, memory.current, memory.stat, memory.max,
/// pids.current, io.stat).
pub(super) fn v2(files: &mut KeptFiles, dir: &Path) -> Result<Sample, StatsError> {
    let cpu_path = dir.join("cpu.stat");
    let cpu = read(files, &cpu_path)?;
    let usage_usec = keyed(&cpu, "usage_usec").ok_or_else(|| StatsError::Parse {
        path: cpu_path.clone(),
        detail: "no usage_usec".into(),
    })?;
    let usage = read_number(files, &dir.join("memory.current"))?;
    let stat = read(files, &dir.join("memory.stat"))?;
    let inactive = keyed(&stat, "inactive_file").unwrap_or(0);
    let pids = read_or_empty(files, &dir.join("pids.current"))?;
    let (block_read_bytes, block_write_bytes) =
        io_stat(&read_or_empty(files, &dir.join("io.stat"))?);
    Ok(Sample {
        // usage_usec is µs.
        cpu_usage_ns: usage_usec * 1000,
        memory_usage_bytes: usage,
        memory_working_set_bytes: usage.saturating_sub(inactive),
        memory_limit_bytes: read_limit(files, &dir.join("memory.max"))?,
        pids: pids.trim().parse().unwrap_or(0),
        block_read_bytes,
        block_write_bytes,
        ..Default::default()
    })
}

/// v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N …" per device, summed.
fn io_stat(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0, 0);
    for field in text.split_whitespace() {
        if let Some(v) = field.strip_prefix("rbytes=") {
            read += v.parse::<u64>().unwrap_or(0);
        } else if let Some(v) = field.strip_prefix("wbytes=") {
            write += v.parse::<u64>().unwrap_or(0);
        }
    }
    (read, write)
}

#[cfg(test)]
mod tests {
    use super::super::files::Budget;
    use super::super::Sampler;
    use super::*;
    use crate::runtime::cgroup::{Cgroup, CgroupV2};
    use std::fs;

    const PROC_STAT: &str = "cpu  400 100 300 1000 50 0 150 999 0 0\n\
                             cpu0 200 50 150 500 25 0 75 0 0 0\n\
                             cpu1 200 50 150 500 25 0 75 0 0 0\n\
                             intr 12345\nctxt 99\ncpus_allowed 3\n";
    const NET_DEV: &str = "Inter-|   Receive    |  Transmit\n face |bytes packets|bytes\n\
            lo: 5000 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0\n\
          eth0: 1200 3 0 0 0 0 0 0 340 2 0 0 0 0 0 0\n\
          eth1:   30 1 0 0 0 0 0 0   4 1 0 0 0 0 0 0\n";

    /// A fake /proc with the host files and the container's (pid 77) net/dev.
    fn fake_proc() -> tempfile::TempDir {
        let p = tempfile::tempdir().unwrap();
        fs::write(p.path().join("stat"), PROC_STAT).unwrap();
        fs::write(
            p.path().join("meminfo"),
            "MemTotal:        2048000 kB\nMemFree: 1 kB\n",
        )
        .unwrap();
        fs::create_dir_all(p.path().join("77/net")).unwrap();
        fs::write(p.path().join("77/net/dev"), NET_DEV).unwrap();
        p
    }

    fn ticks_ns(ticks: u64) -> u64 {
        // SAFETY: sysconf has no memory effects.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        ticks * (1_000_000_000 / hz)
    }

    #[test]
    fn resident_memory_is_read_from_proc_status() {
        let status = "Name:\tberth-shim\nVmPeak:\t  2000 kB\nVmRSS:\t    1368 kB\nThreads:\t1\n";
        assert_eq!(vm_rss_bytes(status), Some(1368 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tkthreadd\n"), None);
        assert_eq!(vm_rss_bytes("VmRSS:\t12 MB\n"), None);
    }

    #[test]
    fn proc_stat_sums_seven_states_and_counts_cpus() {
        let host = super::super::host::parse(PROC_STAT, "MemTotal: 1 kB\n").unwrap();
        // user nice system idle iowait irq softirq; steal (999) is not host time here.
        assert_eq!(
            host.system_cpu_ns,
            ticks_ns(400 + 100 + 300 + 1000 + 50 + 150)
        );
        assert_eq!(host.online_cpus, 2, "cpus_allowed is not a cpu line");
        let err = super::super::host::read(Path::new("/nonexistent/p")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/p/stat"), "{err}");
    }

    #[test]
    fn net_dev_sums_all_but_loopback() {
        let p = fake_proc();
        let mut files = KeptFiles::new(Budget::process());
        assert_eq!(
            net_dev(&mut files, &p.path().join("77/net/dev")).unwrap(),
            (1230, 344)
        );
        let err = net_dev(&mut files, &p.path().join("78/net/dev")).unwrap_err();
        assert!(err.to_string().contains("78/net/dev"), "{err}");
    }

    #[test]
    fn v1_fixture_sample() {
        let proc = fake_proc();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for c in ["cpuacct", "memory", "pids", "blkio"] {
            fs::create_dir_all(r.join(c).join("c1")).unwrap();
        }
        fs::write(r.join("cpuacct/c1/cpuacct.usage"), "123456789\n").unwrap();
        fs::write(r.join("memory/c1/memory.usage_in_bytes"), "10485760\n").unwrap();
        fs::write(
            r.join("memory/c1/memory.stat"),
            "cache 1\ninactive_file 5\ntotal_inactive_file 4194304\ntotal_active_file 9\n",
        )
        .unwrap();
        fs::write(
            r.join("memory/c1/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        fs::write(r.join("pids/c1/pids.current"), "3\n").unwrap();
        fs::write(
            r.join("blkio/c1/blkio.throttle.io_service_bytes"),
            "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:0 Total 12288\n\
             8:16 Read 100\n8:16 Write 0\nTotal 12388\n",
        )
        .unwrap();
        let cg = Cgroup::V1(CgroupV1::new(r, "c1").unwrap());
        let s = Sampler::new(cg, proc.path()).sample(77).unwrap();
        assert_eq!(s.cpu_usage_ns, 123_456_789);
        assert_eq!(s.memory_usage_bytes, 10 << 20);
        assert_eq!(s.memory_working_set_bytes, 6 << 20);
        assert_eq!(
            s.memory_limit_bytes,
            2_048_000 * 1024,
            "unlimited → host total"
        );
        assert_eq!(s.pids, 3);
        assert_eq!((s.block_read_bytes, s.block_write_bytes), (4196, 8192));
        assert_eq!((s.net_rx_bytes, s.net_tx_bytes), (1230, 344));
        assert_eq!(s.online_cpus, 2);
        assert_eq!(s.system_cpu_ns, ticks_ns(2000));
        assert!(s.read_at_ns > 0);
    }

    #[test]
    fn v2_fixture_sample() {
        let proc = fake_proc();
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("berth/c2");
        fs::create_dir_all(&d).unwrap();
        fs::write(
            d.join("cpu.stat"),
            "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n",
        )
        .unwrap();
        fs::write(d.join("memory.current"), "33554432\n").unwrap();
        fs::write(
            d.join("memory.stat"),
            "anon 1\nfile 2\nactive_file 3\ninactive_file 8388608\n",
        )
        .unwrap();
        fs::write(d.join("memory.max"), "67108864\n").unwrap();
        fs::write(d.join("pids.current"), "12\n").unwrap();
        fs::write(
            d.join("io.stat"),
            "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n\
             253:0 rbytes=24 wbytes=6 rios=1 wios=1 dbytes=0 dios=0\n",
        )
        .unwrap();
        let cg = Cgroup::V2(CgroupV2::new(root.path(), "berth/c2").unwrap());
        let sampler = Sampler::new(cg, proc.path());
        let s = sampler.sample(77).unwrap();
        assert_eq!(s.cpu_usage_ns, 2_500_000, "µs normalised to ns");
        assert_eq!(s.memory_usage_bytes, 32 << 20);
        assert_eq!(s.memory_working_set_bytes, 24 << 20);
        assert_eq!(s.memory_limit_bytes, 64 << 20);
        assert_eq!(s.pids, 12);
        assert_eq!((s.block_read_bytes, s.block_write_bytes), (1024, 2006));
        assert_eq!((s.net_rx_bytes, s.net_tx_bytes), (1230, 344));

        fs::write(d.join("memory.max"), "max\n").unwrap();
        assert_eq!(
            sampler.sample(77).unwrap().memory_limit_bytes,
            2_048_000 * 1024
        );
        // Gone cgroup: the error names the file. (A kept descriptor of a removed cgroup file
        // fails with ENODEV; an unlinked regular file stays readable, so a new sampler.)
        fs::remove_file(d.join("cpu.stat")).unwrap();
        let cg = Cgroup::V2(CgroupV2::new(root.path(), "berth/c2").unwrap());
        let err = Sampler::new(cg, proc.path())
            .sample(77)
            .unwrap_err()
            .to_string();
        assert!(err.contains("berth/c2/cpu.stat"), "{err}");
    }

    #[test]
    fn v1_without_cpuacct_says_so() {
        let proc = fake_proc();
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("memory")).unwrap();
        let cg = Cgroup::V1(CgroupV1::new(root.path(), "c").unwrap());
        let err = Sampler::new(cg, proc.path()).sample(77).unwrap_err();
        assert!(matches!(err, StatsError::NoController("cpuacct")), "{err}");
    }
}
