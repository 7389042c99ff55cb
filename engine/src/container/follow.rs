//! Reading a container's log for `logs`, `logs --follow` and attach: records in batches, from
//! the start or the last N lines, following the file until the container has exited.

use super::monitor::Status;
use super::ContainerState;
use crate::logs::{LogReader, LogRecord};
use crate::{Error, Result};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

const BATCH: usize = 1024;
const POLL: Duration = Duration::from_millis(25);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep reading new lines until the container exits.
    pub follow: bool,
    /// Only the last N lines (then follow, if asked).
    pub tail: Option<usize>,
}

/// Batches of log records, oldest first; ends after the last record.
pub struct LogFollower {
    rx: mpsc::Receiver<Result<Vec<LogRecord>>>,
}

impl LogFollower {
    /// The next batch, or `None` at the end of the log (or when the container has exited,
    /// when following).
    pub async fn next_batch(&mut self) -> Option<Result<Vec<LogRecord>>> {
        self.rx.recv().await
    }

    pub(crate) fn start(
        path: PathBuf,
        options: LogOptions,
        status: watch::Receiver<Status>,
    ) -> Result<Self> {
        let reader = LogReader::open(&path).map_err(|e| Error::io("open log", &path, e))?;
        let (tx, rx) = mpsc::channel(8);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = pump(reader, &path, &options, &status, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        Ok(LogFollower { rx })
    }
}

/// Runs on a blocking thread; returns when the log is done or the receiver went away.
fn pump(
    mut reader: LogReader,
    path: &std::path::Path,
    options: &LogOptions,
    status: &watch::Receiver<Status>,
    tx: &mpsc::Sender<Result<Vec<LogRecord>>>,
) -> Result<()> {
    let read = |reader: &mut LogReader| -> Result<Option<LogRecord>> {
        reader.next_record().map_err(|e| Error::io("read log", path, e))
    };
    if let Some(n) = options.tail {
        let mut last: VecDeque<LogRecord> = VecDeque::with_capacity(n.min(BATCH * 16));
        while let Some(record) = read(&mut reader)? {
            if n == 0 {
                continue;
            }
            if last.len() == n {
                last.pop_front();
            }
            last.push_back(record);
        }
        let last: Vec<LogRecord> = last.into();
        for chunk in last.chunks(BATCH) {
            if tx.blocking_send(Ok(chunk.to_vec())).is_err() {
                return Ok(());
            }
        }
    }
    loop {
        let finished = {
            let now = status.borrow();
            now.removed || now.state == ContainerState::Exited
        };
        // Drain what is there now; after the container has exited this is the last drain,
        // since the shim publishes the exit only after writing the whole log.
        let mut batch = Vec::new();
        while let Some(record) = read(&mut reader)? {
            batch.push(record);
            if batch.len() == BATCH {
                if tx.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
            return Ok(());
        }
        if !options.follow || finished || tx.is_closed() {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
}
