//! A real registry for tests: Debian's `docker-registry` on a free 127.0.0.1 port with its
//! storage in a temp dir, optionally behind TLS (a CA and server certificate made here with
//! the openssl CLI), htpasswd Basic auth (bcrypt) or token auth (a small token server in this
//! process that signs RS256 JWTs with a test key). Images are pushed with `skopeo`; manifests
//! can be written raw. Everything stops and is deleted on drop.

use super::free_port;
use base64::Engine as _;
use sha2::Digest as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const REGISTRY: &str = "/usr/bin/docker-registry";

/// How to start a registry.
#[derive(Default)]
pub struct Options {
    pub tls: bool,
    /// Basic auth with this user and password.
    pub htpasswd: Option<(String, String)>,
    /// Token auth; the token server wants this user and password (anonymous gets nothing).
    pub token: Option<(String, String)>,
}

pub struct Registry {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// `127.0.0.1:PORT`
    pub host: String,
    /// The CA that signed the TLS certificate.
    pub ca: Option<PathBuf>,
    /// User and password to push with.
    pub push_creds: Option<(String, String)>,
    child: Option<Child>,
    token_server: Option<TokenServer>,
}

impl Registry {
    pub fn start(options: Options) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir()
            .expect("tempdir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let root = dir.path();
        let storage = root.join("storage");
        std::fs::create_dir_all(&storage).expect("storage dir");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n",
            storage.display()
        );
        let mut ca = None;
        if options.tls {
            let (ca_cert, cert, key) = make_tls_certificates(root);
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
            ca = Some(ca_cert);
        }
        let mut push_creds = None;
        if let Some((user, password)) = &options.htpasswd {
            let hash = bcrypt::hash(password, 5).expect("bcrypt");
            let file = root.join("htpasswd");
            std::fs::write(&file, format!("{user}:{hash}\n")).expect("htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                file.display()
            ));
            push_creds = Some((user.clone(), password.clone()));
        }
        let mut token_server = None;
        if let Some((user, password)) = &options.token {
            let server = TokenServer::start(root, user, password);
            config.push_str(&format!(
                "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {}\n    \
                 issuer: {}\n    rootcertbundle: {}\n",
                server.port,
                TOKEN_SERVICE,
                TOKEN_ISSUER,
                server.cert.display()
            ));
            push_creds = Some((user.clone(), password.clone()));
            token_server = Some(server);
        }
        let config_path = root.join("config.yml");
        std::fs::write(&config_path, config).expect("registry config");
        let log = std::fs::File::create(root.join("registry.log")).expect("registry log");
        let child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            dir,
            port,
            host,
            ca,
            push_creds,
            child: Some(child),
            token_server,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry did not come up: {}",
                registry.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        registry
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage/docker/registry/v2")
    }

    /// The file the registry serves a blob from.
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = berth_testkit::digest_hex(digest);
        self.storage()
            .join("blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The digest a tag points at, read from the registry's storage.
    pub fn tag_digest(&self, repository: &str, tag: &str) -> String {
        let link = self
            .storage()
            .join("repositories")
            .join(repository)
            .join("_manifests/tags")
            .join(tag)
            .join("current/link");
        std::fs::read_to_string(&link)
            .unwrap_or_else(|e| panic!("{}: {e}", link.display()))
            .trim()
            .to_string()
    }

    /// Copies an image (`oci:DIR`, `oci-archive:FILE`) to `repository:tag` with skopeo;
    /// `extra` are more `skopeo copy` flags (e.g. `--format v2s2`).
    pub fn push(&self, source: &str, target: &str, extra: &[&str]) {
        let mut command = Command::new("skopeo");
        command
            .args(["copy", "--quiet", "--dest-tls-verify=false"])
            .args(extra);
        if let Some((user, password)) = &self.push_creds {
            command.arg(format!("--dest-creds={user}:{password}"));
        }
        let out = command
            .arg(source)
            .arg(format!("docker://{}/{target}", self.host))
            .output()
            .expect("run skopeo");
        assert!(
            out.status.success(),
            "skopeo copy {source} {target} failed: {}\nregistry: {}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// Writes a one-image OCI layout of `layers` and `config` under the registry's temp dir
    /// and pushes it as `target`; returns what was written.
    pub fn push_image(
        &self,
        target: &str,
        layers: &[berth_testkit::Layer],
        config: &serde_json::Value,
        extra: &[&str],
    ) -> berth_testkit::WrittenImage {
        let layout = self
            .dir
            .path()
            .join(format!("layout-{}", target.replace(['/', ':'], "_")));
        let written = berth_testkit::write_oci_layout(&layout, target, layers, config)
            .expect("write the layout");
        self.push(&format!("oci:{}", layout.display()), target, extra);
        written
    }

    /// A raw HTTP/1.1 request to a plain-HTTP registry without auth: (status, body).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        http_request(self.port, method, path, content_type, body)
    }

    /// PUTs a manifest; returns its digest.
    pub fn put_manifest(
        &self,
        repository: &str,
        tag: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let (status, answer) = self.http(
            "PUT",
            &format!("/v2/{repository}/manifests/{tag}"),
            Some(media_type),
            body,
        );
        assert_eq!(
            status,
            201,
            "PUT manifest: {}\n{}",
            String::from_utf8_lossy(&answer),
            self.log()
        );
        berth_testkit::sha256_digest(body)
    }

    /// The manifest stored under a digest.
    pub fn manifest_bytes(&self, digest: &str) -> Vec<u8> {
        std::fs::read(self.blob_data(digest)).expect("manifest blob")
    }

    /// Kills the registry (it is then "down").
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
        if let Some(server) = self.token_server.take() {
            server.stop();
        }
    }
}

/// One HTTP/1.1 exchange with `Connection: close`.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    exchange(
        stream,
        &format!("127.0.0.1:{port}"),
        method,
        path,
        content_type,
        body,
    )
}

/// The same request to a test daemon over its unix socket, where the caller is root and needs
/// no token (over TCP every API call needs a login or a token).
pub fn daemon_request(
    d: &super::Daemon,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let stream = std::os::unix::net::UnixStream::connect(&d.socket).expect("connect");
    exchange(stream, "berth", method, path, content_type, body)
}

fn exchange(
    mut stream: impl Read + Write,
    host: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = content_type {
        head.push_str(&format!("Content-Type: {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(body).expect("send body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, answer[split + 4..].to_vec())
}

/// Runs openssl with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA and a certificate for 127.0.0.1 signed by it: (ca.crt, server.crt, server.key).
fn make_tls_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca_args = vec!["req", "-x509"];
    ca_args.extend(ec);
    ca_args.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=berth test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca_args);
    let mut req_args = vec!["req"];
    req_args.extend(ec);
    req_args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &req_args);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    )
}

const TOKEN_SERVICE: &str = "berth-test-registry";
const TOKEN_ISSUER: &str = "berth-test-issuer";

/// The token server of the distribution spec's token auth: `GET /token?service&scope` with
/// Basic credentials answers `{"token": JWT}` granting the scope's actions; anything else
/// gets 401.
struct TokenServer {
    port: u16,
    cert: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TokenServer {
    fn start(dir: &Path, user: &str, password: &str) -> TokenServer {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "token.key",
                "-out",
                "token.crt",
                "-days",
                "2",
                "-subj",
                "/CN=berth test token issuer",
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-in",
                "token.crt",
                "-outform",
                "DER",
                "-out",
                "token.der",
            ],
        );
        let der = std::fs::read(dir.join("token.der")).expect("token cert");
        let listener = TcpListener::bind("127.0.0.1:0").expect("token listener");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let (key, stop_flag, user) = (dir.join("token.key"), stop.clone(), user.to_string());
        let thread = std::thread::spawn(move || {
            while !stop_flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        serve_token(stream, &expected, &user, &der, &key);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        TokenServer {
            port,
            cert: dir.join("token.crt"),
            stop,
            thread: Some(thread),
        }
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_token(mut stream: TcpStream, expected_auth: &str, user: &str, der: &[u8], key: &Path) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorized = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") && value.trim() == expected_auth {
                authorized = true;
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or_default();
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let mut access = Vec::new();
    for pair in query.split('&') {
        if let Some(scope) = pair.strip_prefix("scope=") {
            // repository:NAME:ACTIONS (percent-encoded)
            let scope = percent_decode(scope);
            let mut parts = scope.rsplitn(2, ':');
            let actions = parts.next().unwrap_or_default();
            let rest = parts.next().unwrap_or_default();
            if let Some(name) = rest.strip_prefix("repository:") {
                access.push(serde_json::json!({
                    "type": "repository",
                    "name": name,
                    "actions": actions.split(',').collect::<Vec<_>>(),
                }));
            }
        }
    }
    let answer = if authorized {
        let token = sign_token(user, access, der, key);
        let body = serde_json::json!({ "token": token, "expires_in": 300 }).to_string();
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        let body = r#"{"details":"wrong or missing credentials"}"#;
        format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let _ = stream.write_all(answer.as_bytes());
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JWT (RS256, the signing certificate in `x5c`) as distribution's token auth checks it:
/// issuer, audience = service, validity times, and the granted `access`.
fn sign_token(user: &str, access: Vec<serde_json::Value>, der: &[u8], key: &Path) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = serde_json::json!({
        "alg": "RS256",
        "typ": "JWT",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(der)],
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER,
        "sub": user,
        "aud": TOKEN_SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": hex::encode(sha2::Sha256::digest(format!("{now}{user}{access:?}").as_bytes())),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl dgst");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(signing_input.as_bytes())
        .expect("write signing input");
    let out = child.wait_with_output().expect("signature");
    assert!(out.status.success(), "openssl dgst failed");
    format!("{signing_input}.{}", b64(&out.stdout))
}
