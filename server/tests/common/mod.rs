//! Test harness: a `berth serve` of its own (temp data root, free loopback port, own socket),
//! the project's busybox test images, and a CLI runner; everything is torn down on drop.

#![allow(dead_code)]

pub mod registry;
pub mod terminal;
pub mod web;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

/// The password of the `admin` user every test daemon starts with (`BERTH_ADMIN_PASSWORD`).
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// `run` arguments after the name of a container the kernel OOM-kills: holding 100 MB in a
/// shell variable needs that much memory, well over its 32 MB limit (exit 137).
pub const MEMORY_HOG: [&str; 8] = [
    "--memory",
    "32m",
    "--memory-swap",
    "32m",
    "busybox",
    "sh",
    "-c",
    "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived ${#x}",
];

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub data_root: PathBuf,
    pub socket: PathBuf,
    pub port: u16,
    /// More `berth serve` options (e.g. `--insecure-registry`), kept for restarts.
    pub serve_args: Vec<String>,
    /// More environment for `berth serve` (e.g. `BERTH_LOG`), kept for restarts.
    pub serve_env: Vec<(String, String)>,
    /// Names this daemon's bridges: its default bridge is `<tag>0`, user networks' `<tag>-…`
    /// (unique, so that parallel test daemons never share a bridge; removed on drop).
    pub bridge_tag: String,
    /// The data root is a tmpfs of its own (a small disk to fill), unmounted on drop.
    pub tmpfs: bool,
    child: Option<Child>,
}

/// The test images, built once per test binary from Debian's busybox-static, in a directory
/// removed when the test binary exits (a static is never dropped, so a TempDir would stay).
pub fn images() -> &'static berth_testkit::TestImages {
    static IMAGES: std::sync::OnceLock<berth_testkit::TestImages> = std::sync::OnceLock::new();
    IMAGES.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("berth-test-images-")
            .tempdir()
            .expect("tempdir for images")
            .keep();
        let _ = IMAGES_DIR.set(dir.clone());
        // SAFETY: registers a plain function without arguments to run at exit(3).
        unsafe { libc::atexit(remove_images) };
        berth_testkit::build_busybox_images(&dir).expect("build the test images")
    })
}

static IMAGES_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

extern "C" fn remove_images() {
    if let Some(dir) = IMAGES_DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Daemon {
    pub fn start() -> Daemon {
        Daemon::start_with(&[])
    }

    /// A daemon started with more `berth serve` options.
    pub fn start_with(serve_args: &[String]) -> Daemon {
        Daemon::start_with_env(serve_args, &[])
    }

    /// A daemon started with more `berth serve` options and environment variables.
    pub fn start_with_env(serve_args: &[String], env: &[(&str, &str)]) -> Daemon {
        let mut daemon = Daemon::prepare(serve_args, env);
        daemon.spawn();
        daemon
    }

    /// A daemon whose data root is a tmpfs of `mib` MiB: a small disk that a test can fill.
    pub fn start_on_tmpfs(mib: u64) -> Daemon {
        // Uploads (the test images) may use the small disk down to its last MiB.
        let args = ["--upload-reserve".to_string(), (1u64 << 20).to_string()];
        let mut daemon = Daemon::prepare(&args, &[]);
        std::fs::create_dir_all(&daemon.data_root).expect("data root");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "berth-test"])
            .arg(&daemon.data_root)
            .status()
            .expect("mount");
        assert!(status.success(), "mount a tmpfs data root");
        daemon.tmpfs = true;
        daemon.spawn();
        daemon
    }

    /// The daemon's directories and names, not started yet.
    fn prepare(serve_args: &[String], env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("berth-test-")
            .tempdir()
            .expect("tempdir");
        let data_root = dir.path().join("data");
        let socket = dir.path().join("berth.sock");
        let port = free_port();
        Daemon {
            dir,
            data_root,
            socket,
            port,
            serve_args: serve_args.to_vec(),
            serve_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            bridge_tag: bridge_tag(),
            tmpfs: false,
            child: None,
        }
    }

    /// (Re)starts the daemon process on the same data root, socket and port.
    pub fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("daemon.log")).expect("daemon log");
        let child = Command::new(BERTH)
            .args(["serve", "--data-root"])
            .arg(&self.data_root)
            .args(["--listen", &format!("127.0.0.1:{}", self.port), "--socket"])
            .arg(&self.socket)
            .args(&self.serve_args)
            .args(["--bridge-subnet", "auto", "--bridge-name"])
            .arg(format!("{}0", self.bridge_tag))
            .arg("--bridge-prefix")
            .arg(format!("{}-", self.bridge_tag))
            .arg("--cgroup-parent")
            .arg(self.cgroup_parent())
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .envs(self.serve_env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn berth serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&self.socket).is_err() {
            if Instant::now() > deadline {
                panic!("the daemon did not come up:\n{}", self.daemon_log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The daemon's process id, while it runs.
    #[allow(dead_code)]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Kills the daemon process (as `kill -9` would), leaving containers to their shims.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// The cgroup this daemon puts its containers' cgroups in (its own, so that no other
    /// test's daemon shares it and it can go with the daemon).
    pub fn cgroup_parent(&self) -> String {
        format!("berth-test-{}", self.bridge_tag)
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Runs `berth -H <this daemon> ARGS…`.
    pub fn berth(&self, args: &[&str]) -> Output {
        Command::new(BERTH)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run berth")
    }

    /// Runs a verb that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        assert!(
            out.status.success(),
            "berth {args:?} failed ({:?}):\nstdout: {}\nstderr: {}\ndaemon: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.daemon_log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `berth inspect NAME`, the one container's object.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["inspect", name])).expect("inspect json");
        v[0].clone()
    }

    pub fn load_busybox(&self) {
        let tar = images().busybox_docker.to_string_lossy().into_owned();
        let out = self.ok(&["load", "-i", &tar]);
        assert!(out.contains("Loaded image: busybox:latest"), "{out}");
    }

    /// Lists every file under `dir` with its size and mode, to compare trees before/after.
    pub fn tree(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                let rel = path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                use std::os::unix::fs::MetadataExt;
                out.push(format!(
                    "{rel} {} {:o} {}",
                    meta.len(),
                    meta.mode(),
                    meta.mtime()
                ));
                if meta.is_dir() {
                    walk(&path, base, out);
                }
            }
        }
        walk(dir, dir, &mut out);
        out.sort();
        out
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.is_none() {
            self.spawn();
        }
        // Remove every container (killing running ones) so no process or cgroup outlives the test.
        let ids = self.berth(&["ps", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = self.berth(&["rm", "-f", id]);
        }
        if let Some(mut child) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    _ if Instant::now() > deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        // The daemon keeps its default bridge and its cgroup parent while it lives (as docker
        // keeps docker0 and its `docker` cgroups).
        for link in links_named(&self.bridge_tag) {
            let _ = Command::new("ip").args(["link", "del", &link]).status();
        }
        for dir in cgroup_dirs(&self.cgroup_parent()) {
            let _ = std::fs::remove_dir(dir);
        }
        if self.tmpfs {
            let _ = Command::new("umount").arg(&self.data_root).status();
        }
    }
}

/// The directories of cgroup `path` in every hierarchy mounted under /sys/fs/cgroup that has
/// it (one on a pure cgroup v2 host, one per v1 hierarchy on others).
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let root = Path::new("/sys/fs/cgroup");
    let mut hierarchies = vec![root.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(root) {
        hierarchies.extend(entries.flatten().map(|e| e.path()));
    }
    hierarchies
        .into_iter()
        .map(|h| h.join(path))
        .filter(|dir| dir.join("cgroup.procs").exists())
        .collect()
}

/// A tag no other test daemon (of this run or a parallel one) uses: "b" and 6 hex digits.
fn bridge_tag() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = (std::process::id().wrapping_mul(2_654_435_761))
        ^ nanos
        ^ COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(40_503);
    format!("b{:06x}", mixed & 0xff_ffff)
}

/// A rootfs tarball (for `berth import`) under `dir` holding one file with `content`.
pub fn rootfs_tar(dir: &Path, name: &str, content: &str) -> String {
    let root = dir.join(name);
    std::fs::create_dir_all(&root).expect("rootfs dir");
    std::fs::write(root.join("file"), content).expect("rootfs file");
    let tar = dir.join(format!("{name}.tar"));
    tar_dir(&root, &tar);
    tar.to_string_lossy().into_owned()
}

/// Writes the tree under `root` to the tarball `tar` (as `tar -cf TAR -C ROOT .`).
pub fn tar_dir(root: &Path, tar: &Path) {
    let status = Command::new("tar")
        .arg("-cf")
        .arg(tar)
        .arg("-C")
        .arg(root)
        .arg(".")
        .status()
        .expect("tar");
    assert!(status.success(), "tar failed");
}

/// A second from now: `--until` in whole seconds, past every event so far.
pub fn soon() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970");
    (now.as_secs() + 1).to_string()
}

/// Host links whose name starts with `prefix` (from `ip -o link`).
pub fn links_named(prefix: &str) -> Vec<String> {
    let out = Command::new("ip").args(["-o", "link", "show"]).output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).to_string())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `berth -H <daemon> ARGS…` with `input` on stdin.
pub fn berth_with_stdin(d: &Daemon, args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(BERTH)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run berth");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("berth output")
}

/// Asserts that a CLI run failed with `expected` in its stderr.
pub fn fails(out: &Output, expected: &str) {
    assert!(
        !out.status.success(),
        "expected a failure with {expected:?}; stdout: {}",
        stdout(out)
    );
    assert!(
        stderr(out).contains(expected),
        "stderr lacks {expected:?}: {}",
        stderr(out)
    );
}

/// The status and body of a raw HTTP/1.x response.
pub fn parse_response(text: &str) -> (u16, String) {
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Polls `check` until it holds or `limit` passes.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}
