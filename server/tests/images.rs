//! Local image management through the CLI and a real daemon: images, tag, rmi (untag versus
//! delete, in-use refusal), image prune, history, inspect, save/load round trips (checked by
//! skopeo when it is installed), import of a rootfs tarball, and bad input.

mod common;

use common::{images, stderr, stdout, Daemon};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn busybox_id() -> String {
    images().busybox.config_digest.clone()
}

/// The entries of `layers/` and `blobs/sha256/`, to see what the store holds.
fn store(d: &Daemon) -> (Vec<String>, Vec<String>) {
    let list = |dir: PathBuf| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    (
        list(d.data_root.join("layers")),
        list(d.data_root.join("blobs/sha256")),
    )
}

/// Runs a verb that must fail with one `Error: …` line; returns that line.
fn fails(d: &Daemon, args: &[&str]) -> String {
    let out = d.berth(args);
    let err = stderr(&out);
    assert_ne!(
        out.status.code(),
        Some(0),
        "berth {args:?} succeeded: {}",
        stdout(&out)
    );
    assert_eq!(
        err.lines().count(),
        1,
        "berth {args:?}: one line, got {err:?}"
    );
    assert!(err.starts_with("Error: "), "berth {args:?}: {err}");
    err
}

/// Image ids (full) by `image inspect`.
fn image_id(d: &Daemon, name: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&d.ok(&["image", "inspect", name])).expect("inspect json");
    v[0]["Id"].as_str().expect("Id").to_string()
}

/// Rows of `images` as (repository, tag, id) triples.
fn rows(d: &Daemon) -> Vec<(String, String, String)> {
    d.ok(&["images"])
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (cells[0].into(), cells[1].into(), cells[2].into())
        })
        .collect()
}

fn row(repo: &str, tag: &str, id: &str) -> (String, String, String) {
    (
        repo.into(),
        tag.into(),
        id.trim_start_matches("sha256:")[..12].into(),
    )
}

/// A two-layer image whose bottom layer is the busybox image's layer, tagged `two:latest`.
fn two_layer_archive(dir: &Path) -> PathBuf {
    let base = berth_testkit::busybox_rootfs_tar(Path::new(berth_testkit::BUSYBOX)).expect("base");
    let mut extra = berth_testkit::LayerBuilder::new();
    extra
        .dir("opt", 0o755)
        .expect("dir")
        .file("opt/two.txt", 0o644, b"second layer\n")
        .expect("file");
    let layers = [base, extra.finish().expect("layer")];
    let config = berth_testkit::image_config(&layers, &["sh"], &[berth_testkit::BUSYBOX_PATH_ENV]);
    let path = dir.join("two.tar");
    berth_testkit::write_docker_archive(
        &path,
        "two:latest",
        &layers,
        &config,
        berth_testkit::DockerLayout::Classic,
    )
    .expect("write two.tar");
    path
}

#[test]
fn images_lists_one_row_per_tag_with_ids_and_digests() {
    let d = Daemon::start();
    let oci = images().busybox_oci_tar.to_string_lossy().into_owned();
    d.ok(&["load", "-i", &oci]);
    d.ok(&["tag", "busybox", "localhost:5000/app:v1"]);
    let id = busybox_id();
    assert_eq!(
        rows(&d),
        vec![
            row("busybox", "latest", &id),
            row("localhost:5000/app", "v1", &id)
        ]
    );
    let table = d.ok(&["images"]);
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or("")
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(header, ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]);
    assert_eq!(d.ok(&["images", "-q"]), format!("{}\n", &id[7..19]));
    assert_eq!(
        d.ok(&["images", "-a", "-q", "--no-trunc"]),
        format!("{id}\n")
    );
    let digests = d.ok(&["images", "--digests"]);
    let manifest = images()
        .busybox_oci
        .manifest_digest
        .clone()
        .expect("oci manifest");
    assert!(
        digests.lines().next().unwrap_or("").contains("DIGEST"),
        "{digests}"
    );
    assert_eq!(digests.matches(&manifest).count(), 2, "{digests}");
    let only = d.ok(&["images", "localhost:5000/app"]);
    assert_eq!(only.lines().count(), 2, "{only}");
    assert!(only.contains("localhost:5000/app"), "{only}");
    assert_eq!(d.ok(&["image", "ls", "busybox:nope"]).lines().count(), 1);
}

#[test]
fn rmi_untags_a_name_and_deletes_with_the_last_one() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["tag", "busybox", "a:1"]);
    assert_eq!(d.ok(&["rmi", "busybox"]), "Untagged: busybox:latest\n");
    assert_eq!(rows(&d), vec![row("a", "1", &busybox_id())]);
    assert_ne!(
        store(&d),
        (Vec::new(), Vec::new()),
        "the image's files stay"
    );
    assert_eq!(
        d.ok(&["rmi", "a:1"]),
        format!("Untagged: a:1\nDeleted: {}\n", busybox_id())
    );
    assert!(rows(&d).is_empty());
    assert_eq!(
        store(&d),
        (Vec::new(), Vec::new()),
        "layers and blobs are freed"
    );
}

#[test]
fn rmi_by_id_of_an_image_with_several_tags_needs_force() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["tag", "busybox", "b:2"]);
    let id = busybox_id();
    let err = fails(&d, &["rmi", &id[7..19]]);
    assert!(
        err.contains("must be forced") && err.contains("multiple repositories"),
        "{err}"
    );
    assert_eq!(rows(&d).len(), 2, "nothing changed");
    assert_eq!(
        d.ok(&["rmi", "-f", &id[7..19]]),
        format!("Untagged: b:2\nUntagged: busybox:latest\nDeleted: {id}\n")
    );
    assert_eq!(store(&d), (Vec::new(), Vec::new()));
}

#[test]
fn rmi_refuses_an_image_that_a_container_uses_even_a_stopped_one() {
    let d = Daemon::start();
    d.load_busybox();
    let id = busybox_id();
    d.ok(&["create", "--name", "stopped", "busybox", "true"]);
    let err = fails(&d, &["rmi", "busybox"]);
    assert!(
        err.contains("must force") && err.contains("is using its referenced image"),
        "{err}"
    );
    let err = fails(&d, &["rmi", &id]);
    assert!(err.contains("being used by stopped container"), "{err}");
    assert_eq!(
        rows(&d),
        vec![row("busybox", "latest", &id)],
        "nothing changed"
    );

    d.ok(&["run", "-d", "--name", "running", "busybox", "sleep", "600"]);
    let err = fails(&d, &["rmi", "-f", &id]);
    assert!(
        err.contains("cannot be forced") && err.contains("running container"),
        "{err}"
    );
    // Forced by name: untagged, but kept while containers need its layers.
    assert_eq!(
        d.ok(&["rmi", "-f", "busybox"]),
        "Untagged: busybox:latest\n"
    );
    assert_eq!(rows(&d), vec![row("<none>", "<none>", &id)]);
    d.ok(&["start", "stopped"]);
    assert_eq!(
        d.ok(&["wait", "stopped"]),
        "0\n",
        "the stopped container still runs"
    );
    d.ok(&["rm", "-f", "running", "stopped"]);
    let pruned = d.ok(&["image", "prune", "-f"]);
    assert!(pruned.contains(&format!("deleted: {id}")), "{pruned}");
    assert_eq!(store(&d), (Vec::new(), Vec::new()));
}

#[test]
fn removing_one_of_two_images_keeps_the_layers_they_share() {
    let d = Daemon::start();
    d.load_busybox();
    let base = store(&d);
    let dir = tempfile::tempdir().expect("tempdir");
    let two = two_layer_archive(dir.path());
    d.ok(&["load", "-i", &two.to_string_lossy()]);
    let both = store(&d);
    assert_eq!(
        both.0.len(),
        2,
        "the shared bottom layer is stored once: {both:?}"
    );
    assert!(base.0.iter().all(|l| both.0.contains(l)));
    d.ok(&["rmi", "two"]);
    assert_eq!(store(&d), base, "only what `two` alone used is freed");
    let out = d.ok(&["run", "--rm", "busybox", "echo", "still here"]);
    assert_eq!(out, "still here\n");

    // The other way round: removing busybox keeps the layer `two` is built on.
    d.ok(&["load", "-i", &two.to_string_lossy()]);
    d.ok(&["rmi", "busybox"]);
    let (layers, _) = store(&d);
    assert_eq!(layers, both.0);
    let out = d.ok(&["run", "--rm", "two", "cat", "/opt/two.txt"]);
    assert_eq!(out, "second layer\n");
}

#[test]
fn image_prune_takes_dangling_images_and_with_all_every_unused_one() {
    let d = Daemon::start();
    d.load_busybox();
    let whiteout = images().whiteout_docker.to_string_lossy().into_owned();
    d.ok(&["load", "-i", &whiteout]);
    let whiteout_id = images().whiteout.config_digest.clone();
    // Moving the whiteout image's only tag to busybox leaves it dangling.
    d.ok(&["tag", "busybox", berth_testkit::WHITEOUT_TAG]);
    assert!(rows(&d).contains(&row("<none>", "<none>", &whiteout_id)));
    let refused = d.berth(&["image", "prune"]);
    assert_ne!(refused.status.code(), Some(0), "no terminal to confirm on");
    assert_eq!(rows(&d).len(), 3, "nothing pruned without confirmation");

    let out = d.ok(&["image", "prune", "-f"]);
    assert!(out.starts_with("Deleted Images:\n"), "{out}");
    assert!(out.contains(&format!("deleted: {whiteout_id}\n")), "{out}");
    assert!(!out.contains("untagged"), "{out}");
    let reclaimed = out.lines().last().unwrap_or("");
    assert!(
        reclaimed.starts_with("Total reclaimed space: ") && !reclaimed.ends_with(" 0B"),
        "{out}"
    );
    assert_eq!(rows(&d).len(), 2);
    assert_eq!(
        d.ok(&["image", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );

    // -a: every image without a container; the used one stays.
    d.ok(&["create", "--name", "user", "busybox", "true"]);
    assert_eq!(
        d.ok(&["image", "prune", "-a", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    d.ok(&["rm", "user"]);
    let out = d.ok(&["image", "prune", "-a", "-f"]);
    assert!(out.contains("untagged: busybox:latest\n"), "{out}");
    assert!(
        out.contains(&format!("untagged: {}\n", berth_testkit::WHITEOUT_TAG)),
        "{out}"
    );
    assert!(
        out.contains(&format!("deleted: {}\n", busybox_id())),
        "{out}"
    );
    assert!(rows(&d).is_empty());
    assert_eq!(store(&d), (Vec::new(), Vec::new()));
}

#[test]
fn history_and_inspect_show_the_image_config() {
    let d = Daemon::start();
    let whiteout = images().whiteout_docker.to_string_lossy().into_owned();
    d.ok(&["load", "-i", &whiteout]);
    let history = d.ok(&["history", berth_testkit::WHITEOUT_TAG]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 3, "{history}");
    assert!(
        lines[0].starts_with("IMAGE")
            && lines[0].contains("CREATED BY")
            && lines[0].contains("COMMENT")
    );
    let id = images().whiteout.config_digest.clone();
    assert!(
        lines[1].starts_with(&id[7..19]) && lines[1].contains("berth-testkit layer 1"),
        "{history}"
    );
    assert!(
        lines[2].starts_with("<missing>") && lines[2].contains("berth-testkit layer 0"),
        "{history}"
    );
    assert!(
        lines[2].contains("MB"),
        "the busybox layer's size: {history}"
    );
    assert_eq!(
        d.ok(&["history", "-q", "--no-trunc", &id]),
        format!("{id}\n<missing>\n")
    );

    let v: serde_json::Value =
        serde_json::from_str(&d.ok(&["image", "inspect", &id[7..19]])).expect("json");
    let image = &v[0];
    assert_eq!(image["Id"], id.as_str());
    assert_eq!(
        image["RepoTags"],
        serde_json::json!([berth_testkit::WHITEOUT_TAG])
    );
    assert_eq!(image["Os"], "linux");
    assert_eq!(image["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(image["RootFS"]["Type"], "layers");
    assert_eq!(
        image["RootFS"]["Layers"],
        serde_json::json!(images().whiteout.diff_ids)
    );
    assert!(image["Size"].as_i64().unwrap_or(0) > 1_000_000);
    assert!(image["Created"]
        .as_str()
        .unwrap_or("")
        .starts_with("2023-11-14"));
    // `inspect` finds images when no container has the name.
    let plain: serde_json::Value =
        serde_json::from_str(&d.ok(&["inspect", berth_testkit::WHITEOUT_TAG])).expect("json");
    assert_eq!(plain[0]["Id"], id.as_str());
}

/// `skopeo inspect TRANSPORT:FILE` (when skopeo is installed): the digest of the config.
fn skopeo_config_digest(transport_ref: &str) -> Option<String> {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--config", transport_ref])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "skopeo inspect {transport_ref}: {}",
        stderr(&out)
    );
    let config = out.stdout;
    Some(berth_testkit::sha256_digest(&config))
}

#[test]
fn save_then_load_gives_back_the_same_image_in_both_formats() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["tag", "busybox", "saved:1"]);
    let id = busybox_id();
    let dir = tempfile::tempdir().expect("tempdir");
    let docker = dir.path().join("docker.tar");
    let oci = dir.path().join("oci.tar");
    d.ok(&[
        "save",
        "-o",
        &docker.to_string_lossy(),
        "busybox",
        "saved:1",
    ]);
    d.ok(&[
        "save",
        "--format",
        "oci",
        "-o",
        &oci.to_string_lossy(),
        "busybox",
    ]);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .collect();
    assert_eq!(
        left.len(),
        2,
        "no partial files are left beside the archives"
    );

    if Command::new("skopeo").arg("--version").output().is_ok() {
        let docker_ref = format!("docker-archive:{}:saved:1", docker.display());
        assert_eq!(
            skopeo_config_digest(&docker_ref).as_deref(),
            Some(id.as_str())
        );
        let oci_ref = format!("oci-archive:{}", oci.display());
        assert_eq!(skopeo_config_digest(&oci_ref).as_deref(), Some(id.as_str()));
        // The docker form is an OCI layout too.
        let both_ref = format!("oci-archive:{}:1", docker.display());
        assert_eq!(
            skopeo_config_digest(&both_ref).as_deref(),
            Some(id.as_str())
        );
    } else {
        eprintln!("skopeo is not installed: the archives are checked by berth alone");
    }

    for (archive, tags) in [
        (&docker, vec!["busybox:latest", "saved:1"]),
        (&oci, vec!["busybox:latest"]),
    ] {
        d.ok(&["rmi", "-f", &id]);
        assert_eq!(store(&d), (Vec::new(), Vec::new()));
        let out = d.ok(&["load", "-i", &archive.to_string_lossy()]);
        for tag in &tags {
            assert!(out.contains(&format!("Loaded image: {tag}\n")), "{out}");
            assert_eq!(image_id(&d, tag), id, "{}", archive.display());
        }
        assert_eq!(
            d.ok(&["run", "--rm", "busybox", "echo", "round trip"]),
            "round trip\n"
        );
    }

    // To stdout and back through stdin.
    let piped = dir.path().join("piped.tar");
    let status = Command::new(common::BERTH)
        .args(["-H", &d.host(), "save", &id])
        .stdout(std::fs::File::create(&piped).expect("create"))
        .status()
        .expect("save to stdout");
    assert!(status.success());
    d.ok(&["rmi", "-f", &id]);
    let out = Command::new(common::BERTH)
        .args(["-H", &d.host(), "load"])
        .stdin(std::fs::File::open(&piped).expect("open"))
        .stderr(Stdio::piped())
        .output()
        .expect("load from stdin");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("Loaded image ID: {id}\n"),
        "saved by id: untagged"
    );
    assert_eq!(rows(&d), vec![row("<none>", "<none>", &id)]);
}

#[test]
fn import_makes_a_runnable_one_layer_image_from_a_rootfs_tarball() {
    let d = Daemon::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let layer =
        berth_testkit::busybox_rootfs_tar(Path::new(berth_testkit::BUSYBOX)).expect("rootfs");
    let plain = dir.path().join("rootfs.tar");
    std::fs::write(&plain, layer.tar()).expect("write");
    let gz = dir.path().join("rootfs.tar.gz");
    std::fs::write(&gz, layer.gzip().expect("gzip")).expect("write");

    let out = d.ok(&["import", &plain.to_string_lossy(), "imported:plain"]);
    let id = out.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{out}");
    assert_eq!(image_id(&d, "imported:plain"), id);
    let run = d.ok(&[
        "run",
        "--rm",
        "imported:plain",
        "/bin/busybox",
        "echo",
        "hi",
    ]);
    assert_eq!(run, "hi\n");

    let out = d.ok(&[
        "import",
        "-m",
        "from gzip",
        &gz.to_string_lossy(),
        "imported:gz",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&d.ok(&["image", "inspect", "imported:gz"])).expect("json");
    assert_eq!(v[0]["Id"], out.trim());
    assert_eq!(
        v[0]["RootFS"]["Layers"],
        serde_json::json!([layer.diff_id()])
    );
    assert!(
        v[0]["Config"].get("Cmd").is_none(),
        "no default command: {}",
        v[0]["Config"]
    );
    let history = d.ok(&["history", "imported:gz"]);
    assert!(history.contains("from gzip"), "{history}");
    assert_eq!(
        d.ok(&["run", "--rm", "imported:gz", "/bin/busybox", "echo", "hi"]),
        "hi\n"
    );
    // Both imports share the one unpacked layer.
    assert_eq!(store(&d).0, vec![layer.diff_id()[7..].to_string()]);
    // Without a command an imported image cannot run, as with docker.
    let out = d.berth(&["run", "--rm", "imported:gz"]);
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn bad_input_gives_one_clear_line_and_changes_nothing() {
    let d = Daemon::start();
    d.load_busybox();
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.tar");
    std::fs::write(
        &garbage,
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .expect("write");
    let garbage = garbage.to_string_lossy().into_owned();
    let missing = dir
        .path()
        .join("missing.tar")
        .to_string_lossy()
        .into_owned();
    let not_a_dir = dir
        .path()
        .join("no-such-dir/out.tar")
        .to_string_lossy()
        .into_owned();
    let a_dir = dir.path().to_string_lossy().into_owned();
    let digest_tag = format!("busybox@sha256:{}", "a".repeat(64));
    let before = (store(&d), rows(&d));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["rmi", "nope"], "no such image"),
        (vec!["rmi", "bad name!"], "invalid reference"),
        (vec!["tag", "nope", "x:1"], "no such image"),
        (vec!["tag", "busybox", "bad name!"], "invalid reference"),
        (vec!["tag", "busybox", "x:-bad"], "bad tag"),
        (vec!["tag", "busybox", &digest_tag], "digest"),
        (vec!["history", "nope"], "no such image"),
        (vec!["image", "inspect", "nope"], "no such image"),
        (vec!["inspect", "nope"], "no such object"),
        (vec!["save", "-o", &not_a_dir, "busybox"], "does not exist"),
        (vec!["save", "-o", &a_dir, "busybox"], "is a directory"),
        (vec!["save", "-o", &missing, "nope"], "no such image"),
        (
            vec!["save", "--format", "zip", "-o", &missing, "busybox"],
            "unknown archive format",
        ),
        (vec!["import", &garbage, "junk:1"], "not a tar archive"),
        (vec!["import", &missing], "no such file"),
        (vec!["import", &garbage, "bad name!"], "invalid reference"),
        (vec!["load", "-i", &garbage], "not a tar archive"),
    ];
    for (args, expected) in cases {
        let err = fails(&d, &args);
        assert!(err.contains(expected), "berth {args:?}: {err}");
    }
    assert_eq!((store(&d), rows(&d)), before, "nothing changed");
    assert!(
        !Path::new(&missing).exists(),
        "no output file from a failed save"
    );
    let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
    assert_eq!(leftovers, 1, "only the garbage file: no partial archives");
    let tmp = std::fs::read_dir(d.data_root.join("tmp"))
        .expect("tmp")
        .count();
    assert_eq!(tmp, 0, "the daemon's spool and scratch files are gone");
}
