//! `berth shim <spec.json>`: creates one container, then monitors it (log, reap, exit record,
//! cgroup removal) in a process that is not the daemon's child and outlives it.
//!
//! Process tree: the daemon runs the shim (A); A forks the monitor (B) and waits for its
//! report; B leaves A's session and stdio, clones the container's init (C) and reports "ok" once
//! C exec'd, or an error after undoing everything. A prints `{"shim_pid":B,"pid":C}` and exits 0,
//! or prints the error on stderr and exits 1 after B is gone. B keeps C's pipes and exit status.
//!
//! No async runtime and no threads: must be entered before the binary starts any thread.

use super::cgroup::{Cgroup, CgroupManager, DevicePolicy, CGROUP_ROOT};
use super::control::ControlServer;
use super::process::{self, Container, StartFailure};
use super::spec::ContainerSpec;
use super::{validate_spec, write_exit_record, ExitRecord, ExitSlot, RuntimeError, Started};
use crate::logs::{LogWriter, Rotation, Stream};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::{fork, pipe2, setsid, ForkResult, Pid};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds the monitor keeps trying to write an exit record it could not write at once.
const EXIT_RECORD_RETRIES: u32 = 600;
/// How long an unterminated line may wait for its end before it is logged as partial.
const PARTIAL_FLUSH_AFTER: Duration = Duration::from_millis(100);
/// The same for a terminal, whose prompts and echoes an attached user waits for.
const TERMINAL_FLUSH_AFTER: Duration = Duration::from_millis(5);
/// Bytes read from a pipe at once: a quarter of a default pipe buffer, so the buffer costs
/// each container little memory while a fast writer still needs only a few reads per fill.
const READ_CHUNK: usize = 16 * 1024;

/// The body of `berth shim <spec_path>`; returns the process exit code.
pub fn main(spec_path: &Path) -> i32 {
    let spec = match load_spec(spec_path) {
        Ok(spec) => spec,
        Err(e) => {
            note!("{e}");
            return 1;
        }
    };
    let (report_r, report_w) = match pipe2(OFlag::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => {
            note!("pipe: {e}");
            return 1;
        }
    };
    // SAFETY: the shim is single-threaded (see the module doc), so the child may run
    // arbitrary code.
    match unsafe { fork() } {
        Err(e) => {
            note!("fork: {e}");
            1
        }
        Ok(ForkResult::Child) => {
            drop(report_r);
            let code = monitor(spec_path, &spec, report_w);
            // SAFETY: end the monitor without running the caller's code after `main`.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(report_w);
            relay(child, report_r)
        }
    }
}

fn load_spec(path: &Path) -> Result<ContainerSpec, RuntimeError> {
    let bytes = std::fs::read(path).map_err(|e| RuntimeError::io("read", path, e))?;
    let spec: ContainerSpec =
        serde_json::from_slice(&bytes).map_err(|source| RuntimeError::Json {
            what: "container spec",
            path: path.to_path_buf(),
            source,
        })?;
    validate_spec(&spec)?;
    Ok(spec)
}

/// A's side: turns the monitor's report into the line the daemon reads.
fn relay(monitor: Pid, report: OwnedFd) -> i32 {
    let mut text = String::new();
    // A read error leaves `text` short, which is handled as "no report" below.
    let _ = File::from(report).read_to_string(&mut text);
    if let Some(pid) = text.strip_prefix("ok ").and_then(|p| p.trim().parse().ok()) {
        let started = Started {
            shim_pid: monitor.as_raw(),
            pid,
        };
        let line = match serde_json::to_string(&started) {
            Ok(line) => line,
            Err(e) => {
                note!("encode report: {e}");
                return 1;
            }
        };
        let mut out = std::io::stdout().lock();
        return match writeln!(out, "{line}").and_then(|()| out.flush()) {
            Ok(()) => 0,
            Err(e) => {
                note!("write report: {e}");
                1
            }
        };
    }
    // The monitor undid everything before reporting the error; wait until it is gone too.
    // Its exit status is the kind of failure (StartFailure), passed on as the shim's.
    let status = wait_status(monitor);
    match text.strip_prefix("err ") {
        Some(message) => {
            note!("{message}");
            match status {
                Some(Status::Exited(code)) => StartFailure::from_exit_code(code).exit_code(),
                _ => 1,
            }
        }
        None => {
            note!("shim exited before reporting ({})", describe(status));
            1
        }
    }
}

/// B: detach, start the container, report, then monitor it until it ends.
fn monitor(spec_path: &Path, spec: &ContainerSpec, report: OwnedFd) -> i32 {
    detach(spec_path, report.as_raw_fd());
    let mut report = File::from(report);
    let exit_slot = ExitSlot::reserve(&spec.exit_path);
    let (mut container, cgroup, mut log) = match start(spec) {
        Ok(started) => started,
        Err((message, failure)) => {
            let _ = write!(report, "err {message}");
            return failure.exit_code();
        }
    };
    // Listening before the report: once the daemon knows the container runs, attach
    // clients can connect.
    let control = control_server(spec, &mut container);
    super::write_started_record(
        spec_path,
        &Started {
            shim_pid: std::process::id() as i32,
            pid: container.pid.as_raw(),
        },
    );
    if write!(report, "ok {}", container.pid).is_err() {
        // The daemon's shim is gone, so nobody will know about this container: undo it.
        let _ = nix::sys::signal::kill(container.pid, nix::sys::signal::Signal::SIGKILL);
    }
    drop(report);

    let pid = container.pid;
    // The set-up's allocations (the spec, cgroup and mount work) are done with: give the
    // freed heap back before settling down for the container's whole life.
    // SAFETY: malloc_trim only releases free memory of this single-threaded process.
    unsafe { libc::malloc_trim(0) };
    let flush_after = match spec.tty {
        true => TERMINAL_FLUSH_AFTER,
        false => PARTIAL_FLUSH_AFTER,
    };
    pump(container, control, &mut log, flush_after);
    let status = wait_status(pid);
    let (exit_code, signal) = match status {
        Some(Status::Exited(code)) => (code, None),
        Some(Status::Signaled(sig)) => (128 + sig, Some(sig)),
        None => (255, None),
    };
    let oom_killed = cgroup.oom_kill_count().unwrap_or_else(|e| {
        note!("berth shim: {e}");
        0
    }) > 0;
    // The cgroup goes before the exit record appears, so a reader that sees the record can
    // rely on the container being entirely gone.
    if let Err(e) = cgroup.kill_all().and_then(|()| cgroup.remove()) {
        note!("berth shim: {e}");
    }
    let record = ExitRecord {
        exit_code,
        signal,
        finished_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
        oom_killed,
    };
    match exit_slot.write(&record) {
        Ok(()) => 0,
        Err(e) => {
            note!("berth shim: {e}");
            // Without the reservation (the disk was full at start too): keep trying for a
            // while, so that the exit is recorded once space is freed.
            for _ in 0..EXIT_RECORD_RETRIES {
                std::thread::sleep(Duration::from_secs(1));
                if write_exit_record(&spec.exit_path, &record).is_ok() {
                    return 0;
                }
            }
            1
        }
    }
}

/// Leaves the daemon's session, stdio and any descriptor it let us inherit (all but `keep`),
/// so neither its terminal, its process group nor its files tie the monitor to it. Its own
/// messages go to `shim.log` beside the spec.
fn detach(spec_path: &Path, keep: RawFd) {
    // Fails only for a process group leader, which a fresh fork child is not.
    let _ = setsid();
    let keep = keep as libc::c_uint;
    // SAFETY: nothing in this fresh single-threaded child owns those descriptors; the std
    // handles it has (stdio) are below 3.
    unsafe {
        if keep > 3 {
            libc::close_range(3, keep - 1, 0);
        }
        libc::close_range(keep + 1, libc::c_uint::MAX, 0);
    }
    let devnull = File::open("/dev/null");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(spec_path.with_file_name("shim.log"));
    let out = log
        .ok()
        .or_else(|| OpenOptions::new().write(true).open("/dev/null").ok());
    // SAFETY: dup2 onto our own standard descriptors; signal() with SIG_IGN.
    unsafe {
        if let Ok(null) = &devnull {
            libc::dup2(null.as_raw_fd(), 0);
        }
        if let Some(out) = &out {
            libc::dup2(out.as_raw_fd(), 1);
            libc::dup2(out.as_raw_fd(), 2);
        }
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    // Do not keep the daemon's working directory busy.
    let _ = std::env::set_current_dir("/");
}

/// Creates the cgroup and the container; on error undoes both and returns the message and
/// the kind of failure.
fn start(spec: &ContainerSpec) -> Result<(Container, Cgroup, LogWriter), (String, StartFailure)> {
    let other = |message: String| (message, StartFailure::Other);
    start_other(spec).map_err(other).and_then(|(cgroup, log)| {
        let undo = |message: String| match cgroup.remove() {
            Ok(()) => message,
            Err(e) => format!("{message} (and {e})"),
        };
        match process::start(spec, &cgroup) {
            Ok(container) => Ok((container, cgroup, log)),
            Err(process::StartError(message, failure)) => Err((undo(message), failure)),
        }
    })
}

/// The part of [`start`] before the container's process: the cgroup (created, limited) and
/// the log.
fn start_other(spec: &ContainerSpec) -> Result<(Cgroup, LogWriter), String> {
    let cgroup =
        Cgroup::open(Path::new(CGROUP_ROOT), &spec.cgroup_path).map_err(|e| e.to_string())?;
    // A record from an earlier run of this container must not be mistaken for this one's.
    match std::fs::remove_file(&spec.exit_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "failed to remove old exit record {}: {e}",
                spec.exit_path.display()
            ))
        }
    }
    let rootfs = &spec.rootfs;
    for dir in [&rootfs.mountpoint, &rootfs.upper, &rootfs.work] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
    }
    let rotation = Rotation {
        max_size: spec.log.max_size,
        max_files: spec.log.max_files,
    };
    let log = LogWriter::open_with(&spec.log_path, rotation).map_err(|e| e.to_string())?;
    let undo = |message: String| match cgroup.remove() {
        Ok(()) => message,
        Err(e) => format!("{message} (and {e})"),
    };
    // Limits are in place before the container is released (process::start): its command
    // never runs unlimited, nor with host devices it may not use.
    let devices = DevicePolicy::for_container(&spec.security, &spec.devices);
    if let Err(e) = cgroup
        .create()
        .and_then(|()| cgroup.apply(&spec.resources))
        .and_then(|()| cgroup.restrict_devices(&devices))
    {
        return Err(undo(e.to_string()));
    }
    Ok((cgroup, log))
}

/// The control socket for attach clients (runtime::control) with the container's stdin and
/// terminal; without one the container runs on and takes no input.
fn control_server(spec: &ContainerSpec, container: &mut Container) -> Option<ControlServer> {
    let path = spec.control_path.as_ref()?;
    let pipe = container.stdin.take();
    let bound = (|| {
        let terminal = match (spec.tty, container.outputs.first()) {
            (true, Some((_, master))) => Some(master.try_clone()?),
            _ => None,
        };
        // With a terminal, input goes to its master; without, into the stdin pipe.
        let stdin = match (&terminal, spec.stdin) {
            (Some(master), true) => Some(master.try_clone()?),
            _ => pipe,
        };
        ControlServer::bind(path, stdin, terminal)
    })();
    match bound {
        Ok(server) => Some(server),
        Err(e) => {
            note!("berth shim: control socket {}: {e}", path.display());
            None
        }
    }
}

/// Copies the container's stdout and stderr (or its terminal's output) into the log until
/// each reaches its end. That happens when the container's init has exited: the pid namespace
/// dies with it, so no descendant can keep a pipe or the terminal's slave open. A terminal's
/// master then reads what is left and fails with EIO (pty(7)): its end of file. Its bytes are
/// logged as they are, "\r\n" included, as docker does.
///
/// Meanwhile `control` takes attach clients' input and resizes.
fn pump(
    container: Container,
    mut control: Option<ControlServer>,
    log: &mut LogWriter,
    flush_after: Duration,
) {
    let mut pipes: Vec<(Stream, OwnedFd)> = container.outputs;
    let mut buf = vec![0u8; READ_CHUNK];
    let mut pending_since: Option<Instant> = None;
    let mut log_failed = false;
    let mut note = |result: std::io::Result<()>| {
        if let Err(e) = result {
            // Keep draining the pipes so the container never blocks on a full one.
            if !log_failed {
                note!("berth shim: {e}");
                log_failed = true;
            }
        }
    };
    while !pipes.is_empty() {
        let timeout = match pending_since {
            None => PollTimeout::NONE,
            Some(since) => {
                let left = flush_after.saturating_sub(since.elapsed());
                PollTimeout::try_from(left).unwrap_or(PollTimeout::ZERO)
            }
        };
        let mut ready: Vec<bool> = {
            let mut fds: Vec<PollFd> = pipes
                .iter()
                .map(|(_, fd)| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
                .collect();
            if let Some(control) = &control {
                fds.extend(control.poll_fds());
            }
            match poll(&mut fds, timeout) {
                Ok(_) => fds
                    .iter()
                    .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                    .collect(),
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    note!("berth shim: poll: {e}");
                    break;
                }
            }
        };
        if let Some(control) = &mut control {
            control.handle(&ready.split_off(pipes.len()));
        }
        let mut closed = Vec::new();
        for (i, (stream, fd)) in pipes.iter().enumerate() {
            if !ready[i] {
                continue;
            }
            match nix::unistd::read(fd, &mut buf) {
                Ok(0) | Err(Errno::EIO) => closed.push(i),
                Ok(n) => note(log.write(*stream, &buf[..n])),
                Err(Errno::EINTR | Errno::EAGAIN) => {}
                Err(e) => {
                    note!("berth shim: read {stream:?}: {e}");
                    closed.push(i);
                }
            }
        }
        for i in closed.into_iter().rev() {
            pipes.remove(i);
        }
        if !log.has_pending() {
            pending_since = None;
        } else {
            let since = *pending_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= flush_after {
                note(log.flush_partial());
                pending_since = None;
            }
        }
    }
    note(log.flush_partial());
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Exited(i32),
    Signaled(i32),
}

/// Waits for a child to end. Raw waitpid, as nix's decoding rejects real-time signals.
pub(crate) fn wait_status(pid: Pid) -> Option<Status> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if r < 0 {
            if Errno::last() == Errno::EINTR {
                continue;
            }
            note!("berth shim: waitpid {pid}: {}", Errno::last());
            return None;
        }
        if libc::WIFEXITED(status) {
            return Some(Status::Exited(libc::WEXITSTATUS(status)));
        }
        if libc::WIFSIGNALED(status) {
            return Some(Status::Signaled(libc::WTERMSIG(status)));
        }
    }
}

fn describe(status: Option<Status>) -> String {
    match status {
        Some(Status::Exited(code)) => format!("exit status {code}"),
        Some(Status::Signaled(sig)) => format!("killed by signal {sig}"),
        None => "status unknown".to_string(),
    }
}
