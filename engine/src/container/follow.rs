//! Reading a container's log for `logs`, `logs --follow` and attach: records in batches, across
//! rotated files, from the start, the last N lines or a time, following the log until the
//! container has exited (or `until` has passed).

use super::monitor::Status;
use super::ContainerState;
use crate::logs::{LogPos, LogReader, LogRecord, ReadOptions};
use crate::{Error, Result};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::{mpsc, watch};

/// Records per batch. A follower holds up to three batches (one being built, one read
/// ahead, one being sent), so this is most of what a follower costs: with 1024, 100 followers
/// of a fast log grew the daemon by 67 MiB; with 256, by 40–45 MiB at the same lines/s
/// (`scripts/bench.sh fanout`).
const BATCH: usize = 256;
/// Batches a follower reads ahead of its consumer.
const READ_AHEAD: usize = 1;
/// How often a follower looks at the log when it cannot be woken by inotify, or has an `until`.
const POLL: Duration = Duration::from_millis(25);
/// How often a woken-by-inotify follower looks anyway (a missed event costs at most this).
const IDLE_RECHECK: Duration = Duration::from_secs(1);
/// How long after `until` a follower still waits for records stamped before it: the shim
/// stamps a line when it reads it, and holds an unterminated one for up to 100 ms.
const UNTIL_GRACE_NS: i64 = 250_000_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep reading new lines until the container exits (or `until` has passed).
    pub follow: bool,
    /// Only the last N lines (then follow, if asked).
    pub tail: Option<usize>,
    /// Only lines that began at or after this time, in nanoseconds since the Unix epoch.
    pub since: Option<i64>,
    /// Only lines that began at or before this time, in nanoseconds since the Unix epoch;
    /// a follower stops once it has passed.
    pub until: Option<i64>,
    /// Only records after this position (resuming an earlier follower: see
    /// [`LogFollower::next_positioned`]).
    pub after: Option<LogPos>,
}

/// Records with where each ends in the log (`ends[i]` is `records[i]`'s position).
pub struct PositionedBatch {
    pub records: Vec<LogRecord>,
    pub ends: Vec<LogPos>,
}

/// Batches of log records, oldest first; ends after the last record.
pub struct LogFollower {
    rx: mpsc::Receiver<Result<PositionedBatch>>,
}

impl LogFollower {
    /// The next batch, or `None` at the end of the log (or when the container has exited,
    /// when following).
    pub async fn next_batch(&mut self) -> Option<Result<Vec<LogRecord>>> {
        Some(self.rx.recv().await?.map(|b| b.records))
    }

    /// [`LogFollower::next_batch`] with each record's position, to resume after it.
    pub async fn next_positioned(&mut self) -> Option<Result<PositionedBatch>> {
        self.rx.recv().await
    }

    pub(crate) fn start(
        path: PathBuf,
        options: LogOptions,
        status: watch::Receiver<Status>,
    ) -> Result<Self> {
        let mut reader = LogReader::open_with(
            &path,
            ReadOptions {
                tail: options.tail,
                since: options.since,
                until: options.until,
                after: options.after,
            },
        )
        .map_err(|e| match options.after {
            Some(_) if e.kind() == std::io::ErrorKind::InvalidInput => {
                Error::InvalidInput(e.to_string())
            }
            _ => Error::io("open log", &path, e),
        })?;
        if !options.follow {
            reader.stop_at_open_end();
        }
        // Batches read ahead of the reader: a follower holds at most this many (of up to
        // BATCH records), so a hundred followers of a fast log cost the daemon little.
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            let mut wake = Wake::new(&runtime, dir, status);
            if let Err(e) = pump(reader, &path, &options, &mut wake, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
            // The receiver learns of the end first, and the inotify instance is closed after:
            // closing one waits for an SRCU grace period (fsnotify_destroy_group), 5-15 ms
            // that `run` and attach clients would otherwise wait for after every exit.
            drop(tx);
            drop(wake);
        });
        Ok(LogFollower { rx })
    }
}

/// Runs on a blocking thread; returns when the log is done or the receiver went away. The
/// reader only ever reads files, so however slowly the receiver takes batches, the shim
/// writing the log is never held up.
fn pump(
    mut reader: LogReader,
    path: &Path,
    options: &LogOptions,
    wake: &mut Wake,
    tx: &mpsc::Sender<Result<PositionedBatch>>,
) -> Result<()> {
    loop {
        let exited = {
            let now = wake.status.borrow_and_update();
            now.removed || now.state == ContainerState::Exited
        };
        let past_until = options
            .until
            .is_some_and(|until| now_ns() > until.saturating_add(UNTIL_GRACE_NS));
        // Drain what is there now; after the container has exited this is the last drain,
        // since the shim publishes the exit only after writing the whole log.
        let new_batch = || PositionedBatch {
            records: Vec::new(),
            ends: Vec::new(),
        };
        let mut batch = new_batch();
        while let Some(record) = reader
            .next_record()
            .map_err(|e| Error::io("read log", path, e))?
        {
            batch.records.push(record);
            batch.ends.push(reader.position());
            if batch.records.len() == BATCH
                && tx
                    .blocking_send(Ok(std::mem::replace(&mut batch, new_batch())))
                    .is_err()
            {
                return Ok(());
            }
        }
        if !batch.records.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
            return Ok(());
        }
        if !options.follow || exited || past_until || reader.is_done() || tx.is_closed() {
            return Ok(());
        }
        wake.wait(options.until.is_some(), tx);
    }
}

/// What a follower sleeps on between drains: a change in the log's directory (inotify(7): a
/// write, a rotation, the directory going away) or in the container's status, whichever comes
/// first. Without inotify (e.g. out of watches) it falls back to polling.
///
/// The inotify instance is made at the first wait, so a reader that never waits (`logs`
/// without `--follow`, attach to a container that has already ended) costs no instance and
/// no grace period when it would be closed.
struct Wake {
    runtime: tokio::runtime::Handle,
    status: watch::Receiver<Status>,
    /// The directory to watch.
    dir: PathBuf,
    watcher: Watcher,
}

/// How a follower learns that its log's directory changed.
enum Watcher {
    /// Nothing yet: the follower has not had to wait.
    NotYet,
    /// An inotify instance on the directory, non-blocking.
    Inotify(AsyncFd<OwnedFd>),
    /// inotify could not be had: the follower polls.
    Polling,
}

impl Wake {
    fn new(
        runtime: &tokio::runtime::Handle,
        dir: PathBuf,
        status: watch::Receiver<Status>,
    ) -> Self {
        Wake {
            runtime: runtime.clone(),
            status,
            dir,
            watcher: Watcher::NotYet,
        }
    }

    fn watch(&self) -> Watcher {
        let _entered = self.runtime.enter();
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .and_then(|inotify| {
                inotify.add_watch(
                    &self.dir,
                    AddWatchFlags::IN_MODIFY
                        | AddWatchFlags::IN_CREATE
                        | AddWatchFlags::IN_MOVED_TO
                        | AddWatchFlags::IN_DELETE_SELF,
                )?;
                Ok(inotify)
            })
            .map_err(std::io::Error::from)
            .and_then(|inotify| {
                // SAFETY: the OwnedFd is moved into the AsyncFd, which keeps it open and
                // unchanged for its whole life.
                unsafe {
                    AsyncFd::register_with_interest(OwnedFd::from(inotify), Interest::READABLE)
                }
                .map_err(|e| e.into_parts().1)
            });
        if let Err(e) = &inotify {
            tracing::debug!(
                "log follower polls {}: no inotify ({e})",
                self.dir.display()
            );
        }
        inotify.map_or(Watcher::Polling, Watcher::Inotify)
    }

    /// Sleeps until something may have changed or the receiver has gone. A follower with an `until` wakes at least
    /// every POLL, so it notices the time passing even while the log is silent.
    fn wait(&mut self, has_until: bool, tx: &mpsc::Sender<Result<PositionedBatch>>) {
        if let Watcher::NotYet = self.watcher {
            // Made now, after the drain: what was written before it was made is read by the
            // next drain, which comes at once.
            self.watcher = self.watch();
            return;
        }
        let longest = match (&self.watcher, has_until) {
            (Watcher::Inotify(_), false) => IDLE_RECHECK,
            _ => POLL,
        };
        let Wake {
            runtime,
            status,
            watcher,
            ..
        } = self;
        runtime.block_on(async {
            let changed = async {
                // A dropped sender never changes again: leave the waiting to the timeout.
                if status.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let written = async {
                match watcher {
                    Watcher::Inotify(fd) => drain_events(fd).await,
                    Watcher::NotYet | Watcher::Polling => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = changed => {}
                () = written => {}
                () = tx.closed() => {}
                () = tokio::time::sleep(longest) => {}
            }
        });
    }
}

/// Waits until the inotify descriptor has events, then reads them all (their content does not
/// matter: any change is a reason to look at the log again).
async fn drain_events(fd: &AsyncFd<OwnedFd>) {
    let Ok(mut guard) = fd.readable().await else {
        std::future::pending::<()>().await;
        return;
    };
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(fd.get_ref(), &mut buf) {
            Ok(n) if n > 0 => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            _ => break,
        }
    }
    guard.clear_ready();
}

/// Now, in nanoseconds since the Unix epoch.
fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogWriter, Rotation, Stream};

    fn running() -> Status {
        Status {
            state: ContainerState::Running,
            exit_code: None,
            removed: false,
        }
    }

    async fn collect(mut f: LogFollower) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(batch) = f.next_batch().await {
            for r in batch.expect("batch") {
                out.push(String::from_utf8_lossy(&r.line).into_owned());
            }
        }
        out
    }

    #[tokio::test]
    async fn follower_reads_across_rotation_until_the_container_exits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 4096,
            max_files: 1000,
        };
        let mut w = LogWriter::open_with(&path, rotation).unwrap();
        w.write(Stream::Stdout, b"before\n").unwrap();
        let (status_tx, status_rx) = watch::channel(running());
        let follower = LogFollower::start(
            path.clone(),
            LogOptions {
                follow: true,
                ..LogOptions::default()
            },
            status_rx,
        )
        .unwrap();
        let reading = tokio::spawn(collect(follower));
        let writer = tokio::task::spawn_blocking(move || {
            for i in 0..20_000u32 {
                w.write(Stream::Stdout, format!("line {i}\n").as_bytes())
                    .unwrap();
            }
            drop(w);
            status_tx.send_replace(Status {
                state: ContainerState::Exited,
                exit_code: Some(0),
                removed: false,
            });
        });
        writer.await.unwrap();
        let lines = tokio::time::timeout(Duration::from_secs(60), reading)
            .await
            .expect("follower ends after the exit")
            .unwrap();
        let mut want = vec!["before".to_string()];
        want.extend((0..20_000).map(|i| format!("line {i}")));
        assert_eq!(lines.len(), want.len());
        assert!(lines == want, "records lost, repeated or out of order");
        assert!(
            dir.path().join("container.log.10").exists(),
            "the test must rotate"
        );
    }

    #[tokio::test]
    async fn tail_since_and_until_select_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let mut w = LogWriter::open_with(
            &path,
            Rotation {
                max_size: 300,
                max_files: 100,
            },
        )
        .unwrap();
        let t0 = now_ns() - 1_000_000_000_000;
        for i in 0..100i64 {
            w.write_at(Stream::Stdout, format!("l{i}\n").as_bytes(), t0 + i)
                .unwrap();
        }
        drop(w);
        let (_tx, rx) = watch::channel(running());
        let read = |options: LogOptions| {
            let rx = rx.clone();
            let path = path.clone();
            async move { collect(LogFollower::start(path, options, rx).unwrap()).await }
        };
        let names =
            |r: std::ops::Range<i64>| -> Vec<String> { r.map(|i| format!("l{i}")).collect() };
        assert_eq!(
            read(LogOptions {
                tail: Some(3),
                ..LogOptions::default()
            })
            .await,
            names(97..100)
        );
        assert_eq!(
            read(LogOptions {
                since: Some(t0 + 40),
                until: Some(t0 + 44),
                ..LogOptions::default()
            })
            .await,
            names(40..45)
        );
        assert_eq!(
            read(LogOptions {
                since: Some(t0 + 90),
                tail: Some(20),
                ..LogOptions::default()
            })
            .await,
            names(90..100)
        );
        // Following with an `until` in the past ends at once, even though the container runs.
        let followed = tokio::time::timeout(
            Duration::from_secs(10),
            read(LogOptions {
                follow: true,
                until: Some(t0 + 2),
                ..LogOptions::default()
            }),
        )
        .await
        .expect("an until in the past ends the follow");
        assert_eq!(followed, names(0..3));
    }
}
