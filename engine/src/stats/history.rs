//! The last hour of readings of one container (or of the host), in bounded memory: every
//! reading of the last 5 minutes (1 s apart while somebody watches), and one point per
//! 10 s bucket of the last hour.
//!
//! Memory: a [`StatsPoint`] is 80 bytes (10 eight-byte fields), so a container's history
//! holds at most [`FINE_LEN`] × 80 = 24,000 bytes of fine points and [`COARSE_LEN`] × 80 =
//! 28,800 bytes of coarse ones: 52,800 bytes (~52 KiB) while it is watched. The fine ring is
//! allocated on a container's first 1 s reading and freed once its points are older than
//! 5 minutes, so a container nobody looks at (sampled every 10 s by the background pass)
//! costs the coarse ring only: 28,800 bytes, 14.4 MB for 500 containers. A [`HostPoint`] is
//! 56 bytes: 36,960 bytes for the host's history.

use super::{HostPoint, StatsPoint};
use std::collections::VecDeque;

/// The span of the fine (every reading) ring.
pub const FINE_SPAN_MS: i64 = 5 * 60 * 1000;
/// At most one reading a second is kept there.
pub const FINE_LEN: usize = 300;
/// The span of a coarse bucket.
pub const COARSE_STEP_MS: i64 = 10_000;
/// The span of the coarse ring.
pub const COARSE_SPAN_MS: i64 = 60 * 60 * 1000;
pub const COARSE_LEN: usize = 360;

/// A reading that a history can keep.
pub trait Timed: Clone {
    fn time_ms(&self) -> i64;
    /// Folds `newer` into this bucket of `n` readings: the result is the newer reading with
    /// its rates (CPU %) the mean of the bucket's, so a 10 s point does not show whichever
    /// one second happened to be last.
    fn fold(&mut self, newer: &Self, n: u32);
}

fn mean(acc: f64, new: f64, n: u32) -> f64 {
    (acc * f64::from(n) + new) / f64::from(n + 1)
}

impl Timed for StatsPoint {
    fn time_ms(&self) -> i64 {
        self.time_ms
    }
    fn fold(&mut self, newer: &Self, n: u32) {
        let cpu = mean(self.cpu_percent, newer.cpu_percent, n);
        *self = *newer;
        self.cpu_percent = cpu;
    }
}

impl Timed for HostPoint {
    fn time_ms(&self) -> i64 {
        self.time_ms
    }
    fn fold(&mut self, newer: &Self, n: u32) {
        let cpu = mean(self.cpu_percent, newer.cpu_percent, n);
        let containers = mean(self.containers_cpu_percent, newer.containers_cpu_percent, n);
        *self = *newer;
        self.cpu_percent = cpu;
        self.containers_cpu_percent = containers;
    }
}

/// Two rings: `fine` (readings of the last 5 minutes that were pushed as such) and `coarse`
/// (one folded point per 10 s bucket of the last hour).
#[derive(Debug, Clone)]
pub struct History<P> {
    fine: VecDeque<P>,
    coarse: VecDeque<P>,
    /// Readings folded into `coarse.back()`.
    folded: u32,
}

impl<P> Default for History<P> {
    fn default() -> Self {
        Self {
            fine: VecDeque::new(),
            coarse: VecDeque::new(),
            folded: 0,
        }
    }
}

fn push_bounded<P>(ring: &mut VecDeque<P>, len: usize, p: P) {
    if ring.capacity() == 0 {
        ring.reserve_exact(len);
    }
    if ring.len() == len {
        ring.pop_front();
    }
    ring.push_back(p);
}

impl<P: Timed> History<P> {
    /// Adds a reading, newer than the last. `fine`: it is one of a 1 s series (a watched
    /// container), kept as is for 5 minutes; every reading is folded into its 10 s bucket.
    /// A reading not newer than the last is ignored.
    pub fn push(&mut self, p: P, fine: bool) {
        let t = p.time_ms();
        if self.newest().is_some_and(|last| t <= last) {
            return;
        }
        match self.coarse.back_mut() {
            Some(last)
                if last.time_ms().div_euclid(COARSE_STEP_MS) == t.div_euclid(COARSE_STEP_MS) =>
            {
                last.fold(&p, self.folded);
                self.folded += 1;
            }
            _ => {
                push_bounded(&mut self.coarse, COARSE_LEN, p.clone());
                self.folded = 1;
            }
        }
        while self
            .coarse
            .front()
            .is_some_and(|f| f.time_ms() <= t - COARSE_SPAN_MS)
        {
            self.coarse.pop_front();
        }
        if fine {
            push_bounded(&mut self.fine, FINE_LEN, p);
        }
        while self
            .fine
            .front()
            .is_some_and(|f| f.time_ms() <= t - FINE_SPAN_MS)
        {
            self.fine.pop_front();
        }
        if self.fine.is_empty() && self.fine.capacity() > 0 {
            self.fine = VecDeque::new();
        }
    }

    /// The time of the newest reading.
    pub fn newest(&self) -> Option<i64> {
        let fine = self.fine.back().map(Timed::time_ms);
        let coarse = self.coarse.back().map(Timed::time_ms);
        fine.max(coarse)
    }

    /// The newest reading (as pushed, or folded into its bucket).
    pub fn latest(&self) -> Option<&P> {
        match (self.fine.back(), self.coarse.back()) {
            (Some(f), Some(c)) if c.time_ms() > f.time_ms() => Some(c),
            (Some(f), _) => Some(f),
            (None, c) => c,
        }
    }

    /// Oldest first: 10 s points up to the fine readings, the fine readings, then 10 s
    /// points newer than them (readings since nobody watches).
    pub fn points(&self) -> Vec<P> {
        let (first, last) = match (self.fine.front(), self.fine.back()) {
            (Some(f), Some(l)) => (f.time_ms(), l.time_ms()),
            _ => return self.coarse.iter().cloned().collect(),
        };
        let mut out = Vec::with_capacity(self.fine.len() + self.coarse.len());
        out.extend(self.coarse.iter().filter(|p| p.time_ms() < first).cloned());
        out.extend(self.fine.iter().cloned());
        out.extend(self.coarse.iter().filter(|p| p.time_ms() > last).cloned());
        out
    }

    pub fn len(&self) -> usize {
        self.fine.len() + self.coarse.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the rings' buffers (allocated, not just used).
    pub fn heap_bytes(&self) -> usize {
        (self.fine.capacity() + self.coarse.capacity()) * std::mem::size_of::<P>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(time_ms: i64, cpu: f64) -> StatsPoint {
        StatsPoint {
            time_ms,
            cpu_percent: cpu,
            memory_bytes: time_ms as u64,
            ..Default::default()
        }
    }

    const T0: i64 = 1_700_000_000_000;

    #[test]
    fn point_sizes_are_what_the_docs_count() {
        assert_eq!(std::mem::size_of::<StatsPoint>(), 80);
        assert_eq!(std::mem::size_of::<HostPoint>(), 56);
    }

    #[test]
    fn two_hours_of_seconds_keep_5_minutes_of_seconds_then_10_s_points_to_an_hour() {
        let mut h = History::default();
        for s in 0..7200 {
            h.push(point(T0 + s * 1000, (s % 10) as f64), true);
        }
        let points = h.points();
        let now = T0 + 7199 * 1000;
        assert!(
            points.windows(2).all(|w| w[0].time_ms < w[1].time_ms),
            "oldest first"
        );
        assert_eq!(points.last().unwrap().time_ms, now);
        assert!(
            points[0].time_ms > now - COARSE_SPAN_MS,
            "nothing older than an hour"
        );
        assert!(points[0].time_ms <= now - COARSE_SPAN_MS + COARSE_STEP_MS);
        // The last 300 are the seconds themselves …
        let (coarse, fine) = points.split_at(points.len() - FINE_LEN);
        assert!(fine.windows(2).all(|w| w[1].time_ms - w[0].time_ms == 1000));
        assert_eq!(fine[0].time_ms, now - 299_000);
        // … before them one point per 10 s, each the bucket's last second with its mean CPU.
        assert!(coarse
            .windows(2)
            .all(|w| w[1].time_ms - w[0].time_ms == 10_000));
        assert!(coarse
            .iter()
            .all(|p| (p.cpu_percent - 4.5).abs() < 1e-9 && p.memory_bytes == p.time_ms as u64));
        assert_eq!(
            coarse.len(),
            330,
            "360 buckets, the newest 30 of them as seconds"
        );
        assert!(
            h.heap_bytes() <= (FINE_LEN + COARSE_LEN) * 80,
            "{}",
            h.heap_bytes()
        );
        assert_eq!(h.latest().unwrap().time_ms, now);
    }

    #[test]
    fn background_points_are_coarse_only_and_outlive_an_old_fine_series() {
        let mut h = History::default();
        // Watched for a minute …
        for s in 0..60 {
            h.push(point(T0 + s * 1000, 1.0), true);
        }
        // … then the 10 s background pass only, for 10 minutes.
        for k in 1..=60 {
            h.push(point(T0 + 59_000 + k * 10_000, 2.0), false);
        }
        let points = h.points();
        assert!(points.windows(2).all(|w| w[0].time_ms < w[1].time_ms));
        assert_eq!(points.last().unwrap().time_ms, T0 + 59_000 + 600_000);
        // The fine minute aged out (older than 5 minutes) and its buffer was freed.
        assert_eq!(h.heap_bytes(), COARSE_LEN * 80);
        assert_eq!(
            points.len(),
            6 + 60,
            "6 buckets of the watched minute, 60 passes"
        );
        // Stale or repeated readings are ignored.
        h.push(point(T0, 9.0), false);
        assert_eq!(h.points(), points);
    }

    #[test]
    fn a_fine_series_is_followed_by_newer_coarse_points() {
        let mut h = History::default();
        for s in 0..30 {
            h.push(point(T0 + s * 1000, 1.0), true);
        }
        h.push(point(T0 + 40_000, 3.0), false);
        let points = h.points();
        assert_eq!(points.len(), 31);
        assert_eq!(points[30].time_ms, T0 + 40_000);
        assert_eq!(h.latest().unwrap().time_ms, T0 + 40_000);
        assert!(History::<StatsPoint>::default().points().is_empty());
    }
}
