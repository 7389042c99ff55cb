//! Where an operation's time went: named phases timed back to back, logged as one line
//! (`start timings`, `network setup timings` …) at debug level, read by `scripts/bench.sh`.

use std::fmt::Write;
use std::time::Instant;

/// Marks the end of each phase of one operation.
pub(crate) struct Phases {
    began: Instant,
    last: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    pub(crate) fn new() -> Phases {
        let now = Instant::now();
        Phases {
            began: now,
            last: now,
            done: Vec::new(),
        }
    }

    /// Ends the phase called `name` now; the next one begins.
    pub(crate) fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        let ms = (now - self.last).as_secs_f64() * 1e3;
        self.done.push((name, ms));
        self.last = now;
    }

    /// `name=ms …` of every phase, then `total=ms`.
    pub(crate) fn summary(&self) -> String {
        let mut out = String::new();
        for (name, ms) in &self.done {
            let _ = write!(out, "{name}={ms:.2} ");
        }
        let _ = write!(out, "total={:.2}", self.began.elapsed().as_secs_f64() * 1e3);
        out
    }

    /// Logs the summary at debug level as `what`, for `container`.
    pub(crate) fn log(&self, what: &'static str, container: &str) {
        tracing::debug!(container = %container, phases = %self.summary(), "{what}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_listed_in_order_with_the_total_last() {
        let mut p = Phases::new();
        p.mark("one");
        p.mark("two");
        let s = p.summary();
        let names: Vec<&str> = s
            .split(' ')
            .map(|kv| kv.split('=').next().unwrap_or(""))
            .collect();
        assert_eq!(names, ["one", "two", "total"]);
        assert!(s.split(' ').all(|kv| kv
            .split('=')
            .nth(1)
            .is_some_and(|v| v.parse::<f64>().is_ok())));
    }
}
