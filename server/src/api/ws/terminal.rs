//! A terminal subscription of `/api/v1/ws`: an exec with a TTY in a running container, its
//! output sent as binary frames of the subscription's id, the client's binary frames as its
//! input, `Resize` as its window size. The exec itself is the engine's (`exec_create`,
//! `exec_start`, as `POST /exec/{id}/start` uses it); this is only the WebSocket adapter.
//!
//! Running a command is an operator's action: a viewer's subscription is refused (403), and
//! every start, refused or not, is written to the audit log. Output is never dropped: when the
//! connection's queue is full the producer waits (the writer drops a client that reads
//! nothing for 30 s). Unsubscribing or closing the connection hangs the terminal up (SIGHUP,
//! as closing a terminal window: a shell exits) and the output is drained until the command
//! ends. (docker leaves an exec's shell running when its client goes; a browser tab closed
//! would leave one shell behind each time.)

use super::outbox::Outbox;
use super::Caller;
use crate::api::ApiError;
use crate::security::write_audit;
use berth_engine::exec::ExecConfig;
use berth_engine::Engine;
use berth_wire::ws::{terminal_frame, EndReason, ServerMsg, TerminalSpec};
use berth_wire::{ErrorCode, Role};
use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

/// Input messages a terminal may have waiting (keystrokes, pastes, resizes).
pub(super) const INPUT_QUEUE: usize = 256;

/// What the client sends a terminal.
#[derive(Debug)]
pub(super) enum TerminalInput {
    Data(Bytes),
    Resize { rows: u16, columns: u16 },
}

/// Runs terminal subscription `id` until its command ends.
pub(super) async fn run(
    engine: Engine,
    caller: Caller,
    id: u32,
    spec: TerminalSpec,
    out: Outbox,
    inputs: mpsc::Receiver<TerminalInput>,
) {
    let TerminalSpec {
        container,
        cmd,
        user,
        working_dir,
        rows,
        columns,
    } = spec;
    let audit = |status: u16| {
        write_audit(
            &caller.security,
            &caller.peer,
            Some(&caller.principal),
            "WS terminal".to_string(),
            Some(container.clone()),
            status,
        )
    };
    if caller.principal.role < Role::Operator {
        audit(ErrorCode::Forbidden.status()).await;
        return out.error(
            Some(id),
            ErrorCode::Forbidden,
            "a terminal needs the operator role",
        );
    }
    let config = ExecConfig {
        cmd: if cmd.is_empty() {
            vec!["/bin/sh".to_string()]
        } else {
            cmd
        },
        user,
        working_dir,
        tty: true,
        attach_stdin: true,
        ..Default::default()
    };
    let started = async {
        let exec_id = engine.containers().exec_create(&container, config).await?;
        let session = engine
            .containers()
            .exec_start(&exec_id, Some((rows, columns)))
            .await?;
        Ok::<_, berth_engine::Error>((exec_id, session))
    };
    let (exec_id, mut session) = match started.await {
        Ok(started) => started,
        Err(e) => {
            let e = ApiError::from(e);
            audit(e.code.status()).await;
            return out.error(Some(id), e.code, e.message);
        }
    };
    audit(201).await;
    let (detached_tx, mut detached) = oneshot::channel();
    let feeder = feed(
        engine.clone(),
        exec_id,
        session.input.take(),
        inputs,
        detached_tx,
    );
    let feeder = tokio::spawn(feeder);
    let mut attached = true;
    loop {
        tokio::select! {
            chunk = session.output.recv() => match chunk {
                Some(chunk) => {
                    if attached && !out.push_binary(terminal_frame(id, &chunk.data)).await {
                        attached = false;
                    }
                }
                None => break,
            },
            _ = &mut detached, if attached => attached = false,
        }
    }
    session.output.close();
    let code = session.wait().await;
    feeder.abort();
    if attached {
        out.control(&ServerMsg::End {
            id,
            reason: EndReason::Finished,
            exit_code: Some(code),
        });
    }
}

/// Writes the client's input into the command and applies its resizes; when the client goes
/// (its sender dropped), closes the command's input and says so on `detached`.
async fn feed(
    engine: Engine,
    exec_id: String,
    mut stdin: Option<Box<dyn tokio::io::AsyncWrite + Send + Unpin>>,
    mut inputs: mpsc::Receiver<TerminalInput>,
    detached: oneshot::Sender<()>,
) {
    while let Some(input) = inputs.recv().await {
        match input {
            TerminalInput::Data(data) => {
                let Some(sink) = stdin.as_mut() else {
                    continue;
                };
                if sink.write_all(&data).await.is_err() || sink.flush().await.is_err() {
                    // The command closed its input: what follows has nowhere to go.
                    stdin = None;
                }
            }
            TerminalInput::Resize { rows, columns } => {
                if let Err(e) = engine.containers().exec_resize(&exec_id, rows, columns) {
                    tracing::debug!(exec = %exec_id, "terminal resize: {e}");
                }
            }
        }
    }
    if let Some(mut sink) = stdin {
        let _ = sink.shutdown().await;
    }
    // A terminal's input has no end of file to close: the client going is a hang-up.
    if let Err(e) = engine.containers().exec_hangup(&exec_id) {
        tracing::debug!(exec = %exec_id, "terminal hang-up: {e}");
    }
    let _ = detached.send(());
}
