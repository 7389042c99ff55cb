//! What a container sees of its filesystem: layers with whiteouts applied, the /etc files the
//! engine provides, a read-only root when asked.

mod common;

use common::{stderr, Daemon};

#[test]
fn files_deleted_by_a_higher_layer_are_gone_in_the_container() {
    let d = Daemon::start();
    let tar = common::images()
        .whiteout_docker
        .to_string_lossy()
        .into_owned();
    d.ok(&["load", "-i", &tar]);
    for (path, content) in berth_testkit::WHITEOUT_PRESENT {
        let out = d.ok(&[
            "run",
            "--rm",
            berth_testkit::WHITEOUT_TAG,
            "cat",
            &format!("/{path}"),
        ]);
        assert_eq!(&out, content, "/{path}");
    }
    for path in berth_testkit::WHITEOUT_ABSENT {
        let out = d.berth(&[
            "run",
            "--rm",
            berth_testkit::WHITEOUT_TAG,
            "ls",
            "-d",
            &format!("/{path}"),
        ]);
        assert_ne!(
            out.status.code(),
            Some(0),
            "/{path} should have been deleted"
        );
    }
}

#[test]
fn etc_hostname_and_hosts_follow_the_container() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.ok(&[
        "run", "--rm", "--hostname", "berthbox", "busybox", "sh", "-c",
        "cat /etc/hostname; grep -c localhost /etc/hosts; grep berthbox /etc/hosts; test -e /etc/resolv.conf && echo resolv",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "berthbox", "{out}");
    assert!(lines[1].parse::<u32>().is_ok_and(|n| n >= 2), "{out}");
    assert!(lines[2].contains("berthbox"), "{out}");
    assert_eq!(lines.get(3), Some(&"resolv"), "{out}");
}

#[test]
fn user_ids_and_names_from_the_images_passwd_are_applied() {
    let d = Daemon::start();
    d.load_busybox();
    let ids = |user: &str| {
        d.ok(&[
            "run",
            "--rm",
            "--user",
            user,
            "busybox",
            "sh",
            "-c",
            "id -u; id -g",
        ])
    };
    assert_eq!(ids("1000:1001"), "1000\n1001\n");
    // A name resolves through the image's /etc/passwd (busybox's has root and nobody).
    assert_eq!(ids("nobody"), "65534\n65534\n");
    assert_eq!(ids("0"), "0\n0\n");
    let unknown = d.berth(&["run", "--rm", "--user", "nosuchuser", "busybox", "true"]);
    assert_ne!(unknown.status.code(), Some(0));
    let message = stderr(&unknown);
    assert!(message.contains("nosuchuser"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");
}

#[test]
fn a_read_only_root_refuses_writes_but_tmpfs_like_dev_shm_works() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&[
        "run",
        "--rm",
        "--read-only",
        "busybox",
        "sh",
        "-c",
        "echo x > /file",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    let ok = d.ok(&[
        "run",
        "--rm",
        "--read-only",
        "busybox",
        "sh",
        "-c",
        "echo x > /dev/shm/f && cat /dev/shm/f",
    ]);
    assert_eq!(ok, "x\n");
}

#[test]
fn a_tty_container_has_a_terminal_and_one_stream() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&[
        "run",
        "-t",
        "--name",
        "tty-one",
        "busybox",
        "sh",
        "-c",
        "tty; echo err >&2; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let text = common::stdout(&out);
    assert!(text.starts_with("/dev/pts/"), "{text}");
    assert!(
        text.contains("err"),
        "stderr did not go to the terminal: {text}"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&d.ok(&["inspect", "tty-one"])).expect("inspect json");
    assert_eq!(inspect[0]["Config"]["Tty"], true);
    let plain = d.ok(&["run", "--rm", "busybox", "sh", "-c", "tty || true"]);
    assert!(plain.contains("not a tty"), "{plain}");
}
