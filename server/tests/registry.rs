//! Pulling from a real registry (Debian's docker-registry, started per test on 127.0.0.1):
//! plain HTTP, TLS with a test CA plus Basic auth, token auth, the docker.io mirror and
//! `run`'s pull of a missing image, a multi-platform index, zstd and docker schema 2 layers,
//! and bad registry content that must be refused with nothing half-stored.

mod common;

use common::registry::{daemon_request, Options, Registry};
use common::{berth_with_stdin, fails, images, stderr, stdout, Daemon};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "pässwörd-7Hq2";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn insecure(registry: &Registry) -> Vec<String> {
    vec!["--insecure-registry".into(), registry.host.clone()]
}

fn busybox_layout() -> String {
    format!("oci:{}", images().busybox_oci_dir.display())
}

/// The daemon's image list as JSON.
fn image_list(d: &Daemon) -> Vec<serde_json::Value> {
    let (status, body) = daemon_request(d, "GET", "/api/v1/images", None, b"");
    assert_eq!(status, 200);
    serde_json::from_slice(&body).expect("images json")
}

fn image_id_of(d: &Daemon, tag: &str) -> Option<String> {
    image_list(d)
        .into_iter()
        .find(|i| {
            i["repo_tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == tag))
        })
        .and_then(|i| i["id"].as_str().map(str::to_string))
}

/// A layer holding one file, with an image config for it.
fn small_image(name: &str, content: &[u8]) -> (Vec<berth_testkit::Layer>, serde_json::Value) {
    let mut builder = berth_testkit::LayerBuilder::new();
    builder
        .file(&format!("data/{name}"), 0o644, content)
        .expect("file");
    let layers = vec![builder.finish().expect("layer")];
    let config = berth_testkit::image_config(&layers, &["sh"], &[]);
    (layers, config)
}

#[test]
fn pull_over_plain_http_runs_and_matches_the_registry_digest() {
    let reg = Registry::start(Options::default());
    reg.push(&busybox_layout(), "team/app:v1", &[]);
    let digest = reg.tag_digest("team/app", "v1");
    let d = Daemon::start_with(&insecure(&reg));
    let reference = format!("{}/team/app:v1", reg.host);

    let out = d.ok(&["pull", &reference]);
    assert!(out.starts_with("v1: Pulling from team/app\n"), "{out}");
    assert!(out.contains(": Pull complete\n"), "{out}");
    assert!(out.contains(&format!("\nDigest: {digest}\n")), "{out}");
    assert!(
        out.ends_with(&format!("Status: Downloaded newer image for {reference}\n")),
        "{out}"
    );
    let id = image_id_of(&d, &reference).expect("the image is listed");
    assert_eq!(id, images().busybox_oci.config_digest);
    let manifest_blob = d.data_root.join("blobs/sha256").join(&digest[7..]);
    assert!(manifest_blob.is_file(), "the manifest is kept in the store");
    assert_eq!(
        d.ok(&["run", "--rm", &reference, "echo", "pulled"]),
        "pulled\n"
    );

    // Again: every layer is there already.
    let again = d.ok(&["pull", &reference]);
    assert!(again.contains(": Already exists\n"), "{again}");
    assert!(
        again.ends_with(&format!("Status: Image is up to date for {reference}\n")),
        "{again}"
    );
    assert_eq!(d.ok(&["pull", "-q", &reference]), format!("{reference}\n"));

    // By digest: the same image, the same digest.
    let by_digest = format!("{}/team/app@{digest}", reg.host);
    let out = d.ok(&["pull", &by_digest]);
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert_eq!(
        d.ok(&["run", "--rm", &by_digest, "echo", "by digest"]),
        "by digest\n"
    );

    // Deleted locally and pulled again: the same digest and image.
    let tree_before = Daemon::tree(&d.data_root.join("tmp"));
    // `run --rm` removes its container just after the command exits.
    assert!(common::eventually(Duration::from_secs(10), || d
        .ok(&["ps", "-aq"])
        .trim()
        .is_empty()));
    d.ok(&["rmi", &reference]);
    assert_eq!(image_id_of(&d, &reference), None);
    let out = d.ok(&["pull", &reference]);
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert_eq!(image_id_of(&d, &reference), Some(id));
    assert_eq!(Daemon::tree(&d.data_root.join("tmp")), tree_before);
}

#[test]
fn run_pulls_a_missing_image_through_the_docker_hub_mirror() {
    let reg = Registry::start(Options::default());
    // Docker schema 2 media types, as Docker Hub serves most images.
    reg.push(
        &busybox_layout(),
        "library/hello:latest",
        &["--format", "v2s2"],
    );
    let digest = reg.tag_digest("library/hello", "latest");
    let d = Daemon::start_with(&["--registry-mirror".into(), format!("http://{}", reg.host)]);

    let never = d.berth(&["run", "--rm", "--pull", "never", "hello", "echo", "x"]);
    fails(&never, "No such image: hello:latest");

    let out = d.berth(&["run", "--rm", "hello", "echo", "Hello from berth!"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Hello from berth!\n");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0], "Unable to find image 'hello:latest' locally",
        "{err}"
    );
    assert_eq!(lines[1], "latest: Pulling from library/hello", "{err}");
    assert!(err.contains(": Pull complete\n"), "{err}");
    assert!(err.contains(&format!("Digest: {digest}\n")), "{err}");
    assert!(
        err.ends_with("Status: Downloaded newer image for hello:latest\n"),
        "{err}"
    );

    // Now it is there: no pull.
    let out = d.berth(&["run", "--rm", "hello", "true"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    // --pull always asks the registry anyway.
    let out = d.berth(&["run", "--rm", "--pull", "always", "hello", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with("Status: Image is up to date for hello:latest\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tls_with_a_test_ca_and_basic_auth_needs_the_ca_and_a_login() {
    let reg = Registry::start(Options {
        tls: true,
        htpasswd: Some(("alice".into(), PASSWORD.into())),
        ..Default::default()
    });
    reg.push(&busybox_layout(), "private/app:1.0", &[]);
    let ca = reg.ca.clone().expect("a CA");
    let reference = format!("{}/private/app:1.0", reg.host);

    // Without the CA, the registry's certificate is refused; with it in certs.d, accepted.
    let plain = Daemon::start();
    fails(&plain.berth(&["pull", &reference]), "certificate");
    let certs = plain.data_root.join("certs.d").join(&reg.host);
    std::fs::create_dir_all(&certs).expect("certs.d");
    std::fs::copy(&ca, certs.join("ca.crt")).expect("copy the CA");
    fails(&plain.berth(&["pull", &reference]), "berth login");
    drop(plain);

    let d = Daemon::start_with(&["--registry-ca".into(), ca.display().to_string()]);
    let auth_file = d.data_root.join("registry-auth.json");
    let anonymous = d.berth(&["pull", &reference]);
    fails(&anonymous, "unauthorized");
    fails(&anonymous, &format!("berth login {}", reg.host));

    let wrong = berth_with_stdin(
        &d,
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        "not-the-password\n",
    );
    fails(&wrong, "incorrect username or password");
    assert!(!auth_file.exists(), "refused credentials were stored");

    let login = berth_with_stdin(
        &d,
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        &format!("{PASSWORD}\n"),
    );
    assert!(login.status.success(), "{}", stderr(&login));
    assert_eq!(stdout(&login), "Login Succeeded\n");
    let mode = std::fs::metadata(&auth_file)
        .expect("credentials file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let out = d.ok(&["pull", &reference]);
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
    assert_eq!(d.ok(&["run", "--rm", &reference, "echo", "tls"]), "tls\n");

    assert_eq!(
        d.ok(&["logout", &reg.host]),
        format!("Removing login credentials for {}\n", reg.host)
    );
    let file = std::fs::read_to_string(&auth_file).expect("credentials file");
    assert!(!file.contains(&reg.host), "{file}");
    let mode = std::fs::metadata(&auth_file)
        .expect("file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    fails(&d.berth(&["pull", &reference]), "unauthorized");
}

#[test]
fn token_auth_works_after_login_and_the_password_never_shows() {
    let reg = Registry::start(Options {
        token: Some(("bob".into(), PASSWORD.into())),
        ..Default::default()
    });
    reg.push(&busybox_layout(), "tok/app:latest", &[]);
    let d = Daemon::start_with(&insecure(&reg));
    let reference = format!("{}/tok/app", reg.host);
    let mut seen: Vec<String> = Vec::new();
    let mut keep = |out: &Output| {
        seen.push(stdout(out));
        seen.push(stderr(out));
    };

    let anonymous = d.berth(&["pull", &reference]);
    fails(&anonymous, "unauthorized");
    keep(&anonymous);
    let wrong = berth_with_stdin(
        &d,
        &["login", "-u", "bob", "--password-stdin", &reg.host],
        "wrong\n",
    );
    fails(&wrong, "incorrect username or password");
    keep(&wrong);
    let login = berth_with_stdin(
        &d,
        &[
            "login",
            "--username",
            "bob",
            "--password",
            PASSWORD,
            &reg.host,
        ],
        "",
    );
    assert!(login.status.success(), "{}", stderr(&login));
    assert!(
        stderr(&login).contains("WARNING! Using --password via the CLI is insecure"),
        "{}",
        stderr(&login)
    );
    keep(&login);
    let pull = d.berth(&["pull", &reference]);
    assert!(pull.status.success(), "{}", stderr(&pull));
    keep(&pull);
    let run = d.berth(&["run", "--rm", &reference, "echo", "token"]);
    assert_eq!(stdout(&run), "token\n", "{}", stderr(&run));
    keep(&run);
    for path in [
        "/api/v1/registries",
        "/api/v1/images",
        "/api/v1/containers?all=true",
    ] {
        let (status, body) = daemon_request(&d, "GET", path, None, b"");
        assert_eq!(status, 200, "{path}");
        seen.push(String::from_utf8_lossy(&body).into_owned());
    }
    let (_, registries) = daemon_request(&d, "GET", "/api/v1/registries", None, b"");
    assert_eq!(
        serde_json::from_slice::<Vec<String>>(&registries).expect("json"),
        vec![reg.host.clone()]
    );
    seen.push(d.daemon_log());
    for text in &seen {
        assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    }
}

#[test]
fn a_multi_platform_index_gives_this_platform_unless_asked() {
    let reg = Registry::start(Options::default());
    reg.push(&busybox_layout(), "multi/app:amd64", &[]);
    let (layers, mut config) = small_image("arch.txt", b"an arm64 image\n");
    config["architecture"] = "arm64".into();
    config["variant"] = "v8".into();
    let arm = reg.push_image("multi/app:arm64", &layers, &config, &[]);
    let entry = |tag: &str, arch: &str| {
        let digest = reg.tag_digest("multi/app", tag);
        let size = reg.manifest_bytes(&digest).len();
        serde_json::json!({
            "mediaType": OCI_MANIFEST, "digest": digest, "size": size,
            "platform": {"architecture": arch, "os": "linux"},
        })
    };
    // arm64 first: the pick is by platform, not by position.
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [entry("arm64", "arm64"), entry("amd64", "amd64")],
    });
    let index_digest = reg.put_manifest(
        "multi/app",
        "latest",
        OCI_INDEX,
        index.to_string().as_bytes(),
    );
    let d = Daemon::start_with(&insecure(&reg));
    let reference = format!("{}/multi/app:latest", reg.host);

    let out = d.ok(&["pull", &reference]);
    assert!(out.contains(&format!("Digest: {index_digest}\n")), "{out}");
    assert_eq!(
        image_id_of(&d, &reference),
        Some(images().busybox_oci.config_digest.clone()),
        "linux/amd64 was not picked"
    );
    assert_eq!(
        d.ok(&["run", "--rm", &reference, "echo", "amd64"]),
        "amd64\n"
    );

    d.ok(&["pull", "--platform", "linux/arm64", &reference]);
    assert_eq!(image_id_of(&d, &reference), Some(arm.config_digest));
    fails(
        &d.berth(&["pull", "--platform", "linux/s390x", &reference]),
        "has no image for linux/s390x",
    );
    fails(
        &d.berth(&["pull", "--platform", "linux", &reference]),
        "invalid platform",
    );
}

#[test]
fn zstd_layers_pull_and_run() {
    let reg = Registry::start(Options::default());
    reg.push(
        &busybox_layout(),
        "zstd/app:latest",
        &["--dest-compress", "--dest-compress-format", "zstd"],
    );
    let manifest = reg.manifest_bytes(&reg.tag_digest("zstd/app", "latest"));
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).expect("manifest");
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    let d = Daemon::start_with(&insecure(&reg));
    let reference = format!("{}/zstd/app", reg.host);
    d.ok(&["pull", &reference]);
    assert_eq!(d.ok(&["run", "--rm", &reference, "echo", "zstd"]), "zstd\n");
}

/// What a failed pull must leave as it was.
fn store_state(d: &Daemon) -> Vec<Vec<String>> {
    ["blobs", "layers", "tmp"]
        .iter()
        .map(|dir| Daemon::tree(&d.data_root.join(dir)))
        .chain(std::iter::once(vec![d.ok(&["images", "-q"])]))
        .collect()
}

fn flip_middle_byte(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).expect("blob");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(path, bytes).expect("write blob");
}

#[test]
fn bad_registry_content_is_refused_and_nothing_is_stored() {
    let reg = Registry::start(Options::default());
    let huge = common::free_port();
    let mut serve_args = insecure(&reg);
    serve_args.extend(["--insecure-registry".into(), format!("127.0.0.1:{huge}")]);
    let d = Daemon::start_with(&serve_args);
    d.load_busybox();
    let before = store_state(&d);
    let pull = |repo: &str| d.berth(&["pull", &format!("{}/{repo}", reg.host)]);

    // A corrupted layer blob: the digest check catches it.
    let (layers, config) = small_image("corrupt.bin", &[0x5a; 200_000]);
    let corrupt = reg.push_image("bad/layer:latest", &layers, &config, &[]);
    flip_middle_byte(&reg.blob_data(&corrupt.layer_digests[0]));
    fails(&pull("bad/layer"), "digest mismatch");
    assert_eq!(store_state(&d), before);

    // A repository the registry does not have.
    fails(&pull("no/such-repo:1"), "not found");
    assert_eq!(store_state(&d), before);

    // A config blob whose content no longer matches the manifest's digest.
    let (layers, config) = small_image("config.txt", b"config test\n");
    let image = reg.push_image("bad/config:latest", &layers, &config, &[]);
    flip_middle_byte(&reg.blob_data(&image.config_digest));
    let out = pull("bad/config");
    fails(&out, &format!("config {}", image.config_digest));
    fails(&out, "digest mismatch");
    assert_eq!(store_state(&d), before);

    // A manifest that gives a layer the wrong size.
    let (layers, config) = small_image("size.txt", b"size test\n");
    let image = reg.push_image("bad/size:good", &layers, &config, &[]);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&reg.manifest_bytes(&reg.tag_digest("bad/size", "good")))
            .expect("manifest");
    let real = manifest["layers"][0]["size"].as_u64().expect("size");
    manifest["layers"][0]["size"] = (real + 7).into();
    reg.put_manifest(
        "bad/size",
        "wrong",
        OCI_MANIFEST,
        manifest.to_string().as_bytes(),
    );
    fails(
        &pull("bad/size:wrong"),
        &format!("size mismatch for {}", image.layer_digests[0]),
    );
    assert_eq!(store_state(&d), before);

    // A manifest larger than the 4 MiB berth reads. docker-registry refuses to store or
    // serve one, so a stand-in answers every request with it.
    manifest["annotations"] = serde_json::json!({ "padding": "x".repeat(5 << 20) });
    let routes = vec![Route {
        path: "/v2/bad/huge/manifests/latest".into(),
        content_type: OCI_MANIFEST,
        body: manifest.to_string().into_bytes(),
        stalls: false,
    }];
    serve_forever(huge, routes, Arc::new(AtomicBool::new(false)));
    let out = d.berth(&["pull", &format!("127.0.0.1:{huge}/bad/huge")]);
    fails(&out, "more than the 4194304 bytes allowed");
    assert_eq!(store_state(&d), before);

    // A registry that is down.
    let mut down = Registry::start(Options::default());
    down.stop();
    let out = d.berth(&["pull", &format!("{}/any/thing", down.host)]);
    fails(&out, &format!("cannot reach registry {}", down.host));
    assert_eq!(store_state(&d), before);

    // The good image still pulls after all that.
    d.ok(&["pull", &format!("{}/bad/size:good", reg.host)]);
}

/// One thing a stand-in registry serves: the path, its content type and body.
struct Route {
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    /// Sent only half while the server's `stall` flag is set.
    stalls: bool,
}

/// A stand-in registry on `port` (plain HTTP; a TLS handshake is hung up on, so berth falls
/// back to HTTP) serving `routes` and 404 for anything else, for as long as the test process
/// runs. While `stall` is set, the body of a route that `stalls` is sent only half, then
/// held until `stall` clears.
fn serve_forever(port: u16, routes: Vec<Route>, stall: Arc<AtomicBool>) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (routes, stall) = (routes.clone(), stall.clone());
            std::thread::spawn(move || answer(stream, &routes, &stall));
        }
    });
}

fn answer(mut stream: std::net::TcpStream, routes: &[Route], stall: &AtomicBool) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match std::io::Read::read(&mut stream, &mut byte) {
            Ok(1) if head.is_empty() && byte[0] == 0x16 => return,
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or_default();
    let Some(route) = routes.iter().find(|r| r.path == path) else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        route.content_type,
        route.body.len()
    );
    let half = if route.stalls {
        route.body.len() / 2
    } else {
        route.body.len()
    };
    if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&route.body[..half]).is_err()
    {
        return;
    }
    while route.stalls && stall.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = stream.write_all(&route.body[half..]);
}

/// An image's manifest, config and layer blob as a stand-in registry serves them under
/// `repository:latest`.
fn image_routes(
    repository: &str,
    layer: &berth_testkit::Layer,
    config: &serde_json::Value,
) -> Vec<Route> {
    let config = config.to_string().into_bytes();
    let blob = layer.gzip().expect("gzip");
    let (config_digest, blob_digest) = (
        berth_testkit::sha256_digest(&config),
        berth_testkit::sha256_digest(&blob),
    );
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": blob_digest, "size": blob.len()}],
    });
    vec![
        Route {
            path: format!("/v2/{repository}/manifests/latest"),
            content_type: OCI_MANIFEST,
            body: manifest.to_string().into_bytes(),
            stalls: false,
        },
        Route {
            path: format!("/v2/{repository}/blobs/{config_digest}"),
            content_type: "application/octet-stream",
            body: config,
            stalls: false,
        },
        Route {
            path: format!("/v2/{repository}/blobs/{blob_digest}"),
            content_type: "application/octet-stream",
            body: blob,
            stalls: true,
        },
    ]
}

/// `len` bytes that gzip cannot shrink (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn an_interrupted_pull_leaves_nothing_and_the_next_one_completes() {
    let port = common::free_port();
    let host = format!("127.0.0.1:{port}");
    let mut builder = berth_testkit::LayerBuilder::new();
    builder
        .file("data/noise.bin", 0o644, &noise(4 << 20))
        .expect("file");
    let layer = builder.finish().expect("layer");
    let config = berth_testkit::image_config(std::slice::from_ref(&layer), &["sh"], &[]);
    let stall = Arc::new(AtomicBool::new(true));
    serve_forever(
        port,
        image_routes("slow/app", &layer, &config),
        stall.clone(),
    );
    let mut d = Daemon::start_with(&["--insecure-registry".into(), host.clone()]);
    d.load_busybox();
    let before = store_state(&d);
    let reference = format!("{host}/slow/app");

    // The layer's transfer stalls half-way: the daemon dies in the middle of it.
    let mut pulling = Command::new(common::BERTH)
        .args(["-H", &d.host(), "pull", &reference])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the pull");
    let tmp = d.data_root.join("tmp");
    let mid_transfer = common::eventually(Duration::from_secs(20), || {
        Daemon::tree(&tmp)
            .iter()
            .any(|entry| entry.contains("/image-ingest-") && !entry.contains(" 0 "))
    });
    assert!(mid_transfer, "no partial download in {}", tmp.display());
    d.kill9();
    let _ = pulling.wait();
    d.spawn();
    assert_eq!(
        store_state(&d),
        before,
        "the interrupted pull left something"
    );

    stall.store(false, Ordering::SeqCst);
    let out = d.ok(&["pull", &reference]);
    assert!(out.contains("Pull complete"), "{out}");
    let config_digest = berth_testkit::sha256_digest(config.to_string().as_bytes());
    assert_eq!(
        image_id_of(&d, &format!("{reference}:latest")),
        Some(config_digest)
    );
    // A single layer's chain id is its diff id.
    let unpacked = d
        .data_root
        .join("layers")
        .join(berth_testkit::digest_hex(&layer.diff_id()))
        .join("data/noise.bin");
    assert_eq!(
        std::fs::read(&unpacked).expect("unpacked file"),
        noise(4 << 20)
    );
}
