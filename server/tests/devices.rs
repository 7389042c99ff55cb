//! `--device HOST[:CONTAINER][:PERMISSIONS]` through the CLI and a real daemon, on the host's
//! cgroup hierarchy: the node appears in the container with the host node's type, numbers,
//! mode and owner; the device rules allow exactly its numbers with the permissions given;
//! bad values fail `create`; inspect and the REST body use docker's `HostConfig.Devices`.
//!
//! Permissions are told apart on nodes of an unregistered char major made on the host
//! (berth_testkit::devnode): an open the device rules let through fails with ENXIO, one they
//! refuse with EPERM.

mod common;

use berth_testkit::devnode;
use common::web;
use common::{fails, stderr, stdout, Daemon};
use std::path::Path;

const ENXIO: &str = "No such device or address";
const EPERM: &str = "Operation not permitted";

fn free_char_major() -> u32 {
    devnode::free_char_major().expect("a free char major in 234-254")
}

/// Makes a char node `major:minor` at `path` with `mode` and owner `uid:gid`.
fn node(path: &Path, major: u32, minor: u32, mode: u32, uid: u32, gid: u32) {
    devnode::char_node(path, major, minor, mode, uid, gid).expect("mknod on the host");
}

/// `run --rm [--device D]… busybox sh -c SCRIPT`, which must succeed; its stdout.
fn run(d: &Daemon, devices: &[&str], script: &str) -> String {
    d.ok(&run_args(devices, script))
}

fn run_args<'a>(devices: &[&'a str], script: &'a str) -> Vec<&'a str> {
    let mut args = vec!["run", "--rm"];
    for device in devices {
        args.extend(["--device", device]);
    }
    args.extend(["busybox", "sh", "-c", script]);
    args
}

/// The line of `out` that starts with `name `, without the name.
fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} line in {out:?}"))
}

#[test]
fn devices_are_made_as_the_hosts_and_allowed_exactly() {
    let d = Daemon::start();
    d.load_busybox();

    // docker's example: the host's null at another path works as null.
    let out = run(
        &d,
        &["/dev/null:/dev/mynull"],
        "ls -l /dev/mynull; echo hi > /dev/mynull && echo wrote",
    );
    let listed = out.lines().next().unwrap_or_default();
    assert!(listed.starts_with("crw-rw-rw-"), "{out}");
    assert!(listed.contains(" 1,   3 "), "{out}");
    assert!(out.ends_with("wrote\n"), "{out}");

    // zero read-only: reads give zeros. Its numbers are among the defaults every container
    // has (rwm), so writing works too, as with docker, whose rules only ever add; mknod of
    // any node is allowed as docker's defaults allow it, `m` or not.
    let out = run(
        &d,
        &["/dev/zero:/dev/z:r"],
        "ls -l /dev/z; head -c 4 /dev/z | od -An -tx1; echo x > /dev/z && echo wrote; \
         mknod /dev/x c 1 5 && echo made",
    );
    assert!(out.starts_with('c') && out.contains(" 1,   5 "), "{out}");
    assert!(out.contains(" 00 00 00 00\n"), "{out}");
    assert!(out.contains("wrote\nmade\n"), "{out}");

    // Nodes no default covers: exactly the given numbers with exactly the given access.
    let dir = tempfile::tempdir().expect("tempdir");
    let major = free_char_major();
    let (ro, rw) = (dir.path().join("ro"), dir.path().join("rw"));
    node(&ro, major, 0, 0o640, 1234, 5678);
    node(&rw, major, 1, 0o600, 0, 0);
    let ro_arg = format!("{}:/dev/ro:r", ro.display());
    let rw_arg = format!("{}:/dev/sub/rw:rw", rw.display());
    let script = format!(
        r#"try() {{ n=$1; shift; if "$@" 2>/tmp/err; then echo "$n ok"; else echo "$n $(cat /tmp/err)"; fi; }}
echo "stat $(stat -c '%F %t:%T %a %u:%g' /dev/ro)"
try ro_write sh -c 'exec 3>/dev/ro'
try ro_read sh -c 'exec 3</dev/ro'
try rw_write sh -c 'exec 3>/dev/sub/rw'
try mknod_other mknod /tmp/other c {major} 2
try other_read sh -c 'exec 3</tmp/other'
try mknod_loop_control mknod /tmp/lc c 10 237
try loop_control sh -c 'exec 3</tmp/lc'
"#
    );
    let out = run(&d, &[&ro_arg, &rw_arg], &script);
    assert_eq!(
        line(&out, "stat"),
        format!("character special file {major:x}:0 640 1234:5678"),
        "the host node's numbers, mode and owner: {out}"
    );
    for (name, want) in [
        ("ro_read", ENXIO),
        ("ro_write", EPERM),
        ("rw_write", ENXIO),
        // A minor not given, and a device not given at all (runtime_devices.rs has the
        // whole matrix, on cgroup v2 too).
        ("mknod_other", "ok"),
        ("other_read", EPERM),
        ("mknod_loop_control", "ok"),
        ("loop_control", EPERM),
    ] {
        let got = line(&out, name);
        assert!(got.contains(want), "{name}: {got:?}, not {want:?}\n{out}");
    }

    // A directory gives every node below it, at the same places.
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).expect("mkdir");
    node(&tree.join("a"), major, 3, 0o666, 0, 0);
    node(&tree.join("sub/null"), 1, 3, 0o666, 0, 0);
    std::fs::write(tree.join("not-a-device"), "").expect("write");
    let tree_arg = format!("{}:/dev/tree:r", tree.display());
    let out = run(
        &d,
        &[&tree_arg],
        "find /dev/tree | sort; sh -c 'exec 3</dev/tree/a' 2>&1; true",
    );
    assert!(
        out.starts_with("/dev/tree\n/dev/tree/a\n/dev/tree/sub\n/dev/tree/sub/null\n"),
        "{out}"
    );
    assert!(out.contains(ENXIO), "{out}");

    // /dev/fuse, docker's example, where the host has one: opens only when given.
    if Path::new("/dev/fuse").exists() {
        let script = "exec 3<>/dev/fuse && echo opened";
        assert_eq!(run(&d, &["/dev/fuse"], script), "opened\n");
        let out = d.berth(&run_args(
            &[],
            "mknod /dev/fuse c 10 229 && exec 3<>/dev/fuse",
        ));
        assert!(stderr(&out).contains(EPERM), "{}", stderr(&out));
    }

    // --privileged allows every device: the permissions are ignored, the node is still
    // made at its container path (docker's rules).
    let out = d.ok(&[
        "run",
        "--rm",
        "--privileged",
        "--device",
        &ro_arg,
        "--device",
        "/dev/null:/dev/mynull",
        "busybox",
        "sh",
        "-c",
        "ls -l /dev/mynull; sh -c 'exec 3>/dev/ro' 2>&1; true",
    ]);
    assert!(out.starts_with('c') && out.contains(" 1,   3 "), "{out}");
    assert!(out.contains(ENXIO), "privileged ignores r: {out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_devices_fail_create_and_inspect_shows_dockers_form() {
    let d = Daemon::start();
    d.load_busybox();
    let create = |device: &str| d.berth(&["create", "--device", device, "busybox", "true"]);
    fails(
        &create(":x:"),
        "invalid --device \":x:\": expected HOST[:CONTAINER][:PERMISSIONS]",
    );
    fails(
        &create("/dev/zero:/dev/z:rwz"),
        "invalid device permissions \"rwz\"",
    );
    fails(
        &create("/dev/zero:dev/z"),
        "invalid device path \"dev/z\": it needs to be an absolute path",
    );
    fails(
        &create("/nonexistent/dev"),
        "error gathering device information while adding custom device \"/nonexistent/dev\"",
    );
    fails(&create("/etc/hostname"), "not a device node");
    let out = d.berth(&["create", "--device"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        d.ok(&["ps", "-aq"]).trim().is_empty(),
        "nothing was created"
    );

    d.ok(&[
        "create",
        "--name",
        "devs",
        "--device",
        "/dev/null:/dev/mynull",
        "--device",
        "/dev/zero:/dev/z:r",
        "--device",
        "/dev/full",
        "busybox",
        "true",
    ]);
    assert_eq!(
        d.inspect("devs")["HostConfig"]["Devices"],
        serde_json::json!([
            {"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "rwm"},
            {"PathOnHost": "/dev/zero", "PathInContainer": "/dev/z", "CgroupPermissions": "r"},
            {"PathOnHost": "/dev/full", "PathInContainer": "/dev/full", "CgroupPermissions": "rwm"},
        ])
    );
    d.ok(&["create", "--name", "nodevs", "busybox", "true"]);
    assert_eq!(
        d.inspect("nodevs")["HostConfig"]["Devices"],
        serde_json::json!([])
    );

    // The REST body takes the same objects; missing fields get docker's defaults.
    let s = web::admin(&d).await;
    let post = |body: serde_json::Value| {
        let s = &s;
        let d = &d;
        async move {
            let json = [("content-type", "application/json")];
            let body = body.to_string();
            web::as_session(d, s, "POST", "/api/v1/containers", &json, body.as_bytes()).await
        }
    };
    let answer = post(serde_json::json!({
        "image": "busybox", "name": "rest", "cmd": ["true"],
        "devices": [{"PathOnHost": "/dev/null"}, {"PathOnHost": "/dev/zero", "PathInContainer": "/dev/z", "CgroupPermissions": "rw"}],
    }))
    .await;
    assert!((200..300).contains(&answer.status), "{answer:?}");
    assert_eq!(
        d.inspect("rest")["HostConfig"]["Devices"],
        serde_json::json!([
            {"PathOnHost": "/dev/null", "PathInContainer": "/dev/null", "CgroupPermissions": "rwm"},
            {"PathOnHost": "/dev/zero", "PathInContainer": "/dev/z", "CgroupPermissions": "rw"},
        ])
    );
    let answer = post(serde_json::json!({
        "image": "busybox", "cmd": ["true"],
        "devices": [{"PathOnHost": "/dev/zero", "CgroupPermissions": "rwz"}],
    }))
    .await;
    assert_eq!(answer.status, 400, "{answer:?}");
    let message = answer.json()["error"]["message"].to_string();
    assert!(message.contains("invalid device permissions"), "{message}");

    // A node that is gone by the time the container starts: start says which.
    let dir = tempfile::tempdir().expect("tempdir");
    let gone = dir.path().join("gone");
    node(&gone, 1, 3, 0o666, 0, 0);
    let device = gone.display().to_string();
    d.ok(&[
        "create", "--name", "later", "--device", &device, "busybox", "true",
    ]);
    std::fs::remove_file(&gone).expect("rm node");
    let out = d.berth(&["start", "later"]);
    fails(&out, "error gathering device information");
    fails(&out, &device);
}
