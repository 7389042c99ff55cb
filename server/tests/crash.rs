//! A daemon killed in the middle of writes: the database stays whole (SQLite's own checks and
//! foreign keys) and, once the daemon is back, its rows agree with the data root.
//!
//! Two halves: random kills while many clients create, start and remove containers and
//! volumes; and each cut-short state made by hand while the daemon is down, so that every
//! repair of the start-up pass is shown even if no random kill hit its window.

mod common;

use common::Daemon;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn open(d: &Daemon) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(d.data_root.join("berth.db"))
        .connect()
        .await
        .expect("open the daemon's database")
}

async fn strings(db: &mut SqliteConnection, sql: &str) -> BTreeSet<String> {
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut *db).await.expect(sql);
    rows.into_iter().map(|(s,)| s).collect()
}

fn folders(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every check of a consistent catalogue, against the running daemon's data root.
async fn assert_consistent(d: &Daemon) {
    let mut db = open(d).await;
    let integrity = strings(&mut db, "PRAGMA integrity_check").await;
    assert_eq!(integrity, BTreeSet::from(["ok".to_string()]));
    let broken: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&mut db)
        .await
        .expect("foreign_key_check");
    assert!(broken.is_empty(), "foreign keys broken: {broken:?}");

    let rows = strings(&mut db, "SELECT id FROM containers").await;
    let dirs: BTreeSet<String> = folders(&d.data_root.join("containers"))
        .into_iter()
        .filter(|n| n.len() == 64)
        .collect();
    assert_eq!(rows, dirs, "container rows and folders differ");

    let netrows = strings(
        &mut db,
        "SELECT container_id FROM endpoints UNION SELECT container_id FROM attachments \
         UNION SELECT container_id FROM port_bindings",
    )
    .await;
    let stray: Vec<&String> = netrows.difference(&rows).collect();
    assert!(
        stray.is_empty(),
        "network rows of removed containers: {stray:?}"
    );

    let volumes = strings(&mut db, "SELECT name FROM volumes").await;
    let volume_dirs = folders(&d.data_root.join("volumes"));
    assert_eq!(volumes, volume_dirs, "volume rows and folders differ");
    for name in &volumes {
        assert!(
            d.data_root
                .join("volumes")
                .join(name)
                .join("_data")
                .is_dir(),
            "volume {name} has no _data"
        );
    }
    db.close().await.expect("close");
    // And the daemon answers for all of it: every container can be removed.
    for id in d.ok(&["ps", "-aq"]).split_whitespace() {
        d.ok(&["rm", "-f", id]);
    }
}

/// Clients that create, run and remove containers and volumes until told to stop; their
/// failures (the daemon is killed under them) are expected and ignored.
fn load(
    d: &Daemon,
    stop: &Arc<AtomicBool>,
    round: usize,
    done: &Arc<AtomicUsize>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..4)
        .map(|worker| {
            let host = d.host();
            let stop = stop.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let berth = |args: &[&str]| {
                    std::process::Command::new(common::BERTH)
                        .arg("-H")
                        .arg(&host)
                        .args(args)
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status()
                };
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("c{round}-{worker}-{i}");
                    let volume = format!("v{round}-{worker}-{i}");
                    let mount = format!("{volume}:/data");
                    let _ = berth(&["volume", "create", &volume]);
                    let _ = match i % 2 {
                        0 => berth(&["create", "--name", &name, "-v", &mount, "busybox", "true"]),
                        _ => berth(&[
                            "run", "-d", "--name", &name, "-v", &mount, "busybox", "sleep", "30",
                        ]),
                    };
                    if berth(&["rm", "-f", "-v", &name]).is_ok_and(|s| s.success()) {
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = berth(&["volume", "rm", &volume]);
                    i += 1;
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_during_writes_comes_back_consistent() {
    let mut d = Daemon::start();
    d.load_busybox();
    for (round, after_ms) in [90u64, 400, 900].into_iter().enumerate() {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let workers = load(&d, &stop, round, &done);
        // Killed some time after the first whole cycle, in the middle of the next ones.
        assert!(
            common::eventually(Duration::from_secs(60), || done.load(Ordering::SeqCst) > 0),
            "no operation went through: {}",
            d.daemon_log()
        );
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        d.kill9();
        stop.store(true, Ordering::SeqCst);
        for worker in workers {
            worker.join().expect("a load worker");
        }
        assert!(
            done.load(Ordering::SeqCst) > 0,
            "no operation went through before the kill"
        );
        d.spawn();
        assert_consistent(&d).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_finishes_or_undoes_each_cut_short_operation() {
    let mut d = Daemon::start();
    d.load_busybox();
    d.ok(&["create", "--name", "half-removed", "busybox", "true"]);
    let half_removed = d.inspect("half-removed")["Id"]
        .as_str()
        .expect("id")
        .to_string();
    d.ok(&["create", "--name", "kept", "busybox", "true"]);
    d.ok(&["volume", "create", "half-created"]);
    d.ok(&["volume", "create", "kept-volume"]);
    std::fs::write(
        d.data_root.join("volumes/kept-volume/_data/file"),
        b"precious",
    )
    .expect("write into the volume");
    d.kill9();

    // A create cut after its folders, before its row.
    let orphan = "ab".repeat(32);
    let orphan_dir = d.data_root.join("containers").join(&orphan);
    std::fs::create_dir_all(orphan_dir.join("upper")).expect("orphan folder");
    // ... and the cgroup that create makes first, in every hierarchy the daemon uses; a
    // directory that is no container's id stays (the parent is the daemon's, not only ours).
    let parents = common::cgroup_dirs(&d.cgroup_parent());
    assert!(!parents.is_empty(), "the daemon made no cgroup parent");
    for parent in &parents {
        std::fs::create_dir(parent.join(&orphan)).expect("orphan cgroup");
        std::fs::create_dir(parent.join("not-a-container")).expect("other cgroup");
    }
    // A removal cut after the folder went, before the row.
    std::fs::remove_dir_all(d.data_root.join("containers").join(&half_removed))
        .expect("remove the folder");
    // A volume create cut after its row; a volume removal cut after its row.
    std::fs::remove_dir_all(d.data_root.join("volumes/half-created")).expect("rm volume dir");
    std::fs::create_dir_all(d.data_root.join("volumes/half-removed/_data")).expect("mkdir");
    // Network rows of a container whose row is gone.
    let mut db = open(&d).await;
    let network: (String,) = sqlx::query_as("SELECT id FROM networks ORDER BY name LIMIT 1")
        .fetch_one(&mut db)
        .await
        .expect("a network");
    let ghost = "cd".repeat(32);
    sqlx::query(
        "INSERT INTO endpoints (container_id, network_id, ip, mac, ifname, host_veth) \
         VALUES (?, ?, '10.254.254.254', '02:42:0a:fe:fe:fe', 'eth0', ?)",
    )
    .bind(&ghost)
    .bind(&network.0)
    .bind(format!("{}-gone", d.bridge_tag))
    .execute(&mut db)
    .await
    .expect("insert a stray endpoint");
    sqlx::query("INSERT INTO attachments (container_id, network_id) VALUES (?, ?)")
        .bind(&ghost)
        .bind(&network.0)
        .execute(&mut db)
        .await
        .expect("insert a stray attachment");
    db.close().await.expect("close");

    d.spawn();
    assert!(
        !orphan_dir.exists(),
        "the half-created container's folder stays"
    );
    for parent in &parents {
        assert!(!parent.join(&orphan).exists(), "{}", parent.display());
        assert!(
            parent.join("not-a-container").is_dir(),
            "{}",
            parent.display()
        );
        std::fs::remove_dir(parent.join("not-a-container")).expect("rmdir");
    }
    let names = d.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(!names.contains("half-removed"), "{names}");
    assert!(names.contains("kept"), "{names}");
    assert!(d.data_root.join("volumes/half-created/_data").is_dir());
    assert!(!d.data_root.join("volumes/half-removed").exists());
    assert_eq!(
        std::fs::read(d.data_root.join("volumes/kept-volume/_data/file")).expect("read"),
        b"precious"
    );
    let volumes = d.ok(&["volume", "ls", "-q"]);
    assert!(
        volumes.contains("half-created") && volumes.contains("kept-volume"),
        "{volumes}"
    );
    d.ok(&["start", "kept"]);
    assert_consistent(&d).await;
}

/// The pids of `sleep 1000` processes in container `id`'s cgroup.
fn sleepers_of(id: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline != b"sleep\x001000\x00" {
            continue;
        }
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if cgroup.contains(id) {
            pids.push(pid);
        }
    }
    pids
}

/// Every container of the daemon runs its command exactly once after `start` of each.
fn assert_each_runs_once(d: &Daemon, names: &[String]) {
    for name in names {
        let out = d.berth(&["start", name]);
        assert!(
            out.status.success(),
            "start {name}: {}",
            common::stderr(&out)
        );
    }
    for name in names {
        let inspect = d.inspect(name);
        let id = inspect["Id"].as_str().expect("id");
        assert_eq!(inspect["State"]["Status"], "running", "{name}");
        let pid = inspect["State"]["Pid"].as_i64().expect("pid") as i32;
        assert_eq!(
            sleepers_of(id),
            [pid],
            "{name} runs once, as its recorded pid"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_the_daemon_did_not_record_is_adopted_not_run_twice() {
    let mut d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-d", "--name", "adoptee", "busybox", "sleep", "1000"]);
    let before = d.inspect("adoptee");
    let id = before["Id"].as_str().expect("id").to_string();
    let pid = before["State"]["Pid"].as_i64().expect("pid") as i32;
    d.kill9();
    // The daemon died after the shim reported the start and before it wrote the row.
    let mut db = open(&d).await;
    sqlx::query(
        "UPDATE containers SET state = 'created', pid = NULL, shim_pid = NULL, \
         started_at = NULL WHERE id = ?",
    )
    .bind(&id)
    .execute(&mut db)
    .await
    .expect("unrecord the start");
    db.close().await.expect("close");
    d.spawn();
    let after = d.inspect("adoptee");
    assert_eq!(after["State"]["Status"], "running", "adopted");
    assert_eq!(after["State"]["Pid"], pid);
    assert_each_runs_once(&d, &["adoptee".to_string()]);
    // Adopted means managed: it stops and its exit is recorded.
    d.ok(&["stop", "-t", "1", "adoptee"]);
    assert_eq!(d.inspect("adoptee")["State"]["Status"], "exited");
    assert!(sleepers_of(&id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_during_twenty_starts_runs_each_container_once() {
    let mut d = Daemon::start();
    d.load_busybox();
    for (round, after_ms) in [150u64, 400].into_iter().enumerate() {
        let names: Vec<String> = (0..20).map(|i| format!("r{round}-{i}")).collect();
        let runs: Vec<std::process::Child> = names
            .iter()
            .map(|name| {
                std::process::Command::new(common::BERTH)
                    .arg("-H")
                    .arg(d.host())
                    .args(["run", "-d", "--name", name, "busybox", "sleep", "1000"])
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("berth run")
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        d.kill9();
        for mut run in runs {
            let _ = run.wait();
        }
        d.spawn();
        let present = d.ok(&["ps", "-a", "--format", "{{.Names}}"]);
        let created: Vec<String> = names
            .iter()
            .filter(|n| present.lines().any(|l| l == n.as_str()))
            .cloned()
            .collect();
        assert_each_runs_once(&d, &created);
        assert_consistent(&d).await;
    }
}
