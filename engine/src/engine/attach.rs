//! `attach` and `resize` on the engine: a running container's input and terminal size, with
//! docker's rules and messages (its output is its log, followed by the adapter).

use super::Containers;
use crate::attach::AttachInput;
use crate::container::{ContainerRow, ContainerState};
use crate::runtime::control::SOCKET_NAME;
use crate::{Error, Result};

/// A client attached to a running container.
pub struct Attached {
    pub id: String,
    /// The container has a terminal: its output is one raw stream.
    pub tty: bool,
    /// Where the client's input goes; `None` when the container was created without `-i`
    /// or the client sends none.
    pub input: Option<AttachInput>,
}

impl Containers {
    /// Attaches to a running container, with its stdin when `stdin` is asked and the
    /// container keeps one open. Emits `attach`.
    pub async fn attach(&self, key: &str, stdin: bool) -> Result<Attached> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        attachable(&row)?;
        let config = row.config()?;
        let input = match stdin && config.open_stdin {
            true => {
                let path = self.container_dir(&row.id).join(SOCKET_NAME);
                Some(AttachInput::connect(&path, config.stdin_once).map_err(|e| {
                    Error::Conflict(format!(
                        "cannot reach the input of container {}: {e}",
                        row.name
                    ))
                })?)
            }
            false => None,
        };
        self.inner.events.container(&row, "attach", &[]);
        Ok(Attached {
            id: row.id,
            tty: config.tty,
            input,
        })
    }

    /// Sets the terminal size of a running container created with `-t`.
    pub async fn resize(&self, key: &str, rows: u16, columns: u16) -> Result<()> {
        if rows == 0 || columns == 0 {
            return Err(Error::InvalidInput(format!(
                "invalid terminal size {rows}x{columns}"
            )));
        }
        let row = ContainerRow::find(&self.inner.db, key).await?;
        if row.state()? != ContainerState::Running {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                row.name
            )));
        }
        if !row.config()?.tty {
            return Err(Error::Conflict(format!(
                "container {} has no terminal (it was created without -t)",
                row.name
            )));
        }
        let path = self.container_dir(&row.id).join(SOCKET_NAME);
        let resized = async {
            let mut input = AttachInput::connect(&path, false)?;
            input.resize(rows, columns).await
        };
        resized.await.map_err(|e| {
            Error::Conflict(format!(
                "cannot resize the terminal of container {}: {e}",
                row.name
            ))
        })
    }
}

/// docker's answers for a container that cannot be attached to.
fn attachable(row: &ContainerRow) -> Result<()> {
    match row.state()? {
        ContainerState::Running => Ok(()),
        ContainerState::Paused => Err(Error::Conflict(
            "You cannot attach to a paused container, unpause it first".to_string(),
        )),
        _ => Err(Error::Conflict(
            "You cannot attach to a stopped container, start it first".to_string(),
        )),
    }
}
