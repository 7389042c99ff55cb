//! Output sessions: a container's log followed to its exit, with the exit code at the end, for
//! every adapter that streams a container's output (the hijacked attach, the output-only
//! attach, the dashboard's WebSocket). The rules live here, once:
//! - the exit is subscribed *before* the log is opened, so an exit between the two is never
//!   missed (a follower that ended then finds the exit code waiting);
//! - `start` of a container that never ran follows its log from the first line; of one that
//!   ran before, from the moment of this start, so the old run's output and exit are not
//!   this one's (docker's `start -a` shows only the new run);
//! - a start refused leaves nothing subscribed.

use super::{Containers, ExitWaiter};
use crate::attach::AttachInput;
use crate::container::{ContainerState, LogFollower, LogOptions};
use crate::{Error, Result};

/// A container's output from some point on, and its exit.
pub struct OutputSession {
    pub follower: LogFollower,
    pub exit: ExitWaiter,
}

/// What an attach asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttachRequest {
    /// Start the container once attached (`run`, `start -a`).
    pub start: bool,
    /// Send the client's input to the container's stdin (when it keeps one open).
    pub stdin: bool,
    /// Output only (docker's attach without a hijacked connection): the whole log, no input,
    /// and a container that is not running is no error (its log and exit code are shown).
    pub output_only: bool,
    /// The client's terminal size (rows, columns), given to a container with a terminal.
    pub size: Option<(u16, u16)>,
}

/// An attached client: the output to relay and, maybe, the way into the container's stdin.
pub struct AttachSession {
    pub output: OutputSession,
    /// `None` when no input was asked, the container keeps no stdin open, or its command was
    /// over before the input could be reached.
    pub input: Option<AttachInput>,
}

impl OutputSession {
    /// The exit code once the container has exited (after its output was all read).
    pub async fn exit_code(self) -> Result<i32> {
        self.exit.wait().await
    }
}

impl Containers {
    /// Follows `key`'s log with `options` (`follow` is forced) until it exits.
    pub async fn follow_output(&self, key: &str, options: LogOptions) -> Result<OutputSession> {
        // The exit first: see the module's rules.
        let exit = self.exit_waiter(key).await?;
        let follower = self
            .logs(
                key,
                LogOptions {
                    follow: true,
                    ..options
                },
            )
            .await?;
        Ok(OutputSession { follower, exit })
    }

    /// Attaches a client as `request` says, starting the container if asked.
    pub async fn attach_session(&self, key: &str, request: AttachRequest) -> Result<AttachSession> {
        let from_now = |since| LogOptions {
            since,
            tail: since.is_none().then_some(0),
            ..Default::default()
        };
        let session = if request.output_only {
            let output = self.follow_output(key, LogOptions::default()).await?;
            if request.start {
                self.start(key).await?;
            }
            AttachSession {
                output,
                input: None,
            }
        } else if request.start {
            let fresh = self.container(key).await?.state == ContainerState::Created;
            let since = crate::logs::now_ns();
            // A container that never ran: everything it will print is this run's.
            let early = match fresh {
                true => Some(self.follow_output(key, LogOptions::default()).await?),
                false => None,
            };
            self.start(key).await?;
            let output = match early {
                Some(early) => early,
                None => self.follow_output(key, from_now(Some(since))).await?,
            };
            // A command that is over already takes no input; its output is still shown.
            let input = match self.attach(key, request.stdin).await {
                Ok(attached) => attached.input,
                Err(Error::Conflict(_) | Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            AttachSession { output, input }
        } else {
            let attached = self.attach(key, request.stdin).await?;
            let output = self.follow_output(key, from_now(None)).await?;
            AttachSession {
                output,
                input: attached.input,
            }
        };
        if let Some((rows, columns)) = request.size {
            // Only a container with a terminal has a size; a failure here is not the attach's.
            let _ = self.resize(key, rows, columns).await;
        }
        Ok(session)
    }
}
