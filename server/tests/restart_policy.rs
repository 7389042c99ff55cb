//! Restart policies against a real daemon: on-failure:N stops after N restarts, always
//! restarts after a clean exit, a user's stop keeps a container down, and after a simulated
//! host reboot (daemon and shims killed) always and unless-stopped containers come back while
//! stopped and policy-less ones stay down; bad policies and --rm with a policy are refused.

mod common;

use common::{eventually, fails, soon, Daemon};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(90);

/// `run -d --name NAME --restart POLICY busybox COMMAND…`.
fn run_with(d: &Daemon, name: &str, policy: &str, command: &[&str]) {
    let mut args = vec!["run", "-d", "--name", name, "--restart", policy, "busybox"];
    args.extend_from_slice(command);
    d.ok(&args);
}

#[test]
fn on_failure_restarts_exactly_n_times() {
    let d = Daemon::start();
    d.load_busybox();
    run_with(&d, "rp-fail", "on-failure:2", &["sh", "-c", "exit 3"]);
    assert!(
        eventually(PATIENCE, || {
            let v = d.inspect("rp-fail");
            v["RestartCount"] == 2
                && v["State"]["Running"] == false
                && v["State"]["Restarting"] == false
        }),
        "{}",
        d.inspect("rp-fail")
    );
    let v = d.inspect("rp-fail");
    assert_eq!(v["State"]["ExitCode"], 3);
    assert_eq!(v["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(v["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 2);
    let until = soon();
    let actions = d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "container=rp-fail",
        "--filter",
        "event=start",
        "--filter",
        "event=die",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(
        actions.lines().collect::<Vec<_>>(),
        ["start", "die", "start", "die", "start", "die"]
    );
    // A user's start begins a fresh count.
    d.ok(&["start", "rp-fail"]);
    assert!(eventually(PATIENCE, || {
        let v = d.inspect("rp-fail");
        v["RestartCount"] == 2
            && v["State"]["Running"] == false
            && v["State"]["Restarting"] == false
    }));
}

#[test]
fn always_restarts_after_a_clean_exit_until_stopped_by_the_user() {
    let d = Daemon::start();
    d.load_busybox();
    run_with(&d, "rp-always", "always", &["true"]);
    assert!(
        eventually(PATIENCE, || d.inspect("rp-always")["RestartCount"]
            .as_u64()
            .unwrap_or(0)
            >= 2),
        "{}",
        d.inspect("rp-always")
    );
    d.ok(&["stop", "rp-always"]);
    let count = d.inspect("rp-always")["RestartCount"].clone();
    // Longer than any back-off reached so far: a restart would have happened by now.
    std::thread::sleep(Duration::from_secs(3));
    let v = d.inspect("rp-always");
    assert_eq!(v["State"]["Running"], false, "{v}");
    assert_eq!(v["State"]["Restarting"], false, "{v}");
    assert_eq!(v["RestartCount"], count);
    // A long-running always container: stop keeps it stopped too.
    run_with(&d, "rp-long", "always", &["sleep", "600"]);
    d.ok(&["stop", "-t", "1", "rp-long"]);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(d.inspect("rp-long")["State"]["Running"], false);
    assert_eq!(d.inspect("rp-long")["RestartCount"], 0);
    // rm -f while it is waiting out a back-off: it is gone and stays gone.
    run_with(&d, "rp-rm", "always", &["true"]);
    assert!(eventually(PATIENCE, || d.inspect("rp-rm")["RestartCount"]
        .as_u64()
        .unwrap_or(0)
        >= 1));
    d.ok(&["rm", "-f", "rp-rm"]);
    std::thread::sleep(Duration::from_secs(2));
    fails(&d.berth(&["inspect", "rp-rm"]), "no such object: rp-rm");
}

/// The pids of `berth shim` processes of the container `id`.
fn shim_pids(id: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains("shim") && cmdline.contains(id) {
            pids.push(pid);
        }
    }
    pids
}

fn sigkill(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
fn after_a_reboot_always_and_unless_stopped_come_back() {
    let mut d = Daemon::start();
    d.load_busybox();
    let run = |name: &str, policy: &str| run_with(&d, name, policy, &["sleep", "600"]);
    run("rb-always", "always");
    run("rb-unless", "unless-stopped");
    run("rb-unless-stopped", "unless-stopped");
    run("rb-always-stopped", "always");
    run("rb-no", "no");
    d.ok(&["stop", "-t", "1", "rb-unless-stopped", "rb-always-stopped"]);
    // The "reboot": the daemon dies, then every container's shim and process.
    let running: Vec<(String, i32)> = ["rb-always", "rb-unless", "rb-no"]
        .iter()
        .map(|n| {
            let v = d.inspect(n);
            (
                v["Id"].as_str().unwrap().to_string(),
                v["State"]["Pid"].as_i64().unwrap() as i32,
            )
        })
        .collect();
    d.kill9();
    for (id, pid) in &running {
        for shim in shim_pids(id) {
            sigkill(shim);
        }
        sigkill(*pid);
    }
    for (id, _) in &running {
        assert!(eventually(PATIENCE, || shim_pids(id).is_empty()));
    }
    d.spawn();
    for name in ["rb-always", "rb-unless", "rb-always-stopped"] {
        assert!(
            eventually(PATIENCE, || d.inspect(name)["State"]["Running"] == true),
            "{name} did not come back: {}",
            d.inspect(name)
        );
    }
    for name in ["rb-unless-stopped", "rb-no"] {
        let v = d.inspect(name);
        assert_eq!(v["State"]["Running"], false, "{name}: {v}");
        assert_eq!(v["State"]["Restarting"], false, "{name}: {v}");
    }
}

#[test]
fn bad_policies_and_rm_with_a_policy_are_refused() {
    let d = Daemon::start();
    d.load_busybox();
    fails(
        &d.berth(&["run", "--rm", "--restart", "always", "busybox", "true"]),
        "conflicting options: cannot specify both --restart and --rm",
    );
    fails(
        &d.berth(&["create", "--restart", "sometimes", "busybox", "true"]),
        "invalid restart policy: unknown policy 'sometimes'",
    );
    fails(
        &d.berth(&["create", "--restart", "always:3", "busybox", "true"]),
        "maximum retry count can only be used with 'on-failure'",
    );
    fails(
        &d.berth(&["create", "--restart", "on-failure:x", "busybox", "true"]),
        "maximum retry count must be an integer",
    );
    // Nothing was created by the refused commands.
    assert_eq!(d.ok(&["ps", "-aq"]).trim(), "");
}
