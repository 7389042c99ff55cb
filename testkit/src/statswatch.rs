//! `berth-testkit ws-stats`: viewers that watch the stats of many containers (and the host's)
//! over `/api/v1/ws`, counting the points that arrive in a measured window after a warm-up,
//! while the daemon's CPU time (utime + stime of `/proc/PID/stat`) is read at the window's
//! edges; prints `key value` lines for scripts/bench.sh. With `--clients 0` it only measures
//! the daemon's CPU.
//!
//! A connection carries at most 128 subscriptions, so each viewer spreads its containers over
//! connections of `--per-connection` (the first also carries HostStats).

use crate::cputime::cpu_seconds;
use crate::flags::Flags;
use crate::wsconn::Conn;
use berth_wire::ws::{ClientMsg, ServerMsg, StreamSpec};
use std::time::{Duration, Instant};

pub const USAGE: &str = "berth-testkit ws-stats --url ws://HOST:PORT/api/v1/ws --token T \
--containers FILE (ids, one a line) [--clients 10] [--per-connection 120] [--warmup 10] \
[--seconds 30] [--pid DAEMON_PID]";

/// Subscription id of HostStats; container `i` of a connection's chunk is `i + 1`.
const HOST_ID: u32 = 0;

/// What one connection saw inside the window.
#[derive(Default)]
struct Tally {
    /// Points per container of the chunk, by subscription id − 1.
    points: Vec<u64>,
    host_points: u64,
    /// The hub's sampler count in the last Stats message.
    samplers: Option<u32>,
    lagged: u64,
    error: Option<String>,
}

fn stats(container: &str) -> StreamSpec {
    StreamSpec::Stats {
        container: container.to_string(),
    }
}

/// Subscribes to `chunk` (and the host's when `host`), then counts until `end`.
async fn watch(
    url: String,
    token: String,
    chunk: Vec<String>,
    host: bool,
    start: Instant,
    end: Instant,
) -> Tally {
    let mut t = Tally {
        points: vec![0; chunk.len()],
        ..Default::default()
    };
    let outcome: Result<(), String> = async {
        let mut conn = Conn::open(&url, &token).await?;
        if host {
            conn.send(&ClientMsg::Subscribe {
                id: HOST_ID,
                stream: StreamSpec::HostStats,
            })
            .await?;
        }
        for (i, c) in chunk.iter().enumerate() {
            conn.send(&ClientMsg::Subscribe {
                id: i as u32 + 1,
                stream: stats(c),
            })
            .await?;
        }
        loop {
            let msg = match tokio::time::timeout_at(end.into(), conn.recv()).await {
                Err(_) => break,
                Ok(m) => m?.ok_or("the server closed the connection")?,
            };
            let counting = Instant::now() >= start;
            match msg {
                ServerMsg::Stats { updates, samplers } => {
                    if counting {
                        for u in updates {
                            t.points[u.id as usize - 1] += u.points.len() as u64;
                        }
                        t.samplers = Some(samplers);
                    }
                }
                ServerMsg::HostStats { points, .. } => {
                    if counting {
                        t.host_points += points.len() as u64;
                    }
                }
                ServerMsg::Lagged { id, .. } => {
                    // As the dashboard does: subscribe again (stats have no cursor).
                    t.lagged += 1;
                    let stream = match id {
                        HOST_ID => StreamSpec::HostStats,
                        i => stats(&chunk[i as usize - 1]),
                    };
                    conn.send(&ClientMsg::Subscribe { id, stream }).await?;
                }
                ServerMsg::Error { id, message, .. } => {
                    return Err(format!("subscription {id:?}: {message}"))
                }
                ServerMsg::End { id, .. } => return Err(format!("subscription {id} ended")),
                ServerMsg::Logs { .. } | ServerMsg::Events { .. } => {}
            }
        }
        conn.close().await;
        Ok(())
    }
    .await;
    t.error = outcome.err();
    t
}

pub async fn run(flags: Flags) -> Result<(), String> {
    let url = flags.text("url")?.to_string();
    let token = flags.text("token")?.to_string();
    let file = flags.text("containers")?;
    let clients: usize = flags.number("clients", 10)?;
    let per_connection: usize = flags.number("per-connection", 120)?;
    let warmup: f64 = flags.number("warmup", 10.0)?;
    let seconds: f64 = flags.number("seconds", 30.0)?;
    let pid: Option<u32> = match flags.optional("pid") {
        None => None,
        Some(p) => Some(p.parse().map_err(|_| format!("--pid {p:?}"))?),
    };
    if !(1..128).contains(&per_connection) || seconds <= 0.0 {
        return Err("--per-connection takes 1 to 127, --seconds a positive number".into());
    }
    let ids: Vec<String> = std::fs::read_to_string(file)
        .map_err(|e| format!("{file}: {e}"))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Err(format!("{file} names no container"));
    }
    let start = Instant::now() + Duration::from_secs_f64(warmup);
    let end = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        for (k, chunk) in ids.chunks(per_connection).enumerate() {
            tasks.push(tokio::spawn(watch(
                url.clone(),
                token.clone(),
                chunk.to_vec(),
                k == 0,
                start,
                end,
            )));
        }
    }
    tokio::time::sleep_until(start.into()).await;
    let cpu0 = pid.map(|p| cpu_seconds(&p.to_string())).transpose()?;
    let t0 = Instant::now();
    tokio::time::sleep_until(end.into()).await;
    let cpu1 = pid.map(|p| cpu_seconds(&p.to_string())).transpose()?;
    let window = t0.elapsed().as_secs_f64();
    let mut tallies = Vec::with_capacity(tasks.len());
    for task in tasks {
        tallies.push(task.await.map_err(|e| e.to_string())?);
    }

    let pairs = (clients * ids.len()) as f64;
    let points: u64 = tallies.iter().flat_map(|t| &t.points).sum();
    let least = tallies.iter().flat_map(|t| &t.points).min().copied();
    let silent = tallies
        .iter()
        .flat_map(|t| &t.points)
        .filter(|&&p| p == 0)
        .count();
    let host: u64 = tallies.iter().map(|t| t.host_points).sum();
    let errors: Vec<_> = tallies.iter().filter_map(|t| t.error.as_deref()).collect();
    println!("clients {clients}");
    println!("connections {}", tallies.len());
    println!("containers {}", ids.len());
    println!("seconds {window:.3}");
    if let (Some(a), Some(b)) = (cpu0, cpu1) {
        println!("cpu_seconds {:.2}", b - a);
        println!("cpu_percent {:.2}", (b - a) / window * 100.0);
    }
    if clients > 0 {
        println!("points_total {points}");
        println!(
            "points_per_s_per_container {:.3}",
            points as f64 / pairs / window
        );
        if let Some(least) = least {
            println!("min_points_per_s {:.3}", least as f64 / window);
        }
        println!("silent {silent}");
        println!(
            "host_points_per_s {:.3}",
            host as f64 / clients as f64 / window
        );
        if let Some(s) = tallies.iter().filter_map(|t| t.samplers).max() {
            println!("samplers {s}");
        }
        println!("lagged {}", tallies.iter().map(|t| t.lagged).sum::<u64>());
        println!("errors {}", errors.len());
        if let Some(e) = errors.first() {
            println!("first_error {e}");
        }
    }
    Ok(())
}
