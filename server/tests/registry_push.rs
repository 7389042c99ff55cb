//! Pushing to a real registry (Debian's docker-registry, started per test on 127.0.0.1) and
//! browsing it: push of a loaded image and its round trip through rmi and pull with the same
//! digest, layers that already exist, cross-repository mounts, TLS with Basic auth after a
//! login, clear errors (no login, unknown image, registry down), and catalog/tag listings
//! across pages.

mod common;

use common::registry::{daemon_request, Options, Registry};
use common::{berth_with_stdin, fails, free_port, stderr, stdout, Daemon};
use std::process::Command;

const PASSWORD: &str = "push-pässword-9";

/// The manifest digest skopeo sees for `reference` (`host/repo:tag`).
fn skopeo_digest(reference: &str, creds: Option<&str>) -> String {
    let mut command = Command::new("skopeo");
    command.args(["inspect", "--tls-verify=false"]);
    if let Some(creds) = creds {
        command.arg(format!("--creds={creds}"));
    }
    let out = command
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(out.status.success(), "skopeo inspect: {}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("skopeo json");
    v["Digest"].as_str().expect("a digest").to_string()
}

/// The `TAG: digest: sha256:… size: N` line of a push's output: the digest.
fn pushed_digest(output: &str, tag: &str) -> String {
    let line = output
        .lines()
        .find(|l| l.starts_with(&format!("{tag}: digest: sha256:")))
        .unwrap_or_else(|| panic!("no digest line for {tag} in {output}"));
    let digest = line.split_whitespace().nth(2).expect("digest").to_string();
    assert!(line.contains(" size: "), "{line}");
    digest
}

fn insecure_daemon(reg: &Registry) -> Daemon {
    Daemon::start_with(&["--insecure-registry".into(), reg.host.clone()])
}

#[test]
fn push_then_pull_back_gives_the_same_digest_and_reuses_layers() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    d.load_busybox();
    let first = format!("{}/test/busybox:1", reg.host);
    d.ok(&["tag", "busybox:latest", &first]);

    let out = d.ok(&["push", &first]);
    assert!(
        out.contains(&format!(
            "The push refers to repository [{}/test/busybox]",
            reg.host
        )),
        "{out}"
    );
    assert!(out.contains(": Preparing"), "{out}");
    assert!(out.contains(": Pushed"), "{out}");
    let digest = pushed_digest(&out, "1");
    assert_eq!(skopeo_digest(&first, None), digest);
    assert_eq!(reg.tag_digest("test/busybox", "1"), digest);

    // A second tag of the same image: every layer is already there.
    let second = format!("{}/test/busybox:2", reg.host);
    d.ok(&["tag", "busybox:latest", &second]);
    let out = d.ok(&["push", &second]);
    assert!(out.contains(": Layer already exists"), "{out}");
    assert!(!out.contains(": Pushed"), "{out}");
    assert_eq!(pushed_digest(&out, "2"), digest);

    // Delete locally, pull again: the same manifest digest; it runs; pushing it again keeps it.
    d.ok(&["rmi", &first, &second, "busybox:latest"]);
    let pulled = d.ok(&["pull", &first]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    let ran = d.ok(&["run", "--rm", &first, "echo", "round trip"]);
    assert_eq!(ran.trim(), "round trip");
    let again = d.ok(&["push", &first]);
    assert_eq!(pushed_digest(&again, "1"), digest);

    // Another repository of the same registry: the layers are mounted, not uploaded.
    let other = format!("{}/other/bb:1", reg.host);
    d.ok(&["tag", &first, &other]);
    let out = d.ok(&["push", "-q", &other]);
    assert_eq!(out.trim(), other);
    let out = d.ok(&["push", &other]);
    assert!(out.contains(": Layer already exists"), "{out}");
    let third = format!("{}/third/bb", reg.host);
    d.ok(&["tag", &first, &third]);
    let out = d.ok(&["push", &third]);
    assert!(out.contains(": Mounted from "), "{out}");
    assert!(!out.contains(": Pushed"), "{out}");
    assert_eq!(pushed_digest(&out, "latest"), digest);
    assert_eq!(skopeo_digest(&format!("{third}:latest"), None), digest);
}

#[test]
fn push_with_tls_and_basic_auth_needs_a_login() {
    let reg = Registry::start(Options {
        tls: true,
        htpasswd: Some(("bob".into(), PASSWORD.into())),
        ..Default::default()
    });
    let ca = reg.ca.clone().expect("a CA");
    let d = Daemon::start_with(&["--registry-ca".into(), ca.display().to_string()]);
    d.load_busybox();
    let target = format!("{}/private/busybox:v1", reg.host);
    d.ok(&["tag", "busybox:latest", &target]);

    let anonymous = d.berth(&["push", &target]);
    fails(&anonymous, "unauthorized");
    fails(&anonymous, &format!("berth login {}", reg.host));
    assert_eq!(
        stderr(&anonymous).trim().lines().count(),
        1,
        "{}",
        stderr(&anonymous)
    );

    let login = berth_with_stdin(
        &d,
        &["login", "-u", "bob", "--password-stdin", &reg.host],
        &format!("{PASSWORD}\n"),
    );
    assert!(login.status.success(), "{}", stderr(&login));

    let out = d.ok(&["push", &target]);
    let digest = pushed_digest(&out, "v1");
    assert_eq!(
        skopeo_digest(&target, Some(&format!("bob:{PASSWORD}"))),
        digest
    );
}

#[test]
fn push_errors_are_one_clear_line() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    d.load_busybox();
    let missing = d.berth(&["push", &format!("{}/nothing/here:1", reg.host)]);
    fails(&missing, "no such image");

    let down = format!("127.0.0.1:{}", free_port());
    let d2 = Daemon::start_with(&["--insecure-registry".into(), down.clone()]);
    d2.load_busybox();
    let target = format!("{down}/test/busybox:1");
    d2.ok(&["tag", "busybox:latest", &target]);
    let out = d2.berth(&["push", &target]);
    fails(&out, &format!("cannot reach registry {down}"));
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
}

/// Every name of a listing, following the REST API's `next` page by page with `n`.
fn all_pages(d: &Daemon, base: &str, n: u32) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut last: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("{base}?n={n}");
        if let Some(last) = &last {
            path.push_str(&format!("&last={}", last.replace('/', "%2F")));
        }
        let (status, body) = daemon_request(d, "GET", &path, None, b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let page: serde_json::Value = serde_json::from_slice(&body).expect("page json");
        let got: Vec<String> = page["names"]
            .as_array()
            .expect("names")
            .iter()
            .map(|v| v.as_str().expect("name").to_string())
            .collect();
        assert!(got.len() <= n as usize, "{got:?}");
        names.extend(got);
        pages += 1;
        match page["next"].as_str() {
            Some(next) => last = Some(next.to_string()),
            None => return (names, pages),
        }
        assert!(pages < 20, "no end to the pages");
    }
}

#[test]
fn catalog_and_tags_come_back_across_pages() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    d.load_busybox();
    let repos = ["test/a", "test/b", "test/c", "test/d", "test/e"];
    for repo in repos {
        let target = format!("{}/{repo}:1", reg.host);
        d.ok(&["tag", "busybox:latest", &target]);
        d.ok(&["push", "-q", &target]);
    }
    for tag in ["2", "3"] {
        let target = format!("{}/test/a:{tag}", reg.host);
        d.ok(&["tag", "busybox:latest", &target]);
        d.ok(&["push", "-q", &target]);
    }

    let (names, pages) = all_pages(&d, &format!("/api/v1/registries/{}/catalog", reg.host), 2);
    assert_eq!(names, repos, "catalog");
    assert!(pages >= 3, "{pages} pages");
    let (tags, pages) = all_pages(
        &d,
        &format!("/api/v1/registries/{}/repositories/test/a/tags", reg.host),
        2,
    );
    assert_eq!(tags, ["1", "2", "3"]);
    assert!(pages >= 2, "{pages} pages");

    let listed = d.ok(&["registry", "catalog", &reg.host, "--limit", "2"]);
    assert_eq!(listed.lines().collect::<Vec<_>>(), repos);
    let listed = d.ok(&[
        "registry",
        "tags",
        &format!("{}/test/a", reg.host),
        "--limit",
        "2",
    ]);
    assert_eq!(listed.lines().collect::<Vec<_>>(), ["1", "2", "3"]);
    let missing = d.berth(&["registry", "tags", &format!("{}/test/none", reg.host)]);
    assert!(!missing.status.success(), "{}", stdout(&missing));
}

#[test]
fn an_imported_image_bigger_than_a_chunk_pushes_in_chunks_and_pulls_back() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    let work = tempfile::tempdir().expect("tempdir");
    let rootfs = work.path().join("rootfs");
    std::fs::create_dir_all(&rootfs).expect("rootfs dir");
    // Incompressible and over the 8 MiB chunk: the upload takes several PATCH requests.
    let mut noise = vec![0u8; 9 * 1024 * 1024 + 123];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for byte in noise.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    std::fs::write(rootfs.join("noise.bin"), &noise).expect("noise");
    let tar = work.path().join("rootfs.tar");
    let made = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(&rootfs)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(made.success());
    let target = format!("{}/imported/big:1", reg.host);
    d.ok(&["import", &tar.to_string_lossy(), &target]);

    let out = d.ok(&["push", &target]);
    assert!(out.contains(": Pushed"), "{out}");
    let digest = pushed_digest(&out, "1");
    assert_eq!(skopeo_digest(&target, None), digest);

    d.ok(&["rmi", &target]);
    let pulled = d.ok(&["pull", &target]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
}

#[test]
fn push_pull_untag_and_delete_are_image_events() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    d.load_busybox();
    let target = format!("{}/test/events:1", reg.host);
    d.ok(&["tag", "busybox:latest", &target]);
    d.ok(&["push", &target]);
    d.ok(&["rmi", &target]);
    d.ok(&["rmi", "busybox:latest"]);
    d.ok(&["pull", &target]);
    let until = common::soon();
    let events = d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "type=image",
        "--format",
        "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}",
    ]);
    let lines: Vec<&str> = events.lines().collect();
    // docker's actors: tag, untag and delete name the image by id (tag's name is the new
    // tag), push and pull by the reference.
    let expected = [
        ("tag sha256:", target.as_str()),
        ("push ", target.as_str()),
        ("untag sha256:", ""),
        ("delete sha256:", ""),
        ("pull ", target.as_str()),
    ];
    // In this order (docker adds more untag/delete lines around them).
    let mut at = 0;
    for want in &expected {
        let found = lines[at..]
            .iter()
            .position(|l| l.starts_with(want.0) && l.contains(want.1));
        match found {
            Some(i) => at += i + 1,
            None => panic!("{want:?} missing after line {at} of {lines:#?}"),
        }
    }
}
