//! `berth info` and `berth system df` against a real daemon: counts that follow the
//! containers' states, the cgroup version the engine really uses, a container's writable layer
//! and a volume's size on disk, what is reclaimable, and the REST shapes.

mod common;

use common::{fails, Daemon};
use serde_json::Value;

fn get(d: &Daemon, path: &str) -> Value {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: berth\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (status, body) = common::parse_response(&text);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// What /sys/fs/cgroup is: cgroup2 → "2", else (v1 or hybrid) "1".
fn host_cgroup_version() -> &'static str {
    let fs = nix::sys::statfs::statfs("/sys/fs/cgroup").unwrap();
    match fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC {
        true => "2",
        false => "1",
    }
}

#[test]
fn info_counts_containers_by_state_and_tells_the_cgroup_version() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["create", "--name", "made", "busybox", "true"]);
    d.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "1000"]);
    d.ok(&["run", "-d", "--name", "held", "busybox", "sleep", "1000"]);
    d.ok(&["pause", "held"]);
    let info = get(&d, "/api/v1/info");
    assert_eq!(info["Containers"], 3, "{info}");
    assert_eq!(info["ContainersRunning"], 1);
    assert_eq!(info["ContainersPaused"], 1);
    assert_eq!(info["ContainersStopped"], 1);
    assert_eq!(info["Images"], 1);
    assert_eq!(info["OSType"], "linux");
    assert_eq!(info["Driver"], "overlay2");
    assert!(info["NCPU"].as_u64().unwrap() >= 1);
    assert!(info["MemTotal"].as_u64().unwrap() > 0);
    assert_eq!(
        info["DockerRootDir"],
        d.data_root.display().to_string().as_str()
    );
    assert_eq!(
        d.ok(&["info", "--format", "{{.CgroupVersion}}"]).trim(),
        host_cgroup_version()
    );
    let kernel = nix::sys::utsname::uname().unwrap();
    assert_eq!(
        info["KernelVersion"],
        kernel.release().to_string_lossy().as_ref()
    );
    // The engine id stays the same across calls and daemon restarts of this data root.
    let id = info["ID"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64);
    let text = d.ok(&["info"]);
    assert!(
        text.contains("Containers: 3\n Running: 1\n Paused: 1\n Stopped: 1\n"),
        "{text}"
    );
    assert!(text.contains(&format!("ID: {id}")), "{text}");
    assert!(text.contains(&format!("Cgroup Version: {}", host_cgroup_version())));
    d.ok(&["unpause", "held"]);
    d.ok(&["stop", "-t", "0", "up", "held"]);
    assert_eq!(
        d.ok(&["system", "info", "--format", "{{.ContainersStopped}}"]),
        "3\n"
    );
    fails(&d.berth(&["info", "--format", "{{.Nope}}"]), "Nope");
}

#[test]
fn df_measures_writable_layers_and_volumes_and_what_is_reclaimable() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "writer",
        "-v",
        "store:/data",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/urandom of=/big bs=1M count=5 2>/dev/null && \
         dd if=/dev/urandom of=/data/f bs=1M count=3 2>/dev/null",
    ]);
    d.ok(&["volume", "create", "idle"]);
    let df = get(&d, "/api/v1/system/df");
    let image_size = df["Images"][0]["Size"].as_u64().unwrap();
    assert!(image_size > 0);
    assert_eq!(df["LayersSize"].as_u64().unwrap(), image_size, "{df}");
    assert_eq!(df["Images"][0]["Containers"], 1);
    assert_eq!(df["Images"][0]["SharedSize"], 0);
    let writer = &df["Containers"][0];
    assert!(writer["SizeRw"].as_u64().unwrap() >= 5 << 20, "{writer}");
    assert_eq!(writer["LocalVolumes"], 1);
    let volume = |name: &str| {
        df["Volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["Name"] == name)
            .cloned()
            .unwrap()
    };
    assert!(volume("store")["UsageData"]["Size"].as_u64().unwrap() >= 3 << 20);
    assert_eq!(volume("store")["UsageData"]["RefCount"], 1);
    assert_eq!(volume("idle")["UsageData"]["RefCount"], 0);

    let summary = d.ok(&["system", "df"]);
    let line = |kind: &str| {
        summary
            .lines()
            .find(|l| l.starts_with(kind))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // TYPE TOTAL ACTIVE SIZE RECLAIMABLE: the image is in use; the exited container's layer
    // is reclaimable; the idle volume is empty, the used one is not reclaimable.
    assert_eq!(&line("Images")[1..3], ["1", "1"], "{summary}");
    assert_eq!(line("Images")[4], "0B", "{summary}");
    assert_eq!(&line("Containers")[1..3], ["1", "0"], "{summary}");
    assert!(line("Containers")[5].starts_with("(100%"), "{summary}");
    assert_eq!(&line("Local")[2..4], ["2", "1"], "{summary}");
    assert_eq!(line("Local")[6], "(0%)", "{summary}");
    assert!(summary.contains("Build Cache"), "{summary}");

    let verbose = d.ok(&["system", "df", "-v"]);
    assert!(verbose.contains("Images space usage:"), "{verbose}");
    assert!(verbose.contains("busybox"), "{verbose}");
    assert!(verbose.contains("writer"), "{verbose}");
    let store = verbose
        .lines()
        .find(|l| l.starts_with("store"))
        .unwrap_or_else(|| panic!("{verbose}"));
    assert_eq!(store.split_whitespace().nth(1), Some("1"), "{store}");

    // After removing the container its layer is gone and the image is no longer active.
    d.ok(&["rm", "writer"]);
    let df = get(&d, "/api/v1/system/df");
    assert_eq!(df["Containers"].as_array().unwrap().len(), 0);
    assert_eq!(df["Images"][0]["Containers"], 0);
    let summary = d.ok(&["system", "df"]);
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("Images") && l.contains("(100%)")),
        "{summary}"
    );
}

#[test]
fn network_and_system_prune_remove_what_nothing_uses_and_keep_the_rest() {
    let d = Daemon::start();
    d.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    let unused_image = d.ok(&[
        "import",
        &common::rootfs_tar(dir.path(), "r", "x"),
        "sp-img:1",
    ]);
    let unused_image = unused_image.trim();
    d.ok(&["network", "create", "sp-used"]);
    d.ok(&["network", "create", "sp-idle"]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "sp-up",
        "--network",
        "sp-used",
        "-v",
        "sp-named:/data",
        "busybox",
        "sleep",
        "300",
    ]);
    let done = d.ok(&[
        "create",
        "--name",
        "sp-done",
        "--network",
        "none",
        "-v",
        "/anon",
        "busybox",
        "true",
    ]);
    let done = done.trim();
    let anonymous = d.inspect("sp-done")["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_string();

    fails(&d.berth(&["system", "prune"]), "pass -f");
    assert_eq!(
        d.ok(&["network", "prune", "-f"]),
        "Deleted Networks:\nsp-idle\n\n"
    );
    d.ok(&["network", "create", "sp-idle2"]);
    let out = d.ok(&["system", "prune", "-f"]);
    assert_eq!(
        out,
        format!(
            "Deleted Containers:\n{done}\n\nDeleted Networks:\nsp-idle2\n\nTotal reclaimed space: 0B\n"
        )
    );
    // Tagged images and volumes stay without -a and --volumes.
    assert!(d.ok(&["images", "-q", "--no-trunc"]).contains(unused_image));
    assert!(d.ok(&["volume", "ls", "-q"]).contains(&anonymous));

    let out = d.ok(&["system", "prune", "-a", "--volumes", "-f"]);
    assert!(
        out.starts_with(&format!(
            "Deleted Volumes:\n{anonymous}\n\nDeleted Images:\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("untagged: sp-img:1\ndeleted: {unused_image}\n")),
        "{out}"
    );
    // What the running container uses stays: its network, named volume and image.
    let names = d.ok(&[
        "network",
        "ls",
        "-f",
        "type=custom",
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(names.trim(), "sp-used");
    assert_eq!(d.ok(&["volume", "ls", "-q"]).trim(), "sp-named");
    assert_eq!(
        d.ok(&["images", "--format", "{{.Repository}}"]).trim(),
        "busybox"
    );
    assert_eq!(
        d.ok(&["ps", "-a", "--format", "{{.Names}}"]).trim(),
        "sp-up"
    );
    d.ok(&["rm", "-f", "sp-up"]);
    d.ok(&["network", "rm", "sp-used"]);
    d.ok(&["volume", "rm", "sp-named"]);
}
