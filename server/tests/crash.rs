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
