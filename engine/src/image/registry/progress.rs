//! Pull progress: typed events from the engine (per layer: state, bytes, total) and their
//! wire form, the newline-delimited JSON messages of docker's `/images/create`
//! (`{"status", "id", "progressDetail": {"current", "total"}}`), which the API streams and
//! the CLI renders.

use crate::digest::Digest;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

pub use berth_wire::image::{JsonMessage, LayerState, ProgressDetail};

/// One step of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PullEvent {
    /// The pull of `tag` (or digest) from `repository` (familiar name) begins.
    Pulling { repository: String, tag: String },
    /// A layer, named by the first 12 hex digits of its blob digest.
    Layer {
        id: String,
        state: LayerState,
        current: u64,
        total: u64,
    },
    /// The digest of what the reference names (the index, for a multi-platform image).
    Digest { digest: Digest },
    /// The final line: `Downloaded newer image for …` or `Image is up to date for …`.
    Status { message: String },
}

impl PullEvent {
    pub fn to_message(&self) -> JsonMessage {
        match self {
            PullEvent::Pulling { repository, tag } => JsonMessage {
                status: format!("Pulling from {repository}"),
                id: Some(tag.clone()),
                ..Default::default()
            },
            PullEvent::Layer {
                id,
                state,
                current,
                total,
            } => JsonMessage {
                status: state.label().to_string(),
                id: Some(id.clone()),
                progress_detail: (*state == LayerState::Downloading).then_some(ProgressDetail {
                    current: *current,
                    total: *total,
                }),
                ..Default::default()
            },
            PullEvent::Digest { digest } => JsonMessage {
                status: format!("Digest: {digest}"),
                ..Default::default()
            },
            PullEvent::Status { message } => JsonMessage {
                status: format!("Status: {message}"),
                ..Default::default()
            },
        }
    }
}

/// Sends events to whoever watches a pull; a watcher that went away does not stop it.
#[derive(Clone)]
pub struct ProgressSink {
    tx: Option<UnboundedSender<PullEvent>>,
}

impl ProgressSink {
    pub fn new(tx: Option<UnboundedSender<PullEvent>>) -> ProgressSink {
        ProgressSink { tx }
    }

    pub fn send(&self, event: PullEvent) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(event);
        }
    }

    pub fn layer(&self, digest: &Digest, state: LayerState, current: u64, total: u64) {
        self.send(PullEvent::Layer {
            id: short_id(digest),
            state,
            current,
            total,
        });
    }
}

/// The 12 hex digits docker shows for a layer.
pub fn short_id(digest: &Digest) -> String {
    digest.hex()[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_render_as_docker_messages() {
        let d = Digest::of(b"layer");
        let line = serde_json::to_string(
            &PullEvent::Layer {
                id: short_id(&d),
                state: LayerState::Downloading,
                current: 5,
                total: 10,
            }
            .to_message(),
        )
        .expect("json");
        assert_eq!(
            line,
            format!(
                r#"{{"status":"Downloading","id":"{}","progressDetail":{{"current":5,"total":10}}}}"#,
                &d.hex()[..12]
            )
        );
        let done = PullEvent::Layer {
            id: "abc".into(),
            state: LayerState::PullComplete,
            current: 10,
            total: 10,
        }
        .to_message();
        assert_eq!(done.status, "Pull complete");
        assert_eq!(done.progress_detail, None);
        let pulling = PullEvent::Pulling {
            repository: "library/busybox".into(),
            tag: "latest".into(),
        }
        .to_message();
        assert_eq!(pulling.status, "Pulling from library/busybox");
        assert_eq!(pulling.id.as_deref(), Some("latest"));
        assert_eq!(
            PullEvent::Digest { digest: d }.to_message().status,
            format!("Digest: {d}")
        );
    }

    #[test]
    fn a_gone_watcher_does_not_fail_the_sender() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        drop(rx);
        ProgressSink::new(Some(tx)).layer(&Digest::of(b"x"), LayerState::Waiting, 0, 1);
        ProgressSink::new(None).layer(&Digest::of(b"x"), LayerState::Waiting, 0, 1);
    }
}
