//! cgroup v1: one directory per mounted controller hierarchy (`<root>/<controller>/<path>`).

use super::{kill_listed, read_optional, read_pids, relative_path, remove_dir, write_file};
use super::{CgroupError, CgroupManager};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The v1 controllers a container is placed in, when the host has them mounted.
pub const V1_CONTROLLERS: [&str; 6] = ["cpu", "cpuacct", "memory", "pids", "freezer", "blkio"];

#[derive(Debug, Clone)]
pub struct CgroupV1 {
    /// (controller, directory of this cgroup in that controller's hierarchy), one entry per
    /// distinct hierarchy: `cpu` and `cpuacct` are often one mount reached by two symlinks.
    dirs: Vec<(&'static str, PathBuf)>,
}

impl CgroupV1 {
    /// The cgroup `cgroup_path` in every hierarchy of [`V1_CONTROLLERS`] mounted under `root`.
    pub fn new(root: &Path, cgroup_path: &str) -> Result<Self, CgroupError> {
        let rel = relative_path(cgroup_path)?;
        let mut seen = HashSet::new();
        let mut dirs = Vec::new();
        for name in V1_CONTROLLERS {
            let mount = root.join(name);
            if !mount.is_dir() {
                continue;
            }
            let canonical = mount
                .canonicalize()
                .map_err(|e| CgroupError::io("resolve", &mount, e))?;
            if seen.insert(canonical.clone()) {
                dirs.push((name, canonical.join(&rel)));
            }
        }
        if dirs.is_empty() {
            return Err(CgroupError::NoControllers(root.to_path_buf()));
        }
        Ok(Self { dirs })
    }

    /// The directory of this cgroup in `controller`'s hierarchy, if that one is mounted.
    pub fn controller_dir(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(name, _)| *name == controller)
            .map(|(_, dir)| dir.as_path())
    }

    fn first_dir(&self) -> &Path {
        // `new` guarantees at least one entry.
        &self.dirs[0].1
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
        kill_listed(&self.first_dir().join("cgroup.procs"))
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

    #[test]
    fn no_controllers_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            CgroupV1::new(root.path(), "x"),
            Err(CgroupError::NoControllers(_))
        ));
    }
}
