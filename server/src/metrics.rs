//! `GET /metrics`: the daemon's state and its HTTP traffic in the Prometheus text exposition
//! format 0.0.4, for a scraper holding an API token (viewer).
//!
//! The exposition is written by hand rather than with `prometheus-client`: it is a handful of
//! gauges read from the engine at scrape time, one counter and one histogram, and the format
//! (`# HELP`, `# TYPE`, `name{label="value"} number`) is small and stable; a registry of
//! collectors would add a dependency and an indirection for no gain here.
//!
//! Container gauges come from the stats hub's latest readings only: a scrape never samples a
//! cgroup. HTTP metrics are labelled by the matched route template (`/api/v1/containers/{id}`),
//! never the raw path, so their cardinality is bounded by the route table; requests no route
//! matched (static files, 404s) share the route `fallback`.

use crate::api::ApiResult;
use crate::transport::limits::WsLimiter;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use berth_engine::{ContainerQuery, Engine};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the request-duration histogram's buckets.
pub const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of requests no route matched.
pub const FALLBACK_ROUTE: &str = "fallback";

/// The container states `berth_containers` always reports (0 included).
const STATES: [&str; 5] = ["running", "paused", "exited", "created", "restarting"];

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is above every bound.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let slot = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.counts[slot] += 1;
        self.sum += seconds;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
struct HttpState {
    /// (method, route, status) → requests.
    requests: BTreeMap<(String, String, u16), u64>,
    /// (method, route) → durations.
    durations: BTreeMap<(String, String), Histogram>,
}

/// The HTTP counters, shared by the recording layer and the scrape handler (an `Extension`).
#[derive(Debug, Clone, Default)]
pub struct HttpMetrics {
    inner: Arc<Mutex<HttpState>>,
}

impl HttpMetrics {
    pub fn observe(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method).to_string();
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *state
            .requests
            .entry((method.clone(), route.to_string(), status))
            .or_default() += 1;
        state
            .durations
            .entry((method, route.to_string()))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// The counter and the histogram, in the exposition format.
    pub fn render(&self, out: &mut Exposition) {
        let state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        out.family(
            "berth_http_requests_total",
            "HTTP requests answered, by method, matched route and status.",
            "counter",
        );
        for ((method, route, status), n) in &state.requests {
            let status = status.to_string();
            out.sample(
                "berth_http_requests_total",
                &[("method", method), ("route", route), ("status", &status)],
                *n as f64,
            );
        }
        out.family(
            "berth_http_request_duration_seconds",
            "Time to the response's head, by method and matched route.",
            "histogram",
        );
        for ((method, route), histogram) in &state.durations {
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += histogram.counts[i];
                let le = format_float(*bound);
                out.sample(
                    "berth_http_request_duration_seconds_bucket",
                    &[("method", method), ("route", route), ("le", &le)],
                    cumulative as f64,
                );
            }
            out.sample(
                "berth_http_request_duration_seconds_bucket",
                &[("method", method), ("route", route), ("le", "+Inf")],
                histogram.count as f64,
            );
            let labels = [("method", method.as_str()), ("route", route.as_str())];
            out.sample(
                "berth_http_request_duration_seconds_sum",
                &labels,
                histogram.sum,
            );
            out.sample(
                "berth_http_request_duration_seconds_count",
                &labels,
                histogram.count as f64,
            );
        }
    }
}

/// Standard methods by name; anything else as `other` (a client may invent methods).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records every request by its matched route: a `Router::layer`, so routed requests carry
/// their `MatchedPath` in their extensions.
pub async fn track(State(metrics): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| FALLBACK_ROUTE.to_string());
    let method = req.method().clone();
    let start = Instant::now();
    let response = next.run(req).await;
    metrics.observe(&method, &route, response.status().as_u16(), start.elapsed());
    response
}

/// A text exposition being written.
#[derive(Debug, Default)]
pub struct Exposition(String);

impl Exposition {
    pub fn family(&mut self, name: &str, help: &str, kind: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{label}=\"{}\"", escape_label(text));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", format_float(value));
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A label value as the format quotes it: `\`, `"` and newlines escaped.
pub fn escape_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A number as the format writes it (`+Inf`, `-Inf`, `NaN` spelled its way).
pub fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value == f64::INFINITY {
        "+Inf".to_string()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        value.to_string()
    }
}

/// `GET /metrics`.
pub async fn scrape(
    State(engine): State<Engine>,
    Extension(http): Extension<HttpMetrics>,
    ws: Option<Extension<WsLimiter>>,
) -> ApiResult<Response> {
    let containers = engine
        .containers()
        .find_containers(ContainerQuery {
            all: true,
            filters: Default::default(),
            limit: None,
            size: false,
        })
        .await?;
    let mut out = Exposition::default();
    out.family("berth_containers", "Containers by state.", "gauge");
    for state in STATES {
        let n = containers
            .iter()
            .filter(|c| c.status_word() == state)
            .count();
        out.sample("berth_containers", &[("state", state)], n as f64);
    }
    let hub = engine.containers().stats_hub();
    let running: Vec<_> = containers
        .iter()
        .filter(|c| c.status_word() == "running")
        .filter_map(|c| hub.latest(&c.id).map(|(point, _)| (c, point)))
        .collect();
    out.family(
        "berth_container_cpu_percent",
        "CPU use of a running container at its latest reading, in percent of one CPU.",
        "gauge",
    );
    for (c, point) in &running {
        out.sample(
            "berth_container_cpu_percent",
            &[("id", &c.id), ("name", &c.name)],
            point.cpu_percent,
        );
    }
    out.family(
        "berth_container_memory_bytes",
        "Working set of a running container at its latest reading.",
        "gauge",
    );
    for (c, point) in &running {
        out.sample(
            "berth_container_memory_bytes",
            &[("id", &c.id), ("name", &c.name)],
            point.memory_bytes as f64,
        );
    }
    out.family(
        "berth_stats_samplers",
        "Container stats samplers running.",
        "gauge",
    );
    out.sample("berth_stats_samplers", &[], hub.sampler_count() as f64);
    if let Some(Extension(ws)) = ws {
        out.family(
            "berth_websocket_clients",
            "WebSocket clients connected.",
            "gauge",
        );
        out.sample("berth_websocket_clients", &[], ws.active() as f64);
    }
    http.render(&mut out);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], out.into_string()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::default();
        out.sample("m", &[("name", "a\"b\\c\nd"), ("id", "x")], 1.5);
        assert_eq!(
            out.into_string(),
            "m{name=\"a\\\"b\\\\c\\nd\",id=\"x\"} 1.5\n"
        );
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(3.0), "3");
    }

    #[test]
    fn the_histogram_is_cumulative_with_inf_sum_and_count() {
        let http = HttpMetrics::default();
        let route = "/api/v1/containers/{id}";
        for ms in [0, 3, 3, 200, 20_000] {
            http.observe(&Method::GET, route, 200, Duration::from_millis(ms));
        }
        http.observe(
            &Method::from_bytes(b"BREW").unwrap(),
            route,
            405,
            Duration::ZERO,
        );
        let mut out = Exposition::default();
        http.render(&mut out);
        let text = out.into_string();
        let line = |le: &str| {
            format!(
                "berth_http_request_duration_seconds_bucket{{method=\"GET\",route=\"{route}\",le=\"{le}\"}}"
            )
        };
        for (le, n) in [
            ("0.001", 1),
            ("0.0025", 1),
            ("0.005", 3),
            ("0.1", 3),
            ("0.25", 4),
            ("10", 4),
            ("+Inf", 5),
        ] {
            assert!(
                text.contains(&format!("{} {n}\n", line(le))),
                "bucket {le}:\n{text}"
            );
        }
        let sum =
            format!("berth_http_request_duration_seconds_sum{{method=\"GET\",route=\"{route}\"}} ");
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(&sum))
            .expect("a _sum line")
            .parse()
            .expect("a number");
        assert!((sum - 20.206).abs() < 1e-9, "{sum}");
        assert!(text.contains(&format!(
            "berth_http_request_duration_seconds_count{{method=\"GET\",route=\"{route}\"}} 5\n"
        )));
        assert!(text.contains(&format!(
            "berth_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"200\"}} 5\n"
        )));
        assert!(text.contains(&format!(
            "berth_http_requests_total{{method=\"other\",route=\"{route}\",status=\"405\"}} 1\n"
        )));
        assert!(text.contains("# TYPE berth_http_request_duration_seconds histogram\n"));
        assert!(text.contains("# TYPE berth_http_requests_total counter\n"));
    }
}
