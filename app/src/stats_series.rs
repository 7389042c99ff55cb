//! A container's stats as its Stats tab draws them: the points of the last hour (history from
//! the daemon, then live ones), the rates between them, the columns handed to the charts, and
//! the current values as text in docker's units (`berth stats` and `docker stats` print the
//! same figures: CPU % of one CPU, the working set against the limit, I/O totals).
//!
//! Counters (network, block I/O) are totals since the container started; a rate is the growth
//! between two points over the time between them. A counter that went down (the container
//! restarted) has no rate at that point, and two points further apart than [`GAP_MS`]
//! (nobody sampled: the container was stopped) are not joined by a line.

use berth_wire::StatsPoint;
use serde::Serialize;
use std::collections::VecDeque;

/// How far back the charts go.
pub const SPAN_MS: i64 = 60 * 60 * 1000;
/// Points kept at most: an hour of 10 s points plus 5 minutes of 1 s ones fits, with room.
pub const MAX_POINTS: usize = 4_000;
/// Points further apart than this are drawn with a gap between them (the history's coarse
/// points are 10 s apart).
pub const GAP_MS: i64 = 30_000;

/// The points of the last [`SPAN_MS`], oldest first, each newer than the one before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSeries {
    points: VecDeque<StatsPoint>,
}

/// Per-second growth of the I/O counters between two points.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub rx: Option<f64>,
    pub tx: Option<f64>,
    pub read: Option<f64>,
    pub write: Option<f64>,
}

/// `(new − old) / seconds`, or `None` when the counter went down (a restart began it again).
fn rate(old: u64, new: u64, seconds: f64) -> Option<f64> {
    (new >= old).then(|| (new - old) as f64 / seconds)
}

impl Rates {
    /// The rates from `a` to the later `b`; all `None` when they are not ordered in time or
    /// too far apart to say anything about the moment of `b`.
    pub fn between(a: &StatsPoint, b: &StatsPoint) -> Rates {
        let dt = b.time_ms - a.time_ms;
        if dt <= 0 || dt > GAP_MS {
            return Rates::default();
        }
        let s = dt as f64 / 1000.0;
        Rates {
            rx: rate(a.net_rx_bytes, b.net_rx_bytes, s),
            tx: rate(a.net_tx_bytes, b.net_tx_bytes, s),
            read: rate(a.block_read_bytes, b.block_read_bytes, s),
            write: rate(a.block_write_bytes, b.block_write_bytes, s),
        }
    }
}

/// The charts' data, one column per series, as uPlot takes it: `t` in seconds since the Unix
/// epoch, `None` (JSON `null`) where a series has no value (a gap is a row of nulls).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChartColumns {
    pub t: Vec<f64>,
    pub cpu: Vec<Option<f64>>,
    pub memory: Vec<Option<f64>>,
    pub limit: Vec<Option<f64>>,
    pub rx: Vec<Option<f64>>,
    pub tx: Vec<Option<f64>>,
    pub read: Vec<Option<f64>>,
    pub write: Vec<Option<f64>>,
    pub pids: Vec<Option<f64>>,
}

impl ChartColumns {
    fn row(&mut self, t_ms: i64, p: Option<&StatsPoint>, r: Rates) {
        self.t.push(t_ms as f64 / 1000.0);
        self.cpu.push(p.map(|p| p.cpu_percent));
        self.memory.push(p.map(|p| p.memory_bytes as f64));
        self.limit.push(p.map(|p| p.memory_limit_bytes as f64));
        self.rx.push(r.rx);
        self.tx.push(r.tx);
        self.read.push(r.read);
        self.write.push(r.write);
        self.pids.push(p.map(|p| p.pids as f64));
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// The newest figures, as the tab prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub point: StatsPoint,
    pub rates: Rates,
}

impl StatsSeries {
    /// Adds points (oldest first); one not newer than the newest kept is skipped, so a
    /// history sent again after a reconnect adds only what is new. Points older than
    /// [`SPAN_MS`] before the newest go.
    pub fn extend(&mut self, points: impl IntoIterator<Item = StatsPoint>) -> usize {
        let mut added = 0;
        for p in points {
            if self
                .points
                .back()
                .is_some_and(|last| p.time_ms <= last.time_ms)
            {
                continue;
            }
            if self.points.len() == MAX_POINTS {
                self.points.pop_front();
            }
            self.points.push_back(p);
            added += 1;
        }
        if let Some(newest) = self.points.back().map(|p| p.time_ms) {
            while self
                .points
                .front()
                .is_some_and(|p| p.time_ms < newest - SPAN_MS)
            {
                self.points.pop_front();
            }
        }
        added
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The newest point with the rates that lead to it.
    pub fn current(&self) -> Option<Current> {
        let last = self.points.back()?;
        let rates = match self.points.len() {
            n if n >= 2 => Rates::between(&self.points[n - 2], last),
            _ => Rates::default(),
        };
        Some(Current {
            point: *last,
            rates,
        })
    }

    /// Every point as chart rows, with a row of nulls inside each gap.
    pub fn columns(&self) -> ChartColumns {
        let mut c = ChartColumns::default();
        let mut prev: Option<&StatsPoint> = None;
        for p in &self.points {
            let rates = match prev {
                Some(a) if p.time_ms - a.time_ms > GAP_MS => {
                    c.row((a.time_ms + p.time_ms) / 2, None, Rates::default());
                    Rates::default()
                }
                Some(a) => Rates::between(a, p),
                None => Rates::default(),
            };
            c.row(p.time_ms, Some(p), rates);
            prev = Some(p);
        }
        c
    }
}

/// What the tab says about its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsStatus {
    Connecting,
    Live,
    Reconnecting,
    /// The container stopped: the charts keep what they have.
    Stopped,
    Failed(String),
}

impl StatsStatus {
    pub fn kind(&self) -> &'static str {
        match self {
            StatsStatus::Connecting => "connecting",
            StatsStatus::Live => "live",
            StatsStatus::Reconnecting => "reconnecting",
            StatsStatus::Stopped => "closed",
            StatsStatus::Failed(_) => "failed",
        }
    }

    pub fn text(&self) -> String {
        match self {
            StatsStatus::Connecting => "connecting…".into(),
            StatsStatus::Live => "live".into(),
            StatsStatus::Reconnecting => "reconnecting…".into(),
            StatsStatus::Stopped => "container stopped".into(),
            StatsStatus::Failed(e) => e.clone(),
        }
    }
}

pub use berth_wire::units::{binary_size as memory_size, decimal_size as io_size};

/// `1.2kB/s`, or `—` without a rate.
pub fn io_rate(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_string(), |r| format!("{}/s", io_size(r)))
}

/// `12.34%`, as `berth stats` prints CPU % and MEM %.
pub fn percent(value: f64) -> String {
    format!("{value:.2}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn at(time_ms: i64, rx: u64, cpu: f64) -> StatsPoint {
        StatsPoint {
            time_ms,
            cpu_percent: cpu,
            memory_bytes: 10 << 20,
            memory_limit_bytes: 1 << 30,
            net_rx_bytes: rx,
            net_tx_bytes: rx / 2,
            block_read_bytes: rx * 2,
            block_write_bytes: 0,
            pids: 3,
            ..Default::default()
        }
    }

    #[test]
    fn rates_are_growth_per_second_and_none_across_a_restart_or_a_gap() {
        let r = Rates::between(&at(T0, 1_000, 0.0), &at(T0 + 2_000, 5_000, 0.0));
        assert_eq!(r.rx, Some(2_000.0));
        assert_eq!(r.tx, Some(1_000.0));
        assert_eq!(r.read, Some(4_000.0));
        assert_eq!(r.write, Some(0.0));
        // The counters began again: no rate, not a huge negative one.
        let r = Rates::between(&at(T0, 5_000, 0.0), &at(T0 + 1_000, 100, 0.0));
        assert_eq!((r.rx, r.tx, r.read), (None, None, None));
        assert_eq!(r.write, Some(0.0));
        // Same moment, reversed, or too far apart.
        assert_eq!(
            Rates::between(&at(T0, 0, 0.0), &at(T0, 10, 0.0)),
            Rates::default()
        );
        assert_eq!(
            Rates::between(&at(T0 + 1, 0, 0.0), &at(T0, 10, 0.0)),
            Rates::default()
        );
        assert_eq!(
            Rates::between(&at(T0, 0, 0.0), &at(T0 + GAP_MS + 1, 10, 0.0)),
            Rates::default()
        );
    }

    #[test]
    fn a_history_sent_again_adds_only_newer_points() {
        let mut s = StatsSeries::default();
        let history: Vec<_> = (0..5).map(|i| at(T0 + i * 1_000, 0, 1.0)).collect();
        assert_eq!(s.extend(history.clone()), 5);
        assert_eq!(s.extend(history), 0);
        assert_eq!(
            s.extend([at(T0 + 3_500, 0, 1.0), at(T0 + 5_000, 0, 1.0)]),
            1
        );
        assert_eq!(s.len(), 6);
        assert_eq!(s.current().unwrap().point.time_ms, T0 + 5_000);
    }

    #[test]
    fn the_series_keeps_the_last_hour_and_a_bounded_count() {
        let mut s = StatsSeries::default();
        s.extend((0..10).map(|i| at(T0 + i * 10_000, 0, 0.0)));
        s.extend([at(T0 + SPAN_MS + 25_000, 0, 0.0)]);
        // Points older than an hour before the newest went: 0, 10 and 20 s.
        assert_eq!(s.len(), 8);
        assert_eq!(s.columns().t[0], (T0 + 30_000) as f64 / 1000.0);
        let mut s = StatsSeries::default();
        s.extend((0..MAX_POINTS as i64 + 10).map(|i| at(T0 + i * 100, 0, 0.0)));
        assert_eq!(s.len(), MAX_POINTS);
    }

    #[test]
    fn columns_hold_every_series_with_a_null_row_in_each_gap() {
        let mut s = StatsSeries::default();
        s.extend([
            at(T0, 0, 10.0),
            at(T0 + 1_000, 3_000, 20.0),
            at(T0 + 1_000 + GAP_MS + 1_000, 3_000, 30.0),
        ]);
        let c = s.columns();
        assert_eq!(c.t.len(), 4, "three points and a gap");
        assert_eq!(c.cpu, vec![Some(10.0), Some(20.0), None, Some(30.0)]);
        assert_eq!(c.rx, vec![None, Some(3_000.0), None, None]);
        assert_eq!(c.limit[0], Some((1u64 << 30) as f64));
        assert_eq!(c.pids[3], Some(3.0));
        assert!(c.t.windows(2).all(|w| w[0] < w[1]), "{:?}", c.t);
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(json["t"][0], T0 as f64 / 1000.0);
        assert!(json["rx"][0].is_null());
        assert_eq!(json["memory"][1], (10u64 << 20) as f64);
    }

    #[test]
    fn current_values_come_with_the_rates_that_lead_to_them() {
        let mut s = StatsSeries::default();
        assert!(s.current().is_none());
        s.extend([at(T0, 0, 5.0)]);
        assert_eq!(s.current().unwrap().rates, Rates::default());
        s.extend([at(T0 + 1_000, 2_000, 7.5)]);
        let c = s.current().unwrap();
        assert_eq!(c.point.cpu_percent, 7.5);
        assert_eq!(c.rates.rx, Some(2_000.0));
    }

    #[test]
    fn sizes_are_printed_in_dockers_units() {
        // The figures `berth stats` prints for the same bytes (server/src/cli/format.rs).
        assert_eq!(io_size(522_000_000.0), "522MB");
        assert_eq!(io_size(9_240.0), "9.24kB");
        assert_eq!(io_size(1_500.0), "1.5kB");
        assert_eq!(io_size(0.0), "0B");
        assert_eq!(io_size(999_960.0), "1MB");
        assert_eq!(memory_size(4_035_000), "3.848MiB");
        assert_eq!(memory_size(1 << 30), "1GiB");
        assert_eq!(memory_size(32 << 20), "32MiB");
        assert_eq!(io_rate(Some(1_234.0)), "1.23kB/s");
        assert_eq!(io_rate(None), "—");
        assert_eq!(percent(12.345), "12.35%");
        assert_eq!(percent(0.0), "0.00%");
    }
}
