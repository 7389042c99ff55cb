//! Exec instances: processes run inside a running container (`berth exec`), tracked in memory
//! as docker tracks them (id, container, command, running, exit code, pid), and the session
//! of a started one: an input sink, an output stream, resize and wait, with no transport in
//! it (the HTTP upgrade of the CLI and the dashboard's WebSocket both sit on top).

use crate::logs::Stream;
use crate::runtime::exec::{self as helper, Report};
use crate::{Error, Result};
use bytes::Bytes;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{mpsc, watch};

pub use berth_wire::exec::{ExecConfig, ExecInspect, ProcessConfig};

/// One chunk of the command's output.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecOutput {
    /// With a terminal everything is `Stdout`.
    pub stream: Stream,
    pub data: Bytes,
}

/// A started exec: feed `input`, read `output` to its end, then `wait` for the exit code.
/// Dropping the input closes the command's stdin (without a terminal: its end of file).
/// Dropping the session leaves the command running; its output is then discarded.
pub struct ExecSession {
    pub id: String,
    pub tty: bool,
    pub input: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    pub output: mpsc::Receiver<ExecOutput>,
    exit: watch::Receiver<Option<i32>>,
}

impl ExecSession {
    /// Becomes `Some(exit code)` when the command has ended.
    pub(crate) fn exit_watch(&self) -> watch::Receiver<Option<i32>> {
        self.exit.clone()
    }

    /// The command's exit code (128 + signal when killed) once it has ended.
    pub async fn wait(&mut self) -> i32 {
        match self.exit.wait_for(|code| code.is_some()).await {
            Ok(code) => code.unwrap_or(255),
            Err(_) => 255,
        }
    }
}

/// Every exec instance of this daemon, by id.
#[derive(Default)]
pub(crate) struct ExecStore {
    instances: Mutex<HashMap<String, Arc<Instance>>>,
}

pub(crate) struct Instance {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    started: bool,
    running: bool,
    exit_code: Option<i32>,
    pid: i32,
    /// The terminal's master while the command runs, for resizing.
    terminal: Option<Arc<OwnedFd>>,
}

impl ExecStore {
    pub fn insert(&self, instance: Instance) -> Arc<Instance> {
        let instance = Arc::new(instance);
        self.lock().insert(instance.id.clone(), instance.clone());
        instance
    }

    pub fn get(&self, id: &str) -> Result<Arc<Instance>> {
        self.lock()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found("exec instance", id))
    }

    /// Forgets one instance (a health probe's, once it has ended).
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Forgets the instances of a removed container.
    pub fn forget_container(&self, container_id: &str) {
        self.lock().retain(|_, i| i.container_id != container_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Instance>>> {
        self.instances.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Instance {
    pub fn new(id: String, container_id: String, config: ExecConfig) -> Instance {
        Instance {
            id,
            container_id,
            config,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks it started; an instance starts once (docker: "is already running"/"has ended").
    pub fn claim(&self) -> Result<()> {
        let mut state = self.state();
        if state.started {
            return Err(Error::Conflict(format!(
                "exec instance {} has already been started",
                self.id
            )));
        }
        state.started = true;
        Ok(())
    }

    pub fn inspect(&self) -> ExecInspect {
        let state = self.state();
        let mut args = self.config.cmd.iter();
        ExecInspect {
            id: self.id.clone(),
            running: state.running,
            exit_code: state.exit_code,
            process_config: ProcessConfig {
                tty: self.config.tty,
                entrypoint: args.next().cloned().unwrap_or_default(),
                arguments: args.cloned().collect(),
                privileged: self.config.privileged,
                user: self.config.user.clone().unwrap_or_default(),
            },
            open_stdin: self.config.attach_stdin,
            open_stdout: true,
            open_stderr: true,
            container_id: self.container_id.clone(),
            pid: state.pid,
        }
    }

    /// TIOCSWINSZ on the terminal of a running exec with `-t`.
    pub fn resize(&self, rows: u16, columns: u16) -> Result<()> {
        let terminal = self.state().terminal.clone().ok_or_else(|| {
            Error::Conflict(format!("exec instance {} has no running terminal", self.id))
        })?;
        helper::resize_terminal(&terminal, rows, columns)
            .map_err(|e| Error::Conflict(format!("cannot resize the terminal: {e}")))
    }

    /// Hangs up a running exec's terminal, as closing a terminal window does (termios(3)):
    /// SIGHUP to the terminal's foreground process group and to the command. Nothing when it
    /// has ended or has no terminal. Sent under the state's lock, which the exit is recorded
    /// under, so the command's pid is not a recycled one.
    pub fn hangup(&self) {
        use nix::sys::signal::{kill, killpg, Signal};
        let state = self.state();
        let Some(terminal) = state.terminal.as_ref().filter(|_| state.running) else {
            return;
        };
        if let Ok(group) = nix::unistd::tcgetpgrp(terminal.as_ref()) {
            let _ = killpg(group, Signal::SIGHUP);
        }
        if state.pid > 0 {
            let _ = kill(nix::unistd::Pid::from_raw(state.pid), Signal::SIGHUP);
        }
    }

    /// Ends an instance that could not be set up (e.g. an unknown user) with `code`, as if
    /// it had been started and failed: inspect shows its exit code, a second start refuses.
    pub fn refuse(&self, code: i32) {
        let mut state = self.state();
        state.started = true;
        state.exit_code = Some(code);
        state.running = false;
    }

    fn failed(&self, code: i32) {
        let mut state = self.state();
        state.exit_code = Some(code);
        state.running = false;
    }
}

/// Output chunks buffered between the command and a slow reader.
const OUTPUT_QUEUE: usize = 64;

/// Runs `<program> shim-exec <spec_path>` for `instance` and returns its session once the command
/// was exec'd; on failure the instance records the exit code (126/127) and the message is
/// the error.
pub(crate) async fn start(
    instance: Arc<Instance>,
    program: &Path,
    spec_path: &Path,
) -> Result<ExecSession> {
    let tty = instance.config.tty;
    let (command, report) = helper::command(program, spec_path)
        .map_err(|e| Error::Conflict(format!("cannot start the exec helper: {e}")))?;
    let mut command = tokio::process::Command::from(command);
    let piped = |on: bool| if on { Stdio::piped() } else { Stdio::null() };
    command
        .stdin(piped(!tty && instance.config.attach_stdin))
        .stdout(piped(!tty))
        .stderr(piped(!tty));
    let spawned = command.spawn();
    // The helper's end of the report socket lives in the command's pre-exec hook.
    drop(command);
    let mut child = spawned.map_err(|e| {
        instance.failed(126);
        Error::Conflict(format!("cannot run {}: {e}", program.display()))
    })?;
    let report = tokio::task::spawn_blocking(move || helper::read_report(&report))
        .await
        .map_err(|e| Error::Conflict(format!("exec was interrupted: {e}")))?;
    let (pid, terminal) = match report {
        Report::Started { pid, terminal } => (pid, terminal.map(Arc::new)),
        Report::Failed { code, message } => {
            let _ = child.wait().await;
            instance.failed(code);
            return Err(Error::Conflict(message));
        }
    };
    {
        let mut state = instance.state();
        state.running = true;
        state.pid = pid;
        state.terminal = terminal.clone();
    }

    let (tx, output) = mpsc::channel(OUTPUT_QUEUE);
    let mut input: Option<Box<dyn AsyncWrite + Send + Unpin>> = None;
    match &terminal {
        Some(master) => {
            let dup = |fd: &OwnedFd| {
                fd.try_clone()
                    .map(|fd| tokio::fs::File::from_std(std::fs::File::from(fd)))
                    .map_err(|e| Error::Conflict(format!("duplicate the terminal: {e}")))
            };
            pump(dup(master)?, Stream::Stdout, tx);
            if instance.config.attach_stdin {
                input = Some(Box::new(dup(master)?));
            }
        }
        None => {
            if let Some(stdout) = child.stdout.take() {
                pump(stdout, Stream::Stdout, tx.clone());
            }
            if let Some(stderr) = child.stderr.take() {
                pump(stderr, Stream::Stderr, tx);
            }
            if let Some(stdin) = child.stdin.take() {
                input = Some(Box::new(stdin));
            }
        }
    }
    let (exit_tx, exit) = watch::channel(None);
    let waited = instance.clone();
    tokio::spawn(async move {
        let code = match child.wait().await {
            Ok(status) => exit_code(status),
            Err(e) => {
                tracing::warn!(exec = %waited.id, "waiting for the exec helper: {e}");
                255
            }
        };
        {
            let mut state = waited.state();
            state.running = false;
            state.exit_code = Some(code);
            state.terminal = None;
        }
        let _ = exit_tx.send(Some(code));
    });
    Ok(ExecSession {
        id: instance.id.clone(),
        tty,
        input,
        output,
        exit,
    })
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(255)
}

/// Copies `reader` into `tx` until its end; a terminal's master reports its end as EIO
/// (pty(7)). When nobody reads any more the output is drained and dropped, so the command
/// never blocks on a full pipe.
fn pump(
    mut reader: impl AsyncRead + Send + Unpin + 'static,
    stream: Stream,
    tx: mpsc::Sender<ExecOutput>,
) {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut listening = true;
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if listening {
                let chunk = ExecOutput {
                    stream,
                    data: Bytes::copy_from_slice(&buf[..n]),
                };
                listening = tx.send(chunk).await.is_ok();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_splits_the_command_and_starts_once() {
        let config = ExecConfig {
            cmd: vec!["sh".into(), "-c".into(), "exit 7".into()],
            user: Some("nobody".into()),
            tty: true,
            ..Default::default()
        };
        let instance = Instance::new("e1".into(), "c1".into(), config);
        let inspect = instance.inspect();
        assert_eq!(inspect.process_config.entrypoint, "sh");
        assert_eq!(inspect.process_config.arguments, vec!["-c", "exit 7"]);
        assert!(!inspect.running);
        assert_eq!(inspect.exit_code, None);
        instance.claim().unwrap();
        assert!(instance.claim().is_err());
        assert!(instance.resize(10, 10).is_err(), "no terminal yet");
        instance.failed(127);
        assert_eq!(instance.inspect().exit_code, Some(127));
        let json = serde_json::to_value(instance.inspect()).unwrap();
        assert_eq!(json["ID"], "e1");
        assert_eq!(json["ContainerID"], "c1");
        assert_eq!(json["ProcessConfig"]["tty"], true);
    }

    #[test]
    fn the_store_forgets_a_removed_containers_instances() {
        let store = ExecStore::default();
        store.insert(Instance::new(
            "a".into(),
            "c1".into(),
            ExecConfig::default(),
        ));
        store.insert(Instance::new(
            "b".into(),
            "c2".into(),
            ExecConfig::default(),
        ));
        store.forget_container("c1");
        assert!(store.get("a").is_err());
        assert!(store.get("b").is_ok());
    }
}
