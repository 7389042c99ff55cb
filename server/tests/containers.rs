//! End-to-end through the CLI and a real daemon: load an image, run real containers, and check
//! the walking skeleton's promises (output, exit codes, isolation, logs, stop, rm).

mod common;

use common::{eventually, fails, stderr, stdout, Daemon};
use std::time::Duration;

#[test]
fn run_prints_the_output_and_rm_removes_the_container() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&["run", "--rm", "busybox", "echo", "hello"]);
    assert_eq!(stdout(&out), "hello\n", "stderr: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    // As with docker, `run --rm` returns once the container is gone, not just exited.
    for _ in 0..5 {
        d.ok(&["run", "--rm", "busybox", "true"]);
        let left = d.ok(&["ps", "-aq"]);
        assert!(left.trim().is_empty(), "--rm left a container: {left}");
    }
}

#[test]
fn run_exits_with_the_containers_exit_code() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");
}

#[test]
fn the_command_is_pid_1_with_its_own_hostname() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.ok(&[
        "run",
        "--name",
        "whoami",
        "busybox",
        "sh",
        "-c",
        "echo $$; hostname",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"1"), "{out}");
    let host = nix::unistd::gethostname().expect("hostname");
    let inside = lines.get(1).copied().unwrap_or_default();
    assert_ne!(
        inside,
        host.to_string_lossy(),
        "the container saw the host's hostname"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&d.ok(&["inspect", "whoami"])).expect("inspect json");
    let id = inspect[0]["Id"].as_str().expect("id");
    assert_eq!(inside, &id[..12]);
    assert_eq!(inspect[0]["State"]["ExitCode"], 0);
    assert_eq!(inspect[0]["Name"], "/whoami");
}

#[test]
fn containers_of_one_image_do_not_see_each_others_files_and_layers_stay_unchanged() {
    let d = Daemon::start();
    d.load_busybox();
    let layers = d.data_root.join("layers");
    let before = Daemon::tree(&layers);
    assert!(
        !before.is_empty(),
        "no unpacked layers under {}",
        layers.display()
    );
    d.ok(&[
        "run",
        "--name",
        "writer",
        "busybox",
        "sh",
        "-c",
        "echo secret > /tmp/f; echo x > /bin/new",
    ]);
    let out = d.berth(&["run", "--rm", "busybox", "sh", "-c", "cat /tmp/f /bin/new"]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "the second container read the first one's files"
    );
    // The first container's own file is still in its writable layer.
    d.ok(&["start", "writer"]);
    assert_eq!(d.ok(&["wait", "writer"]).trim(), "0");
    assert_eq!(
        Daemon::tree(&layers),
        before,
        "a container changed an image layer"
    );
}

#[test]
fn detached_containers_log_stop_and_remove() {
    let d = Daemon::start();
    d.load_busybox();
    let id = d.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
    ]);
    assert_eq!(id.trim().len(), 64, "{id}");
    assert!(d.ok(&["ps"]).contains("ticker"));
    assert!(
        eventually(Duration::from_secs(10), || d
            .ok(&["logs", "ticker"])
            .contains("tick 3")),
        "no log lines"
    );
    let tail = d.ok(&["logs", "--tail", "1", "ticker"]);
    assert_eq!(tail.lines().count(), 1, "{tail}");
    let timestamps = d.ok(&["logs", "-t", "--tail", "1", "ticker"]);
    assert!(
        timestamps.starts_with("20") && timestamps.contains("Z tick "),
        "{timestamps}"
    );
    // rm of a running container needs -f.
    let refused = d.berth(&["rm", "ticker"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("container is running"),
        "{}",
        stderr(&refused)
    );
    // `sh` as PID 1 ignores SIGTERM, so stop falls back to SIGKILL after the grace period.
    d.ok(&["stop", "-t", "1", "ticker"]);
    let ps = d.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (137)"), "{ps}");
    d.ok(&["rm", "ticker"]);
    assert!(!d.ok(&["ps", "-a"]).contains("ticker"));
    assert!(!d.data_root.join("containers").join(id.trim()).exists());
    // The folder went by way of the discard folder, and `rm` answered once it was deleted.
    let discard = d.data_root.join("discard");
    assert!(discard.is_dir());
    let left: Vec<_> = std::fs::read_dir(&discard)
        .expect("discard")
        .flatten()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_failing_command_is_reported_and_leaves_nothing_running() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_eq!(out.status.code(), Some(127), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("nosuchcmd"), "{}", stderr(&out));
    assert!(eventually(Duration::from_secs(5), || d
        .ok(&["ps", "-aq"])
        .trim()
        .is_empty()));
}

#[test]
fn unknown_images_and_containers_give_one_clear_line_and_fail() {
    let d = Daemon::start();
    d.load_busybox();
    // Without --pull never, run would try Docker Hub for it (see tests/registry.rs).
    let out = d.berth(&["run", "--rm", "--pull", "never", "nosuchimage"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).to_lowercase().contains("no such image"),
        "{}",
        stderr(&out)
    );
    for verb in [
        &["logs", "nope"][..],
        &["stop", "nope"],
        &["rm", "nope"],
        &["start", "nope"],
    ] {
        let out = d.berth(verb);
        assert_eq!(out.status.code(), Some(1), "{verb:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{verb:?}: {err}");
        assert!(err.contains("no such container: nope"), "{verb:?}: {err}");
    }
}

#[test]
fn bad_archives_are_refused_and_leave_the_store_as_it_was() {
    let d = Daemon::start();
    d.load_busybox();
    let store = |d: &Daemon| {
        (
            Daemon::tree(&d.data_root.join("blobs")),
            Daemon::tree(&d.data_root.join("layers")),
            Daemon::tree(&d.data_root.join("tmp")),
        )
    };
    let before = store(&d);
    let good = std::fs::read(&common::images().busybox_docker).expect("read the archive");
    let truncated = d.dir.path().join("truncated.tar");
    std::fs::write(&truncated, &good[..good.len() / 2]).expect("write");
    let not_image = d.dir.path().join("not-image.tar");
    {
        let file = std::fs::File::create(&not_image).expect("create");
        let mut builder = tar::Builder::new(file);
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "hello.txt", &b"hello"[..])
            .expect("append");
        builder.finish().expect("finish");
    }
    let garbage = d.dir.path().join("garbage.tar");
    std::fs::write(&garbage, b"this is not a tar file at all").expect("write");
    for bad in [&truncated, &not_image, &garbage] {
        let out = d.berth(&["load", "-i", bad.to_str().expect("utf-8 path")]);
        assert_eq!(out.status.code(), Some(1), "{}", bad.display());
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{}: {err}", bad.display());
        assert_eq!(store(&d), before, "{} left files behind", bad.display());
    }
    let missing = d.berth(&["load", "-i", "/nonexistent/x.tar"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn oci_archives_and_layouts_load_and_run() {
    let d = Daemon::start();
    let images = common::images();
    let out = d.ok(&["load", "-i", images.busybox_oci_tar.to_str().expect("path")]);
    assert!(out.starts_with("Loaded image"), "{out}");
    let listed = d.ok(&["images"]);
    assert!(listed.contains("REPOSITORY"), "{listed}");
    let id = d.ok(&["images", "-q"]);
    let id = id.lines().next().expect("an image id");
    let out = d.ok(&["run", "--rm", id, "echo", "from-oci"]);
    assert_eq!(out, "from-oci\n");
}

#[test]
fn seccomp_is_on_by_default_and_security_opt_chooses_the_profile() {
    let d = Daemon::start();
    d.load_busybox();
    let status = "grep '^Seccomp:' /proc/self/status | tr -d '\t'";
    let run = |extra: &[&str], script: &str| {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["busybox", "sh", "-c", script]);
        d.berth(&args)
    };
    assert_eq!(stdout(&run(&[], status)), "Seccomp:2\n");
    // The default refuses what docker's refuses (unshare without CAP_SYS_ADMIN)…
    let script = "unshare -U true 2>/dev/null && echo unshared || echo refused";
    assert_eq!(stdout(&run(&[], script)), "refused\n");
    // …and --privileged or seccomp=unconfined run unfiltered.
    assert_eq!(stdout(&run(&["--privileged"], status)), "Seccomp:0\n");
    let out = run(&["--security-opt", "seccomp=unconfined"], script);
    assert_eq!(stdout(&out), "unshared\n", "stderr: {}", stderr(&out));

    d.ok(&[
        "create",
        "--name",
        "free",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "true",
    ]);
    let inspect: serde_json::Value =
        serde_json::from_str(&d.ok(&["inspect", "free"])).expect("inspect json");
    assert_eq!(
        inspect[0]["HostConfig"]["SecurityOpt"],
        serde_json::json!(["no-new-privileges", "seccomp=unconfined"])
    );

    // A profile file in docker's format, read by the CLI: mkdir gets EACCES.
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    )
    .expect("write profile");
    let opt = format!("seccomp={}", profile.display());
    let out = run(&["--security-opt", &opt], "mkdir /made 2>&1; echo $?");
    assert!(
        stdout(&out).contains("Permission denied"),
        "{} / {}",
        stdout(&out),
        stderr(&out)
    );
    // A bad profile is refused at create, with what is wrong.
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdri"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .expect("write profile");
    fails(
        &run(&["--security-opt", &opt], "true"),
        "unknown system call \"mkdri\"",
    );
    fails(
        &run(&["--security-opt", "seccomp=/nonexistent/p.json"], "true"),
        "/nonexistent/p.json",
    );
}
