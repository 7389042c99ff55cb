//! What a docker user expects of `run` and `exec`, against a real daemon: HOME from the
//! user's passwd entry, TERM and the client's terminal size under `-t`, supplementary groups
//! (the image's /etc/group and `--group-add`), `exec -u nosuch` ending with 126, everything
//! after the image being the command, `--memory` alone allowing as much swap again, a failed
//! `run --rm` leaving no anonymous volume, a failed start leaving no cgroup, and a quiet
//! daemon log.

mod common;

use common::terminal::{exit_status, Terminal};
use common::{stderr, Daemon};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

#[test]
fn home_comes_from_the_passwd_entry_and_everything_after_the_image_is_the_command() {
    let d = Daemon::start();
    d.load_busybox();
    // `-c` after the image is sh's, not berth's --cpu-shares (docker stops at the image).
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            "busybox",
            "-c",
            "echo $HOME"
        ]),
        "/root\n"
    );
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "-u",
            "nobody",
            "busybox",
            "sh",
            "-c",
            "echo $HOME"
        ]),
        "/nonexistent\n"
    );
    // A uid without a passwd entry gets /, a HOME the user set is kept.
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "-u",
            "4321",
            "busybox",
            "sh",
            "-c",
            "echo $HOME"
        ]),
        "/\n"
    );
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "-e",
            "HOME=/srv",
            "busybox",
            "sh",
            "-c",
            "echo $HOME"
        ]),
        "/srv\n"
    );
    // No TERM without a terminal.
    assert_eq!(
        d.ok(&["run", "--rm", "busybox", "sh", "-c", "echo ${TERM:-none}"]),
        "none\n"
    );
    // berth's own flags after the image are the command's arguments.
    assert_eq!(
        d.ok(&["run", "--rm", "busybox", "echo", "--rm", "-d", "-m", "1g"]),
        "--rm -d -m 1g\n"
    );
}

#[test]
fn a_terminal_has_term_xterm_and_the_clients_size_from_the_first_byte() {
    let d = Daemon::start();
    d.load_busybox();
    let (mut term, mut child) = Terminal::spawn(
        &d,
        &[
            "run",
            "-t",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo size=$(stty size) term=$TERM",
        ],
        33,
        101,
    );
    term.expect("size=33 101 term=xterm");
    assert_eq!(exit_status(&mut child), Some(0));
    // exec -t too.
    d.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    let (mut term, mut child) = Terminal::spawn(
        &d,
        &["exec", "-t", "box", "sh", "-c", "echo exec-term=$TERM"],
        24,
        80,
    );
    term.expect("exec-term=xterm");
    assert_eq!(exit_status(&mut child), Some(0));
}

/// Imports a busybox rootfs whose /etc/passwd and /etc/group give `app` (1000) memberships
/// in audio (29) and staff (50), as `groups:1`.
fn import_groups_image(d: &Daemon) {
    let root = d.dir.path().join("groups-root");
    std::fs::create_dir_all(root.join("bin")).expect("bin");
    std::fs::create_dir_all(root.join("etc")).expect("etc");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox");
    for applet in ["sh", "cat", "grep", "id"] {
        symlink("busybox", root.join("bin").join(applet)).expect("applet");
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .expect("passwd");
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\napp:x:1000:\naudio:x:29:app\nstaff:x:50:root,app\nvideo:x:44:\n",
    )
    .expect("group");
    let tar = d.dir.path().join("groups.tar");
    common::tar_dir(&root, &tar);
    d.ok(&["import", &tar.to_string_lossy(), "groups:1"]);
}

fn groups_line(d: &Daemon, args: &[&str]) -> String {
    let mut argv = vec!["run", "--rm"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["groups:1", "/bin/grep", "^Groups:", "/proc/self/status"]);
    let out = d.ok(&argv);
    out.trim_start_matches("Groups:")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn users_get_the_images_supplementary_groups_and_group_add() {
    let d = Daemon::start();
    import_groups_image(&d);
    assert_eq!(groups_line(&d, &["-u", "app"]), "29 50");
    assert_eq!(groups_line(&d, &["-u", "1000"]), "29 50");
    assert_eq!(groups_line(&d, &[]), "50", "root is a member of staff");
    // An explicit group takes no memberships (runc's rule); --group-add adds by name or id.
    assert_eq!(groups_line(&d, &["-u", "app:app"]), "");
    assert_eq!(
        groups_line(
            &d,
            &["-u", "app", "--group-add", "video", "--group-add", "900"]
        ),
        "29 44 50 900"
    );
    let out = d.berth(&[
        "run",
        "--rm",
        "--group-add",
        "nosuch",
        "groups:1",
        "/bin/id",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("unable to find group nosuch"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "-u",
            "app",
            "groups:1",
            "/bin/sh",
            "-c",
            "echo $HOME"
        ]),
        "/home/app\n"
    );
}

#[test]
fn exec_of_an_unknown_user_exits_126() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    let out = d.berth(&["exec", "-u", "nosuch", "box", "true"]);
    assert_eq!(out.status.code(), Some(126), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("unable to find user nosuch"),
        "{}",
        stderr(&out)
    );
    // The container is unharmed.
    assert_eq!(d.ok(&["exec", "box", "echo", "fine"]), "fine\n");
}

#[test]
fn memory_alone_allows_as_much_swap_again() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run", "-d", "--name", "mem", "-m", "64m", "busybox", "sleep", "1000",
    ]);
    let inspect = d.inspect("mem");
    let host = &inspect["HostConfig"];
    assert_eq!(host["Memory"], 64 << 20);
    assert_eq!(host["MemorySwap"], 128 << 20, "{host}");
    let id = inspect["Id"].as_str().expect("id").to_string();
    let cgroup = format!("/sys/fs/cgroup/memory/{}/{id}", d.cgroup_parent());
    let memsw = Path::new(&cgroup).join("memory.memsw.limit_in_bytes");
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        // Pure v2: swap alone, in memory.swap.max.
        let dir = format!("/sys/fs/cgroup/{}/{id}", d.cgroup_parent());
        let swap = std::fs::read_to_string(Path::new(&dir).join("memory.swap.max"))
            .expect("memory.swap.max");
        assert_eq!(swap.trim(), (64u64 << 20).to_string());
    } else if memsw.exists() {
        let total = std::fs::read_to_string(&memsw).expect("memsw");
        assert_eq!(total.trim(), (128u64 << 20).to_string());
    } else {
        // Swap accounting off: docker's default is left out, and the container still runs.
        assert_eq!(inspect["State"]["Running"], true);
    }
    // An explicit --memory-swap is kept as given.
    d.ok(&[
        "create",
        "--name",
        "nolimit",
        "-m",
        "64m",
        "--memory-swap",
        "-1",
        "busybox",
        "true",
    ]);
    assert_eq!(d.inspect("nolimit")["HostConfig"]["MemorySwap"], -1);
}

#[test]
fn a_failed_run_rm_leaves_no_anonymous_volume() {
    let d = Daemon::start();
    d.load_busybox();
    for args in [
        &[
            "run", "--rm", "-v", "/data", "-u", "nosuch", "busybox", "true",
        ][..],
        &["run", "--rm", "-v", "/data", "busybox", "nosuchcommand"][..],
        &[
            "run",
            "--rm",
            "-d",
            "-v",
            "/data",
            "busybox",
            "nosuchcommand",
        ][..],
    ] {
        let out = d.berth(args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(d.ok(&["volume", "ls", "-q"]), "", "after {args:?}");
        assert_eq!(d.ok(&["ps", "-aq"]), "", "after {args:?}");
    }
    // A named volume of a failed run is the user's and stays.
    let out = d.berth(&[
        "run",
        "--rm",
        "-v",
        "keep:/data",
        "busybox",
        "nosuchcommand",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "keep\n");
}

#[test]
fn a_failed_start_leaves_no_cgroup_behind() {
    // The daemon makes a container's cgroup at create and again at start, before its shim
    // runs (so the shim does not wait for the kernel's cgroup lock); a start that fails
    // must take it away again, and `rm` takes away a created container's.
    let d = Daemon::start();
    d.load_busybox();
    let parent = d.cgroup_parent();
    let cgroups_of = |name: &str| -> Vec<std::path::PathBuf> {
        let id = d.ok(&["inspect", "-f", "{{.Id}}", name]);
        common::cgroup_dirs(&format!("{parent}/{}", id.trim()))
    };
    let all_children = || -> Vec<String> {
        common::cgroup_dirs(&parent)
            .iter()
            .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
            .filter(|e| e.path().is_dir())
            .map(|e| e.path().display().to_string())
            .collect()
    };
    for args in [
        &[
            "create", "--name", "nouser", "-u", "nosuch", "busybox", "true",
        ][..],
        &["create", "--name", "nocmd", "busybox", "nosuchcommand"][..],
    ] {
        d.ok(args);
    }
    // A device node that is gone by the time of the start fails it before any shim runs:
    // then only the daemon can take the cgroup away.
    let node = d.data_root.join("gone-null");
    let made = Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(made.success());
    let device = format!("{}:/dev/gone", node.display());
    d.ok(&[
        "create", "--name", "nodev", "--device", &device, "busybox", "true",
    ]);
    std::fs::remove_file(&node).unwrap();
    for name in ["nouser", "nocmd", "nodev", "nouser"] {
        let out = d.berth(&["start", name]);
        assert_ne!(out.status.code(), Some(0), "start {name} succeeded");
        assert!(
            !common::cgroup_dirs(&parent).is_empty(),
            "no cgroup parent {parent}"
        );
        assert_eq!(
            cgroups_of(name),
            Vec::<std::path::PathBuf>::new(),
            "after start {name}"
        );
    }
    // A start that works still gets its cgroup.
    d.ok(&[
        "run", "-d", "--name", "up", "-m", "64m", "busybox", "sleep", "100",
    ]);
    assert!(
        !cgroups_of("up").is_empty(),
        "a running container without a cgroup"
    );
    // A created container that never started: its cgroup goes with it.
    d.ok(&["create", "--name", "idle", "busybox", "true"]);
    d.ok(&["rm", "-f", "up", "nouser", "nocmd", "nodev", "idle"]);
    assert_eq!(all_children(), Vec::<String>::new(), "after rm");
}

#[test]
fn bridge_starts_do_not_flood_the_daemon_log() {
    let d = Daemon::start();
    d.load_busybox();
    for _ in 0..3 {
        d.ok(&["run", "--rm", "busybox", "true"]);
    }
    let log = d.daemon_log();
    assert!(
        !log.contains("IFLA_INET6") && !log.contains("expecting"),
        "netlink warnings in the daemon log:\n{log}"
    );
}
