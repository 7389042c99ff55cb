//! cgroup v2: one directory in the unified hierarchy, with controllers enabled in its ancestors.

use super::devices::DevicePolicy;
use super::limits::{shares_to_weight, Limits};
use super::{
    devices_bpf, keyed_value, kill_listed, read_optional, read_pids, relative_path, remove_dir,
};
use super::{write_and_settle, write_file, write_limit, CgroupError, CgroupManager, FREEZE_WAIT};
use crate::runtime::spec::Resources;
use std::path::{Path, PathBuf};

/// Controllers a container's cgroup gets, when the parent offers them.
pub const V2_CONTROLLERS: [&str; 4] = ["cpu", "memory", "pids", "io"];

#[derive(Debug, Clone)]
pub struct CgroupV2 {
    root: PathBuf,
    rel: PathBuf,
}

impl CgroupV2 {
    /// The cgroup `cgroup_path` of the unified hierarchy mounted at `root`.
    pub fn new(root: &Path, cgroup_path: &str) -> Result<Self, CgroupError> {
        Ok(Self {
            root: root.to_path_buf(),
            rel: relative_path(cgroup_path)?,
        })
    }

    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.rel)
    }

    /// Enables our controllers in `dir`'s `cgroup.subtree_control`, those it has (per its
    /// `cgroup.controllers`), so that its children get them. One write for all of them.
    fn enable_controllers(dir: &Path) -> Result<(), CgroupError> {
        let available = read_optional(&dir.join("cgroup.controllers"))?.unwrap_or_default();
        let enabled = read_optional(&dir.join("cgroup.subtree_control"))?.unwrap_or_default();
        let wanted: Vec<String> = V2_CONTROLLERS
            .iter()
            .filter(|c| available.split_whitespace().any(|a| a == **c))
            .filter(|c| !enabled.split_whitespace().any(|a| a == **c))
            .map(|c| format!("+{c}"))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        write_file(&dir.join("cgroup.subtree_control"), &wanted.join(" "))
    }
}

impl CgroupManager for CgroupV2 {
    fn create(&self) -> Result<(), CgroupError> {
        // Controllers must be enabled top-down: in the root for `berth`, in `berth` for the
        // container ("cgroup.subtree_control" in the kernel's cgroup-v2.rst, "Enabling and
        // Disabling"). Only the leaf holds processes, so the "no internal processes" rule holds.
        let mut dir = self.root.clone();
        for part in self.rel.components() {
            Self::enable_controllers(&dir)?;
            dir.push(part);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(CgroupError::io("create", &dir, e)),
            }
        }
        Ok(())
    }

    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        write_file(&self.dir().join("cgroup.procs"), &pid.to_string())
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        read_pids(&self.dir().join("cgroup.procs"))
    }

    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let text = read_optional(&self.dir().join("memory.events"))?.unwrap_or_default();
        Ok(keyed_value(&text, "oom_kill").unwrap_or(0))
    }

    fn kill_all(&self) -> Result<(), CgroupError> {
        let dir = self.dir();
        let kill = dir.join("cgroup.kill");
        // cgroup.kill (Linux 5.14) kills the whole subtree atomically, racing no fork.
        if kill.exists() {
            write_file(&kill, "1")?;
        }
        kill_listed(&dir.join("cgroup.procs"))
    }

    fn remove(&self) -> Result<(), CgroupError> {
        remove_dir(&self.dir())
    }

    fn paths(&self) -> Vec<PathBuf> {
        vec![self.dir()]
    }

    /// Files and units: Documentation/admin-guide/cgroup-v2.rst — memory.max and
    /// memory.swap.max in bytes (swap alone, unlike v1's memsw), cpu.max "$MAX $PERIOD" in
    /// µs, cpu.weight 1..=10000 (converted from docker's shares), pids.max.
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError> {
        let l = Limits::from_resources(resources)?;
        let dir = self.dir();
        if let Some(memory) = l.memory {
            write_limit("memory", &dir.join("memory.max"), &memory.to_string())?;
        }
        if let Some(swap) = l.v2_swap_max() {
            let file = dir.join("memory.swap.max");
            if file.exists() {
                write_file(&file, &swap)?;
            } else if !resources.memory_swap_implicit {
                return Err(CgroupError::SwapAccountingOff(file));
            }
        }
        if let Some(max) = l.v2_cpu_max() {
            write_limit("cpu", &dir.join("cpu.max"), &max)?;
        }
        if let Some(shares) = l.cpu_shares {
            let weight = shares_to_weight(shares);
            write_limit("cpu", &dir.join("cpu.weight"), &weight.to_string())?;
        }
        if let Some(pids) = l.pids {
            write_limit("pids", &dir.join("pids.max"), &pids.to_string())?;
        }
        Ok(())
    }

    /// cgroup-v2.rst, "Device controller": no interface files; a BPF_PROG_TYPE_CGROUP_DEVICE
    /// program attached to the cgroup decides. AllowAll attaches none (as runc).
    fn restrict_devices(&self, policy: &DevicePolicy) -> Result<(), CgroupError> {
        match policy {
            DevicePolicy::AllowAll => Ok(()),
            DevicePolicy::Only(rules) => devices_bpf::install(rules, &self.dir()),
        }
    }

    /// cgroup-v2.rst, "cgroup.freeze" (Linux 5.2): writing 1 freezes the subtree; the
    /// "frozen" key of cgroup.events turns 1 once every task has stopped.
    fn freeze(&self) -> Result<(), CgroupError> {
        let dir = self.dir();
        let control = self.freeze_file()?;
        let result = write_and_settle(
            &control,
            "1",
            &dir.join("cgroup.events"),
            "frozen",
            FREEZE_WAIT,
            |s| keyed_value(s, "frozen") == Some(1),
        );
        if result.is_err() {
            let _ = write_file(&control, "0");
        }
        result
    }

    fn thaw(&self) -> Result<(), CgroupError> {
        let control = self.freeze_file()?;
        write_and_settle(
            &control,
            "0",
            &self.dir().join("cgroup.events"),
            "thawed",
            FREEZE_WAIT,
            |s| keyed_value(s, "frozen") == Some(0),
        )
    }

    fn frozen(&self) -> Result<bool, CgroupError> {
        let text = read_optional(&self.dir().join("cgroup.events"))?.unwrap_or_default();
        Ok(keyed_value(&text, "frozen") == Some(1))
    }
}

impl CgroupV2 {
    /// `cgroup.freeze`, or the error for a kernel without the v2 freezer (before 5.2).
    fn freeze_file(&self) -> Result<PathBuf, CgroupError> {
        let file = self.dir().join("cgroup.freeze");
        if file.exists() {
            Ok(file)
        } else {
            Err(CgroupError::ControllerMissing {
                controller: "freezer",
                path: self.dir(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_root(controllers: &str) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("cgroup.controllers"), controllers).unwrap();
        std::fs::write(root.path().join("cgroup.subtree_control"), "").unwrap();
        root
    }

    #[test]
    fn create_enables_offered_controllers_top_down() {
        let root = fake_root("cpuset cpu io memory hugetlb pids rdma misc\n");
        let cg = CgroupV2::new(root.path(), "berth/c1").unwrap();
        // The intermediate cgroup exists already and offers only some controllers.
        let berth = root.path().join("berth");
        std::fs::create_dir(&berth).unwrap();
        std::fs::write(berth.join("cgroup.controllers"), "memory pids\n").unwrap();
        std::fs::write(berth.join("cgroup.subtree_control"), "pids\n").unwrap();
        cg.create().unwrap();
        assert!(cg.dir().is_dir());
        assert_eq!(
            std::fs::read_to_string(root.path().join("cgroup.subtree_control")).unwrap(),
            "+cpu +memory +pids +io"
        );
        assert_eq!(
            std::fs::read_to_string(berth.join("cgroup.subtree_control")).unwrap(),
            "+memory"
        );
    }

    #[test]
    fn create_without_controllers_writes_nothing() {
        // A hybrid host's unified hierarchy: every controller is bound to v1.
        let root = fake_root("");
        let cg = CgroupV2::new(root.path(), "c2").unwrap();
        cg.create().unwrap();
        assert_eq!(
            std::fs::read_to_string(root.path().join("cgroup.subtree_control")).unwrap(),
            ""
        );
    }

    fn with_files(cg: &CgroupV2, files: &[&str]) {
        cg.create().unwrap();
        for file in files {
            std::fs::write(cg.dir().join(file), "").unwrap();
        }
    }

    fn read(cg: &CgroupV2, file: &str) -> String {
        std::fs::read_to_string(cg.dir().join(file)).unwrap()
    }

    #[test]
    fn apply_writes_every_limit_in_v2_units() {
        let root = fake_root("cpu memory pids");
        let cg = CgroupV2::new(root.path(), "lim").unwrap();
        with_files(
            &cg,
            &[
                "memory.max",
                "memory.swap.max",
                "cpu.max",
                "cpu.weight",
                "pids.max",
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
        assert_eq!(read(&cg, "memory.max"), "67108864");
        assert_eq!(read(&cg, "memory.swap.max"), "67108864", "swap alone");
        assert_eq!(read(&cg, "cpu.max"), "50000 100000");
        assert_eq!(read(&cg, "cpu.weight"), "20");
        assert_eq!(read(&cg, "pids.max"), "50");
    }

    #[test]
    fn a_limit_without_its_controller_file_is_an_error() {
        let root = fake_root("memory");
        let cg = CgroupV2::new(root.path(), "nocpu").unwrap();
        with_files(&cg, &["memory.max"]);
        let err = cg
            .apply(&Resources {
                cpu_quota: Some(50_000),
                ..Default::default()
            })
            .unwrap_err();
        assert!(
            matches!(
                err,
                CgroupError::ControllerMissing {
                    controller: "cpu",
                    ..
                }
            ),
            "{err}"
        );
        let err = cg
            .apply(&Resources {
                memory: Some(64 << 20),
                memory_swap: Some(-1),
                ..Default::default()
            })
            .unwrap_err();
        assert!(matches!(err, CgroupError::SwapAccountingOff(_)), "{err}");
        assert!(matches!(
            cg.freeze(),
            Err(CgroupError::ControllerMissing {
                controller: "freezer",
                ..
            })
        ));
    }

    #[test]
    fn freeze_waits_for_cgroup_events() {
        let root = fake_root("");
        let cg = CgroupV2::new(root.path(), "fz").unwrap();
        with_files(&cg, &["cgroup.freeze"]);
        // A kernel that already reports the cgroup frozen.
        std::fs::write(cg.dir().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        cg.freeze().unwrap();
        assert_eq!(read(&cg, "cgroup.freeze"), "1");
        assert!(cg.frozen().unwrap());
        std::fs::write(cg.dir().join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        cg.thaw().unwrap();
        assert_eq!(read(&cg, "cgroup.freeze"), "0");
        assert!(!cg.frozen().unwrap());
    }

    #[test]
    fn tasks_oom_and_remove() {
        let root = fake_root("memory");
        let cg = CgroupV2::new(root.path(), "c3").unwrap();
        cg.create().unwrap();
        std::fs::write(cg.dir().join("cgroup.procs"), "").unwrap();
        cg.add_task(99).unwrap();
        assert_eq!(cg.pids().unwrap(), vec![99]);
        assert_eq!(cg.oom_kill_count().unwrap(), 0);
        std::fs::write(
            cg.dir().join("memory.events"),
            "low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\noom_group_kill 0\n",
        )
        .unwrap();
        assert_eq!(cg.oom_kill_count().unwrap(), 1);
        for f in ["cgroup.procs", "memory.events"] {
            std::fs::remove_file(cg.dir().join(f)).unwrap();
        }
        cg.remove().unwrap();
        assert!(!cg.dir().exists());
        cg.remove().unwrap();
    }
}
