//! The container's network namespace as it starts: a new one with only `lo` (brought up here),
//! the host's, or one the engine prepared (joined here).

use super::init::{sys_err, InitError};
use super::spec::NetworkMode;
use nix::errno::Errno;

/// Sets IFF_UP on `lo` (SIOCGIFFLAGS then SIOCSIFFLAGS, netdevice(7)); the kernel assigns
/// 127.0.0.1/8 and ::1 to it by itself once it is up.
pub(crate) fn loopback_up() -> Result<(), InitError> {
    // SAFETY: plain syscalls on a socket we own and a zeroed, correctly sized ifreq.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(sys_err("socket for lo", Errno::last()));
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        let result = if libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req) < 0 {
            Err(sys_err("get flags of lo", Errno::last()))
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &req) < 0 {
                Err(sys_err("bring up lo", Errno::last()))
            } else {
                Ok(())
            }
        };
        libc::close(fd);
        result
    }
}

/// Moves the init into the network namespace the engine prepared (setns(2) with
/// CLONE_NEWNET on the bind-mounted nsfs file); `New` and `Host` need nothing here.
pub(crate) fn join(mode: &NetworkMode) -> Result<(), InitError> {
    let NetworkMode::Join(path) = mode else {
        return Ok(());
    };
    let file = std::fs::File::open(path)
        .map_err(|e| InitError::setup(format!("open network namespace {}: {e}", path.display())))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| sys_err(format!("join network namespace {}", path.display()), e))
}
