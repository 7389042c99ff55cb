//! The container's own cgroups at `/sys/fs/cgroup`, as docker (runc) mounts them: mounted by
//! the init from inside the container's cgroup namespace, so each hierarchy's root is the
//! container's cgroup (cgroup_namespaces(7)) and `cat /sys/fs/cgroup/memory.max` (v2) or
//! `/sys/fs/cgroup/memory/memory.limit_in_bytes` (v1) shows the container's limit. Read-only
//! unless `--privileged`.
//!
//! Which hierarchies: the init reads its own `/proc/self/cgroup` (after the unshare, every
//! path there is `/`). On a pure v2 host the only line is `0::/`: cgroup2 is mounted at
//! `/sys/fs/cgroup`. On a v1 or hybrid host, a tmpfs at `/sys/fs/cgroup` gets one directory
//! per v1 hierarchy the container was placed in (those with a controller of
//! [`super::v1::V1_CONTROLLERS`]), named by its controllers (`cpu,cpuacct`) with a link for each
//! controller of a shared one (`cpu -> cpu,cpuacct`), as runc lays it out. Hierarchies berth
//! does not place containers in (cpuset, `name=systemd`, the hybrid `unified`) are left out:
//! there the namespace's root is the shim's cgroup, whose other children the container must
//! not see.

use super::v1::V1_CONTROLLERS;
use crate::runtime::init::{sys_err, InitError};
use nix::mount::{mount, MsFlags};
use std::path::Path;

/// What `/sys/fs/cgroup` gets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// cgroup2 on the whole of it.
    Unified,
    /// A tmpfs with these v1 hierarchies, each as its comma-joined controllers.
    V1(Vec<String>),
}

/// The layout for a process whose `/proc/self/cgroup` reads `text` ("ID:CONTROLLERS:PATH"
/// lines, cgroups(7)); `None` when there is no hierarchy to show.
pub(crate) fn layout(text: &str) -> Option<Layout> {
    let mut v1 = Vec::new();
    let mut unified = false;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(controllers)) = (parts.next(), parts.next()) else {
            continue;
        };
        if controllers.is_empty() {
            unified = true;
        } else if controllers.split(',').any(|c| V1_CONTROLLERS.contains(&c)) {
            v1.push(controllers.to_string());
        }
    }
    if !v1.is_empty() {
        v1.sort();
        return Some(Layout::V1(v1));
    }
    unified.then_some(Layout::Unified)
}

/// Mounts the container's cgroups at `/sys/fs/cgroup` (in the container's root, after
/// pivot_root and the cgroup namespace's unshare).
pub(crate) fn mount_own_cgroups(privileged: bool) -> Result<(), InitError> {
    let text = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| InitError::setup(format!("read /proc/self/cgroup: {e}")))?;
    let Some(layout) = layout(&text) else {
        return Ok(());
    };
    let target = Path::new("/sys/fs/cgroup");
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if !privileged {
        flags |= MsFlags::MS_RDONLY;
    }
    let mounted = |fstype: &str, at: &Path, flags: MsFlags, data: Option<&str>| {
        mount(Some(fstype), at, Some(fstype), flags, data)
            .map_err(|e| sys_err(format!("mount {fstype} on {}", at.display()), e))
    };
    match layout {
        Layout::Unified => mounted("cgroup2", target, flags, None),
        Layout::V1(hierarchies) => {
            let writable = flags - MsFlags::MS_RDONLY;
            mounted("tmpfs", target, writable, Some("mode=755,size=64k"))?;
            for controllers in &hierarchies {
                let dir = target.join(controllers);
                std::fs::create_dir(&dir)
                    .map_err(|e| InitError::setup(format!("create {}: {e}", dir.display())))?;
                mounted("cgroup", &dir, flags, Some(controllers))?;
                if controllers.contains(',') {
                    for controller in controllers.split(',') {
                        let link = target.join(controller);
                        std::os::unix::fs::symlink(controllers, &link).map_err(|e| {
                            InitError::setup(format!("link {}: {e}", link.display()))
                        })?;
                    }
                }
            }
            if privileged {
                return Ok(());
            }
            // The directories and links are made: the tmpfs itself becomes read-only too.
            mount(
                None::<&str>,
                target,
                None::<&str>,
                MsFlags::MS_REMOUNT | flags,
                None::<&str>,
            )
            .map_err(|e| sys_err("remount /sys/fs/cgroup read-only", e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_follows_the_hierarchies_the_container_is_in() {
        // This development host: hybrid, cpu and cpuacct apart.
        let hybrid = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n\
                      4:memory:/\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";
        assert_eq!(
            layout(hybrid),
            Some(Layout::V1(
                ["blkio", "cpu", "cpuacct", "devices", "freezer", "memory", "pids"]
                    .map(String::from)
                    .to_vec()
            ))
        );
        // Debian's v1 layout: shared hierarchies keep their joined names.
        let shared = "5:cpu,cpuacct:/\n4:net_cls,net_prio:/\n3:memory:/\n1:name=systemd:/\n";
        assert_eq!(
            layout(shared),
            Some(Layout::V1(vec!["cpu,cpuacct".into(), "memory".into()]))
        );
        assert_eq!(layout("0::/\n"), Some(Layout::Unified));
        assert_eq!(layout("1:name=systemd:/\n"), None);
        assert_eq!(layout(""), None);
    }
}
