//! `berth-testkit ws-fanout`: many viewers follow one container's log from its start over
//! `/api/v1/ws`, each checking that it got every numbered line exactly once, while a probe
//! times `GET /api/v1/containers`; prints `key value` lines for scripts/bench.sh.
//!
//! The container prints lines whose first word is their number, 1 to `--expect`. A client
//! that is told it lagged subscribes again from the cursor it was given, as the dashboard
//! does. `Lagged` and `End` reach the client ahead of the data the server has queued (they
//! go through its control queue), so a client keeps taking lines after `End` until it has all
//! or none came for [`GRACE`]; `early_end` counts the clients to which that happened.

use crate::cputime::cpu_seconds;
use crate::flags::Flags;
use crate::wsconn::{authority, Conn};
use berth_wire::ws::{ClientMsg, Cursor, ServerMsg, StreamSpec};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const USAGE: &str = "berth-testkit ws-fanout --url ws://HOST:PORT/api/v1/ws --token T \
--container ID --expect N [--clients 100] [--timeout 300] [--probe-path /api/v1/containers] [--pid DAEMON_PID]";

/// How long a client that got `End` still waits for lines queued before it.
const GRACE: Duration = Duration::from_secs(2);

/// What one client saw.
#[derive(Default)]
struct Tally {
    lines: u64,
    duplicates: u64,
    /// Lines whose number went backwards.
    out_of_order: u64,
    /// Lines without a number in 1..=expect.
    foreign: u64,
    lagged: u64,
    missing: u64,
    /// `End` came before the last line.
    early_end: bool,
    /// When the last line came.
    last_line: Option<Instant>,
    error: Option<String>,
}

/// Which numbers a client has seen, one bit each.
struct Seen(Vec<u64>);

impl Seen {
    fn new(n: u64) -> Seen {
        Seen(vec![0; (n as usize + 1).div_ceil(64)])
    }
    /// Marks `i`; false when it was marked already.
    fn mark(&mut self, i: u64) -> bool {
        let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }
}

fn logs_from(container: &str, resume: Option<berth_wire::ws::LogCursor>) -> StreamSpec {
    StreamSpec::Logs(berth_wire::ws::LogsSpec {
        container: container.to_string(),
        tail: None,
        since_ms: None,
        until_ms: None,
        stdout: true,
        stderr: true,
        resume,
    })
}

/// Follows the log to its end (`End`), or until `deadline`.
async fn follow(mut conn: Conn, container: String, expect: u64, deadline: Instant) -> Tally {
    let mut t = Tally::default();
    let mut seen = Seen::new(expect);
    let mut last = 0u64;
    let mut pending = String::new();
    let mut id = 1;
    let mut distinct = 0;
    let mut ended = false;
    let outcome: Result<(), String> = async {
        conn.send(&ClientMsg::Subscribe {
            id,
            stream: logs_from(&container, None),
        })
        .await?;
        loop {
            let until = match ended {
                true => deadline.min(Instant::now() + GRACE),
                false => deadline,
            };
            let msg = match tokio::time::timeout_at(until.into(), conn.recv()).await {
                Err(_) if ended => return Ok(()),
                Err(_) => return Err("timed out before the log ended".into()),
                Ok(msg) => msg?.ok_or("the server closed the connection")?,
            };
            match msg {
                // `Lagged` overtakes the data already queued (it goes through the control
                // queue), so lines of the paused subscription still arrive after it, up to
                // its resume cursor: they count.
                ServerMsg::Logs { id: got, lines } if got <= id => {
                    for l in lines {
                        pending.push_str(&l.line);
                        if l.partial {
                            continue;
                        }
                        let n = pending
                            .split(' ')
                            .next()
                            .and_then(|w| w.parse::<u64>().ok())
                            .filter(|n| (1..=expect).contains(n));
                        pending.clear();
                        t.lines += 1;
                        let Some(n) = n else {
                            t.foreign += 1;
                            continue;
                        };
                        if seen.mark(n) {
                            distinct += 1;
                        } else {
                            t.duplicates += 1;
                        }
                        if n < last {
                            t.out_of_order += 1;
                        }
                        last = n;
                    }
                    t.last_line = Some(Instant::now());
                    if ended && distinct == expect {
                        return Ok(());
                    }
                }
                ServerMsg::Lagged { id: got, resume } if got == id => {
                    t.lagged += 1;
                    let resume = match resume {
                        Some(Cursor::Log(c)) => Some(c),
                        None => None,
                        Some(other) => return Err(format!("a log resumes at {other:?}")),
                    };
                    id += 1;
                    conn.send(&ClientMsg::Subscribe {
                        id,
                        stream: logs_from(&container, resume),
                    })
                    .await?;
                }
                ServerMsg::End { id: got, .. } if got == id => {
                    if distinct == expect {
                        return Ok(());
                    }
                    t.early_end = true;
                    ended = true;
                }
                ServerMsg::Error { message, .. } => return Err(message),
                // Nothing else is subscribed on this connection.
                _ => {}
            }
        }
    }
    .await;
    t.error = outcome.err();
    t.missing = expect - distinct;
    conn.close().await;
    t
}

/// Times `GET path` on `host` (HTTP/1.1, a new connection each) every 100 ms until `stop`.
fn probe(host: String, path: String, token: String, stop: Arc<AtomicBool>) -> (Vec<f64>, u64) {
    let mut times = Vec::new();
    let mut failed = 0;
    while !stop.load(Ordering::Relaxed) {
        let t0 = Instant::now();
        let answer = (|| -> std::io::Result<Vec<u8>> {
            let mut s = std::net::TcpStream::connect(&host)?;
            s.set_read_timeout(Some(Duration::from_secs(30)))?;
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
                 Connection: close\r\n\r\n"
            )?;
            let mut body = Vec::new();
            s.read_to_end(&mut body)?;
            Ok(body)
        })();
        match answer {
            Ok(b) if b.starts_with(b"HTTP/1.1 200") => {
                times.push(t0.elapsed().as_secs_f64() * 1000.0)
            }
            _ => failed += 1,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (times, failed)
}

pub async fn run(flags: Flags) -> Result<(), String> {
    let url = flags.text("url")?.to_string();
    let token = flags.text("token")?.to_string();
    let container = flags.text("container")?.to_string();
    let expect: u64 = flags.number("expect", 0)?;
    let clients: usize = flags.number("clients", 100)?;
    let timeout: u64 = flags.number("timeout", 300)?;
    let probe_path = flags
        .optional("probe-path")
        .unwrap_or("/api/v1/containers")
        .to_string();
    let pid = flags.optional("pid").unwrap_or("self").to_string();
    if expect == 0 || clients == 0 {
        return Err("--expect and --clients must be positive".into());
    }
    let host = authority(&url)?;
    // Connect everyone first, so all subscriptions start together.
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(Conn::open(&url, &token).await?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let (stop, token) = (stop.clone(), token.clone());
        std::thread::spawn(move || probe(host, probe_path, token, stop))
    };
    let t0 = Instant::now();
    let (daemon0, own0) = (cpu_seconds(&pid)?, cpu_seconds("self")?);
    let deadline = t0 + Duration::from_secs(timeout);
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|c| tokio::spawn(follow(c, container.clone(), expect, deadline)))
        .collect();
    let mut tallies = Vec::with_capacity(clients);
    for task in tasks {
        tallies.push(task.await.map_err(|e| e.to_string())?);
    }
    // Up to the last line delivered (not the grace a client waited after it).
    let seconds = tallies
        .iter()
        .filter_map(|t| t.last_line)
        .max()
        .unwrap_or_else(Instant::now)
        .duration_since(t0)
        .as_secs_f64();
    let (daemon1, own1) = (cpu_seconds(&pid)?, cpu_seconds("self")?);
    stop.store(true, Ordering::Relaxed);
    let (mut probes, probe_failed) = prober.join().map_err(|_| "the probe panicked")?;
    probes.sort_by(f64::total_cmp);

    let sum = |f: fn(&Tally) -> u64| tallies.iter().map(f).sum::<u64>();
    let lines = sum(|t| t.lines);
    let exact = tallies
        .iter()
        .filter(|t| t.error.is_none() && t.lines == expect && t.duplicates == 0 && t.missing == 0)
        .count();
    let errors: Vec<_> = tallies.iter().filter_map(|t| t.error.as_deref()).collect();
    println!("clients {clients}");
    println!("expect {expect}");
    println!("seconds {seconds:.3}");
    println!("lines_total {lines}");
    println!("lines_per_s {:.0}", lines as f64 / seconds);
    println!("exact_clients {exact}");
    if pid != "self" {
        println!("daemon_cpu_seconds {:.2}", daemon1 - daemon0);
    }
    println!("client_cpu_seconds {:.2}", own1 - own0);
    println!("duplicates {}", sum(|t| t.duplicates));
    println!("missing {}", sum(|t| t.missing));
    println!("out_of_order {}", sum(|t| t.out_of_order));
    println!("foreign {}", sum(|t| t.foreign));
    println!("lagged {}", sum(|t| t.lagged));
    println!(
        "early_end {}",
        tallies.iter().filter(|t| t.early_end).count()
    );
    println!("errors {}", errors.len());
    if let Some(e) = errors.first() {
        println!("first_error {e}");
    }
    println!("api_probes {}", probes.len());
    println!("api_failed {probe_failed}");
    if !probes.is_empty() {
        let at = |q: f64| probes[((probes.len() - 1) as f64 * q).round() as usize];
        println!("api_p50_ms {:.1}", at(0.5));
        println!("api_p99_ms {:.1}", at(0.99));
        println!("api_max_ms {:.1}", at(1.0));
    }
    Ok(())
}
