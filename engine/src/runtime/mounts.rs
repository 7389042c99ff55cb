//! The spec's extra mounts (bind and tmpfs), made inside the new root before pivot_root, with
//! every destination resolved as if the rootfs were `/`: a symlink or `..` in the image can
//! never make a mount land on the host.
//!
//! Destinations are walked one component at a time with `openat(O_PATH|O_NOFOLLOW)` from a
//! descriptor of the root, symlinks expanded by hand and clamped to the root, and the mount is
//! made on the resulting descriptor (`/proc/self/fd/N`), so nothing can swap a path between
//! the check and the mount.

use super::init::{sys_err, InitError};
use super::spec::{MountKind, MountSpec};
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{fstat, mkdirat, Mode, SFlag};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Symlinks followed in one destination before giving up (the kernel's limit, path_resolution(7)).
const MAX_SYMLINKS: u32 = 40;

/// What a missing destination is created as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    Dir,
    File,
}

/// Opens `path` (as seen inside the container) below `root` with `O_PATH`, resolving `..` and
/// symlinks (absolute ones relative to `root`) without ever leaving `root`. With `create`,
/// missing components are made: directories on the way, and the last one as asked.
/// Refuses a path that resolves to the root itself.
pub(crate) fn open_in_root(
    root: BorrowedFd<'_>,
    path: &str,
    create: Option<Create>,
) -> Result<OwnedFd, InitError> {
    let fail = |what: &str| InitError::setup(format!("mount destination {path:?}: {what}"));
    let mut todo: VecDeque<OsString> = split(OsStr::new(path));
    // Descriptors of the directories below root on the current path; empty means at root.
    let mut stack: Vec<OwnedFd> = Vec::new();
    let mut links = 0;
    while let Some(name) = todo.pop_front() {
        if name == ".." {
            stack.pop();
            continue;
        }
        let dir = stack.last().map(AsFd::as_fd).unwrap_or(root);
        let path_flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = match openat(dir, name.as_os_str(), path_flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create.is_some() => {
                let last = todo.iter().all(|n| n == ".");
                if !last || create == Some(Create::Dir) {
                    match mkdirat(dir, name.as_os_str(), Mode::from_bits_truncate(0o755)) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(sys_err(format!("create {name:?} for {path:?}"), e)),
                    }
                } else {
                    let flags = OFlag::O_CREAT
                        | OFlag::O_EXCL
                        | OFlag::O_WRONLY
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_CLOEXEC;
                    match openat(
                        dir,
                        name.as_os_str(),
                        flags,
                        Mode::from_bits_truncate(0o644),
                    ) {
                        Ok(_) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(sys_err(format!("create {name:?} for {path:?}"), e)),
                    }
                }
                openat(dir, name.as_os_str(), path_flags, Mode::empty())
                    .map_err(|e| sys_err(format!("open {name:?} of {path:?}"), e))?
            }
            Err(e) => return Err(sys_err(format!("open {name:?} of {path:?}"), e)),
        };
        let kind = file_type(&fd, path)?;
        if kind == SFlag::S_IFLNK {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(fail("too many levels of symbolic links"));
            }
            let target = readlinkat(dir, name.as_os_str())
                .map_err(|e| sys_err(format!("read link {name:?} of {path:?}"), e))?;
            if target.as_bytes().starts_with(b"/") {
                stack.clear();
            }
            for part in split(&target).into_iter().rev() {
                todo.push_front(part);
            }
            continue;
        }
        if kind != SFlag::S_IFDIR && todo.iter().any(|n| n != ".") {
            return Err(fail(&format!("{name:?} is not a directory")));
        }
        stack.push(fd);
    }
    stack
        .pop()
        .ok_or_else(|| fail("resolves to the container's root"))
}

/// The non-empty, non-`.` components of a `/`-separated path.
fn split(path: &OsStr) -> VecDeque<OsString> {
    path.as_bytes()
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsStr::from_bytes(c).to_os_string())
        .collect()
}

fn file_type(fd: &OwnedFd, path: &str) -> Result<SFlag, InitError> {
    let st = fstat(fd).map_err(|e| sys_err(format!("stat mount destination {path:?}"), e))?;
    Ok(SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()))
}

/// The path through which mount(2) reaches what `fd` refers to (procfs magic link).
fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Makes `mounts`, in order, inside `root` (the new root, before pivot_root; the host's
/// /proc still serves `/proc/self/fd`).
pub(crate) fn apply(root: &Path, mounts: &[MountSpec]) -> Result<(), InitError> {
    if mounts.is_empty() {
        return Ok(());
    }
    let root_fd = nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| sys_err(format!("open {}", root.display()), e))?;
    for m in mounts {
        if !m.destination.starts_with('/') {
            return Err(InitError::setup(format!(
                "mount destination {:?} is not absolute",
                m.destination
            )));
        }
        match m.kind {
            MountKind::Bind => bind(root_fd.as_fd(), m)?,
            MountKind::Tmpfs => tmpfs(root_fd.as_fd(), m)?,
        }
    }
    Ok(())
}

fn bind(root: BorrowedFd<'_>, m: &MountSpec) -> Result<(), InitError> {
    let source = std::fs::metadata(&m.source)
        .map_err(|e| InitError::setup(format!("bind mount source {}: {e}", m.source.display())))?;
    let want = if source.is_dir() {
        Create::Dir
    } else {
        Create::File
    };
    if m.options.seed_from_image && source.is_dir() {
        super::seed::seed(root, m)?;
    }
    let target = open_in_root(root, &m.destination, Some(want))?;
    let is_dir = file_type(&target, &m.destination)? == SFlag::S_IFDIR;
    if is_dir != source.is_dir() {
        return Err(InitError::setup(format!(
            "cannot bind {} {} onto {} {:?}",
            if source.is_dir() { "directory" } else { "file" },
            m.source.display(),
            if is_dir { "directory" } else { "non-directory" },
            m.destination
        )));
    }
    mount(
        Some(&m.source),
        fd_path(&target).as_str(),
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| {
        sys_err(
            format!("bind {} on {:?}", m.source.display(), m.destination),
            e,
        )
    })?;
    if m.readonly {
        // A bind mount's flags change only by remounting it (mount(2), "Creating a bind
        // mount"); reopening the destination now reaches the new mount, not what it covers.
        // The source's nosuid/nodev/noexec are kept, or the remount would clear them.
        let top = open_in_root(root, &m.destination, None)?;
        let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        if let Ok(vfs) = nix::sys::statvfs::fstatvfs(&top) {
            use nix::sys::statvfs::FsFlags;
            for (has, keep) in [
                (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
                (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
                (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            ] {
                if vfs.flags().contains(has) {
                    flags |= keep;
                }
            }
        }
        mount(
            None::<&str>,
            fd_path(&top).as_str(),
            None::<&str>,
            flags,
            None::<&str>,
        )
        .map_err(|e| sys_err(format!("make {:?} read-only", m.destination), e))?;
    }
    Ok(())
}

/// docker's `--tmpfs` defaults: nosuid, nodev, noexec, mode 1777; `size=`/`mode=` as asked.
fn tmpfs(root: BorrowedFd<'_>, m: &MountSpec) -> Result<(), InitError> {
    let target = open_in_root(root, &m.destination, Some(Create::Dir))?;
    if file_type(&target, &m.destination)? != SFlag::S_IFDIR {
        return Err(InitError::setup(format!(
            "cannot mount tmpfs on {:?}: not a directory",
            m.destination
        )));
    }
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if m.readonly {
        flags |= MsFlags::MS_RDONLY;
    }
    mount(
        Some("tmpfs"),
        fd_path(&target).as_str(),
        Some("tmpfs"),
        flags,
        Some(tmpfs_data(m).as_str()),
    )
    .map_err(|e| sys_err(format!("mount tmpfs on {:?}", m.destination), e))
}

/// The tmpfs mount data (tmpfs(5): `mode=` octal, `size=` bytes).
fn tmpfs_data(m: &MountSpec) -> String {
    let mut data = format!("mode={:o}", m.options.tmpfs_mode.unwrap_or(0o1777));
    if let Some(size) = m.options.tmpfs_size {
        data.push_str(&format!(",size={size}"));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct Root {
        dir: tempfile::TempDir,
        fd: OwnedFd,
    }

    fn root() -> Root {
        let dir = tempfile::tempdir().unwrap();
        let fd = nix::fcntl::open(
            dir.path(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        Root { dir, fd }
    }

    /// Where a descriptor really points, on the host.
    fn real(fd: &OwnedFd) -> std::path::PathBuf {
        std::fs::read_link(fd_path(fd)).unwrap()
    }

    impl Root {
        fn open(&self, path: &str, create: Option<Create>) -> Result<OwnedFd, InitError> {
            open_in_root(self.fd.as_fd(), path, create)
        }
        fn p(&self, rel: &str) -> std::path::PathBuf {
            self.dir.path().join(rel)
        }
    }

    #[test]
    fn plain_paths_resolve_and_missing_parts_are_created() {
        let r = root();
        std::fs::create_dir_all(r.p("etc")).unwrap();
        std::fs::write(r.p("etc/hosts"), "x").unwrap();
        assert_eq!(real(&r.open("/etc/hosts", None).unwrap()), r.p("etc/hosts"));
        assert!(r.open("/etc/missing", None).is_err());

        let fd = r.open("/a/b/c.txt", Some(Create::File)).unwrap();
        assert_eq!(real(&fd), r.p("a/b/c.txt"));
        assert!(r.p("a/b").is_dir() && r.p("a/b/c.txt").is_file());
        let fd = r.open("/data/dir/", Some(Create::Dir)).unwrap();
        assert_eq!(real(&fd), r.p("data/dir"));
        assert!(r.p("data/dir").is_dir());
    }

    #[test]
    fn absolute_symlinks_stay_inside_the_root() {
        let r = root();
        std::fs::create_dir_all(r.p("real/etc")).unwrap();
        symlink("/", r.p("hostroot")).unwrap();
        symlink("/real/etc", r.p("etc")).unwrap();
        // /hostroot/tmp would be the host's /tmp if followed naively.
        let fd = r.open("/hostroot/tmp/x", Some(Create::File)).unwrap();
        assert_eq!(real(&fd), r.p("tmp/x"));
        let fd = r.open("/etc/hostname", Some(Create::File)).unwrap();
        assert_eq!(real(&fd), r.p("real/etc/hostname"));
    }

    #[test]
    fn dot_dot_and_relative_links_are_clamped_to_the_root() {
        let r = root();
        std::fs::create_dir_all(r.p("a")).unwrap();
        symlink("../../../../etc", r.p("a/up")).unwrap();
        let fd = r.open("/a/up/passwd", Some(Create::File)).unwrap();
        assert_eq!(real(&fd), r.p("etc/passwd"));
        let fd = r.open("/../../x", Some(Create::Dir)).unwrap();
        assert_eq!(real(&fd), r.p("x"));
        // A symlink as the last component is followed too, and created at its target.
        symlink("/made/by/link", r.p("last")).unwrap();
        let fd = r.open("/last", Some(Create::File)).unwrap();
        assert_eq!(real(&fd), r.p("made/by/link"));
    }

    #[test]
    fn loops_roots_and_files_in_the_way_are_errors() {
        let r = root();
        symlink("/loop2", r.p("loop1")).unwrap();
        symlink("loop1", r.p("loop2")).unwrap();
        let err = r.open("/loop1/x", Some(Create::File)).unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
        symlink("..", r.p("toroot")).unwrap();
        let err = r.open("/toroot", Some(Create::Dir)).unwrap_err();
        assert!(err.to_string().contains("container's root"), "{err}");
        std::fs::write(r.p("file"), "").unwrap();
        let err = r.open("/file/below", Some(Create::File)).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn split_drops_empty_and_dot_components() {
        let parts: Vec<OsString> = split(OsStr::new("//a/./b//../c/")).into();
        assert_eq!(parts, ["a", "b", "..", "c"]);
    }
}
