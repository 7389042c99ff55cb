//! `images`, `network ls` and `volume ls` against a real daemon: docker's filters (dangling
//! and referenced images, builtin and custom networks) and `--format` (a template, `json`,
//! `table …`), with clear errors for bad filters.

mod common;

use common::{fails, rootfs_tar, Daemon};

fn lines(text: String) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

#[test]
fn images_filter_by_dangling_reference_label_and_time_and_format_like_docker() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["tag", "busybox", "localhost:5000/app:v1"]);
    let dir = tempfile::tempdir().unwrap();
    // Two imports to one tag: the first one is left untagged, dangling.
    let first = d.ok(&["import", &rootfs_tar(dir.path(), "one", "1"), "imp:1"]);
    let second = d.ok(&["import", &rootfs_tar(dir.path(), "two", "2"), "imp:1"]);
    let (first, second) = (first.trim(), second.trim());
    assert_ne!(first, second);

    let tagged = "{{.Repository}}:{{.Tag}}";
    assert_eq!(
        lines(d.ok(&["images", "-q", "--no-trunc", "-f", "dangling=true"])),
        [first]
    );
    let mut named = lines(d.ok(&["images", "-f", "dangling=false", "--format", tagged]));
    named.sort();
    assert_eq!(named, ["busybox:latest", "imp:1", "localhost:5000/app:v1"]);
    assert_eq!(
        lines(d.ok(&["images", "-f", "reference=busy*", "--format", tagged])),
        ["busybox:latest"]
    );
    assert_eq!(
        lines(d.ok(&["images", "-f", "reference=*/app:v?", "--format", tagged])),
        ["localhost:5000/app:v1"]
    );
    // The test image was made in 2023; the imports now.
    let mut since = lines(d.ok(&["images", "-q", "--no-trunc", "-f", "since=busybox"]));
    since.sort();
    let mut imports = vec![first.to_string(), second.to_string()];
    imports.sort();
    assert_eq!(since, imports);
    // Before the first import: the 2023 image only (the second import may share its second,
    // but it is never older).
    assert_eq!(
        lines(d.ok(&[
            "images",
            "-f",
            &format!("before={first}"),
            "--format",
            tagged
        ])),
        ["busybox:latest", "localhost:5000/app:v1"]
    );
    assert!(d.ok(&["images", "-q", "-f", "label=maintainer"]).is_empty());

    let table = d.ok(&[
        "images",
        "-f",
        "reference=busybox",
        "--format",
        "table {{.Repository}}\\t{{.ID}}",
    ]);
    let rows = lines(table.clone());
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["REPOSITORY", "IMAGE", "ID"],
        "{table}"
    );
    assert_eq!(rows.len(), 2, "{table}");
    let json = d.ok(&["images", "--format", "json", "imp"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["Repository"], "imp");
    assert_eq!(row["Tag"], "1");
    assert_eq!(row["ID"], &second["sha256:".len()..][..12]);
    assert!(
        row["CreatedAt"].as_str().unwrap().ends_with("+0000 UTC"),
        "{row}"
    );

    fails(
        &d.berth(&["images", "-f", "colour=red"]),
        "invalid filter 'colour'",
    );
    fails(
        &d.berth(&["images", "-f", "dangling=maybe"]),
        "invalid filter 'dangling=maybe'",
    );
    fails(
        &d.berth(&["images", "-f", "since=nothing:here"]),
        "no such image",
    );
}

#[test]
fn networks_and_volumes_filter_and_format_like_docker() {
    let d = Daemon::start();
    d.ok(&["network", "create", "lf-front"]);
    let name = "{{.Name}}";
    assert_eq!(
        lines(d.ok(&["network", "ls", "-f", "type=custom", "--format", name])),
        ["lf-front"]
    );
    let mut builtin = lines(d.ok(&["network", "ls", "-f", "type=builtin", "--format", name]));
    builtin.sort();
    assert_eq!(builtin, ["bridge", "host", "none"]);
    assert_eq!(
        lines(d.ok(&["network", "ls", "-f", "name=front", "--format", name])),
        ["lf-front"]
    );
    assert_eq!(
        lines(d.ok(&["network", "ls", "-f", "driver=null", "--format", name])),
        ["none"]
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&d.ok(&["network", "inspect", "lf-front"])).unwrap();
    let id = inspect[0]["Id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64, "{inspect}");
    let by_id = d.ok(&[
        "network",
        "ls",
        "-q",
        "--no-trunc",
        "-f",
        &format!("id={}", &id[..10]),
    ]);
    assert_eq!(by_id.trim(), id);
    let table = d.ok(&[
        "network",
        "ls",
        "-f",
        "type=custom",
        "--format",
        "table {{.Name}}\\t{{.Driver}}",
    ]);
    assert_eq!(
        lines(table.clone())
            .iter()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        [vec!["NAME", "DRIVER"], vec!["lf-front", "bridge"]],
        "{table}"
    );
    fails(
        &d.berth(&["network", "ls", "-f", "type=fancy"]),
        "invalid filter 'type=fancy'",
    );
    d.ok(&["network", "rm", "lf-front"]);

    d.ok(&["volume", "create", "-l", "tier=db", "lf-vol"]);
    assert_eq!(
        d.ok(&[
            "volume",
            "ls",
            "--format",
            "{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}"
        ])
        .trim(),
        "lf-vol local tier=db local"
    );
    let json = d.ok(&["volume", "ls", "--format", "json"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["Name"], "lf-vol");
    assert!(
        row["Mountpoint"]
            .as_str()
            .unwrap()
            .ends_with("/lf-vol/_data"),
        "{row}"
    );
    let table = d.ok(&["volume", "ls"]);
    assert_eq!(
        lines(table.clone())[0]
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["DRIVER", "VOLUME", "NAME"],
        "{table}"
    );
    d.ok(&["volume", "rm", "lf-vol"]);
}
