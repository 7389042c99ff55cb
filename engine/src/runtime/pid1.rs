//! `--init`: the container's init forks; the child goes on to exec the command while the
//! parent stays behind as PID 1, reaping every zombie of the container and passing signals on
//! to the command, and exits with the command's status when the command ends.
//!
//! A PID 1 only receives the signals it has a handler for or blocks (pid_namespaces(7),
//! "The namespace init process"; a blocked signal is never discarded as ignored), so the init
//! blocks the signals it forwards and takes them with sigwaitinfo(2).

use super::capabilities;
use super::init::{sys_err, InitError};
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::{fork, ForkResult, Pid};

/// Signals the init never forwards: its own SIGCHLD, the two that cannot be caught, and the
/// synchronous fault signals, which concern the init itself.
const NOT_FORWARDED: [libc::c_int; 9] = [
    libc::SIGCHLD,
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGSYS,
];

/// Whether the init passes `sig` on to the command.
pub(crate) fn forwards(sig: libc::c_int) -> bool {
    (1..=libc::SIGRTMAX()).contains(&sig) && !NOT_FORWARDED.contains(&sig)
}

/// The signals the init waits for: every forwarded one and SIGCHLD. glibc keeps the two
/// real-time signals it reserves for itself out of any set, which is fine: nobody can send
/// them to a process through glibc either.
fn waited_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the zeroed set; sigaddset adds numbers to a set we own
    // (and refuses glibc's reserved ones).
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in 1..=libc::SIGRTMAX() {
            if forwards(sig) || sig == libc::SIGCHLD {
                libc::sigaddset(&mut set, sig);
            }
        }
        set
    }
}

/// Forks the command off. Returns in the child, which must exec the command (its signal
/// mask is still the init's: the caller resets it). The parent never returns: it becomes the
/// container's PID 1 and exits with the command's status. The init closes every descriptor
/// but stdio, among them its copy of the error pipe, so that a successful exec of the command
/// still reads as EOF to the shim.
pub(crate) fn fork_command() -> Result<(), InitError> {
    let waited = waited_set();
    // Blocked before the fork, so no signal or SIGCHLD between fork and sigwaitinfo is lost.
    // SAFETY: a valid, initialised set.
    if unsafe { libc::sigprocmask(libc::SIG_BLOCK, &waited, std::ptr::null_mut()) } < 0 {
        return Err(sys_err("block signals for the init", Errno::last()));
    }
    // SAFETY: the container's init is single-threaded (a clone of the single-threaded shim).
    match unsafe { fork() }.map_err(|e| sys_err("fork the command", e))? {
        ForkResult::Child => Ok(()),
        ForkResult::Parent { child } => become_init(child, &waited),
    }
}

fn become_init(command: Pid, waited: &libc::sigset_t) -> ! {
    // SAFETY: closes every descriptor but stdio (the error and sync pipes among them); prctl
    // with integer or static string arguments only.
    unsafe {
        libc::close_range(3, libc::c_uint::MAX, 0);
        // Unlike the command, the init stays a copy of the shim: keep the container from
        // reading its memory or reaching the host's binary through /proc/1/exe (ptrace
        // access checks fail for a non-dumpable process without CAP_SYS_PTRACE).
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0);
        libc::prctl(libc::PR_SET_NAME, c"init".as_ptr(), 0, 0, 0);
    }
    // The init needs none: it waits for its children and signals a process of its own user.
    let _ = capabilities::drop_all();
    let code = supervise(command, waited);
    // SAFETY: ends the init without running any of the shim's exit-time code.
    unsafe { libc::_exit(code) }
}

/// Forwards signals to `command` and reaps children until `command` has ended; returns the
/// exit code the init should end with (128 + signal for a killed command, like a shell).
fn supervise(command: Pid, waited: &libc::sigset_t) -> i32 {
    loop {
        // SAFETY: waiting on a valid set with no siginfo wanted.
        let sig = unsafe { libc::sigwaitinfo(waited, std::ptr::null_mut()) };
        if sig < 0 {
            if Errno::last() == Errno::EINTR {
                continue;
            }
            // Cannot wait for signals: fall back to plain reaping until the command ends.
            return reap_blocking(command);
        }
        if sig == libc::SIGCHLD {
            if let Some(code) = reap_all(command) {
                return code;
            }
        } else if let Ok(signal) = Signal::try_from(sig) {
            let _ = kill(command, signal);
        } else {
            // Real-time signals have no nix `Signal`.
            // SAFETY: kill with a pid and a signal number.
            unsafe { libc::kill(command.as_raw(), sig) };
        }
    }
}

/// Reaps every child that has ended; `Some(exit code)` once `command` is among them.
fn reap_all(command: Pid) -> Option<i32> {
    let mut result = None;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        if pid <= 0 {
            return result;
        }
        if pid == command.as_raw() {
            result = Some(exit_code(status));
        }
    }
}

fn reap_blocking(command: Pid) -> i32 {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == command.as_raw() {
            return exit_code(status);
        }
        if pid < 0 && Errno::last() != Errno::EINTR {
            return 255;
        }
    }
}

fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        255
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_control_and_user_signals_are_forwarded_but_not_faults() {
        for sig in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGWINCH,
            libc::SIGCONT,
            libc::SIGTSTP,
            libc::SIGRTMIN() + 1,
        ] {
            assert!(forwards(sig), "{sig}");
        }
        for sig in [0, libc::SIGCHLD, libc::SIGKILL, libc::SIGSEGV, 65] {
            assert!(!forwards(sig), "{sig}");
        }
    }

    #[test]
    fn the_waited_set_holds_sigchld_and_forwarded_signals() {
        let set = waited_set();
        // SAFETY: membership tests on an initialised set.
        let has = |sig| unsafe { libc::sigismember(&set, sig) } == 1;
        assert!(has(libc::SIGCHLD) && has(libc::SIGTERM) && has(libc::SIGRTMAX()));
        assert!(!has(libc::SIGSEGV) && !has(libc::SIGKILL));
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        // Encodings from wait(2): exit status in the second byte, signal in the low bits.
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(libc::SIGTERM), 143);
    }
}
