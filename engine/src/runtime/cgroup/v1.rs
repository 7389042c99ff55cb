//! cgroup v1: one directory per mounted controller hierarchy (`<root>/<controller>/<path>`).

use super::devices::DevicePolicy;
use super::limits::{Limits, Swap};
use super::{kill_listed, read_optional, read_pids, relative_path, remove_dir, write_file};
use super::{write_and_settle, write_limit, CgroupError, CgroupManager, FREEZE_WAIT};
use crate::runtime::spec::Resources;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The v1 controllers a container is placed in, when the host has them mounted.
pub const V1_CONTROLLERS: [&str; 7] = [
    "cpu", "cpuacct", "memory", "pids", "freezer", "blkio", "devices",
];

#[derive(Debug, Clone)]
pub struct CgroupV1 {
    /// (controller, directory of this cgroup in that controller's hierarchy), one entry per
    /// distinct hierarchy: `cpu` and `cpuacct` are often one mount reached by two symlinks.
    dirs: Vec<(&'static str, PathBuf)>,
    /// (controller, directory) for every mounted controller, co-mounted ones included.
    controllers: Vec<(&'static str, PathBuf)>,
}

impl CgroupV1 {
    /// The cgroup `cgroup_path` in every hierarchy of [`V1_CONTROLLERS`] mounted under `root`.
    pub fn new(root: &Path, cgroup_path: &str) -> Result<Self, CgroupError> {
        let rel = relative_path(cgroup_path)?;
        let mut seen = HashSet::new();
        let mut dirs = Vec::new();
        let mut controllers = Vec::new();
        for name in V1_CONTROLLERS {
            let mount = root.join(name);
            if !mount.is_dir() {
                continue;
            }
            let canonical = mount
                .canonicalize()
                .map_err(|e| CgroupError::io("resolve", &mount, e))?;
            controllers.push((name, canonical.join(&rel)));
            if seen.insert(canonical.clone()) {
                dirs.push((name, canonical.join(&rel)));
            }
        }
        if dirs.is_empty() {
            return Err(CgroupError::NoControllers(root.to_path_buf()));
        }
        Ok(Self { dirs, controllers })
    }

    /// The directory of this cgroup in `controller`'s hierarchy, if that one is mounted.
    pub fn controller_dir(&self, controller: &str) -> Option<&Path> {
        self.controllers
            .iter()
            .find(|(name, _)| *name == controller)
            .map(|(_, dir)| dir.as_path())
    }

    fn first_dir(&self) -> &Path {
        // `new` guarantees at least one entry.
        &self.dirs[0].1
    }

    /// `controller`'s directory, or the error saying a limit needs a controller not mounted.
    fn need(&self, controller: &'static str) -> Result<&Path, CgroupError> {
        self.controller_dir(controller)
            .ok_or_else(|| CgroupError::ControllerMissing {
                controller,
                path: self.first_dir().to_path_buf(),
            })
    }

    fn freezer_state(&self) -> Result<Option<String>, CgroupError> {
        match self.controller_dir("freezer") {
            Some(dir) => Ok(read_optional(&dir.join("freezer.state"))?.map(|s| s.trim().into())),
            None => Ok(None),
        }
    }
}

impl CgroupManager for CgroupV1 {
    fn create(&self) -> Result<(), CgroupError> {
        for (_, dir) in &self.dirs {
            std::fs::create_dir_all(dir).map_err(|e| CgroupError::io("create", dir, e))?;
        }
        Ok(())
    }

    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        for (_, dir) in &self.dirs {
            write_file(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        read_pids(&self.first_dir().join("cgroup.procs"))
    }

    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let Some(mem) = self.controller_dir("memory") else {
            return Ok(0);
        };
        // memory.oom_control: "oom_kill_disable 0\nunder_oom 0\noom_kill N" (oom_kill since 4.13).
        let text = read_optional(&mem.join("memory.oom_control"))?.unwrap_or_default();
        Ok(super::keyed_value(&text, "oom_kill").unwrap_or(0))
    }

    fn kill_all(&self) -> Result<(), CgroupError> {
        let procs = self.first_dir().join("cgroup.procs");
        // A v1 frozen task does not act on SIGKILL until thawed: signal everything while it
        // cannot fork, then thaw so the signals are delivered (as runc does).
        if self.freezer_state()?.is_some_and(|s| s != "THAWED") {
            for pid in read_pids(&procs)? {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            self.thaw()?;
        }
        kill_listed(&procs)
    }

    fn remove(&self) -> Result<(), CgroupError> {
        for (_, dir) in &self.dirs {
            remove_dir(dir)?;
        }
        Ok(())
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|(_, d)| d.clone()).collect()
    }

    /// Files and units: Documentation/admin-guide/cgroup-v1/memory.rst (bytes; memsw is
    /// memory *plus* swap and must not be below the memory limit, so memory goes first),
    /// scheduler/sched-bwc.rst (cfs_* in µs), pids.rst.
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError> {
        let l = Limits::from_resources(resources)?;
        if let Some(memory) = l.memory {
            let dir = self.need("memory")?;
            write_limit(
                "memory",
                &dir.join("memory.limit_in_bytes"),
                &memory.to_string(),
            )?;
        }
        if let Some(swap) = l.swap {
            let file = self.need("memory")?.join("memory.memsw.limit_in_bytes");
            let value = match swap {
                Swap::Unlimited => "-1".to_string(),
                Swap::Total(total) => total.to_string(),
            };
            if file.exists() {
                write_file(&file, &value)?;
            } else if !resources.memory_swap_implicit {
                return Err(CgroupError::SwapAccountingOff(file));
            }
        }
        if let Some(period) = l.cpu_period {
            let dir = self.need("cpu")?;
            write_limit("cpu", &dir.join("cpu.cfs_period_us"), &period.to_string())?;
        }
        if let Some(quota) = l.cpu_quota {
            let dir = self.need("cpu")?;
            write_limit("cpu", &dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
        }
        if let Some(shares) = l.cpu_shares {
            let dir = self.need("cpu")?;
            write_limit("cpu", &dir.join("cpu.shares"), &shares.to_string())?;
        }
        if let Some(pids) = l.pids {
            let dir = self.need("pids")?;
            write_limit("pids", &dir.join("pids.max"), &pids.to_string())?;
        }
        Ok(())
    }

    /// cgroup-v1/devices.rst: one rule per write to devices.deny / devices.allow. A new
    /// cgroup starts with its parent's rules; "a" in devices.deny clears them (deny all),
    /// then each allowed rule is added. AllowAll needs no controller: without one nothing
    /// is restricted.
    fn restrict_devices(&self, policy: &DevicePolicy) -> Result<(), CgroupError> {
        let dir = match (self.controller_dir("devices"), policy) {
            (Some(dir), _) => dir,
            (None, DevicePolicy::AllowAll) => return Ok(()),
            (None, DevicePolicy::Only(_)) => self.need("devices")?,
        };
        for (file, line) in policy.v1_writes() {
            write_limit("devices", &dir.join(file), &line)?;
        }
        Ok(())
    }

    /// cgroup-v1/freezer-subsystem.rst: writing FROZEN moves the state through FREEZING to
    /// FROZEN once every task has stopped.
    fn freeze(&self) -> Result<(), CgroupError> {
        let state = self.need("freezer")?.join("freezer.state");
        let result = write_and_settle(&state, "FROZEN", &state, "frozen", FREEZE_WAIT, |s| {
            s.trim() == "FROZEN"
        });
        if result.is_err() {
            // Do not leave it half frozen.
            let _ = write_file(&state, "THAWED");
        }
        result
    }

    fn thaw(&self) -> Result<(), CgroupError> {
        let state = self.need("freezer")?.join("freezer.state");
        write_and_settle(&state, "THAWED", &state, "thawed", FREEZE_WAIT, |s| {
            s.trim() == "THAWED"
        })
    }

    fn frozen(&self) -> Result<bool, CgroupError> {
        Ok(self.freezer_state()?.is_some_and(|s| s == "FROZEN"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake v1 root: `cpu,cpuacct` mounted once and reached by two symlinks, plus memory
    /// and pids; freezer and blkio not mounted.
    fn fake_root() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir(r.join("cpu,cpuacct")).unwrap();
        std::os::unix::fs::symlink("cpu,cpuacct", r.join("cpu")).unwrap();
        std::os::unix::fs::symlink("cpu,cpuacct", r.join("cpuacct")).unwrap();
        std::fs::create_dir(r.join("memory")).unwrap();
        std::fs::create_dir(r.join("pids")).unwrap();
        root
    }

    #[test]
    fn one_directory_per_mounted_hierarchy() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "berth/c1").unwrap();
        let base = root.path().canonicalize().unwrap();
        assert_eq!(
            cg.paths(),
            vec![
                base.join("cpu,cpuacct/berth/c1"),
                base.join("memory/berth/c1"),
                base.join("pids/berth/c1"),
            ]
        );
        assert_eq!(cg.controller_dir("freezer"), None);
        assert_eq!(
            cg.controller_dir("memory"),
            Some(base.join("memory/berth/c1").as_path())
        );
    }

    #[test]
    fn create_add_task_and_remove() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "berth/c2").unwrap();
        cg.create().unwrap();
        cg.create().unwrap();
        for dir in cg.paths() {
            assert!(dir.is_dir());
            // cgroupfs provides this file; a plain directory needs it made.
            std::fs::write(dir.join("cgroup.procs"), "").unwrap();
        }
        cg.add_task(4242).unwrap();
        for dir in cg.paths() {
            assert_eq!(
                std::fs::read_to_string(dir.join("cgroup.procs")).unwrap(),
                "4242"
            );
        }
        assert_eq!(cg.pids().unwrap(), vec![4242]);
        for dir in cg.paths() {
            std::fs::remove_file(dir.join("cgroup.procs")).unwrap();
        }
        cg.remove().unwrap();
        cg.remove().unwrap();
        for dir in cg.paths() {
            assert!(!dir.exists());
            assert!(dir.parent().unwrap().is_dir(), "parent must stay");
        }
    }

    #[test]
    fn add_task_to_missing_cgroup_names_the_file() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "never-created").unwrap();
        let err = cg.add_task(1).unwrap_err().to_string();
        assert!(err.contains("never-created/cgroup.procs"), "{err}");
    }

    #[test]
    fn oom_kills_are_read_from_memory_oom_control() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "c3").unwrap();
        assert_eq!(cg.oom_kill_count().unwrap(), 0);
        cg.create().unwrap();
        let mem = cg.controller_dir("memory").unwrap();
        std::fs::write(
            mem.join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .unwrap();
        assert_eq!(cg.oom_kill_count().unwrap(), 2);
    }

    /// Creates the cgroup and the control files cgroupfs would provide.
    fn with_files(cg: &CgroupV1, files: &[(&str, &str)]) {
        cg.create().unwrap();
        for (controller, file) in files {
            let dir = cg.controller_dir(controller).unwrap();
            std::fs::write(dir.join(file), "").unwrap();
        }
    }

    fn read(cg: &CgroupV1, controller: &str, file: &str) -> String {
        std::fs::read_to_string(cg.controller_dir(controller).unwrap().join(file)).unwrap()
    }

    #[test]
    fn comounted_controllers_are_found_by_either_name() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "c").unwrap();
        assert_eq!(cg.controller_dir("cpu"), cg.controller_dir("cpuacct"));
        assert!(cg.controller_dir("cpuacct").is_some());
    }

    #[test]
    fn apply_writes_every_limit_in_kernel_units() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "berth/lim").unwrap();
        with_files(
            &cg,
            &[
                ("memory", "memory.limit_in_bytes"),
                ("memory", "memory.memsw.limit_in_bytes"),
                ("cpu", "cpu.cfs_quota_us"),
                ("cpu", "cpu.cfs_period_us"),
                ("cpu", "cpu.shares"),
                ("pids", "pids.max"),
            ],
        );
        cg.apply(&Resources {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            cpu_shares: Some(512),
            pids_limit: Some(50),
            memory_swap_implicit: false,
        })
        .unwrap();
        assert_eq!(read(&cg, "memory", "memory.limit_in_bytes"), "67108864");
        assert_eq!(
            read(&cg, "memory", "memory.memsw.limit_in_bytes"),
            "134217728"
        );
        assert_eq!(read(&cg, "cpu", "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&cg, "cpu", "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&cg, "cpu", "cpu.shares"), "512");
        assert_eq!(read(&cg, "pids", "pids.max"), "50");
    }

    #[test]
    fn swap_without_swap_accounting_is_an_error_not_ignored() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "noswap").unwrap();
        with_files(&cg, &[("memory", "memory.limit_in_bytes")]);
        let err = cg
            .apply(&Resources {
                memory: Some(64 << 20),
                memory_swap: Some(-1),
                ..Default::default()
            })
            .unwrap_err();
        assert!(matches!(err, CgroupError::SwapAccountingOff(_)), "{err}");
        assert!(err.to_string().contains("swapaccount=1"), "{err}");
        // Memory alone is fine.
        cg.apply(&Resources {
            memory: Some(64 << 20),
            ..Default::default()
        })
        .unwrap();
    }

    #[test]
    fn a_limit_for_an_unmounted_controller_is_an_error() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "nofreezer").unwrap();
        cg.create().unwrap();
        assert!(matches!(
            cg.freeze(),
            Err(CgroupError::ControllerMissing {
                controller: "freezer",
                ..
            })
        ));
        assert!(!cg.frozen().unwrap());
        // Invalid values are refused before anything is written.
        assert!(matches!(
            cg.apply(&Resources {
                cpu_quota: Some(-1),
                ..Default::default()
            }),
            Err(CgroupError::InvalidResources(_))
        ));
    }

    #[test]
    fn freeze_and_thaw_write_the_freezer_state() {
        let root = fake_root();
        std::fs::create_dir(root.path().join("freezer")).unwrap();
        let cg = CgroupV1::new(root.path(), "fz").unwrap();
        with_files(&cg, &[("freezer", "freezer.state")]);
        cg.freeze().unwrap();
        assert_eq!(read(&cg, "freezer", "freezer.state"), "FROZEN");
        assert!(cg.frozen().unwrap());
        cg.thaw().unwrap();
        assert_eq!(read(&cg, "freezer", "freezer.state"), "THAWED");
        assert!(!cg.frozen().unwrap());
    }

    #[test]
    fn devices_are_denied_then_the_rules_allowed() {
        let root = fake_root();
        let cg = CgroupV1::new(root.path(), "nodevices").unwrap();
        cg.create().unwrap();
        // Without the controller a restriction cannot be enforced; no restriction is fine.
        assert!(matches!(
            cg.restrict_devices(&DevicePolicy::default()),
            Err(CgroupError::ControllerMissing {
                controller: "devices",
                ..
            })
        ));
        cg.restrict_devices(&DevicePolicy::AllowAll).unwrap();

        std::fs::create_dir(root.path().join("devices")).unwrap();
        let cg = CgroupV1::new(root.path(), "dev").unwrap();
        with_files(
            &cg,
            &[("devices", "devices.deny"), ("devices", "devices.allow")],
        );
        cg.restrict_devices(&DevicePolicy::default()).unwrap();
        // A plain file is overwritten from its start by each write (no O_TRUNC): it begins
        // with the last one, the deny-all and the last allowed rule.
        assert_eq!(read(&cg, "devices", "devices.deny"), "a");
        assert!(read(&cg, "devices", "devices.allow").starts_with("c 136:* rw"));
        std::fs::write(
            cg.controller_dir("devices").unwrap().join("devices.allow"),
            "",
        )
        .unwrap();
        cg.restrict_devices(&DevicePolicy::AllowAll).unwrap();
        assert_eq!(read(&cg, "devices", "devices.allow"), "a");
    }

    #[test]
    fn no_controllers_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            CgroupV1::new(root.path(), "x"),
            Err(CgroupError::NoControllers(_))
        ));
    }
}
