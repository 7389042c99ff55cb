//! Device nodes for the `--device` tests: a character major no driver has, and nodes of it
//! made on the host. Opening such a node fails with ENXIO ("No such device or address") once
//! the container's device rules let the open through, and with EPERM when they refuse it, so
//! a test can read the rules from the error alone, with no driver touched.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A character major this kernel has not registered (the "Character devices" part of
/// /proc/devices), from 234-254: the range devices.txt keeps for local and dynamic use.
pub fn free_char_major() -> Option<u32> {
    let devices = std::fs::read_to_string("/proc/devices").ok()?;
    let chars = devices.split("Block devices:").next().unwrap_or_default();
    let taken: Vec<u32> = chars
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    (234..=254).find(|m| !taken.contains(m))
}

/// Makes a character node `major:minor` at `path` with exactly `mode` (no umask) and owner
/// `uid:gid`. Needs root.
pub fn char_node(
    path: &Path,
    major: u32,
    minor: u32,
    mode: u32,
    uid: u32,
    gid: u32,
) -> io::Result<()> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: mknod on a NUL-terminated path with a node type, mode bits and a number.
    if unsafe {
        libc::mknod(
            c_path.as_ptr(),
            libc::S_IFCHR | mode,
            libc::makedev(major, minor),
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
}
