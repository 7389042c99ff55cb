//! Starting the wait that moving a process into a cgroup costs before the shim needs it.
//!
//! Every move of a process between cgroups (a write to `cgroup.procs`, v1 and v2 alike) takes
//! the kernel's global `cgroup_threadgroup_rwsem` for writing. That percpu rwsem's `rcu_sync`
//! makes a writer wait for a full RCU grace period, unless another writer entered within the
//! last grace period (kernel/rcu/sync.c: `rcu_sync_enter` skips the wait in `GP_PASSED`). A
//! grace period is 10–30 ms here, which made it the largest part of a container's start.
//!
//! So when a start begins, the daemon moves itself into the cgroup it is already in: a move
//! that changes nothing but starts the grace period. By the time the shim has been spawned
//! and moves the container's init a few milliseconds later, most of the wait is behind it.
//! Best effort: if the write fails (a read-only cgroupfs), starts are only slower.

use super::{write_file, CgroupError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Whether a warm-up is under way (one at a time is enough).
static WARMING: AtomicBool = AtomicBool::new(false);

/// Moves this process into its own cgroup in one hierarchy under `root`, on a new thread;
/// returns at once.
pub fn warm_migration(root: &Path) {
    if WARMING.swap(true, Ordering::AcqRel) {
        return;
    }
    let root = root.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("cgroup-warm".into())
        .spawn(move || {
            if let Err(e) = move_self(&root) {
                tracing::debug!("cgroup warm-up: {e}");
            }
            WARMING.store(false, Ordering::Release);
        });
    if spawned.is_err() {
        WARMING.store(false, Ordering::Release);
    }
}

fn move_self(root: &Path) -> Result<(), CgroupError> {
    // The daemon's own cgroup is looked up once, not at every start.
    static OWN_PROCS: OnceLock<Option<PathBuf>> = OnceLock::new();
    let procs = OWN_PROCS.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        own_cgroup_dir(root, &text).map(|dir| dir.join("cgroup.procs"))
    });
    match procs {
        Some(procs) => write_file(procs, &std::process::id().to_string()),
        None => Ok(()),
    }
}

/// The directory of this process's cgroup in the first hierarchy that is mounted under
/// `root`, from `/proc/self/cgroup` ("ID:CONTROLLERS:PATH" lines; cgroups(7)).
fn own_cgroup_dir(root: &Path, proc_self_cgroup: &str) -> Option<PathBuf> {
    proc_self_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if path.split('/').any(|p| p == "..") {
            return None;
        }
        let mount = match controllers {
            // The v2 line: the root itself on a pure v2 host.
            "" => root.to_path_buf(),
            // Named v1 hierarchies such as "name=systemd" have no controller to share.
            c if c.starts_with("name=") => return None,
            // "cpu,cpuacct" is mounted as such (with cpu and cpuacct as links to it).
            c => root.join(c),
        };
        let dir = mount.join(path);
        dir.join("cgroup.procs").exists().then_some(dir)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_cgroup_is_found_in_the_first_mounted_hierarchy() {
        let root = tempfile::tempdir().unwrap();
        let pids = root.path().join("pids/system.slice/berth.service");
        std::fs::create_dir_all(&pids).unwrap();
        std::fs::write(pids.join("cgroup.procs"), "").unwrap();
        let text = "12:name=systemd:/system.slice/berth.service\n\
                    11:cpu,cpuacct:/system.slice/berth.service\n\
                    5:pids:/system.slice/berth.service\n\
                    0::/system.slice/berth.service\n";
        // cpu,cpuacct is not there; pids is.
        assert_eq!(own_cgroup_dir(root.path(), text), Some(pids));
        assert_eq!(own_cgroup_dir(root.path(), "3:pids:/../../etc\n"), None);
        assert_eq!(own_cgroup_dir(root.path(), "garbage\n"), None);
    }

    #[test]
    fn on_pure_v2_the_one_line_names_a_directory_under_the_root() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("user.slice");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cgroup.procs"), "").unwrap();
        assert_eq!(own_cgroup_dir(root.path(), "0::/user.slice\n"), Some(dir));
    }
}
