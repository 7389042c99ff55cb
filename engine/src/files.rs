//! Traversal-safe reading of a folder tree on the host (a volume's data): list a folder, open
//! a regular file to download it.
//!
//! A client's path is resolved by the kernel with openat2(2) and `RESOLVE_IN_ROOT`: `..`,
//! absolute symbolic links and relative ones all resolve as if the tree's top were `/`, so
//! nothing outside it can be named. The check is the kernel's at the moment of the open, not
//! a string test of the path that a symbolic link swapped in afterwards could defeat.
//! Written here because it is one system call that std does not offer; everything after the
//! open goes through the descriptor (or `/proc/self/fd`, which names the opened folder
//! itself, not its path).

use crate::{Error, Result};
use berth_wire::files::{normalise, FileEntry, FileKind, Listing, MAX_LISTED};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The entries of the folder `path` of the tree at `root`: folders first, then by name, at
/// most [`MAX_LISTED`].
pub fn list(root: &Path, path: &str) -> Result<Listing> {
    let path = normalise(path);
    let dir = open_in(root, &path, libc::O_DIRECTORY)?;
    let proc_path = format!("/proc/self/fd/{}", dir.as_raw_fd());
    let reading = std::fs::read_dir(&proc_path).map_err(|e| failure(&path, e))?;
    let mut entries = Vec::new();
    let mut truncated = false;
    for entry in reading {
        let entry = entry.map_err(|e| failure(&path, e))?;
        if entries.len() == MAX_LISTED {
            truncated = true;
            break;
        }
        // The entry's own metadata (a symbolic link is not followed): fstatat on the
        // opened folder.
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            // Removed between the read and the stat.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(failure(&path, e)),
        };
        let file_type = meta.file_type();
        let kind = if file_type.is_dir() {
            FileKind::Dir
        } else if file_type.is_file() {
            FileKind::File
        } else if file_type.is_symlink() {
            FileKind::Symlink
        } else {
            FileKind::Other
        };
        let link_target = match kind {
            FileKind::Symlink => std::fs::read_link(entry.path())
                .ok()
                .map(|t| t.to_string_lossy().into_owned()),
            _ => None,
        };
        entries.push(FileEntry {
            name: entry.file_name().to_string_lossy().into_owned(),
            kind,
            size: meta.len(),
            mode: meta.mode() & 0o7777,
            modified_ms: meta.mtime().saturating_mul(1000) + meta.mtime_nsec() / 1_000_000,
            link_target,
        });
    }
    entries.sort_by(|a, b| {
        (a.kind != FileKind::Dir, &a.name).cmp(&(b.kind != FileKind::Dir, &b.name))
    });
    Ok(Listing {
        path,
        entries,
        truncated,
    })
}

/// A regular file of the tree at `root`, opened for reading, with its size. Anything else (a
/// folder, a FIFO that would block the reader, a device) is refused.
pub fn open(root: &Path, path: &str) -> Result<(File, u64)> {
    let path = normalise(path);
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it changes nothing for a
    // regular file's reads.
    let fd = open_in(root, &path, libc::O_NONBLOCK)?;
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| failure(&path, e))?;
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!("{path} is not a regular file")));
    }
    Ok((file, meta.len()))
}

/// The kernel's `struct open_how` (openat2(2), linux/openat2.h): its first version, 24 bytes,
/// which every kernel with openat2 takes. (libc's is non-exhaustive, so it cannot be built.)
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `path` (normal, absolute) opened read-only under `root` with `RESOLVE_IN_ROOT`.
fn open_in(root: &Path, path: &str, flags: libc::c_int) -> Result<OwnedFd> {
    let top = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(root)
        .map_err(|e| Error::io("open", root, e))?;
    // Relative to the top; "." names the top itself.
    let relative = match path.trim_start_matches('/') {
        "" => ".",
        rest => rest,
    };
    let name = CString::new(relative)
        .map_err(|_| Error::InvalidInput(format!("{path}: a path cannot hold a NUL byte")))?;
    let how = OpenHow {
        flags: (libc::O_RDONLY | libc::O_CLOEXEC | flags) as u64,
        mode: 0,
        // RESOLVE_NO_MAGICLINKS: a /proc-style link inside the tree leads nowhere.
        resolve: libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: `top` is an open descriptor, `name` a NUL-terminated string and `how` a valid
    // open_how whose size is passed; the kernel writes nothing back.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            top.as_raw_fd(),
            name.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(failure(path, io::Error::last_os_error()));
    }
    // SAFETY: a non-negative return of openat2 is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// An error about `path` in the words a user needs.
fn failure(path: &str, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ENOENT) => Error::not_found("file", path),
        Some(libc::ENOTDIR) => Error::InvalidInput(format!("{path} is not a folder")),
        Some(libc::ELOOP) => Error::InvalidInput(format!("{path}: too many symbolic links")),
        Some(libc::EACCES) | Some(libc::EPERM) => {
            Error::InvalidInput(format!("{path}: permission denied"))
        }
        _ => Error::io("read", path, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// A tree with a folder, a file, links that try to leave it, and a FIFO; and a secret
    /// beside it that no path may reach.
    fn tree() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "outside").unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("etc/sub")).unwrap();
        std::fs::write(root.join("etc/hello.txt"), "hello").unwrap();
        std::fs::write(root.join("secret"), "inside").unwrap();
        symlink("/secret", root.join("etc/absolute")).unwrap();
        symlink("../../../../secret", root.join("etc/climbing")).unwrap();
        symlink(dir.path().join("secret"), root.join("host")).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        (dir, root)
    }

    fn read(root: &Path, path: &str) -> Result<String> {
        let (mut file, _) = open(root, path)?;
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        Ok(text)
    }

    #[test]
    fn a_listing_shows_folders_first_with_kinds_sizes_and_link_targets() {
        let (_dir, root) = tree();
        let listing = list(&root, "/etc").unwrap();
        assert_eq!(listing.path, "/etc");
        let names: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["sub", "absolute", "climbing", "hello.txt"]);
        let hello = &listing.entries[3];
        assert_eq!((hello.kind, hello.size), (FileKind::File, 5));
        assert_eq!(listing.entries[1].kind, FileKind::Symlink);
        assert_eq!(listing.entries[1].link_target.as_deref(), Some("/secret"));
        assert!(!listing.truncated);
        let top = list(&root, "").unwrap();
        assert_eq!(top.path, "/");
        assert!(top
            .entries
            .iter()
            .any(|e| e.name == "fifo" && e.kind == FileKind::Other));
    }

    #[test]
    fn no_path_or_link_reaches_outside_the_tree() {
        let (_dir, root) = tree();
        assert_eq!(read(&root, "/etc/hello.txt").unwrap(), "hello");
        // `..` stops at the top; links resolve inside the tree.
        assert_eq!(read(&root, "/../../secret").unwrap(), "inside");
        assert_eq!(read(&root, "etc/absolute").unwrap(), "inside");
        assert_eq!(read(&root, "etc/climbing").unwrap(), "inside");
        // The host path the link names does not exist inside the tree.
        assert!(matches!(read(&root, "host"), Err(Error::NotFound { .. })));
        assert!(list(&root, "/..")
            .unwrap()
            .entries
            .iter()
            .any(|e| e.name == "etc"));
    }

    #[test]
    fn folders_fifos_and_missing_files_are_refused_in_words() {
        let (_dir, root) = tree();
        let err = open(&root, "/etc").unwrap_err();
        assert_eq!(err.to_string(), "/etc is not a regular file");
        // A FIFO is refused without waiting for a writer.
        let err = open(&root, "/fifo").unwrap_err();
        assert_eq!(err.to_string(), "/fifo is not a regular file");
        let err = list(&root, "/etc/hello.txt").unwrap_err();
        assert_eq!(err.to_string(), "/etc/hello.txt is not a folder");
        assert!(matches!(list(&root, "/nope"), Err(Error::NotFound { .. })));
        assert!(matches!(open(&root, "a\0b"), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn a_huge_folder_is_listed_in_part() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..MAX_LISTED + 3 {
            File::create(dir.path().join(format!("f{i}"))).unwrap();
        }
        let listing = list(dir.path(), "/").unwrap();
        assert_eq!(listing.entries.len(), MAX_LISTED);
        assert!(listing.truncated);
    }
}
