//! Pulls de-duplicated and capped: a pull of a reference (and platform) already being pulled
//! joins it — it gets that pull's progress from the moment it joins and its result — and at
//! most [`MAX_RUNNING_PULLS`] pulls download at once across the engine; up to
//! [`MAX_WAITING_PULLS`] more wait their turn, beyond that a pull is refused at once.
//!
//! The queue is generic over the work and its events so that it is tested with a fake puller.

use crate::{Error, Result};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::sync::{watch, Semaphore};

/// Pulls that download at once.
pub const MAX_RUNNING_PULLS: usize = 3;
/// Pulls that wait for a turn; one more is refused with a conflict.
pub const MAX_WAITING_PULLS: usize = 32;

type Outcome<T> = Option<std::result::Result<T, Arc<Error>>>;

struct Flight<T, E> {
    /// Where the pull's events go: the first caller's and every joiner's.
    subscribers: Arc<Mutex<Vec<UnboundedSender<E>>>>,
    done: watch::Receiver<Outcome<T>>,
}

pub struct PullQueue<T, E> {
    running: Semaphore,
    max_running: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    flights: Mutex<HashMap<String, Flight<T, E>>>,
}

/// Takes the flight out of the table however its pull ends (an error, a cancelled task).
struct Landing<'a, T, E> {
    flights: &'a Mutex<HashMap<String, Flight<T, E>>>,
    key: &'a str,
}

impl<T, E> Drop for Landing<'_, T, E> {
    fn drop(&mut self) {
        self.flights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(self.key);
    }
}

impl<T: Clone + Send + Sync + 'static, E: Clone + Send + 'static> Default for PullQueue<T, E> {
    fn default() -> Self {
        PullQueue::new(MAX_RUNNING_PULLS, MAX_WAITING_PULLS)
    }
}

impl<T: Clone + Send + Sync + 'static, E: Clone + Send + 'static> PullQueue<T, E> {
    pub fn new(max_running: usize, max_waiting: usize) -> Self {
        PullQueue {
            running: Semaphore::new(max_running.max(1)),
            max_running: max_running.max(1),
            waiting: AtomicUsize::new(0),
            max_waiting,
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `work` for `key`, or joins the run already under way for it. `work` gets the
    /// sender its progress events go to; `events` receives them.
    pub async fn run<F, Fut>(
        &self,
        key: &str,
        events: Option<UnboundedSender<E>>,
        work: F,
    ) -> Result<T>
    where
        F: FnOnce(UnboundedSender<E>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let joined = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(key) {
                Some(flight) => {
                    if let Some(events) = events {
                        flight
                            .subscribers
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(events);
                    }
                    Err(flight.done.clone())
                }
                None => {
                    let (done_tx, done_rx) = watch::channel(None);
                    let subscribers = Arc::new(Mutex::new(events.into_iter().collect::<Vec<_>>()));
                    flights.insert(
                        key.to_string(),
                        Flight {
                            subscribers: subscribers.clone(),
                            done: done_rx,
                        },
                    );
                    Ok((done_tx, subscribers))
                }
            }
        };
        let (done_tx, subscribers) = match joined {
            Ok(new) => new,
            Err(done) => return join(done, key).await,
        };
        let _landing = Landing {
            flights: &self.flights,
            key,
        };
        let _permit = match self.running.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    let err = Error::Conflict(format!(
                        "too many pulls: {} running and {} waiting; try again later",
                        self.max_running, self.max_waiting
                    ));
                    let _ = done_tx.send(Some(Err(Arc::new(copy_error(&err)))));
                    return Err(err);
                }
                let permit = self.running.acquire().await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                permit.map_err(|_| Error::Conflict("the engine is shutting down".into()))?
            }
        };
        let (tx, mut rx) = unbounded_channel::<E>();
        let fan_out = {
            let subscribers = subscribers.clone();
            tokio::spawn(async move {
                while let Some(event) = rx.recv().await {
                    subscribers
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .retain(|s| s.send(event.clone()).is_ok());
                }
            })
        };
        let result = work(tx).await;
        // Every event is handed on before anyone learns the result.
        let _ = fan_out.await;
        let shared = match &result {
            Ok(value) => Ok(value.clone()),
            Err(err) => Err(Arc::new(copy_error(err))),
        };
        let _ = done_tx.send(Some(shared));
        result
    }

    /// Pulls waiting for a turn.
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

async fn join<T: Clone>(mut done: watch::Receiver<Outcome<T>>, key: &str) -> Result<T> {
    loop {
        if let Some(outcome) = done.borrow_and_update().clone() {
            return outcome.map_err(|err| copy_error(&err));
        }
        if done.changed().await.is_err() {
            // One last look: the value may have come with the sender's drop.
            if let Some(outcome) = done.borrow().clone() {
                return outcome.map_err(|err| copy_error(&err));
            }
            return Err(Error::Conflict(format!(
                "the pull of {key} this one joined was cancelled; try again"
            )));
        }
    }
}

/// The same error for another waiter: its kind (what the API maps to a status) and message.
pub(crate) fn copy_error(err: &Error) -> Error {
    use crate::image::registry::RegistryError as R;
    let other = || Error::Io {
        action: "pull",
        path: Default::default(),
        source: std::io::Error::other(err.to_string()),
    };
    match err {
        Error::NotFound { kind, id } => Error::NotFound {
            kind,
            id: id.clone(),
        },
        Error::Conflict(m) => Error::Conflict(m.clone()),
        Error::InvalidInput(m) => Error::InvalidInput(m.clone()),
        Error::Image(crate::image::ImageError::Io { .. }) => other(),
        Error::Image(e) => Error::InvalidInput(e.to_string()),
        Error::Registry(r) => Error::Registry(match r {
            R::Unreachable { registry, detail } => R::Unreachable {
                registry: registry.clone(),
                detail: detail.clone(),
            },
            R::Unauthorized(m) => R::Unauthorized(m.clone()),
            R::NotFound(m) => R::NotFound(m.clone()),
            R::BadPlatform(m) => R::BadPlatform(m.clone()),
            R::BadRegistry(m) => R::BadRegistry(m.clone()),
            R::Status { .. }
            | R::ManifestTooLarge { .. }
            | R::BadManifest { .. }
            | R::NoMatchingPlatform { .. } => R::Unreachable {
                registry: String::new(),
                detail: r.to_string(),
            },
            _ => return other(),
        }),
        _ => other(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;
    use tokio::sync::Notify;

    #[tokio::test]
    async fn concurrent_pulls_of_one_reference_share_one_download() {
        let queue = Arc::new(PullQueue::<String, u32>::new(3, 32));
        let downloads = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let started = Arc::new(Notify::new());
        let first = {
            let (queue, downloads, release, started) = (
                queue.clone(),
                downloads.clone(),
                release.clone(),
                started.clone(),
            );
            tokio::spawn(async move {
                let (tx, mut rx) = unbounded_channel();
                let result = queue
                    .run("busybox", Some(tx), |events| async move {
                        downloads.fetch_add(1, Ordering::SeqCst);
                        events.send(1).unwrap();
                        started.notify_one();
                        release.notified().await;
                        events.send(2).unwrap();
                        Ok("sha256:one".to_string())
                    })
                    .await;
                let mut seen = Vec::new();
                while let Ok(e) = rx.try_recv() {
                    seen.push(e);
                }
                (result.unwrap(), seen)
            })
        };
        started.notified().await;
        let (tx, mut rx) = unbounded_channel();
        let second = {
            let (queue, downloads) = (queue.clone(), downloads.clone());
            tokio::spawn(async move {
                queue
                    .run("busybox", Some(tx), |_| async move {
                        downloads.fetch_add(1, Ordering::SeqCst);
                        Ok("sha256:two".to_string())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.notify_one();
        assert_eq!(second.await.unwrap().unwrap(), "sha256:one");
        assert_eq!(first.await.unwrap(), ("sha256:one".to_string(), vec![1, 2]));
        assert_eq!(rx.recv().await, Some(2), "the joiner streams what follows");
        assert_eq!(downloads.load(Ordering::SeqCst), 1);
        // Once landed, the same reference downloads again.
        let again = queue
            .run("busybox", None, |_| async {
                Ok("sha256:three".to_string())
            })
            .await
            .unwrap();
        assert_eq!(again, "sha256:three");
    }

    #[tokio::test]
    async fn joiners_get_the_error_kind_of_the_pull() {
        let queue = Arc::new(PullQueue::<String, u32>::new(3, 32));
        let release = Arc::new(Notify::new());
        let first = {
            let (queue, release) = (queue.clone(), release.clone());
            tokio::spawn(async move {
                queue
                    .run("nope", None, |_| async move {
                        release.notified().await;
                        Err(Error::not_found("image", "nope"))
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = {
            let queue = queue.clone();
            tokio::spawn(async move {
                queue
                    .run("nope", None, |_| async { Ok(String::new()) })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.notify_one();
        assert!(matches!(
            first.await.unwrap(),
            Err(Error::NotFound { kind: "image", .. })
        ));
        assert!(matches!(
            second.await.unwrap(),
            Err(Error::NotFound { kind: "image", .. })
        ));
    }

    #[tokio::test]
    async fn at_most_n_run_and_the_wait_is_bounded() {
        let queue = Arc::new(PullQueue::<usize, u32>::new(2, 3));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Semaphore::new(0));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (queue, running, peak, release) = (
                queue.clone(),
                running.clone(),
                peak.clone(),
                release.clone(),
            );
            tasks.push(tokio::spawn(async move {
                queue
                    .run(&format!("image{i}"), None, |_| async move {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        release.acquire().await.unwrap().forget();
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(i)
                    })
                    .await
            }));
        }
        for _ in 0..100 {
            if queue.waiting() == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(queue.waiting(), 3);
        assert_eq!(running.load(Ordering::SeqCst), 2);
        // A sixth is one too many.
        let refused = queue.run("image5", None, |_| async { Ok(5) }).await;
        match refused {
            Err(Error::Conflict(message)) => {
                assert!(message.contains("too many pulls"), "{message}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        release.add_permits(5);
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap().unwrap());
        }
        assert_eq!(results, vec![0, 1, 2, 3, 4]);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
