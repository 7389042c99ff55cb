//! Pull and push progress as the pages show it: the daemon's progress stream (docker's
//! messages, one JSON object a line, then a `{"result"}` or `{"error"}` line) folded into one
//! bar per layer — bytes done and total, speed — and the transfer's overall state; plus the
//! words shown for a failure, which say what to do about it. Pure: the browser side that
//! reads the stream is `transfer.rs`.

use berth_wire::image::JsonMessage;
use berth_wire::ErrorBody;
use serde_json::Value;

/// Pull or push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Pull,
    Push,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Pull => "pull",
            Verb::Push => "push",
        }
    }
}

/// Where the transfer as a whole is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Running,
    /// The daemon's last status line (`Downloaded newer image for busybox:latest`).
    Done(String),
    Failed(Failure),
}

/// A failure as shown: what to do (`headline`) and the daemon's own message (`detail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub headline: String,
    pub detail: String,
}

/// One layer's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerBar {
    /// The first 12 hex digits of the layer's blob digest.
    pub id: String,
    /// Docker's status word: Waiting, Downloading, Pull complete, Pushing, Pushed…
    pub status: String,
    pub current: u64,
    pub total: u64,
    /// When its bytes started to move, and how many it had then (for the speed).
    first: Option<(f64, u64)>,
    /// Bytes per second since its bytes started to move; `None` before two readings.
    pub bytes_per_s: Option<f64>,
    pub finished: bool,
}

impl LayerBar {
    /// 0–100, for the bar's width; a finished layer is full.
    pub fn percent(&self) -> f64 {
        if self.finished {
            return 100.0;
        }
        if self.total == 0 {
            return 0.0;
        }
        (self.current as f64 * 100.0 / self.total as f64).min(100.0)
    }
}

/// A pull or push being watched.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub verb: Verb,
    pub reference: String,
    pub layers: Vec<LayerBar>,
    pub phase: Phase,
    /// Status lines that are not about one layer (`Digest: sha256:…`), in order.
    pub notes: Vec<String>,
}

/// Statuses after which a layer has nothing more to do.
const FINISHED: &[&str] = &[
    "Pull complete",
    "Already exists",
    "Pushed",
    "Layer already exists",
];

impl Transfer {
    pub fn new(verb: Verb, reference: impl Into<String>) -> Transfer {
        Transfer {
            verb,
            reference: reference.into(),
            layers: Vec::new(),
            phase: Phase::Running,
            notes: Vec::new(),
        }
    }

    pub fn running(&self) -> bool {
        self.phase == Phase::Running
    }

    /// Folds one line of the stream in, seen at `now_ms`. Blank lines are ignored; a line
    /// that is not JSON fails the transfer (the stream is not what it should be).
    pub fn apply_line(&mut self, line: &str, now_ms: f64) {
        let line = line.trim();
        if line.is_empty() || !self.running() {
            return;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                self.fail(format!("the daemon sent a line that is not JSON: {e}"));
                return;
            }
        };
        if let Some(result) = value.get("result") {
            self.phase = Phase::Done(self.done_text(result));
            return;
        }
        let message: JsonMessage = match serde_json::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                self.fail(format!("the daemon sent an unexpected message: {e}"));
                return;
            }
        };
        if let Some(error) = message.error {
            self.fail(error);
            return;
        }
        match message.id.clone() {
            Some(id) if is_layer_id(&id) => self.layer(id, &message, now_ms),
            _ if !message.status.is_empty() => self.notes.push(message.status),
            _ => {}
        }
    }

    /// The stream ended: without its last line the transfer was cut off.
    pub fn end_of_stream(&mut self) {
        if self.running() {
            self.fail(format!(
                "the connection to the daemon closed before the {} finished",
                self.verb.as_str()
            ));
        }
    }

    /// The request itself failed: refused (an error body), or no answer at all.
    pub fn fail(&mut self, message: impl Into<String>) {
        self.phase = Phase::Failed(explain(self.verb, &self.reference, &message.into()));
    }

    /// A non-2xx answer to the request that starts the transfer: the API's error body.
    pub fn refused(&mut self, status: u16, body: &str) {
        let message = serde_json::from_str::<ErrorBody>(body)
            .map(|b| b.error.message)
            .unwrap_or_else(|_| format!("the daemon answered HTTP {status}"));
        self.fail(message);
    }

    fn done_text(&self, result: &Value) -> String {
        if let Some(status) = result.get("status").and_then(Value::as_str) {
            return status.to_string();
        }
        let reference = result
            .get("reference")
            .and_then(Value::as_str)
            .unwrap_or(&self.reference);
        match result.get("digest").and_then(Value::as_str) {
            Some(digest) => format!("Pushed {reference} ({digest})"),
            None => format!("Pushed {reference}"),
        }
    }

    fn layer(&mut self, id: String, message: &JsonMessage, now_ms: f64) {
        let index = match self.layers.iter().position(|l| l.id == id) {
            Some(i) => i,
            None => {
                self.layers.push(LayerBar {
                    id,
                    status: String::new(),
                    current: 0,
                    total: 0,
                    first: None,
                    bytes_per_s: None,
                    finished: false,
                });
                self.layers.len() - 1
            }
        };
        let bar = &mut self.layers[index];
        bar.status = message.status.clone();
        if let Some(detail) = message.progress_detail {
            bar.current = detail.current;
            if detail.total > 0 {
                bar.total = detail.total;
            }
            match bar.first {
                None => bar.first = Some((now_ms, detail.current)),
                Some((t0, b0)) if now_ms > t0 => {
                    let bytes = detail.current.saturating_sub(b0) as f64;
                    bar.bytes_per_s = Some(bytes * 1000.0 / (now_ms - t0));
                }
                Some(_) => {}
            }
        }
        if FINISHED.contains(&bar.status.as_str()) {
            bar.finished = true;
            if bar.total > 0 {
                bar.current = bar.total;
            }
        }
    }

    /// Bytes done and known in total over all layers.
    pub fn bytes(&self) -> (u64, u64) {
        self.layers.iter().fold((0, 0), |(done, total), l| {
            (done + l.current, total + l.total)
        })
    }

    /// Layers finished, and all layers seen.
    pub fn layer_counts(&self) -> (usize, usize) {
        (
            self.layers.iter().filter(|l| l.finished).count(),
            self.layers.len(),
        )
    }

    /// The one-line summary beside the state: "2 of 3 layers · 1.2 MB of 2.0 MB".
    pub fn summary(&self) -> String {
        let (finished, all) = self.layer_counts();
        if all == 0 {
            return String::new();
        }
        let (done, total) = self.bytes();
        let layers = if all == 1 {
            format!("{finished} of 1 layer")
        } else {
            format!("{finished} of {all} layers")
        };
        if total == 0 {
            return layers;
        }
        format!(
            "{layers} · {} of {}",
            format_bytes(done as i64),
            format_bytes(total as i64)
        )
    }
}

/// A layer's id in the stream is 12 hex digits; the pull's first line carries the tag there.
fn is_layer_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a user can do about a failed pull or push, from the daemon's message.
pub fn explain(verb: Verb, reference: &str, message: &str) -> Failure {
    let lower = message.to_ascii_lowercase();
    let verb_word = verb.as_str();
    let headline = if lower.contains("cannot reach registry")
        || lower.contains("connection refused")
    {
        "The registry does not answer. Check that it is running and that the address (host and port) is right.".to_string()
    } else if lower.contains("unauthorized")
        || lower.contains("incorrect username or password")
        || lower.contains("authentication required")
    {
        "The registry refused access. Add or fix its login on the Registries page, then try again."
            .to_string()
    } else if lower.contains("manifest unknown")
        || lower.contains("not found")
        || lower.contains("no such")
        || lower.contains("name unknown")
    {
        match verb {
            Verb::Pull => format!(
                "{reference} is not in the registry. Check the repository name and the tag."
            ),
            Verb::Push => format!(
                "There is no local image {reference} to push. Tag an image with this name first."
            ),
        }
    } else if lower.contains("invalid reference") || lower.contains("invalid image reference") {
        format!("{reference:?} is not an image reference. Write it as name[:tag], e.g. busybox:latest or 127.0.0.1:5000/team/app:1.")
    } else if lower.contains("needs the") && lower.contains("role") {
        format!("Your role cannot {verb_word} images; ask an operator or admin.")
    } else if lower.contains("too many pulls") || lower.contains("queue") {
        "The daemon is busy with other pulls. Try again in a moment.".to_string()
    } else {
        format!("The {verb_word} of {reference} failed.")
    };
    Failure {
        headline,
        detail: message.to_string(),
    }
}

/// `0 B`, `512 B`, `1.5 KB`, `12.3 MB`, `2.00 GB` (powers of 1000, as docker shows sizes).
pub fn format_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if n < 1000.0 {
        return format!("{n} B");
    }
    let mut value = n / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else if value >= 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// A speed as shown beside a bar: `3.2 MB/s`.
pub fn format_speed(bytes_per_s: f64) -> String {
    format!("{}/s", format_bytes(bytes_per_s.round() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYER: &str = "0123456789ab";

    #[test]
    fn a_pull_folds_into_one_bar_per_layer_with_bytes_and_speed() {
        let mut t = Transfer::new(Verb::Pull, "127.0.0.1:5000/e2e/busybox:1");
        t.apply_line(r#"{"status":"Pulling from e2e/busybox","id":"1"}"#, 0.0);
        t.apply_line(&format!(r#"{{"status":"Waiting","id":"{LAYER}"}}"#), 0.0);
        t.apply_line(r#"{"status":"Waiting","id":"ba9876543210"}"#, 0.0);
        assert_eq!(t.layers.len(), 2);
        assert_eq!(t.notes, vec!["Pulling from e2e/busybox"]);
        t.apply_line(
            &format!(
                r#"{{"status":"Downloading","id":"{LAYER}","progressDetail":{{"current":0,"total":2000000}}}}"#
            ),
            1000.0,
        );
        assert_eq!(t.layers[0].bytes_per_s, None, "one reading is no speed");
        t.apply_line(
            &format!(
                r#"{{"status":"Downloading","id":"{LAYER}","progressDetail":{{"current":1000000,"total":2000000}}}}"#
            ),
            1500.0,
        );
        let bar = &t.layers[0];
        assert_eq!((bar.current, bar.total), (1_000_000, 2_000_000));
        assert_eq!(bar.percent(), 50.0);
        assert_eq!(bar.bytes_per_s, Some(2_000_000.0));
        assert_eq!(format_speed(bar.bytes_per_s.unwrap_or(0.0)), "2.00 MB/s");
        assert_eq!(t.summary(), "0 of 2 layers · 1.00 MB of 2.00 MB");
        t.apply_line(
            &format!(r#"{{"status":"Pull complete","id":"{LAYER}"}}"#),
            2000.0,
        );
        t.apply_line(r#"{"status":"Already exists","id":"ba9876543210"}"#, 2000.0);
        assert!(t.layers.iter().all(|l| l.finished));
        assert_eq!(t.layers[0].current, 2_000_000, "a finished layer is full");
        assert_eq!(t.layers[1].percent(), 100.0);
        assert!(t.running());
        t.apply_line(r#"{"status":"Digest: sha256:aa"}"#, 2000.0);
        t.apply_line(
            r#"{"result":{"reference":"x","id":"sha256:1","digest":"sha256:aa","status":"Downloaded newer image for x"}}"#,
            2001.0,
        );
        assert_eq!(t.phase, Phase::Done("Downloaded newer image for x".into()));
        assert_eq!(t.summary(), "2 of 2 layers · 2.00 MB of 2.00 MB");
        // Nothing after the end changes it.
        t.apply_line(r#"{"error":"late"}"#, 3000.0);
        assert!(matches!(t.phase, Phase::Done(_)));
    }

    #[test]
    fn a_push_ends_with_its_digest() {
        let mut t = Transfer::new(Verb::Push, "127.0.0.1:5000/a:1");
        t.apply_line(&format!(r#"{{"status":"Preparing","id":"{LAYER}"}}"#), 0.0);
        t.apply_line(
            &format!(
                r#"{{"status":"Pushing","id":"{LAYER}","progressDetail":{{"current":10,"total":20}}}}"#
            ),
            5.0,
        );
        assert_eq!(t.layers[0].percent(), 50.0);
        t.apply_line(&format!(r#"{{"status":"Pushed","id":"{LAYER}"}}"#), 9.0);
        t.apply_line(
            r#"{"result":{"reference":"127.0.0.1:5000/a:1","digest":"sha256:bb","size":5}}"#,
            10.0,
        );
        assert_eq!(
            t.phase,
            Phase::Done("Pushed 127.0.0.1:5000/a:1 (sha256:bb)".into())
        );
    }

    #[test]
    fn failures_say_what_to_do_and_keep_the_daemon_message() {
        let mut t = Transfer::new(Verb::Pull, "127.0.0.1:1/x:1");
        t.apply_line(
            r#"{"error":"registry: cannot reach registry 127.0.0.1:1: connection refused"}"#,
            0.0,
        );
        let Phase::Failed(f) = &t.phase else {
            panic!("{:?}", t.phase)
        };
        assert!(f.headline.contains("does not answer"), "{f:?}");
        assert!(f.detail.contains("connection refused"), "{f:?}");

        let f = explain(Verb::Pull, "a:1", "unauthorized: authentication required");
        assert!(f.headline.contains("Registries page"), "{f:?}");
        let f = explain(Verb::Pull, "a:1", "manifest unknown: a:1");
        assert!(f.headline.contains("a:1 is not in the registry"), "{f:?}");
        let f = explain(Verb::Push, "a:1", "no such image: a:1");
        assert!(f.headline.contains("Tag an image"), "{f:?}");
        let f = explain(Verb::Pull, "a:1", "something odd");
        assert_eq!(f.headline, "The pull of a:1 failed.");

        let mut t = Transfer::new(Verb::Pull, "a");
        t.refused(
            403,
            r#"{"error":{"code":"forbidden","message":"this needs the operator role; v is a viewer"}}"#,
        );
        let Phase::Failed(f) = &t.phase else {
            panic!("{:?}", t.phase)
        };
        assert!(f.headline.contains("Your role cannot pull"), "{f:?}");
        let mut t = Transfer::new(Verb::Pull, "a");
        t.refused(502, "<html>bad gateway</html>");
        assert!(matches!(&t.phase, Phase::Failed(f) if f.detail == "the daemon answered HTTP 502"));
    }

    #[test]
    fn a_cut_stream_or_garbage_fails_the_transfer() {
        let mut t = Transfer::new(Verb::Pull, "a");
        t.apply_line("", 0.0);
        assert!(t.running());
        t.end_of_stream();
        assert!(matches!(&t.phase, Phase::Failed(f) if f.detail.contains("closed before")));
        assert_eq!(t.summary(), "", "no layers, no summary");
        let mut t = Transfer::new(Verb::Pull, "a");
        t.apply_line("not json", 0.0);
        assert!(matches!(&t.phase, Phase::Failed(f) if f.detail.contains("not JSON")));
    }

    #[test]
    fn bytes_read_like_docker_sizes() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(-5), "0 B");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1_500), "1.50 KB");
        assert_eq!(format_bytes(12_340_000), "12.3 MB");
        assert_eq!(format_bytes(123_000_000), "123 MB");
        assert_eq!(format_bytes(2_000_000_000), "2.00 GB");
    }
}
