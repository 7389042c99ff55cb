//! Real containers under cgroup limits, as root, on whichever hierarchy the host has (v1 here;
//! v2 inside the VM of scripts/test-cgroup-v2.sh): limits written before the command runs,
//! OOM kills, a contained fork bomb, a CPU quota, pause/resume and stats. This binary doubles
//! as berth's shim (`<exe> shim <spec>`).
//! Run: `cargo test -p berth-engine --test cgroup_limits [-- <name filter>]`.

use berth_engine::logs::Stream;
use berth_engine::runtime::cgroup::{self, Cgroup, CgroupManager, CGROUP_ROOT};
use berth_engine::runtime::Resources;
use berth_engine::stats;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MIB: i64 = 1024 * 1024;

mod support;

use support::{Case, Suite, TestCase};

fn main() {
    let cases: &[TestCase] = &[
        (
            "limits_are_written_before_start",
            limits_are_written_before_start,
        ),
        ("invalid_limits_fail_cleanly", invalid_limits_fail_cleanly),
        (
            "memory_limit_oom_kills_with_137",
            memory_limit_oom_kills_with_137,
        ),
        ("fork_bomb_is_contained", fork_bomb_is_contained),
        ("cpus_half_holds_a_busy_loop", cpus_half_holds_a_busy_loop),
        (
            "pause_freezes_and_resume_thaws",
            pause_freezes_and_resume_thaws,
        ),
        (
            "paused_container_can_be_killed",
            paused_container_can_be_killed,
        ),
        ("stats_of_a_running_container", stats_of_a_running_container),
        ("stats_hub_shares_one_sampler", stats_hub_shares_one_sampler),
        (
            "own_cgroup_is_read_only_at_sys_fs_cgroup",
            own_cgroup_is_read_only_at_sys_fs_cgroup,
        ),
    ];
    support::main("cgroup_limits", limits_suite, cases);
}

/// One busybox layer shared by every case, and a cgroup parent unique to this run; what a case
/// leaves running (perhaps frozen) is killed through its cgroup.
fn limits_suite() -> Suite {
    let mut suite = Suite::new("berth-cg-", "berth-cgtest");
    suite.kill_cgroup = true;
    suite.gone_within = Duration::from_secs(20);
    println!(
        "cgroup_limits: cgroup {:?}",
        cgroup::detect(Path::new(CGROUP_ROOT))
    );
    suite
}

impl Suite {
    fn case(&self, name: &str, script: &str, resources: Resources) -> Case {
        let dir = self.case_dir(name, false);
        let args = vec!["sh".into(), "-c".into(), script.into()];
        let mut spec = self.spec(name, dir.path(), args);
        spec.hostname = "limits".into();
        spec.resources = resources;
        self.container(dir, spec)
    }
}

impl Case {
    /// A control file of the container's cgroup: `v1` names (controller, file), `v2` a file.
    fn cgroup_file(&self, v1: (&str, &str), v2: &str) -> PathBuf {
        match self.cgroup() {
            Cgroup::V1(c) => c
                .controller_dir(v1.0)
                .unwrap_or_else(|| panic!("no {} controller", v1.0))
                .join(v1.1),
            Cgroup::V2(c) => c.dir().join(v2),
        }
    }

    fn read_cgroup_file(&self, v1: (&str, &str), v2: &str) -> String {
        let path = self.cgroup_file(v1, v2);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// A file the container wrote, read through its writable layer.
    fn container_file(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.spec.rootfs.upper.join(path.trim_start_matches('/'))).ok()
    }

    fn wait_for_file(&self, path: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(text) = self.container_file(path).filter(|t| t.ends_with('\n')) {
                return text;
            }
            assert!(Instant::now() < deadline, "container never wrote {path}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn has_swap_accounting(c: &Case) -> bool {
    c.cgroup_file(("memory", "memory.memsw.limit_in_bytes"), "memory.swap.max")
        .exists()
}

// ---- cases ----

fn limits_are_written_before_start(s: &Suite) {
    let resources = Resources {
        memory: Some(64 * MIB),
        memory_swap: Some(128 * MIB),
        // The swap limit is the caller's own (not the implicit twice-the-memory).
        memory_swap_implicit: false,
        cpu_quota: Some(50_000),
        cpu_period: Some(100_000),
        cpu_shares: Some(512),
        pids_limit: Some(50),
    };
    let mut c = s.case("written", "sleep 1000", resources);
    // A host without swap accounting must refuse the swap limit, saying why; one with it
    // must apply it (the swap file of the running container's cgroup tells which host).
    match c.start() {
        Ok(_) => assert!(
            has_swap_accounting(&c),
            "swap limit accepted without accounting"
        ),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("swap accounting is off"), "{msg}");
            println!("  (no swap accounting on this host: {msg})");
            c.spec.resources.memory_swap = None;
            c.start().expect("starts without a swap limit");
            assert!(
                !has_swap_accounting(&c),
                "swap limit refused with accounting"
            );
        }
    }
    let v2 = matches!(c.cgroup(), Cgroup::V2(_));
    assert_eq!(
        c.read_cgroup_file(("memory", "memory.limit_in_bytes"), "memory.max"),
        (64 * MIB).to_string()
    );
    if c.spec.resources.memory_swap.is_some() {
        let want = if v2 { 64 * MIB } else { 128 * MIB };
        assert_eq!(
            c.read_cgroup_file(("memory", "memory.memsw.limit_in_bytes"), "memory.swap.max"),
            want.to_string()
        );
    }
    if v2 {
        assert_eq!(c.read_cgroup_file(("", ""), "cpu.max"), "50000 100000");
        assert_eq!(c.read_cgroup_file(("", ""), "cpu.weight"), "20");
    } else {
        assert_eq!(c.read_cgroup_file(("cpu", "cpu.cfs_quota_us"), ""), "50000");
        assert_eq!(
            c.read_cgroup_file(("cpu", "cpu.cfs_period_us"), ""),
            "100000"
        );
        assert_eq!(c.read_cgroup_file(("cpu", "cpu.shares"), ""), "512");
    }
    assert_eq!(c.read_cgroup_file(("pids", "pids.max"), "pids.max"), "50");
    // The container's only process is in the limited cgroup.
    let started = c.started.expect("started");
    assert_eq!(c.cgroup().pids().unwrap(), vec![started.pid]);
}

fn invalid_limits_fail_cleanly(s: &Suite) {
    for (name, resources, want) in [
        (
            "tinymem",
            Resources {
                memory: Some(4 * MIB),
                ..Default::default()
            },
            "below the minimum of 6 MiB",
        ),
        (
            "negcpu",
            Resources {
                cpu_quota: Some(-50_000),
                ..Default::default()
            },
            "cpu quota -50000 µs is negative",
        ),
        (
            "swapless",
            Resources {
                memory: Some(64 * MIB),
                memory_swap: Some(32 * MIB),
                ..Default::default()
            },
            "smaller than the memory limit",
        ),
    ] {
        let mut c = s.case(name, "echo must-not-run > /ran", resources);
        let err = c.start().expect_err("must not start").to_string();
        assert!(err.contains(want), "{name}: {err}");
        for dir in c.cgroup().paths() {
            assert!(!dir.exists(), "{name}: cgroup {} left", dir.display());
        }
        assert!(c.container_file("ran").is_none(), "{name}: command ran");
        assert!(!c.spec.exit_path.exists());
    }
}

fn memory_limit_oom_kills_with_137(s: &Suite) {
    // dd's one 100 MB buffer, filled from /dev/zero, is 3 × the limit; dd is the init, so
    // its OOM kill ends the container.
    let script = "exec dd if=/dev/zero of=/dev/null bs=100M count=1";
    let mut c = s.case(
        "oom",
        script,
        Resources {
            memory: Some(32 * MIB),
            ..Default::default()
        },
    );
    c.start().expect("starts");
    let rec = c.wait_exit_within(Duration::from_secs(60));
    assert_eq!(
        (rec.exit_code, rec.signal, rec.oom_killed),
        (137, Some(9), true)
    );
}

fn fork_bomb_is_contained(s: &Suite) {
    let script = "echo go > /go; f() { f | f & }; f; exec sleep 1000";
    let mut c = s.case(
        "forkbomb",
        script,
        Resources {
            pids_limit: Some(50),
            ..Default::default()
        },
    );
    let started = c.start().expect("starts");
    c.wait_for_file("/go");
    let current = c.cgroup_file(("pids", "pids.current"), "pids.current");
    let events = c.cgroup_file(("pids", "pids.events"), "pids.events");
    let mut peak = 0u64;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        let n: u64 = std::fs::read_to_string(&current)
            .expect("pids.current")
            .trim()
            .parse()
            .expect("number");
        peak = peak.max(n);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(peak <= 50, "{peak} tasks under a limit of 50");
    assert!(peak >= 40, "the bomb never got near the limit ({peak})");
    let refused = std::fs::read_to_string(&events).expect("pids.events");
    let refused: u64 = refused
        .lines()
        .find_map(|l| l.strip_prefix("max "))
        .and_then(|v| v.trim().parse().ok())
        .expect("max in pids.events");
    assert!(refused > 0, "no fork was refused");
    // The host is fine: it still starts processes.
    let status = Command::new("/bin/busybox")
        .arg("true")
        .status()
        .expect("host fork");
    assert!(status.success());
    // Killing the container's init ends its pid namespace, bomb included.
    kill(Pid::from_raw(started.pid), Signal::SIGKILL).expect("kill init");
    let rec = c.wait_exit_within(Duration::from_secs(30));
    assert_eq!(rec.exit_code, 137);
}

fn cpus_half_holds_a_busy_loop(s: &Suite) {
    let mut c = s.case(
        "cpuhalf",
        "while :; do :; done",
        Resources {
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            ..Default::default()
        },
    );
    let started = c.start().expect("starts");
    // Let it run into the quota first.
    std::thread::sleep(Duration::from_millis(300));
    let first = stats::sample(&c.spec.cgroup_path, started.pid).expect("sample");
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let second = stats::sample(&c.spec.cgroup_path, started.pid).expect("sample");
    let wall = t0.elapsed().as_nanos() as f64;
    let cores = (second.cpu_usage_ns - first.cpu_usage_ns) as f64 / wall;
    println!("  busy loop under --cpus 0.5: {:.3} of a core", cores);
    assert!(cores <= 0.55, "{cores:.3} of a core under a 0.5 quota");
    assert!(cores >= 0.1, "the loop barely ran ({cores:.3})");
    let percent = stats::cpu_percent(&first, &second);
    assert!(
        (percent - cores * 100.0).abs() < 15.0,
        "cpu_percent {percent:.1} vs measured {:.1}",
        cores * 100.0
    );
}

/// A counter the container bumps every 20 ms, read through its writable layer.
const COUNTER: &str =
    "i=0; while :; do i=$((i+1)); echo $i > /n.tmp; mv /n.tmp /n; sleep 0.02; done";

fn counter(c: &Case) -> u64 {
    c.container_file("n")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

fn pause_freezes_and_resume_thaws(s: &Suite) {
    let mut c = s.case("pause", COUNTER, Resources::default());
    c.start().expect("starts");
    c.wait_for_file("/n");
    cgroup::pause(&c.spec).expect("pause");
    cgroup::pause(&c.spec).expect("pausing twice is fine");
    assert!(cgroup::is_paused(&c.spec).unwrap());
    let frozen_at = counter(&c);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(counter(&c), frozen_at, "the counter moved while frozen");
    cgroup::resume(&c.spec).expect("resume");
    assert!(!cgroup::is_paused(&c.spec).unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while counter(&c) <= frozen_at {
        assert!(Instant::now() < deadline, "the counter did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn paused_container_can_be_killed(s: &Suite) {
    let mut c = s.case("pausekill", COUNTER, Resources::default());
    c.start().expect("starts");
    c.wait_for_file("/n");
    cgroup::pause(&c.spec).expect("pause");
    // What `rm -f` and the shim's cleanup do: kill everything in the cgroup.
    c.cgroup().kill_all().expect("kill_all");
    let rec = c.wait_exit_within(Duration::from_secs(10));
    assert_eq!((rec.exit_code, rec.signal), (137, Some(9)));
}

fn stats_of_a_running_container(s: &Suite) {
    // 20 MB in /dev/shm: shared memory charged to the container, never inactive file cache.
    let script = "dd if=/dev/zero of=/dev/shm/blob bs=1M count=20 2>/dev/null; \
                  ping -c 2 -i 0.2 127.0.0.1 > /dev/null 2>&1; echo ready > /ready; sleep 1000; exit 0";
    let mut c = s.case(
        "stats",
        script,
        Resources {
            memory: Some(256 * MIB),
            pids_limit: Some(100),
            ..Default::default()
        },
    );
    let started = c.start().expect("starts");
    c.wait_for_file("/ready");
    let mut slowest = Duration::ZERO;
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let sample = stats::sample(&c.spec.cgroup_path, started.pid).expect("sample");
        slowest = slowest.max(t.elapsed());
        last = Some(sample);
    }
    let s = last.expect("a sample");
    println!("  slowest of 5 samples: {} µs; {s:?}", slowest.as_micros());
    assert!(slowest < Duration::from_millis(100), "{slowest:?}");
    assert!(s.cpu_usage_ns > 0);
    assert!(s.system_cpu_ns > s.cpu_usage_ns);
    assert!(s.online_cpus >= 1);
    assert!(
        s.memory_usage_bytes >= 20_000_000,
        "20 MB are in /dev/shm: {}",
        s.memory_usage_bytes
    );
    assert!(s.memory_working_set_bytes <= s.memory_usage_bytes);
    assert!(s.memory_working_set_bytes >= 20_000_000);
    assert_eq!(s.memory_limit_bytes, (256 * MIB) as u64);
    // `exit 0` after it keeps ash from exec'ing sleep in place of the shell.
    assert_eq!(s.pids, 2, "sh and sleep");
    // Only loopback in the container's namespace, and loopback is not counted.
    assert_eq!((s.net_rx_bytes, s.net_tx_bytes), (0, 0));
}

/// The real cgroup and /proc reads behind a [`stats::StatsHub`], for one container.
struct OneContainer(stats::Target);

impl stats::StatsSource for OneContainer {
    fn running(&self) -> futures::future::BoxFuture<'_, Vec<stats::Target>> {
        Box::pin(async move { vec![self.0.clone()] })
    }
    fn host(&self) -> Result<stats::HostReading, stats::StatsError> {
        stats::host::read(Path::new("/proc"))
    }
    fn sample(
        &self,
        target: &stats::Target,
        host: &stats::HostReading,
    ) -> Result<stats::Sample, stats::StatsError> {
        stats::Sampler::open(
            Path::new(CGROUP_ROOT),
            Path::new("/proc"),
            &target.cgroup_path,
        )?
        .sample_with_host(target.pid, host)
    }
}

fn stats_hub_shares_one_sampler(s: &Suite) {
    let mut c = s.case(
        "hub",
        "echo ready > /ready; while :; do :; done",
        Resources::default(),
    );
    let started = c.start().expect("starts");
    c.wait_for_file("/ready");
    let target = stats::Target {
        id: "hub".into(),
        cgroup_path: c.spec.cgroup_path.clone(),
        pid: started.pid,
    };

    // What the background pass costs at 500 containers: one host read, then 500 cgroup reads
    // (of this one container, over and over), with the cgroup opened once as the engine's
    // source caches it.
    let sampler = stats::Sampler::open(
        Path::new(CGROUP_ROOT),
        Path::new("/proc"),
        &target.cgroup_path,
    )
    .expect("cgroup");
    let t = Instant::now();
    let host = stats::host::read(Path::new("/proc")).expect("host");
    for _ in 0..500 {
        sampler.sample_with_host(target.pid, &host).expect("sample");
    }
    let pass = t.elapsed();
    println!(
        "  one background pass over 500 containers: {} ms",
        pass.as_millis()
    );
    assert!(pass < Duration::from_secs(2), "{pass:?}");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let hub = stats::StatsHub::new(
            std::sync::Arc::new(OneContainer(target.clone())),
            stats::HubConfig::default(),
        );
        let mut a = hub.subscribe(target.clone());
        let mut b = hub.subscribe(target.clone());
        assert_eq!((hub.sampler_count(), hub.viewers("hub")), (1, 2));
        let mut cpus = Vec::new();
        for _ in 0..3 {
            let within = Duration::from_secs(5);
            let pa = tokio::time::timeout(within, a.recv())
                .await
                .expect("a point")
                .unwrap();
            let pb = tokio::time::timeout(within, b.recv())
                .await
                .expect("a point")
                .unwrap();
            assert_eq!(pa, pb, "one sampler, the same points");
            cpus.push(pa.cpu_percent);
        }
        println!("  cpu % of a busy loop, 1 s apart: {cpus:?}");
        assert!(cpus.iter().all(|&p| p > 20.0), "{cpus:?}");
        assert_eq!(hub.sampler_count(), 1);
        assert_eq!(hub.sampler_starts(), 1);
        assert_eq!(hub.history("hub").len(), 3);
        drop((a, b));
        // The linger: the sampler goes about 5 s after its last viewer.
        tokio::time::sleep(Duration::from_secs(7)).await;
        assert_eq!(hub.sampler_count(), 0);
    });
}

/// As docker's: /sys/fs/cgroup inside shows the container's own cgroup (the cgroup namespace's
/// root), read-only, so its limit can be read where a program looks for it; `--privileged`
/// makes it writable.
fn own_cgroup_is_read_only_at_sys_fs_cgroup(s: &Suite) {
    let resources = Resources {
        memory: Some(64 * MIB),
        pids_limit: Some(77),
        ..Resources::default()
    };
    let v2 = matches!(
        cgroup::detect(Path::new(CGROUP_ROOT)),
        Ok(cgroup::Hierarchy::V2)
    );
    let (memory, pids, procs, dir) = if v2 {
        ("memory.max", "pids.max", "cgroup.procs", ".")
    } else {
        (
            "memory/memory.limit_in_bytes",
            "pids/pids.max",
            "memory/cgroup.procs",
            "pids",
        )
    };
    let script = format!(
        "cd /sys/fs/cgroup && cat {memory} {pids} && wc -l < {procs} && cat /proc/self/cgroup \
         && ls && if echo 1 > {pids}; then echo wrote; else echo refused; fi \
         && if mkdir {dir}/sub; then echo made; else echo refused; fi"
    );
    let mut c = s.case("sysfscg", &script, resources.clone());
    assert_eq!(c.run().exit_code, 0, "{:?}", c.lines(Stream::Stderr));
    let out = c.lines(Stream::Stdout);
    assert_eq!(out[0], (64 * MIB).to_string(), "{out:?}");
    assert_eq!(out[1], "77", "{out:?}");
    // Only the container's processes: sh, and the cat or wc of the moment.
    let listed: usize = out[2].trim().parse().expect("a count");
    assert!((1..=3).contains(&listed), "{out:?}");
    // Every hierarchy is seen from the namespace's root: the container's cgroup.
    assert!(
        out.iter().any(|l| l.ends_with(":/")) && !out.iter().any(|l| l.contains("berth-cgtest")),
        "{out:?}"
    );
    assert_eq!(out[out.len() - 2..], ["refused", "refused"], "{out:?}");
    if !v2 {
        // The hierarchies the container is in, and not the others (cpuset, name=systemd).
        assert!(out.iter().any(|l| l.starts_with("memory")), "{out:?}");
        assert!(
            !out.iter().any(|l| l == "cpuset" || l == "systemd"),
            "{out:?}"
        );
    }
    // Privileged, the mount is writable: a child cgroup can be made (the container's own
    // limits stay the host's to set where cgroup2 is mounted with nsdelegate, as under docker).
    let script = format!(
        "cd /sys/fs/cgroup/{dir} && mkdir sub && test -e sub/cgroup.procs && rmdir sub && echo made"
    );
    let mut p = s.case("sysfscg-priv", &script, resources);
    p.spec.security.privileged = true;
    assert_eq!(p.run().exit_code, 0, "{:?}", p.lines(Stream::Stderr));
    assert_eq!(p.lines(Stream::Stdout), ["made"]);
}
