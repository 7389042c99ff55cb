//! `berth pull [--platform P] [-q] REF`: asks the daemon to pull and renders its progress
//! stream as docker does — one line per layer with a progress bar, redrawn in place with ANSI
//! escapes on a terminal, plain status lines otherwise. `run`/`create` reuse it on stderr.

use super::api::Api;
use super::format;
use anyhow::{anyhow, bail, Result};
use berth_wire::image::JsonMessage;
use berth_wire::image::ProgressEnd;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::io::{IsTerminal, Write};

#[derive(clap::Args)]
pub struct Args {
    /// Pull the image for this platform (os/arch[/variant]), e.g. linux/arm64
    #[arg(long)]
    platform: Option<String>,
    /// Suppress the progress output; print only the image's name
    #[arg(short, long)]
    quiet: bool,
    /// The image to pull, e.g. busybox, busybox:1.36, host:5000/app@sha256:…
    reference: String,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let output = if args.quiet {
        Output::Quiet
    } else {
        Output::Stdout
    };
    let result = pull(api, &args.reference, args.platform.as_deref(), output).await?;
    if args.quiet {
        println!("{}", full_name(&result.reference));
    }
    Ok(0)
}

/// Where progress goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
    Quiet,
}

/// Pulls through the daemon, rendering its progress; fails with the pull's error.
pub async fn pull(
    api: &Api,
    reference: &str,
    platform: Option<&str>,
    output: Output,
) -> Result<berth_wire::image::PullResult> {
    let body = api.image_pull(reference, platform).await?;
    follow(body, output, "pull").await
}

/// Renders the daemon's progress stream (docker messages, then a `{"result"}` or `{"error"}`
/// line); returns the result or fails with the error. Shared by pull and push.
pub async fn follow<R: serde::de::DeserializeOwned>(
    mut body: Incoming,
    output: Output,
    verb: &str,
) -> Result<R> {
    let mut renderer = match output {
        Output::Stdout => Some(Renderer::new(
            Box::new(std::io::stdout()),
            std::io::stdout().is_terminal(),
        )),
        Output::Stderr => Some(Renderer::new(
            Box::new(std::io::stderr()),
            std::io::stderr().is_terminal(),
        )),
        Output::Quiet => None,
    };
    let mut pending = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow!("the {verb}'s progress stream broke: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        while let Some(newline) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=newline).collect();
            let value: serde_json::Value = serde_json::from_slice(&line)
                .map_err(|e| anyhow!("unreadable progress from the daemon: {e}"))?;
            if value.get("result").is_some() || value.get("error").is_some() {
                let end: ProgressEnd<R> = serde_json::from_value(value)
                    .map_err(|e| anyhow!("unreadable {verb} result: {e}"))?;
                if let Some(r) = renderer.as_mut() {
                    r.finish()?;
                }
                return match (end.result, end.error) {
                    (Some(result), _) => Ok(result),
                    (None, Some(error)) => Err(anyhow!("{error}")),
                    (None, None) => Err(anyhow!("the {verb} ended without a result")),
                };
            }
            let message: JsonMessage = serde_json::from_value(value)
                .map_err(|e| anyhow!("unreadable progress from the daemon: {e}"))?;
            if let Some(r) = renderer.as_mut() {
                r.show(&message)?;
            }
        }
    }
    bail!("the daemon ended the {verb} without a result")
}

/// `busybox:latest` → `docker.io/library/busybox:latest`, as `docker pull -q` prints.
fn full_name(familiar: &str) -> String {
    berth_engine::image::Reference::parse(familiar)
        .map(|r| r.to_string())
        .unwrap_or_else(|_| familiar.to_string())
}

/// Draws progress messages: a block of per-id lines (redrawn in place on a terminal) and
/// plain lines for messages without an id.
struct Renderer {
    out: Box<dyn Write>,
    tty: bool,
    /// Ids in order of first appearance, with their current line.
    lines: Vec<(String, String)>,
    /// Lines of the block currently on screen (terminal mode).
    drawn: usize,
}

impl Renderer {
    fn new(out: Box<dyn Write>, tty: bool) -> Renderer {
        Renderer {
            out,
            tty,
            lines: Vec::new(),
            drawn: 0,
        }
    }

    fn show(&mut self, message: &JsonMessage) -> Result<()> {
        let Some(id) = &message.id else {
            // A line without an id ends the block above it.
            writeln!(self.out, "{}", message.status)?;
            self.lines.clear();
            self.drawn = 0;
            return Ok(self.out.flush()?);
        };
        let text = render(id, message);
        let slot = self.lines.iter().position(|(known, _)| known == id);
        if !self.tty {
            // Plain output: one line per change of status, no byte counts.
            let changed = slot.is_none_or(|i| !same_status(&self.lines[i].1, &text, id));
            match slot {
                Some(i) => self.lines[i].1 = text.clone(),
                None => self.lines.push((id.clone(), text.clone())),
            }
            if changed {
                writeln!(self.out, "{id}: {}", message.status)?;
            }
            return Ok(self.out.flush()?);
        }
        match slot {
            Some(i) => self.lines[i].1 = text,
            None => self.lines.push((id.clone(), text)),
        }
        self.redraw()
    }

    /// Moves up over the block drawn last time and draws every line again.
    fn redraw(&mut self) -> Result<()> {
        let mut screen = String::new();
        if self.drawn > 0 {
            screen.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for (_, line) in &self.lines {
            screen.push_str("\x1b[2K\r");
            screen.push_str(line);
            screen.push('\n');
        }
        self.drawn = self.lines.len();
        self.out.write_all(screen.as_bytes())?;
        Ok(self.out.flush()?)
    }

    fn finish(&mut self) -> Result<()> {
        Ok(self.out.flush()?)
    }
}

fn same_status(old: &str, new: &str, id: &str) -> bool {
    let status = |line: &str| {
        line.strip_prefix(id)
            .and_then(|l| l.strip_prefix(": "))
            .map(|l| l.split(" [").next().unwrap_or(l).trim().to_string())
    };
    status(old) == status(new)
}

/// `<id>: Downloading [=====>      ]  1.2MB/3.4MB`, or `<id>: Pull complete`.
fn render(id: &str, message: &JsonMessage) -> String {
    match message.progress_detail {
        Some(detail) if detail.total > 0 => format!(
            "{id}: {} {} {:>8}/{}",
            message.status,
            bar(detail.current, detail.total),
            format::size(detail.current as i64),
            format::size(detail.total as i64)
        ),
        _ => format!("{id}: {}", message.status),
    }
}

/// A 50-column bar as docker draws it: `[=====>     ]`.
fn bar(current: u64, total: u64) -> String {
    const WIDTH: usize = 50;
    let done = ((current.min(total) as f64 / total.max(1) as f64) * WIDTH as f64) as usize;
    let mut out = String::with_capacity(WIDTH + 2);
    out.push('[');
    for i in 0..WIDTH {
        out.push(match i.cmp(&done) {
            std::cmp::Ordering::Less => '=',
            std::cmp::Ordering::Equal => '>',
            std::cmp::Ordering::Greater => ' ',
        });
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_wire::image::ProgressDetail;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn message(id: Option<&str>, status: &str, progress: Option<(u64, u64)>) -> JsonMessage {
        JsonMessage {
            status: status.into(),
            id: id.map(str::to_string),
            progress_detail: progress.map(|(current, total)| ProgressDetail { current, total }),
            error: None,
        }
    }

    #[test]
    fn bars_fill_as_docker_draws_them() {
        assert_eq!(bar(0, 100), format!("[>{}]", " ".repeat(49)));
        assert_eq!(
            bar(50, 100),
            format!("[{}>{}]", "=".repeat(25), " ".repeat(24))
        );
        assert_eq!(bar(100, 100), format!("[{}]", "=".repeat(50)));
        let line = render(
            "0123456789ab",
            &message(
                Some("0123456789ab"),
                "Downloading",
                Some((1_200_000, 3_400_000)),
            ),
        );
        assert!(line.starts_with("0123456789ab: Downloading [="), "{line}");
        assert!(line.ends_with("1.2MB/3.4MB"), "{line}");
    }

    #[test]
    fn plain_output_prints_status_changes_only() {
        let out = Shared::default();
        let mut r = Renderer::new(Box::new(out.clone()), false);
        r.show(&message(
            Some("latest"),
            "Pulling from library/busybox",
            None,
        ))
        .expect("show");
        r.show(&message(Some("abc"), "Waiting", None))
            .expect("show");
        r.show(&message(Some("abc"), "Downloading", Some((1, 10))))
            .expect("show");
        r.show(&message(Some("abc"), "Downloading", Some((5, 10))))
            .expect("show");
        r.show(&message(Some("abc"), "Pull complete", None))
            .expect("show");
        r.show(&message(None, "Digest: sha256:x", None))
            .expect("show");
        let text = String::from_utf8(out.0.lock().expect("lock").clone()).expect("utf8");
        assert_eq!(
            text,
            "latest: Pulling from library/busybox\nabc: Waiting\nabc: Downloading\nabc: Pull complete\nDigest: sha256:x\n"
        );
    }

    #[test]
    fn a_terminal_gets_the_block_redrawn_in_place() {
        let out = Shared::default();
        let mut r = Renderer::new(Box::new(out.clone()), true);
        r.show(&message(Some("a"), "Waiting", None)).expect("show");
        r.show(&message(Some("b"), "Waiting", None)).expect("show");
        r.show(&message(Some("a"), "Pull complete", None))
            .expect("show");
        let text = String::from_utf8(out.0.lock().expect("lock").clone()).expect("utf8");
        assert!(
            text.ends_with("\x1b[2A\x1b[2K\ra: Pull complete\n\x1b[2K\rb: Waiting\n"),
            "{text:?}"
        );
    }
}
