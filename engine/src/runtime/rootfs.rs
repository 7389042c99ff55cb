//! The container's filesystem, built by its init inside its new mount namespace: the overlay
//! root, /proc, /sys, a minimal /dev, masked /proc paths, then pivot_root into it.
//!
//! Everything is mounted in the container's own mount namespace after making every mount
//! private, so nothing propagates to the host and all of it disappears with the container.

use super::cgroup::DeviceKind;
use super::init::{sys_err, InitError};
use super::mounts;
use super::spec::{DeviceSpec, MountSpec, RootfsSpec};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, pivot_root};
use std::path::{Component, Path, PathBuf};

/// Host devices bind-mounted into the container's /dev (bind mounts rather than mknod, so the
/// same code works once user namespaces arrive).
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// /dev symlinks every Linux program expects.
const DEV_LINKS: [(&str, &str); 6] = [
    ("ptmx", "pts/ptmx"),
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("core", "/proc/kcore"),
];

/// Kernel interfaces hidden from containers (docker's defaults): files get /dev/null bound
/// over them, directories an empty read-only tmpfs.
const MASKED: [&str; 12] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Kernel interfaces visible but read-only.
const READONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Builds the root filesystem, makes the spec's extra `mounts` and pivots into it. Afterwards
/// `/` is the container's root and the host's filesystem is no longer reachable. The root
/// stays writable so the caller can create the working directory; [`make_readonly`] finishes
/// a read-only rootfs. `devices` (`--device`) are made after the mounts, inside the new root.
/// `privileged` (docker's `--privileged`): /sys writable, the host's devices in /dev, nothing
/// masked or read-only in /proc and /sys.
pub(crate) fn enter(
    spec: &RootfsSpec,
    extra: &[MountSpec],
    devices: &[DeviceSpec],
    privileged: bool,
) -> Result<(), InitError> {
    // Propagation: without this, mounts below would show up in the host's namespace through
    // shared peer groups (mount_namespaces(7), "Shared subtrees").
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| sys_err("make mounts private", e))?;

    let root = &spec.mountpoint;
    mount_overlay(spec)?;
    mount_kernel_filesystems(root, privileged)?;
    mount_dev(root, devices)?;
    if privileged {
        copy_host_devices(Path::new("/dev"), &root.join("dev"))?;
    }
    // After /dev and friends, so that a mount may cover them; before pivot_root, while the
    // sources on the host are still reachable.
    mounts::apply(root, extra)?;

    // pivot_root(2), NOTES: with new_root and put_old both ".", the old root is stacked on top
    // of the new root at "/", and unmounting "." (lazily, since processes may still hold it)
    // leaves only the new root. new_root must be a mount point: the overlay is.
    chdir(root).map_err(|e| sys_err(format!("chdir {}", root.display()), e))?;
    pivot_root(".", ".").map_err(|e| sys_err("pivot_root", e))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| sys_err("unmount old root", e))?;
    chdir("/").map_err(|e| sys_err("chdir /", e))?;
    // Past pivot_root, so that no symlink of the image can send a node onto the host.
    create_devices(devices, privileged)?;

    if privileged {
        return Ok(());
    }
    mask_kernel_paths()
}

/// `--device`: makes each node at its path in the container, with the host node's type,
/// numbers, permission bits and owner (runc's `mknodDevice`: mknod, chmod, chown), missing
/// parent directories with mode 0755. Runs as the container's root before the device rules
/// can apply; they allow mknod of every node anyway (devices.rs).
///
/// A path that already exists is an error — the default nodes a device replaces were not
/// made (mount_dev) — except with `--privileged`, where /dev already has the host's nodes:
/// the one there is kept, as docker keeps it (daemon `WithDevices`: "path in container
/// already exists in privileged mode").
fn create_devices(devices: &[DeviceSpec], privileged: bool) -> Result<(), InitError> {
    use std::os::unix::fs::PermissionsExt;
    for device in devices {
        let path = Path::new(&device.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| InitError::setup(format!("create {}: {e}", parent.display())))?;
        }
        let kind = match device.kind {
            DeviceKind::Char => libc::S_IFCHR,
            DeviceKind::Block => libc::S_IFBLK,
            DeviceKind::All => {
                return Err(InitError::setup(format!(
                    "device {} has no node type",
                    device.path
                )))
            }
        };
        let c_path = std::ffi::CString::new(device.path.as_bytes())
            .map_err(|_| InitError::setup(format!("device path {:?} has a NUL", device.path)))?;
        let rdev = libc::makedev(device.major, device.minor);
        // SAFETY: mknod on a NUL-terminated path with a node type, mode bits and a number.
        if unsafe { libc::mknod(c_path.as_ptr(), kind | (device.mode & 0o7777), rdev) } < 0 {
            match nix::errno::Errno::last() {
                nix::errno::Errno::EEXIST if privileged => continue,
                nix::errno::Errno::EEXIST => {
                    return Err(InitError::setup(format!(
                        "cannot create device {}: the container already has a file there",
                        device.path
                    )))
                }
                e => return Err(sys_err(format!("create device {}", device.path), e)),
            }
        }
        // mknod(2) applies the umask: set the host's permissions exactly. The node was just
        // made and nothing of the container runs yet, so the path is still that node.
        std::fs::set_permissions(path, PermissionsExt::from_mode(device.mode & 0o7777))
            .and_then(|()| std::os::unix::fs::lchown(path, Some(device.uid), Some(device.gid)))
            .map_err(|e| InitError::setup(format!("set owner and mode of {}: {e}", device.path)))?;
    }
    Ok(())
}

/// Remounts `/` read-only (after the working directory was created).
pub(crate) fn make_readonly() -> Result<(), InitError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(|e| sys_err("remount / read-only", e))
}

/// The `data` argument of the overlay mount, and the directory to chdir to first when the
/// paths had to be made relative to fit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OverlayOptions {
    pub data: String,
    pub chdir: Option<PathBuf>,
}

/// Builds `lowerdir=..,upperdir=..,workdir=..`. mount(2) copies at most one page of `data`
/// (the terminating NUL included), so when absolute paths are too long for many layers they
/// are written relative to their deepest common directory, which the caller chdirs to.
pub(crate) fn overlay_options(spec: &RootfsSpec, page: usize) -> Result<OverlayOptions, InitError> {
    if spec.lower.is_empty() {
        return Err(InitError::setup("rootfs has no lower layer".to_string()));
    }
    let all: Vec<&Path> = spec
        .lower
        .iter()
        .map(PathBuf::as_path)
        .chain([spec.upper.as_path(), spec.work.as_path()])
        .collect();
    for p in &all {
        let s = p.to_string_lossy();
        if !p.is_absolute() || s.contains([',', ':', '\\']) {
            return Err(InitError::setup(format!(
                "overlay path {s:?} must be absolute and contain no ',', ':' or '\\'"
            )));
        }
    }
    let build = |paths: &[&Path]| {
        let n = paths.len();
        let lower: Vec<String> = paths[..n - 2]
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.join(":"),
            paths[n - 2].to_string_lossy(),
            paths[n - 1].to_string_lossy()
        )
    };
    let data = build(&all);
    if data.len() < page {
        return Ok(OverlayOptions { data, chdir: None });
    }
    let base = common_dir(&all);
    let relative: Vec<&Path> = all
        .iter()
        .map(|p| p.strip_prefix(&base).unwrap_or(p))
        .collect();
    let data = build(&relative);
    if relative.iter().any(|p| p.as_os_str().is_empty()) || data.len() >= page {
        return Err(InitError::setup(format!(
            "too many layers: overlay mount options take {} bytes, the limit is {}",
            data.len(),
            page - 1
        )));
    }
    Ok(OverlayOptions {
        data,
        chdir: Some(base),
    })
}

/// The deepest directory that contains every path.
fn common_dir(paths: &[&Path]) -> PathBuf {
    let mut common: Vec<Component> = paths[0].parent().unwrap_or(paths[0]).components().collect();
    for p in &paths[1..] {
        let same = common
            .iter()
            .zip(p.components())
            .take_while(|(a, b)| *a == b)
            .count();
        common.truncate(same);
    }
    common.iter().collect()
}

fn mount_overlay(spec: &RootfsSpec) -> Result<(), InitError> {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|p| usize::try_from(p).ok())
        .unwrap_or(4096);
    let opts = overlay_options(spec, page)?;
    if let Some(dir) = &opts.chdir {
        chdir(dir).map_err(|e| sys_err(format!("chdir {}", dir.display()), e))?;
    }
    mount(
        Some("overlay"),
        &spec.mountpoint,
        Some("overlay"),
        MsFlags::empty(),
        Some(opts.data.as_str()),
    )
    .map_err(|e| sys_err(format!("mount overlay on {}", spec.mountpoint.display()), e))
}

/// Creates a mount point directly under the new root, refusing a symlink there: the image
/// could point it anywhere on the host, and we are still seeing the host's filesystem.
fn mount_point(root: &Path, name: &str) -> Result<PathBuf, InitError> {
    let path = root.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => Err(InitError::setup(format!(
            "refusing to mount on /{name}: it is a symlink in the image"
        ))),
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err(InitError::setup(format!(
            "cannot mount on /{name}: it is not a directory in the image"
        ))),
        Err(_) => {
            std::fs::create_dir(&path)
                .map_err(|e| InitError::setup(format!("create {}: {e}", path.display())))?;
            Ok(path)
        }
    }
}

fn mount_fs(
    fstype: &str,
    target: &Path,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), InitError> {
    mount(Some(fstype), target, Some(fstype), flags, data)
        .map_err(|e| sys_err(format!("mount {fstype} on {}", target.display()), e))
}

fn mount_kernel_filesystems(root: &Path, privileged: bool) -> Result<(), InitError> {
    let nosuid_nodev_noexec = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    // A proc mounted from inside the new pid namespace shows only the container's processes.
    mount_fs(
        "proc",
        &mount_point(root, "proc")?,
        nosuid_nodev_noexec,
        None,
    )?;
    // sysfs mounted from inside the new network namespace shows only its interfaces.
    let sys_flags = if privileged {
        nosuid_nodev_noexec
    } else {
        nosuid_nodev_noexec | MsFlags::MS_RDONLY
    };
    mount_fs("sysfs", &mount_point(root, "sys")?, sys_flags, None)
}

/// Directories of the host's /dev whose contents the container has its own of (or that
/// hold no devices).
const HOST_DEV_SKIP: [&str; 5] = ["pts", "shm", "mqueue", "fd", "hugepages"];

/// `--privileged`: recreates every character and block device of the host's `from` (/dev)
/// at the same place under `to` (the container's fresh /dev tmpfs) with the same numbers,
/// mode and owner. Names the container already has (null, tty, the ptmx link …) are kept.
fn copy_host_devices(from: &Path, to: &Path) -> Result<(), InitError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    let entries = std::fs::read_dir(from)
        .map_err(|e| InitError::setup(format!("read {}: {e}", from.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let (source, target) = (entry.path(), to.join(&name));
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if from == Path::new("/dev") && HOST_DEV_SKIP.iter().any(|s| name == *s) {
                continue;
            }
            copy_host_devices(&source, &target)?;
            continue;
        }
        if !(kind.is_char_device() || kind.is_block_device())
            || std::fs::symlink_metadata(&target).is_ok()
        {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        std::fs::create_dir_all(to)
            .map_err(|e| InitError::setup(format!("create {}: {e}", to.display())))?;
        let c_target = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())
            .map_err(|_| InitError::setup(format!("device name {name:?} contains a NUL byte")))?;
        // SAFETY: mknod on a NUL-terminated path with the host node's own mode and number.
        if unsafe { libc::mknod(c_target.as_ptr(), meta.mode(), meta.rdev()) } < 0 {
            return Err(sys_err(
                format!("create device {}", target.display()),
                nix::errno::Errno::last(),
            ));
        }
        // mknod(2) applies the umask: set the host's permissions exactly.
        std::fs::set_permissions(&target, PermissionsExt::from_mode(meta.mode() & 0o7777))
            .and_then(|()| std::os::unix::fs::lchown(&target, Some(meta.uid()), Some(meta.gid())))
            .map_err(|e| {
                InitError::setup(format!("set owner and mode of {}: {e}", target.display()))
            })?;
    }
    Ok(())
}

/// The fresh /dev: the default nodes (except those a `--device` replaces, as runc drops a
/// default device that the spec's devices have a path of), ptys, shm, mqueue and the links.
fn mount_dev(root: &Path, devices: &[DeviceSpec]) -> Result<(), InitError> {
    let dev = mount_point(root, "dev")?;
    mount_fs(
        "tmpfs",
        &dev,
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    let replaced = |name: &str| {
        let default = Path::new("/dev").join(name);
        devices.iter().any(|d| Path::new(&d.path) == default)
    };
    for name in DEVICES.into_iter().filter(|n| !replaced(n)) {
        let target = dev.join(name);
        std::fs::File::create(&target)
            .map_err(|e| InitError::setup(format!("create {}: {e}", target.display())))?;
        let source = Path::new("/dev").join(name);
        mount(
            Some(&source),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| {
            sys_err(
                format!("bind {} on {}", source.display(), target.display()),
                e,
            )
        })?;
    }
    let sub = |name: &str| {
        let path = dev.join(name);
        std::fs::create_dir(&path)
            .map_err(|e| InitError::setup(format!("create {}: {e}", path.display())))?;
        Ok::<PathBuf, InitError>(path)
    };
    // gid 5 is the conventional "tty" group; newinstance gives the container its own ptys.
    mount_fs(
        "devpts",
        &sub("pts")?,
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )?;
    mount_fs(
        "tmpfs",
        &sub("shm")?,
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )?;
    // POSIX message queues of the container's new IPC namespace.
    mount_fs(
        "mqueue",
        &sub("mqueue")?,
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None,
    )?;
    for (name, target) in DEV_LINKS {
        let link = dev.join(name);
        std::os::unix::fs::symlink(target, &link)
            .map_err(|e| InitError::setup(format!("create {}: {e}", link.display())))?;
    }
    Ok(())
}

/// Hides and write-protects the kernel interfaces of [`MASKED`] and [`READONLY`]; paths
/// this kernel does not have are skipped.
fn mask_kernel_paths() -> Result<(), InitError> {
    for path in MASKED {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            continue;
        };
        if meta.is_dir() {
            mount(
                Some("tmpfs"),
                path,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None::<&str>,
            )
        } else {
            mount(
                Some("/dev/null"),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        }
        .map_err(|e| sys_err(format!("mask {path}"), e))?;
    }
    for path in READONLY {
        if std::fs::symlink_metadata(path).is_err() {
            continue;
        }
        mount(
            Some(path),
            path,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .and_then(|()| {
            mount(
                None::<&str>,
                path,
                None::<&str>,
                MsFlags::MS_BIND
                    | MsFlags::MS_REMOUNT
                    | MsFlags::MS_RDONLY
                    | MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC,
                None::<&str>,
            )
        })
        .map_err(|e| sys_err(format!("make {path} read-only"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(lower: Vec<PathBuf>) -> RootfsSpec {
        RootfsSpec {
            lower,
            upper: "/var/lib/berth/containers/c1/upper".into(),
            work: "/var/lib/berth/containers/c1/work".into(),
            mountpoint: "/var/lib/berth/containers/c1/rootfs".into(),
            readonly: false,
        }
    }

    fn layer(i: usize) -> PathBuf {
        format!("/var/lib/berth/layers/{:064x}", i).into()
    }

    #[test]
    fn short_options_use_absolute_paths_top_layer_first() {
        let opts = overlay_options(&spec(vec![layer(2), layer(1)]), 4096).unwrap();
        assert_eq!(opts.chdir, None);
        assert_eq!(
            opts.data,
            format!(
                "lowerdir={}:{},upperdir=/var/lib/berth/containers/c1/upper,workdir=/var/lib/berth/containers/c1/work",
                layer(2).display(),
                layer(1).display()
            )
        );
    }

    #[test]
    fn long_options_become_relative_to_the_common_dir() {
        let lower: Vec<PathBuf> = (0..50).map(layer).collect();
        let opts = overlay_options(&spec(lower), 4096).unwrap();
        assert_eq!(opts.chdir, Some(PathBuf::from("/var/lib/berth")));
        assert!(opts.data.len() < 4096);
        assert!(opts
            .data
            .starts_with(&format!("lowerdir=layers/{:064x}:", 0)));
        assert!(opts
            .data
            .ends_with(",upperdir=containers/c1/upper,workdir=containers/c1/work"));
    }

    #[test]
    fn too_many_layers_is_a_clear_error() {
        let lower: Vec<PathBuf> = (0..80).map(layer).collect();
        let err = overlay_options(&spec(lower), 4096).unwrap_err().to_string();
        assert!(err.starts_with("too many layers"), "{err}");
    }

    #[test]
    fn bad_paths_are_refused() {
        for bad in ["relative/layer", "/layers/a,b", "/layers/a:b"] {
            let err = overlay_options(&spec(vec![bad.into()]), 4096).unwrap_err();
            assert!(err.to_string().contains("must be absolute"), "{bad}: {err}");
        }
        assert!(overlay_options(&spec(vec![]), 4096).is_err());
    }

    #[test]
    fn common_dir_is_the_deepest_shared_parent() {
        let a = Path::new("/a/b/c");
        let b = Path::new("/a/b/d/e");
        assert_eq!(common_dir(&[a, b]), PathBuf::from("/a/b"));
        assert_eq!(common_dir(&[a]), PathBuf::from("/a/b"));
        assert_eq!(common_dir(&[a, Path::new("/x")]), PathBuf::from("/"));
    }

    #[test]
    fn mount_point_refuses_symlinks_and_creates_missing_dirs() {
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc", root.path().join("proc")).unwrap();
        std::fs::write(root.path().join("sys"), "").unwrap();
        let err = mount_point(root.path(), "proc").unwrap_err().to_string();
        assert!(err.contains("symlink"), "{err}");
        assert!(mount_point(root.path(), "sys").is_err());
        let dev = mount_point(root.path(), "dev").unwrap();
        assert!(dev.is_dir());
        assert_eq!(mount_point(root.path(), "dev").unwrap(), dev);
    }
}
