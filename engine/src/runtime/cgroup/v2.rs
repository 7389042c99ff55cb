//! cgroup v2: one directory in the unified hierarchy, with controllers enabled in its ancestors.

use super::{keyed_value, kill_listed, read_optional, read_pids, relative_path, remove_dir};
use super::{write_file, CgroupError, CgroupManager};
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
