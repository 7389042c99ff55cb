//! The container's network namespace as it starts: only `lo`, which is brought up.

use super::init::{sys_err, InitError};
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
