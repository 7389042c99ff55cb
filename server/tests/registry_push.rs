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

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// The manifest the registry stores under `repository:tag`, parsed.
fn registry_manifest(reg: &Registry, repository: &str, tag: &str) -> serde_json::Value {
    let digest = reg.tag_digest(repository, tag);
    serde_json::from_slice(&reg.manifest_bytes(&digest)).expect("manifest json")
}

/// The log without terminal colour sequences (`ESC [ … m`), so that `field=value` shows.
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A blob as the registry stores it.
fn registry_blob(reg: &Registry, digest: &str) -> Vec<u8> {
    std::fs::read(reg.blob_data(digest)).unwrap_or_else(|e| panic!("blob {digest}: {e}"))
}

/// A blob in the daemon's store.
fn local_blob(d: &Daemon, digest: &str) -> Vec<u8> {
    let path = d
        .data_root
        .join("blobs/sha256")
        .join(berth_testkit::digest_hex(digest));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decompressed(blob: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    if blob.starts_with(GZIP_MAGIC) {
        flate2::read::MultiGzDecoder::new(blob)
            .read_to_end(&mut out)
            .expect("gunzip");
    } else {
        zstd::stream::read::Decoder::new(blob)
            .expect("zstd")
            .read_to_end(&mut out)
            .expect("unzstd");
    }
    out
}

/// Checks that every layer of the manifest under `repository:tag` is a `media_type` blob
/// starting with `magic`, smaller than the plain tar it was made of, and that it decompresses
/// to that tar (the diff id, which the pushed config still lists): returns the layer digests.
fn assert_compressed_layers(
    reg: &Registry,
    d: &Daemon,
    repository: &str,
    tag: &str,
    media_type: &str,
    magic: &[u8],
    image: &berth_testkit::WrittenImage,
) -> Vec<String> {
    let manifest = registry_manifest(reg, repository, tag);
    assert_eq!(
        manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json",
        "{manifest}"
    );
    assert_eq!(manifest["config"]["digest"], image.config_digest.as_str());
    let config: serde_json::Value = serde_json::from_slice(&registry_blob(
        reg,
        manifest["config"]["digest"]
            .as_str()
            .expect("config digest"),
    ))
    .expect("config json");
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!(image.diff_ids),
        "the config lists the uncompressed digests"
    );
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), image.diff_ids.len(), "{manifest}");
    let mut digests = Vec::new();
    for (layer, diff_id) in layers.iter().zip(&image.diff_ids) {
        assert_eq!(layer["mediaType"], media_type, "{manifest}");
        let digest = layer["digest"].as_str().expect("digest");
        let blob = registry_blob(reg, digest);
        assert_eq!(berth_testkit::sha256_digest(&blob), digest);
        assert_eq!(layer["size"], blob.len() as u64);
        assert!(blob.starts_with(magic), "{digest}: {:02x?}", &blob[..4]);
        let plain = local_blob(d, diff_id);
        assert!(
            blob.len() < plain.len(),
            "{digest}: {} bytes compressed, {} plain",
            blob.len(),
            plain.len()
        );
        let back = decompressed(&blob);
        assert_eq!(&berth_testkit::sha256_digest(&back), diff_id);
        assert_eq!(back, plain);
        digests.push(digest.to_string());
    }
    digests
}

/// Loads `archive`, tags its image `tag` as `HOST/repository:1` and pushes that with more
/// `push` flags: (that name, the push's output).
fn load_and_push(
    reg: &Registry,
    d: &Daemon,
    archive: &std::path::Path,
    tag: &str,
    repository: &str,
    flags: &[&str],
) -> (String, String) {
    d.ok(&["load", "-i", &archive.to_string_lossy()]);
    let target = format!("{}/{repository}:1", reg.host);
    d.ok(&["tag", tag, &target]);
    let mut push = vec!["push"];
    push.extend(flags);
    push.push(&target);
    let out = d.ok(&push);
    (target, out)
}

#[test]
fn plain_layers_are_pushed_gzip_compressed_once_and_pull_back() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    // The classic `docker save` form: its layer is a plain tar, named by its diff id.
    let images = common::images();
    let image = &images.busybox;
    assert_eq!(image.layer_digests, image.diff_ids, "a plain layer");
    let (first, out) = load_and_push(
        &reg,
        &d,
        &images.busybox_docker,
        "busybox:latest",
        "test/gz",
        &[],
    );
    assert!(out.contains(": Pushed"), "{out}");
    let digest = pushed_digest(&out, "1");
    let layers = assert_compressed_layers(
        &reg,
        &d,
        "test/gz",
        "1",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        GZIP_MAGIC,
        image,
    );
    assert_eq!(skopeo_digest(&first, None), digest);

    // Pushed again under another name: the same compressed blob, from the cache, which the
    // registry already has (and the manifest digest stays).
    let second = format!("{}/test/gz:2", reg.host);
    d.ok(&["tag", "busybox:latest", &second]);
    let out = d.ok(&["push", &second]);
    assert!(out.contains(": Layer already exists"), "{out}");
    assert!(!out.contains(": Pushed"), "{out}");
    assert_eq!(pushed_digest(&out, "2"), digest);
    let log = without_colours(&d.daemon_log());
    let compressed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("layer compressed for push"))
        .collect();
    assert_eq!(compressed.len(), 2, "{log}");
    assert!(compressed[0].contains("reused=false"), "{}", compressed[0]);
    assert!(compressed[1].contains("reused=true"), "{}", compressed[1]);
    let cache: Vec<_> = std::fs::read_dir(d.data_root.join("compressed"))
        .expect("the cache")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        cache,
        [format!(
            "{}.gzip",
            berth_testkit::digest_hex(&image.diff_ids[0])
        )]
    );

    // Back from the registry: the compressed layer, the same content, and it runs.
    d.ok(&["rmi", &first, &second, "busybox:latest"]);
    let pulled = d.ok(&["pull", &first]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    assert_eq!(local_blob(&d, &layers[0]), registry_blob(&reg, &layers[0]));
    let busybox = std::fs::read(berth_testkit::BUSYBOX).expect("the host's busybox");
    let ran = d.ok(&[
        "run",
        "--rm",
        &first,
        "sh",
        "-c",
        "sha256sum /bin/busybox; cat /etc/group",
    ]);
    let expected = format!(
        "{}  /bin/busybox\nroot:x:0:\nnogroup:x:65534:\n",
        berth_testkit::digest_hex(&berth_testkit::sha256_digest(&busybox))
    );
    assert_eq!(ran, expected);
}

#[test]
fn zstd_compression_pushes_zstd_layers_in_an_oci_manifest() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    // The docker-25 form: two plain layers and an OCI manifest listing them as plain tars.
    let image = &common::images().whiteout;
    let (target, out) = load_and_push(
        &reg,
        &d,
        &common::images().whiteout_docker,
        berth_testkit::WHITEOUT_TAG,
        "test/zst",
        &["--compression", "zstd"],
    );
    let digest = pushed_digest(&out, "1");
    assert_ne!(
        Some(&digest),
        image.manifest_digest.as_ref(),
        "the manifest lists other blobs than the stored one"
    );
    assert_compressed_layers(
        &reg,
        &d,
        "test/zst",
        "1",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        ZSTD_MAGIC,
        image,
    );

    d.ok(&["rmi", &target, berth_testkit::WHITEOUT_TAG]);
    let pulled = d.ok(&["pull", &target]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    let mut script = String::new();
    for (path, _) in berth_testkit::WHITEOUT_PRESENT {
        script.push_str(&format!("cat /{path}; "));
    }
    for path in berth_testkit::WHITEOUT_ABSENT {
        script.push_str(&format!("test -e /{path} && echo still there: {path}; "));
    }
    script.push_str("true");
    let ran = d.ok(&["run", "--rm", &target, "sh", "-c", &script]);
    let expected: String = berth_testkit::WHITEOUT_PRESENT
        .iter()
        .map(|(_, content)| *content)
        .collect();
    assert_eq!(ran, expected);
}

#[test]
fn compressed_layers_are_pushed_byte_identical() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    // An OCI archive with a gzip layer: zstd is asked for, but the layer is sent as stored
    // and the stored manifest with it (same digest).
    let image = &common::images().busybox_oci;
    let (_, out) = load_and_push(
        &reg,
        &d,
        &common::images().busybox_oci_tar,
        "busybox:latest",
        "test/oci",
        &["--compression", "zstd"],
    );
    let digest = pushed_digest(&out, "1");
    assert_eq!(Some(&digest), image.manifest_digest.as_ref());
    let manifest = registry_manifest(&reg, "test/oci", "1");
    let layer = manifest["layers"][0]["digest"].as_str().expect("digest");
    assert_eq!(layer, image.layer_digests[0]);
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let archived = common::images()
        .busybox_oci_dir
        .join("blobs/sha256")
        .join(berth_testkit::digest_hex(layer));
    assert_eq!(
        registry_blob(&reg, layer),
        std::fs::read(&archived).expect("the archive's layer")
    );
    assert!(
        !d.daemon_log().contains("layer compressed for push"),
        "nothing was compressed"
    );
}

#[test]
fn push_progress_counts_compressed_bytes_and_bad_compressions_are_refused() {
    let reg = Registry::start(Options::default());
    let d = insecure_daemon(&reg);
    // 9 MiB of noise (incompressible) and 6 MB of text (very compressible): the gzip copy is
    // over one 8 MiB chunk, so it goes in PATCHes whose progress is counted, and well under
    // the plain tar, so progress that counted plain bytes would show.
    let work = tempfile::tempdir().expect("tempdir");
    let rootfs = work.path().join("rootfs");
    std::fs::create_dir_all(&rootfs).expect("rootfs dir");
    let mut noise = vec![0u8; 9 * 1024 * 1024];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for byte in noise.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    std::fs::write(rootfs.join("noise.bin"), &noise).expect("noise");
    let text: String = (0..700_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(rootfs.join("text.txt"), &text).expect("text");
    let tar = work.path().join("rootfs.tar");
    common::tar_dir(&rootfs, &tar);
    let plain_size = std::fs::metadata(&tar).expect("tar").len();
    let target = format!("{}/imported/progress:1", reg.host);
    d.ok(&["import", &tar.to_string_lossy(), &target]);

    let path = format!(
        "/api/v1/images/{}/push",
        target.replace(':', "%3A").replace('/', "%2F")
    );
    let (status, body) = daemon_request(&d, "POST", &path, None, b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let body = String::from_utf8_lossy(&body);
    let messages: Vec<serde_json::Value> = body
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a message"))
        .collect();
    let end = messages.last().expect("an end line");
    assert!(end["result"]["digest"].is_string(), "{body}");
    let manifest = registry_manifest(&reg, "imported/progress", "1");
    let layer = &manifest["layers"][0];
    assert_eq!(
        layer["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip",
        "{manifest}"
    );
    let sent = layer["size"].as_u64().expect("size");
    assert!(sent < plain_size, "{sent} compressed, {plain_size} plain");
    let pushing: Vec<(u64, u64)> = messages
        .iter()
        .filter(|m| m["status"] == "Pushing")
        .map(|m| {
            (
                m["progressDetail"]["current"].as_u64().expect("current"),
                m["progressDetail"]["total"].as_u64().expect("total"),
            )
        })
        .collect();
    assert!(!pushing.is_empty(), "{body}");
    assert!(
        pushing.iter().all(|(_, total)| *total == sent),
        "{pushing:?}"
    );
    assert!(pushing.windows(2).all(|w| w[0].0 < w[1].0), "{pushing:?}");
    assert!(
        pushing.iter().all(|(current, _)| *current <= sent),
        "{pushing:?}"
    );

    // An unknown compression: the CLI and the REST API say which ones there are.
    let cli = d.berth(&["push", "--compression", "lz4", &target]);
    fails(&cli, "invalid value 'lz4'");
    fails(&cli, "gzip");
    let (status, body) = daemon_request(&d, "POST", &format!("{path}?compression=lz4"), None, b"");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(
        String::from_utf8_lossy(&body)
            .contains("unknown compression \\\"lz4\\\": expected gzip or zstd"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}
