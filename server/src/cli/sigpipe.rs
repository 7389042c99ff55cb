//! A client whose stdout's reader went (`berth ps | head -1`) ends quietly, killed by SIGPIPE
//! as any Unix filter is, instead of panicking in `println!` on EPIPE; an EPIPE on the
//! daemon's socket stays an error the command reports.
//!
//! Rust ignores SIGPIPE, so every broken pipe is an EPIPE error. Restoring the default action
//! would also kill the client when the daemon's socket breaks. So the handler asks which it
//! was: poll(2) reports POLLERR on a pipe's write end once no reader is left (pipe(7)); only
//! then does it restore the default and re-raise. poll, signal and raise are async-signal-safe
//! (signal-safety(7)).

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

extern "C" fn on_sigpipe(_: libc::c_int) {
    let mut out = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: poll on one pollfd we own, with a zero timeout.
    let ready = unsafe { libc::poll(&mut out, 1, 0) };
    if ready == 1 && out.revents & libc::POLLERR != 0 {
        // SAFETY: async-signal-safe calls. SIGPIPE is blocked while this handler runs, so the
        // raised one is delivered, with the default action, as the handler returns.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
}

/// Installs the handler; for client commands only (never the daemon or a shim).
pub fn end_quietly_when_stdout_closes() {
    let action = SigAction::new(
        SigHandler::Handler(on_sigpipe),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only makes async-signal-safe calls.
    if let Err(e) = unsafe { sigaction(Signal::SIGPIPE, &action) } {
        eprintln!("berth: cannot handle SIGPIPE: {e}");
    }
}
