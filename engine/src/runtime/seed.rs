//! Seeding a new volume from the image, as docker does: before a volume is mounted over a
//! container path, if the volume is empty, what the image has at that path is copied into it
//! (modes, owners and symlinks kept; the volume's root takes the image directory's owner and
//! mode).
//!
//! The copy runs inside the container's init, from the mounted rootfs, before the volume
//! covers it. That is the simple safe choice: the overlay has already merged the layers
//! (whiteouts and opaque directories applied by the kernel, overlayfs.rst "whiteouts and
//! opaque directories"), so there is no union logic to re-implement; and the walk goes by
//! descriptors, opening every entry with `O_NOFOLLOW` on both sides, so neither a symlink in
//! the image nor one planted in a shared volume can lead the copy out of either tree.
//! Symlinks are copied as symlinks; device nodes and sockets are not copied.

use super::init::{sys_err, InitError};
use super::mounts::open_in_root;
use super::spec::MountSpec;
use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{fchown, fchownat, symlinkat, Gid, Uid};
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// How deep a seeded tree may go (a guard against pathological images, not a real limit).
const MAX_DEPTH: usize = 128;

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Copies the rootfs's directory at `m.destination` into the (host) directory `m.source` if
/// that one is empty. A destination the image does not have, or that is not a directory,
/// leaves the volume as it is.
pub(crate) fn seed(root: BorrowedFd<'_>, m: &MountSpec) -> Result<(), InitError> {
    let fail = |what: &str, e: Errno| {
        sys_err(
            format!(
                "seed volume {} from {:?}: {what}",
                m.source.display(),
                m.destination
            ),
            e,
        )
    };
    let Ok(image_path) = open_in_root(root, &m.destination, None) else {
        return Ok(());
    };
    let Ok(image_dir) = openat(&image_path, ".", DIR_FLAGS, Mode::empty()) else {
        return Ok(());
    };
    let volume = nix::fcntl::open(&m.source, DIR_FLAGS, Mode::empty())
        .map_err(|e| fail("open the volume", e))?;
    if !is_empty(&volume).map_err(|e| fail("list the volume", e))? {
        return Ok(());
    }
    copy_dir(&image_dir, &volume, 0).map_err(|e| fail("copy", e))?;
    let st = fstat(&image_dir).map_err(|e| fail("stat", e))?;
    set_owner_and_mode(&volume, &st).map_err(|e| fail("set the volume's owner", e))
}

fn is_empty(dir: &OwnedFd) -> nix::Result<bool> {
    let mut listing = Dir::openat(dir, ".", DIR_FLAGS, Mode::empty())?;
    for entry in listing.iter() {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            return Ok(false);
        }
    }
    Ok(true)
}

fn set_owner_and_mode(fd: &OwnedFd, st: &FileStat) -> nix::Result<()> {
    fchown(
        fd,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    )?;
    // After chown, which clears set-id bits.
    fchmod(fd, Mode::from_bits_truncate(st.st_mode & 0o7777))
}

fn copy_dir(from: &OwnedFd, to: &OwnedFd, depth: usize) -> nix::Result<()> {
    if depth > MAX_DEPTH {
        return Err(Errno::ELOOP);
    }
    let mut listing = Dir::openat(from, ".", DIR_FLAGS, Mode::empty())?;
    let names: Vec<std::ffi::CString> = listing
        .iter()
        .filter_map(|entry| entry.ok().map(|e| e.file_name().to_owned()))
        .filter(|name| name.as_bytes() != b"." && name.as_bytes() != b"..")
        .collect();
    for name in &names {
        copy_entry(from.as_fd(), to.as_fd(), name, depth)?;
    }
    Ok(())
}

fn copy_entry(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    name: &CStr,
    depth: usize,
) -> nix::Result<()> {
    let st = fstatat(from, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    let owner = (
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    );
    match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFDIR => {
            mkdirat(to, name, Mode::from_bits_truncate(0o700))?;
            let source = openat(from, name, DIR_FLAGS, Mode::empty())?;
            let target = openat(to, name, DIR_FLAGS, Mode::empty())?;
            copy_dir(&source, &target, depth + 1)?;
            set_owner_and_mode(&target, &st)
        }
        SFlag::S_IFREG => {
            let read = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let source = openat(from, name, read, Mode::empty())?;
            let create = OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            let target = openat(to, name, create, Mode::from_bits_truncate(0o600))?;
            let mut reader = std::fs::File::from(source);
            let mut writer = std::fs::File::from(target);
            std::io::copy(&mut reader, &mut writer)
                .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
            let target = OwnedFd::from(writer);
            set_owner_and_mode(&target, &st)
        }
        SFlag::S_IFLNK => {
            let link = readlinkat(from, name)?;
            symlinkat(link.as_os_str(), to, name)?;
            fchownat(to, name, owner.0, owner.1, AtFlags::AT_SYMLINK_NOFOLLOW)
        }
        _ => Ok(()),
    }
}
