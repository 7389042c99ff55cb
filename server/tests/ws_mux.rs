//! The dashboard's one WebSocket (`/api/v1/ws`) against a real daemon: log resume by cursor,
//! many followers of one fast log, a client that never reads, one stats sampler for two
//! viewers, one stats message a tick per connection, a terminal (exec) with binary frames and
//! resizes, and errors that stay with their subscription.

mod common;

use berth_wire::ws::{
    split_terminal_frame, terminal_frame, ClientMsg, Cursor, EndReason, LogCursor, ServerMsg,
    StreamSpec,
};
use common::web::{self, Session};
use common::Daemon;
use futures::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(d: &Daemon, session: &Session) -> Socket {
    let url = format!("ws://127.0.0.1:{}/api/v1/ws", d.port);
    let mut request = url.into_client_request().expect("ws request");
    request.headers_mut().insert(
        "cookie",
        format!("berth_session={}", session.cookie).parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket")
        .0
}

async fn send(socket: &mut Socket, msg: &ClientMsg) {
    let text = serde_json::to_string(msg).unwrap();
    socket.send(Message::Text(text.into())).await.expect("send");
}

/// The next server message, within `limit`.
async fn next(socket: &mut Socket, limit: Duration) -> Option<ServerMsg> {
    loop {
        match tokio::time::timeout(limit, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                return Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

fn logs(container: &str, resume: Option<LogCursor>) -> StreamSpec {
    StreamSpec::Logs(berth_wire::ws::LogsSpec {
        container: container.into(),
        tail: None,
        since_ms: None,
        until_ms: None,
        stdout: true,
        stderr: true,
        resume,
    })
}

fn run(d: &Daemon, script: &str) -> String {
    d.ok(&["run", "-d", "busybox", "sh", "-c", script])
        .trim()
        .to_string()
}

/// Follows a log to its end on one connection, resubscribing with the cursor whenever the
/// server reports the client lagged; returns the lines and how many times it lagged.
async fn follow_all(socket: &mut Socket, id: u32, container: &str) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut lagged = 0;
    let mut sub = id;
    send(
        socket,
        &ClientMsg::Subscribe {
            id: sub,
            stream: logs(container, None),
        },
    )
    .await;
    loop {
        match next(socket, Duration::from_secs(60))
            .await
            .expect("a message")
        {
            ServerMsg::Logs { id, lines: batch } if id == sub => {
                lines.extend(batch.into_iter().map(|l| l.line))
            }
            ServerMsg::Lagged { id, resume } if id == sub => {
                lagged += 1;
                let resume = match resume {
                    Some(Cursor::Log(c)) => Some(c),
                    None => None,
                    other => panic!("{other:?}"),
                };
                assert!(resume.is_some() || lines.is_empty());
                sub += 1000;
                send(
                    socket,
                    &ClientMsg::Subscribe {
                        id: sub,
                        stream: logs(container, resume),
                    },
                )
                .await;
            }
            ServerMsg::End { id, .. } if id == sub => return (lines, lagged),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_subscription_gets_old_and_new_lines_then_the_exit_code() {
    let d = Daemon::start();
    d.load_busybox();
    let c = run(
        &d,
        "i=0; while [ $i -lt 15 ]; do echo line $i; i=$((i+1)); sleep 0.1; done; exit 5",
    );
    assert!(common::eventually(Duration::from_secs(10), || d
        .ok(&["logs", &c])
        .contains("line 2")));
    let session = web::admin(&d).await;
    let mut socket = connect(&d, &session).await;
    send(
        &mut socket,
        &ClientMsg::Subscribe {
            id: 4,
            stream: logs(&c, None),
        },
    )
    .await;
    let mut lines = Vec::new();
    let exit_code = loop {
        match next(&mut socket, Duration::from_secs(20))
            .await
            .expect("a message")
        {
            ServerMsg::Logs {
                id: 4,
                lines: batch,
            } => {
                for l in batch {
                    assert_eq!(l.stream, "stdout");
                    assert!(l.time_ms > 1_700_000_000_000, "{}", l.time_ms);
                    lines.push(l.line);
                }
            }
            ServerMsg::End {
                id: 4,
                reason: EndReason::Finished,
                exit_code,
            } => break exit_code,
            other => panic!("unexpected {other:?}"),
        }
    };
    let expected: Vec<String> = (0..15).map(|i| format!("line {i}")).collect();
    assert_eq!(lines, expected);
    assert_eq!(exit_code, Some(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_reconnects_with_the_last_cursor_gets_every_line_once() {
    let d = Daemon::start();
    d.load_busybox();
    let c = run(
        &d,
        "i=1; while [ $i -le 400 ]; do echo n$i; i=$((i+1)); [ $((i%50)) = 0 ] && sleep 0.1; done",
    );
    let session = web::admin(&d).await;
    let mut socket = connect(&d, &session).await;
    send(
        &mut socket,
        &ClientMsg::Subscribe {
            id: 1,
            stream: logs(&c, None),
        },
    )
    .await;
    let mut got = Vec::new();
    let mut last = None;
    while got.len() < 150 {
        match next(&mut socket, Duration::from_secs(20))
            .await
            .expect("lines")
        {
            ServerMsg::Logs { lines, .. } => {
                for l in lines {
                    // Stop mid-batch: the cursor of a line, not of a message, is what counts.
                    if got.len() < 150 {
                        got.push(l.line);
                        last = Some(l.cursor);
                    }
                }
            }
            other => panic!("{other:?}"),
        }
    }
    drop(socket);
    let mut socket = connect(&d, &session).await;
    send(
        &mut socket,
        &ClientMsg::Subscribe {
            id: 1,
            stream: logs(&c, last),
        },
    )
    .await;
    loop {
        match next(&mut socket, Duration::from_secs(30))
            .await
            .expect("lines")
        {
            ServerMsg::Logs { lines, .. } => got.extend(lines.into_iter().map(|l| l.line)),
            ServerMsg::End { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    let want: Vec<String> = (1..=400).map(|i| format!("n{i}")).collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "lines lost, repeated or out of order");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_json_and_unknown_containers_are_errors_that_keep_the_connection() {
    let d = Daemon::start();
    let session = web::admin(&d).await;
    let mut socket = connect(&d, &session).await;
    socket
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    match next(&mut socket, Duration::from_secs(10)).await {
        Some(ServerMsg::Error { id: None, code, .. }) => {
            assert_eq!(code, berth_wire::ErrorCode::BadRequest)
        }
        other => panic!("{other:?}"),
    }
    send(
        &mut socket,
        &ClientMsg::Subscribe {
            id: 7,
            stream: logs("nope", None),
        },
    )
    .await;
    match next(&mut socket, Duration::from_secs(10)).await {
        Some(ServerMsg::Error {
            id: Some(7), code, ..
        }) => assert_eq!(code, berth_wire::ErrorCode::NotFound),
        other => panic!("{other:?}"),
    }
    // Still serving: events from now on, and an event to see.
    send(
        &mut socket,
        &ClientMsg::Subscribe {
            id: 8,
            stream: StreamSpec::Events { cursor: None },
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.load_busybox();
    d.ok(&["run", "--rm", "busybox", "true"]);
    match next(&mut socket, Duration::from_secs(10)).await {
        Some(ServerMsg::Events { id: 8, events }) => assert!(!events.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_viewers_of_one_containers_stats_share_one_sampler() {
    let d = Daemon::start();
    d.load_busybox();
    let c = run(&d, "sleep 60");
    let session = web::admin(&d).await;
    let mut a = connect(&d, &session).await;
    let mut b = connect(&d, &session).await;
    for s in [&mut a, &mut b] {
        send(
            s,
            &ClientMsg::Subscribe {
                id: 1,
                stream: StreamSpec::Stats {
                    container: c.clone(),
                },
            },
        )
        .await;
    }
    let mut seen = Vec::new();
    for s in [&mut a, &mut b] {
        // The history first, then live points; by the second message both viewers are in.
        for _ in 0..3 {
            match next(s, Duration::from_secs(10)).await {
                Some(ServerMsg::Stats { samplers, .. }) => seen.push(samplers),
                other => panic!("{other:?}"),
            }
        }
    }
    println!("samplers reported: {seen:?}");
    assert_eq!(seen.last(), Some(&1), "{seen:?}");
    assert!(seen.iter().all(|&n| n <= 1), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_message_a_tick_carries_every_stats_subscription_of_a_connection() {
    let d = Daemon::start();
    d.load_busybox();
    let ids: Vec<String> = (0..3).map(|_| run(&d, "sleep 60")).collect();
    let session = web::admin(&d).await;
    let mut s = connect(&d, &session).await;
    for (i, c) in ids.iter().enumerate() {
        send(
            &mut s,
            &ClientMsg::Subscribe {
                id: i as u32 + 1,
                stream: StreamSpec::Stats {
                    container: c.clone(),
                },
            },
        )
        .await;
    }
    // Each subscription's history first, alone; then every message carries the three.
    let mut histories = Vec::new();
    let mut together = 0;
    while together < 2 {
        match next(&mut s, Duration::from_secs(10)).await {
            Some(ServerMsg::Stats { updates, .. }) => {
                let subs: Vec<u32> = updates.iter().map(|u| u.id).collect();
                if histories.len() < 3 {
                    assert_eq!(subs.len(), 1, "a history comes alone: {subs:?}");
                    histories.push(subs[0]);
                } else if together > 0 || subs.len() == 3 {
                    // A sampler's first read is only the base of its CPU %: the first tick
                    // may have points of the containers watched first only.
                    assert_eq!(subs, [1, 2, 3], "one message for all three");
                    assert!(updates.iter().all(|u| u.points.len() == 1));
                    together += 1;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    histories.sort_unstable();
    assert_eq!(histories, [1, 2, 3]);
    // Unsubscribed: End, and the next messages leave it out; stopped: End Finished.
    send(&mut s, &ClientMsg::Unsubscribe { id: 1 }).await;
    d.ok(&["kill", &ids[1]]);
    let (mut unsubscribed, mut finished, mut after) = (false, false, 0);
    while !(unsubscribed && finished && after >= 2) {
        match next(&mut s, Duration::from_secs(10)).await {
            Some(ServerMsg::End { id: 1, reason, .. }) => {
                assert_eq!(reason, EndReason::Unsubscribed);
                unsubscribed = true;
            }
            Some(ServerMsg::End { id: 2, reason, .. }) => {
                assert_eq!(reason, EndReason::Finished);
                finished = true;
            }
            Some(ServerMsg::Stats { updates, .. }) => {
                let subs: Vec<u32> = updates.iter().map(|u| u.id).collect();
                if unsubscribed {
                    assert!(!subs.contains(&1), "{subs:?} after the unsubscribe");
                }
                if finished {
                    assert_eq!(subs, [3], "only the one left");
                    after += 1;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    // Its id is free again: subscribing anew works.
    send(
        &mut s,
        &ClientMsg::Subscribe {
            id: 1,
            stream: StreamSpec::Stats {
                container: ids[2].clone(),
            },
        },
    )
    .await;
    loop {
        match next(&mut s, Duration::from_secs(10)).await {
            Some(ServerMsg::Stats { updates, .. }) if updates.len() == 2 => break,
            Some(ServerMsg::Stats { .. }) => continue,
            other => panic!("{other:?}"),
        }
    }
}

fn terminal(container: &str, cmd: &[&str]) -> StreamSpec {
    StreamSpec::Terminal(berth_wire::ws::TerminalSpec {
        container: container.into(),
        cmd: cmd.iter().map(|s| s.to_string()).collect(),
        user: None,
        working_dir: None,
        rows: 24,
        columns: 80,
    })
}

/// Terminal output of subscription `id` until it contains `want` (or an `End` of it comes:
/// returned with the output so far).
async fn read_terminal(socket: &mut Socket, id: u32, want: &str) -> (String, Option<ServerMsg>) {
    let mut seen = String::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Binary(frame)))) => {
                let (sub, data) = split_terminal_frame(&frame).expect("a framed message");
                assert_eq!(sub, id);
                seen.push_str(&String::from_utf8_lossy(data));
                if seen.contains(want) {
                    return (seen, None);
                }
            }
            Ok(Some(Ok(Message::Text(text)))) => {
                let msg: ServerMsg = serde_json::from_str(&text).unwrap();
                match msg {
                    ServerMsg::End { .. } | ServerMsg::Error { .. } => return (seen, Some(msg)),
                    other => panic!("{other:?} while reading the terminal: {seen:?}"),
                }
            }
            other => panic!("{other:?} while waiting for {want:?} in {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminal_runs_a_shell_with_its_size_input_and_exit_code() {
    let d = Daemon::start();
    d.load_busybox();
    let c = run(&d, "sleep 60");
    let session = web::admin(&d).await;
    let mut s = connect(&d, &session).await;
    send(
        &mut s,
        &ClientMsg::Subscribe {
            id: 4,
            stream: terminal(&c, &[]),
        },
    )
    .await;
    // Typed before the shell is up: kept until it reads.
    let input = |text: &str| Message::Binary(terminal_frame(4, text.as_bytes()).into());
    s.send(input("stty size; echo sum-$((40+2))\n"))
        .await
        .unwrap();
    let (out, end) = read_terminal(&mut s, 4, "sum-42").await;
    assert!(end.is_none(), "{end:?}: {out:?}");
    assert!(out.contains("24 80"), "the size asked for: {out:?}");
    send(
        &mut s,
        &ClientMsg::Resize {
            id: 4,
            rows: 50,
            columns: 132,
        },
    )
    .await;
    s.send(input("stty size\n")).await.unwrap();
    let (out, _) = read_terminal(&mut s, 4, "50 132").await;
    assert!(out.contains("50 132"), "{out:?}");
    // Input to a subscription that is no terminal is refused, the connection stays.
    s.send(Message::Binary(terminal_frame(9, b"x").into()))
        .await
        .unwrap();
    match next(&mut s, Duration::from_secs(10)).await {
        Some(ServerMsg::Error { code, .. }) => {
            assert_eq!(code, berth_wire::ErrorCode::BadRequest)
        }
        other => panic!("{other:?}"),
    }
    s.send(input("exit 7\n")).await.unwrap();
    let (out, end) = read_terminal(&mut s, 4, "never printed").await;
    match end {
        Some(ServerMsg::End {
            id: 4,
            reason: EndReason::Finished,
            exit_code: Some(7),
        }) => {}
        other => panic!("{other:?} after {out:?}"),
    }
    // Unsubscribing hangs the terminal up: the shell exits (no sh left beside the sleep).
    send(
        &mut s,
        &ClientMsg::Subscribe {
            id: 5,
            stream: terminal(&c, &["/bin/sh"]),
        },
    )
    .await;
    let input5 = |text: &str| Message::Binary(terminal_frame(5, text.as_bytes()).into());
    s.send(input5("echo ready-$((2*3))\n")).await.unwrap();
    read_terminal(&mut s, 5, "ready-6").await;
    send(&mut s, &ClientMsg::Unsubscribe { id: 5 }).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ps = d.ok(&["exec", &c, "ps", "-o", "comm"]);
        if !ps.lines().any(|l| l.trim() == "sh") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the detached shell still runs:\n{ps}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both starts are in the audit log, with the container.
    let audit = web::as_session(&d, &session, "GET", "/api/v1/audit", &[], b"").await;
    let entries = audit.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let terminals = entries
        .iter()
        .filter(|e| e["action"] == "WS terminal" && e["object"] == c.as_str())
        .count();
    assert_eq!(terminals, 2, "{entries:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_gets_no_terminal() {
    let d = Daemon::start();
    d.load_busybox();
    let c = run(&d, "sleep 60");
    let admin = web::admin(&d).await;
    let body =
        serde_json::json!({"name": "val", "role": "viewer", "password": "a long viewer password"});
    let made = web::as_session(
        &d,
        &admin,
        "POST",
        "/api/v1/users",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(made.status, 201, "{made:?}");
    let viewer = web::login(&d, "val", "a long viewer password").await;
    let mut s = connect(&d, &viewer).await;
    send(
        &mut s,
        &ClientMsg::Subscribe {
            id: 1,
            stream: terminal(&c, &["touch", "/viewer-was-here"]),
        },
    )
    .await;
    match next(&mut s, Duration::from_secs(10)).await {
        Some(ServerMsg::Error {
            id: Some(1), code, ..
        }) => {
            assert_eq!(code, berth_wire::ErrorCode::Forbidden)
        }
        other => panic!("{other:?}"),
    }
    let out = d.berth(&["exec", &c, "ls", "/viewer-was-here"]);
    assert!(!out.status.success(), "the command ran");
    let audit = web::as_session(&d, &admin, "GET", "/api/v1/audit", &[], b"").await;
    let refused = audit.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .any(|e| e["action"] == "WS terminal" && e["actor"] == "val" && e["status"] == 403);
    assert!(refused, "the refusal is audited");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_followers_of_a_fast_log_get_every_line() {
    const CLIENTS: usize = 100;
    const LINES: usize = 20_000;
    let d = Daemon::start();
    d.load_busybox();
    // Started stopped-ish: the container waits for the clients to subscribe.
    let c = run(&d, &format!("sleep 2; seq 1 {LINES}"));
    let session = web::admin(&d).await;
    // One connection per client (100 WebSockets, under the default cap of 256).
    let mut followers = Vec::new();
    for i in 0..CLIENTS {
        let mut socket = connect(&d, &session).await;
        let c = c.clone();
        followers.push(tokio::spawn(async move {
            follow_all(&mut socket, i as u32 + 1, &c).await
        }));
    }
    let mut worst = Duration::ZERO;
    while followers.iter().any(|f| !f.is_finished()) {
        let t = Instant::now();
        let answer = web::as_session(&d, &session, "GET", "/api/v1/containers", &[], b"").await;
        assert_eq!(answer.status, 200);
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let want: Vec<String> = (1..=LINES).map(|i| i.to_string()).collect();
    let mut lags = 0;
    for f in followers {
        let (lines, lagged) = f.await.unwrap();
        lags += lagged;
        assert!(
            lines == want,
            "a follower got {} lines, not every line once",
            lines.len()
        );
    }
    println!("{CLIENTS} followers x {LINES} lines; lagged-and-resumed {lags} times; slowest GET /api/v1/containers {worst:?}");
    assert!(worst < Duration::from_secs(5), "{worst:?}");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_reads_costs_the_daemon_a_bounded_amount_of_memory() {
    let d = Daemon::start();
    d.load_busybox();
    let pid = d.pid().expect("daemon pid");
    let session = web::admin(&d).await;
    // 50 MB of log: 500 000 lines of 100 bytes.
    let c = run(
        &d,
        "sleep 1; yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 | head -n 500000; sleep 2",
    );
    let mut socket = connect(&d, &session).await;
    let before = rss_kib(pid);
    send(
        &mut socket,
        &ClientMsg::Subscribe {
            id: 1,
            stream: logs(&c, None),
        },
    )
    .await;
    let mut peak = before;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        peak = peak.max(rss_kib(pid));
        let state = d.inspect(&c)["State"]["Status"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if state == "exited" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log_bytes: u64 = std::fs::read_dir(d.data_root.join("containers").join(&c))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("container.log"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    println!("daemon VmRSS {before} KiB before, peak {peak} KiB (+{} KiB) while the container wrote {log_bytes} bytes of log to a client that never read", peak - before);
    assert!(log_bytes > 40_000_000, "{log_bytes}");
    assert!(peak - before < 64 * 1024, "grew by {} KiB", peak - before);
    drop(socket);
}
