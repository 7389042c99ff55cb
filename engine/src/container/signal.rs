//! Signals to a container's init by its pidfd, after checking that the pid still belongs to
//! the container: a stored pid may have been reused by another process once the init died.

use crate::{Error, Result};
use nix::sys::signal::Signal;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::io::AsRawFd;

/// Sends `signal` to process `pid` if it is still in container `id`'s cgroup; a process that
/// has gone (or a pid now reused outside the container) is not signalled and is no error.
///
/// The pidfd pins the process first (pidfd_open(2)), then its cgroup is read: a pid reused
/// between the two would show another cgroup, and pidfd_send_signal(2) reaches only the
/// pinned process, never a newer one with the same number.
pub(crate) fn signal_container(pid: i64, id: &str, signal: Signal) -> Result<()> {
    signal_checked(pid, id, signal, false)
}

/// [`signal_container`] to the process group `pid` leads (an exec's command, which leads its
/// own session): the command and whatever it started. The group's id cannot be reused
/// while the leader, pinned by the pidfd when it was checked, or any member lives.
pub(crate) fn signal_container_group(pid: i64, id: &str, signal: Signal) -> Result<()> {
    signal_checked(pid, id, signal, true)
}

fn signal_checked(pid: i64, id: &str, signal: Signal, group: bool) -> Result<()> {
    let Ok(raw) = i32::try_from(pid) else {
        return Ok(());
    };
    if raw <= 0 {
        return Ok(());
    }
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
    if fd < 0 {
        return match nix::errno::Errno::last() {
            nix::errno::Errno::ESRCH => Ok(()),
            e => Err(Error::Conflict(format!("cannot open process {pid}: {e}"))),
        };
    }
    // SAFETY: the syscall succeeded: `fd` is a new descriptor that we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let cgroups = match std::fs::read_to_string(format!("/proc/{raw}/cgroup")) {
        Ok(text) => text,
        // Gone since the pidfd was opened.
        Err(_) => return Ok(()),
    };
    if !in_container_cgroup(&cgroups, id) {
        tracing::warn!(pid, container = %id, "pid is no longer the container's: not signalled");
        return Ok(());
    }
    if group {
        return match nix::sys::signal::killpg(nix::unistd::Pid::from_raw(raw), signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(e) => Err(Error::Conflict(format!(
                "cannot signal process group {pid}: {e}"
            ))),
        };
    }
    // SAFETY: pidfd_send_signal(2) with our pidfd, a valid signal, no siginfo and no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    match r {
        0 => Ok(()),
        _ => match nix::errno::Errno::last() {
            nix::errno::Errno::ESRCH => Ok(()),
            e => Err(Error::Conflict(format!("cannot signal process {pid}: {e}"))),
        },
    }
}

/// Whether a `/proc/PID/cgroup` text puts the process in container `id`'s cgroup (or one
/// below it), on any hierarchy: v1 lines `N:controllers:/path`, the v2 line `0::/path`.
fn in_container_cgroup(text: &str, id: &str) -> bool {
    text.lines().any(|line| {
        let path = line.splitn(3, ':').nth(2).unwrap_or_default();
        path.split('/').any(|part| part == id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup_must_name_the_container() {
        let id = "a".repeat(64);
        let v1 = format!("12:memory:/berth/{id}\n11:pids:/berth/{id}\n");
        let v2 = format!("0::/berth/{id}/init.scope\n");
        assert!(in_container_cgroup(&v1, &id));
        assert!(in_container_cgroup(&v2, &id));
        assert!(!in_container_cgroup(
            "0::/user.slice/session-3.scope\n",
            &id
        ));
        assert!(!in_container_cgroup(&format!("0::/berth/{id}x\n"), &id));
        assert!(!in_container_cgroup("", &id));
    }

    #[test]
    fn a_process_outside_the_container_is_not_signalled() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let pid = child.id() as i64;
        signal_container(pid, &"b".repeat(64), Signal::SIGKILL).expect("no error");
        assert!(child.try_wait().expect("wait").is_none(), "still running");
        child.kill().expect("kill");
        child.wait().expect("reap");
        // A pid that no longer exists is no error either.
        signal_container(pid, &"b".repeat(64), Signal::SIGKILL).expect("gone");
        signal_container(0, "x", Signal::SIGKILL).expect("no pid");
    }
}
