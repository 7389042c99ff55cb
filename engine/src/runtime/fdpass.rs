//! Passing a descriptor with a message over a unix socket (SCM_RIGHTS, unix(7)): the
//! container's init hands its terminal's master to the shim, the exec helper hands its
//! report and terminal to the daemon.

use nix::errno::Errno;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Sends `data` (ancillary data needs at least one byte) with `fd` attached, if any.
pub(crate) fn send(socket: RawFd, data: &[u8], fd: Option<&OwnedFd>) -> Result<(), Errno> {
    let fds: Vec<RawFd> = fd.iter().map(|fd| fd.as_raw_fd()).collect();
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    loop {
        match sendmsg::<()>(
            socket,
            &[IoSlice::new(data)],
            cmsgs,
            MsgFlags::empty(),
            None,
        ) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Receives one message into `buf`: how many bytes came and the first descriptor attached
/// (close-on-exec; any further one is closed). Zero bytes and no descriptor: the peer is gone.
pub(crate) fn receive(socket: RawFd, buf: &mut [u8]) -> Result<(usize, Option<OwnedFd>), Errno> {
    let mut space = nix::cmsg_space!([RawFd; 1]);
    loop {
        let mut iov = [IoSliceMut::new(buf)];
        let msg = match recvmsg::<()>(
            socket,
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => msg,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        };
        let mut received: Vec<OwnedFd> = Vec::new();
        for cmsg in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                // SAFETY: descriptors the kernel just installed for us.
                received.extend(
                    fds.into_iter()
                        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                );
            }
        }
        let bytes = msg.bytes;
        return Ok((bytes, received.into_iter().next()));
    }
}
