//! Volumes end to end through the CLI and a real daemon: named volumes shared between
//! containers and surviving them, in-use protection, seeding from the image, read-only
//! mounts, bind and tmpfs mounts, the image's anonymous volumes, prune and size.

mod common;

use common::{fails, stderr, stdout, Daemon};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The tag of an image whose config declares `Volumes: {"/seed": {}}` and that ships files
/// at `/seed` (a file owned by 1000:1001 with mode 0640, a subdirectory, an absolute symlink).
const SEED_IMAGE: &str = "berth-test/volumes:latest";

fn load_seed_image(d: &Daemon) {
    use berth_testkit::{add_busybox_rootfs, image_config, write_docker_archive, DockerLayout};
    let mut layer = berth_testkit::LayerBuilder::new();
    add_busybox_rootfs(&mut layer, Path::new(berth_testkit::BUSYBOX)).expect("busybox rootfs");
    layer
        .dir("seed", 0o750)
        .and_then(|l| l.file_owned("seed/owned.txt", 0o640, 1000, 1001, b"from the image\n"))
        .and_then(|l| l.dir("seed/sub", 0o755))
        .and_then(|l| l.file("seed/sub/deep.txt", 0o644, b"deep\n"))
        .and_then(|l| l.symlink("seed/link", "/etc/passwd"))
        .expect("seed files");
    let layers = [layer.finish().expect("layer")];
    let mut config = image_config(&layers, &["sh"], &[berth_testkit::BUSYBOX_PATH_ENV]);
    config["config"]["Volumes"] = serde_json::json!({"/seed": {}});
    let tar = d.dir.path().join("volumes-image.tar");
    write_docker_archive(&tar, SEED_IMAGE, &layers, &config, DockerLayout::Classic)
        .expect("image archive");
    d.ok(&["load", "-i", &tar.to_string_lossy()]);
}

fn volume_names(d: &Daemon) -> Vec<String> {
    d.ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn is_anonymous_name(name: &str) -> bool {
    name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit())
}

fn mountpoint(d: &Daemon, name: &str) -> std::path::PathBuf {
    let v: serde_json::Value =
        serde_json::from_str(&d.ok(&["volume", "inspect", name])).expect("inspect json");
    v[0]["Mountpoint"].as_str().expect("Mountpoint").into()
}

#[test]
fn volume_data_is_shared_survives_its_containers_and_in_use_volumes_stay() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "writer",
        "-v",
        "shared:/data",
        "busybox",
        "sh",
        "-c",
        "echo hello > /data/greeting",
    ]);
    let read = d.ok(&[
        "run",
        "--name",
        "reader",
        "-v",
        "shared:/data",
        "busybox",
        "cat",
        "/data/greeting",
    ]);
    assert_eq!(read, "hello\n");

    // Two running containers see each other's writes while both run. Each file appears by
    // rename, whole: a plain `>` creates it empty before the bytes arrive.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "ca",
        "-v",
        "shared:/d",
        "busybox",
        "sh",
        "-c",
        "echo from-a > /d/a.new && mv /d/a.new /d/a; while [ ! -f /d/b ]; do sleep 0.05; done; cat /d/b",
    ]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "cb",
        "-v",
        "shared:/d",
        "busybox",
        "sh",
        "-c",
        "while [ ! -f /d/a ]; do sleep 0.05; done; cat /d/a; echo from-b > /d/b.new && mv /d/b.new /d/b; sleep 1000",
    ]);
    assert_eq!(d.ok(&["wait", "ca"]).trim(), "0");
    assert_eq!(d.ok(&["logs", "ca"]), "from-b\n");
    assert_eq!(d.ok(&["logs", "cb"]), "from-a\n");

    // In use (by running and stopped containers alike): refused, also with -f; data kept.
    let b_id = d.inspect("cb")["Id"].as_str().expect("id").to_string();
    for args in [
        &["volume", "rm", "shared"][..],
        &["volume", "rm", "-f", "shared"],
    ] {
        let out = d.berth(args);
        fails(&out, "remove shared: volume is in use - [");
        assert!(stderr(&out).contains(&b_id), "{}", stderr(&out));
    }
    let data = mountpoint(&d, "shared");
    assert_eq!(
        std::fs::read_to_string(data.join("greeting")).expect("kept"),
        "hello\n"
    );

    let inspect = d.inspect("writer");
    let mounts = inspect["Mounts"].as_array().expect("Mounts");
    assert_eq!(mounts.len(), 1, "{mounts:?}");
    assert_eq!(mounts[0]["Type"], "volume");
    assert_eq!(mounts[0]["Name"], "shared");
    assert_eq!(mounts[0]["Destination"], "/data");
    assert_eq!(mounts[0]["Driver"], "local");
    assert_eq!(mounts[0]["RW"], true);
    assert_eq!(mounts[0]["Source"], data.to_string_lossy().as_ref());

    // Every container gone: the data stays, a new container reads it, then rm works.
    d.ok(&["rm", "-f", "writer", "reader", "ca", "cb"]);
    let again = d.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/data",
        "busybox",
        "cat",
        "/data/greeting",
    ]);
    assert_eq!(again, "hello\n");
    assert_eq!(d.ok(&["volume", "rm", "shared"]), "shared\n");
    assert!(volume_names(&d).is_empty());
    assert!(!data.exists(), "{} left behind", data.display());
    fails(&d.berth(&["volume", "rm", "shared"]), "no such volume");
    d.ok(&["volume", "rm", "-f", "shared"]);
}

#[test]
fn volume_create_ls_inspect_are_shaped_as_dockers() {
    let d = Daemon::start();
    assert_eq!(
        d.ok(&["volume", "create", "--label", "team=db", "v1"]),
        "v1\n"
    );
    // Idempotent, as docker's.
    assert_eq!(d.ok(&["volume", "create", "v1"]), "v1\n");
    let anon = d.ok(&["volume", "create"]).trim().to_string();
    assert!(is_anonymous_name(&anon), "{anon}");
    let v: serde_json::Value =
        serde_json::from_str(&d.ok(&["volume", "inspect", "v1"])).expect("json");
    let v = &v[0];
    assert_eq!(v["Name"], "v1");
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"]["team"], "db");
    assert!(v["CreatedAt"].as_str().expect("CreatedAt").ends_with('Z'));
    assert_eq!(v["UsageData"]["RefCount"], 0);
    let ls = d.ok(&["volume", "ls"]);
    assert!(ls.starts_with("DRIVER"), "{ls}");
    assert!(ls.contains("VOLUME NAME"), "{ls}");
    assert!(
        ls.lines()
            .any(|l| l.starts_with("local") && l.ends_with(" v1")),
        "{ls}"
    );
    assert_eq!(d.ok(&["volume", "ls", "-q", "--filter", "name=v"]), "v1\n");
    assert_eq!(
        d.ok(&["volume", "ls", "-q", "--filter", "label=team=db"]),
        "v1\n"
    );
    fails(&d.berth(&["volume", "inspect", "nope"]), "no such volume");
}

#[test]
fn bad_volume_names_are_refused_and_leave_nothing() {
    let d = Daemon::start();
    d.load_busybox();
    for name in ["a/b", "..", "../etc", ".hidden"] {
        fails(&d.berth(&["volume", "create", name]), "invalid characters");
        let spec = format!("{name}:/data");
        let out = d.berth(&["run", "-v", &spec, "busybox", "true"]);
        fails(&out, "invalid characters for a local volume name");
        assert_eq!(out.status.code(), Some(125));
    }
    assert!(volume_names(&d).is_empty());
    assert!(d.ok(&["ps", "-aq"]).trim().is_empty());
    let volumes_dir = d.data_root.join("volumes");
    assert_eq!(
        std::fs::read_dir(&volumes_dir)
            .expect("volumes dir")
            .count(),
        0
    );
}

#[test]
fn destinations_are_checked_at_create() {
    let d = Daemon::start();
    d.load_busybox();
    let cases: [(&[&str], &str); 4] = [
        (&["-v", "v1:relative"], "mount path must be absolute"),
        (&["-v", "v1:/"], "destination can't be '/'"),
        (
            &["-v", "v1:/d", "--tmpfs", "/d/"],
            "Duplicate mount point: /d",
        ),
        (
            &["--mount", "type=volume,source=v1"],
            "field Target must not be empty",
        ),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["create"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "true"]);
        fails(&d.berth(&args), expected);
    }
    assert!(d.ok(&["ps", "-aq"]).trim().is_empty());
    assert!(volume_names(&d).is_empty());
}

#[test]
fn a_new_volume_is_seeded_from_the_image_and_image_volumes_are_anonymous() {
    let d = Daemon::start();
    load_seed_image(&d);
    // A named volume over /seed gets the image's files, owners, modes and symlinks.
    let out = d.ok(&[
        "run",
        "--name",
        "sd",
        "-v",
        "seeded:/seed",
        SEED_IMAGE,
        "cat",
        "/seed/owned.txt",
    ]);
    assert_eq!(out, "from the image\n");
    let data = mountpoint(&d, "seeded");
    let owned = std::fs::metadata(data.join("owned.txt")).expect("owned.txt");
    assert_eq!(
        (owned.uid(), owned.gid(), owned.mode() & 0o7777),
        (1000, 1001, 0o640)
    );
    assert_eq!(
        std::fs::read_to_string(data.join("sub/deep.txt")).expect("deep"),
        "deep\n"
    );
    let link = std::fs::symlink_metadata(data.join("link")).expect("link");
    assert!(link.file_type().is_symlink());
    assert_eq!(
        std::fs::read_link(data.join("link")).expect("readlink"),
        Path::new("/etc/passwd")
    );
    assert_eq!(
        std::fs::metadata(&data).expect("root").mode() & 0o7777,
        0o750
    );
    // Seeding happens only while the volume is empty: a changed volume stays as it is.
    std::fs::remove_file(data.join("owned.txt")).expect("remove");
    d.ok(&["run", "--rm", "-v", "seeded:/seed", SEED_IMAGE, "true"]);
    assert!(!data.join("owned.txt").exists());
    // nocopy: no seeding.
    d.ok(&["run", "--rm", "-v", "bare:/seed:nocopy", SEED_IMAGE, "true"]);
    assert_eq!(
        std::fs::read_dir(mountpoint(&d, "bare"))
            .expect("bare")
            .count(),
        0
    );

    // The image's Volumes: an anonymous, seeded volume per container.
    let out = d.ok(&[
        "run",
        "--name",
        "anon",
        SEED_IMAGE,
        "cat",
        "/seed/sub/deep.txt",
    ]);
    assert_eq!(out, "deep\n");
    let mounts = d.inspect("anon")["Mounts"].clone();
    let anon = mounts[0]["Name"].as_str().expect("Name").to_string();
    assert!(is_anonymous_name(&anon), "{mounts}");
    assert_eq!(mounts[0]["Destination"], "/seed");
    assert!(volume_names(&d).contains(&anon));
    // `rm -v` removes it with the container; `run --rm` as well.
    d.ok(&["rm", "-v", "anon"]);
    assert!(!volume_names(&d).contains(&anon));
    let before = volume_names(&d);
    d.ok(&["run", "--rm", SEED_IMAGE, "true"]);
    assert_eq!(volume_names(&d), before);
    // A -v over the image's volume path takes its place: no anonymous volume then.
    d.ok(&["run", "--rm", "-v", "seeded:/seed", SEED_IMAGE, "true"]);
    assert_eq!(volume_names(&d), before);
    // Plain `rm` keeps the anonymous volume (docker).
    d.ok(&["run", "--name", "kept", SEED_IMAGE, "true"]);
    d.ok(&["rm", "kept"]);
    let left: Vec<String> = volume_names(&d)
        .into_iter()
        .filter(|n| is_anonymous_name(n))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    d.ok(&["rm", "-f", "sd"]);
}

#[test]
fn prune_removes_unused_anonymous_volumes_and_all_with_a() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["volume", "create", "named"]);
    let anon = d.ok(&["volume", "create"]).trim().to_string();
    d.ok(&[
        "create", "--name", "user", "-v", "used:/d", "busybox", "true",
    ]);
    std::fs::write(mountpoint(&d, &anon).join("blob"), vec![7u8; 5000]).expect("write");

    let out = d.ok(&["volume", "prune", "-f"]);
    assert!(out.contains("Deleted Volumes:"), "{out}");
    assert!(out.contains(&anon), "{out}");
    assert!(out.contains("Total reclaimed space: 5kB"), "{out}");
    assert_eq!(volume_names(&d), ["named", "used"]);

    assert_eq!(
        d.ok(&["volume", "ls", "-q", "-f", "dangling=true"]),
        "named\n"
    );
    assert_eq!(
        d.ok(&["volume", "ls", "-q", "-f", "dangling=false"]),
        "used\n"
    );
    let out = d.ok(&["volume", "prune", "-a", "-f"]);
    assert!(out.contains("named"), "{out}");
    assert_eq!(volume_names(&d), ["used"]);
    // Without -f and without a terminal to ask on, nothing is pruned.
    assert!(!d.berth(&["volume", "prune", "-a"]).status.success());
    d.ok(&["rm", "user"]);
    d.ok(&["volume", "prune", "-a", "-f"]);
    assert!(volume_names(&d).is_empty());
}

#[test]
fn read_only_volumes_refuse_writes() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&[
        "run",
        "--rm",
        "-v",
        "ro1:/d:ro",
        "busybox",
        "sh",
        "-c",
        "touch /d/x",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    let out = d.berth(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=ro1,dst=/d,readonly",
        "busybox",
        "sh",
        "-c",
        "touch /d/x",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_dir(mountpoint(&d, "ro1"))
            .expect("ro1")
            .count(),
        0
    );
    // The same volume read-write works.
    d.ok(&["run", "--rm", "-v", "ro1:/d", "busybox", "touch", "/d/x"]);
    assert!(mountpoint(&d, "ro1").join("x").exists());
}

#[test]
fn bind_mounts_share_a_host_folder_and_a_missing_source_is_refused() {
    let d = Daemon::start();
    d.load_busybox();
    let host = d.dir.path().join("host-dir");
    std::fs::create_dir(&host).expect("host dir");
    std::fs::write(host.join("in.txt"), "from the host\n").expect("write");
    let spec = format!("{}:/h", host.display());
    let out = d.ok(&[
        "run",
        "--rm",
        "-v",
        &spec,
        "busybox",
        "sh",
        "-c",
        "cat /h/in.txt; echo back > /h/out.txt",
    ]);
    assert_eq!(out, "from the host\n");
    assert_eq!(
        std::fs::read_to_string(host.join("out.txt")).expect("out"),
        "back\n"
    );
    let ro = format!("type=bind,source={},target=/h,readonly", host.display());
    let out = d.berth(&["run", "--rm", "--mount", &ro, "busybox", "touch", "/h/nope"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(!host.join("nope").exists());

    // --mount never creates a missing source: a clear error and nothing left.
    let missing = d.dir.path().join("no-such-dir");
    let spec = format!("type=bind,source={},target=/x", missing.display());
    let out = d.berth(&["run", "--name", "mm", "--mount", &spec, "busybox", "true"]);
    fails(
        &out,
        &format!("bind source path does not exist: {}", missing.display()),
    );
    assert!(d.ok(&["ps", "-aq"]).trim().is_empty());
    let containers = d.data_root.join("containers");
    assert_eq!(
        std::fs::read_dir(&containers).expect("containers").count(),
        0
    );
    assert!(!missing.exists());
    // -v creates a missing host folder, as docker's -v does.
    let made = d.dir.path().join("made-by-v");
    let spec = format!("{}:/m", made.display());
    d.ok(&["run", "--rm", "-v", &spec, "busybox", "touch", "/m/f"]);
    assert!(made.join("f").exists());
}

#[test]
fn tmpfs_mounts_are_tmpfs_and_empty_after_a_restart() {
    let d = Daemon::start();
    d.load_busybox();
    let script = "grep ' /scratch ' /proc/mounts; ls -A /scratch; echo listed; touch /scratch/mark";
    let first = d.ok(&[
        "run",
        "--name",
        "tm",
        "--tmpfs",
        "/scratch:size=1m,mode=700",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    let line = first.lines().next().unwrap_or_default();
    assert!(line.starts_with("tmpfs /scratch tmpfs "), "{first}");
    assert!(
        line.contains("size=1024k") && line.contains("mode=700"),
        "{line}"
    );
    assert!(
        line.contains("nosuid") && line.contains("nodev") && line.contains("noexec"),
        "{line}"
    );
    d.ok(&["start", "tm"]);
    assert_eq!(d.ok(&["wait", "tm"]).trim(), "0");
    let logs = d.ok(&["logs", "tm"]);
    assert_eq!(logs.matches("listed").count(), 2, "{logs}");
    assert!(
        !logs.contains("mark"),
        "the tmpfs kept a file across the restart: {logs}"
    );
    let out = d.ok(&[
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,target=/t,tmpfs-size=65536",
        "busybox",
        "sh",
        "-c",
        "grep ' /t ' /proc/mounts",
    ]);
    assert!(out.contains("size=64k"), "{out}");
    d.ok(&["rm", "tm"]);
}

#[test]
fn volume_size_is_reported() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "filler",
        "-v",
        "sized:/d",
        "busybox",
        "sh",
        "-c",
        "head -c 300000 /dev/zero > /d/blob; mkdir /d/sub; head -c 1000 /dev/zero > /d/sub/small",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&d.ok(&["volume", "inspect", "sized"])).expect("json");
    assert_eq!(v[0]["UsageData"]["Size"], 301_000, "{v}");
    assert_eq!(v[0]["UsageData"]["RefCount"], 1, "{v}");
    let out = d.berth(&["volume", "inspect", "sized", "missing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("\"sized\""));
    d.ok(&["rm", "filler"]);
}

/// The volume events so far: `ACTION NAME` lines.
fn volume_events(d: &Daemon) -> Vec<String> {
    volume_events_with(d, &["--format", "{{.Action}} {{.Actor.ID}}"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// `berth events` of volumes up to now, with more options.
fn volume_events_with(d: &Daemon, more: &[&str]) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    let until = format!("{}.{:09}", t.as_secs(), t.subsec_nanos());
    let mut args = vec![
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "type=volume",
    ];
    args.extend_from_slice(more);
    d.ok(&args)
}

#[test]
fn volume_events_are_emitted_as_dockers() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["volume", "create", "evvol"]);
    d.ok(&["volume", "create", "evvol"]);
    d.ok(&["run", "--rm", "-v", "evvol:/d:ro", "busybox", "true"]);
    d.ok(&["volume", "rm", "evvol"]);
    assert_eq!(
        volume_events(&d),
        [
            "create evvol",
            "mount evvol",
            "unmount evvol",
            "destroy evvol"
        ]
    );
    let full = volume_events_with(&d, &["--filter", "event=mount"]);
    assert!(full.contains("destination=/d"), "{full}");
    assert!(full.contains("read/write=false"), "{full}");
    // An anonymous volume of `run --rm` is created and destroyed with its container.
    d.ok(&["run", "--rm", "-v", "/anon", "busybox", "true"]);
    let events = volume_events(&d);
    let anon: Vec<&String> = events[4..].iter().collect();
    let actions: Vec<&str> = anon
        .iter()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        ["create", "mount", "unmount", "destroy"],
        "{events:?}"
    );
    assert!(
        anon.iter().all(|l| is_anonymous_name(&l[l.len() - 64..])),
        "{events:?}"
    );
}
