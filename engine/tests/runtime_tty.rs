//! Real `--tty` containers, as root: this test binary doubles as berth's shim
//! (`<exe> shim <spec>`), runs busybox containers with and without a terminal and checks what
//! they saw and what the shim logged. Run: `cargo test -p berth-engine --test runtime_tty`.

use berth_engine::logs::Stream;
use std::time::{Duration, Instant};

mod support;

use support::{Case, Suite, TestCase};

fn main() {
    let cases: &[TestCase] = &[
        ("tty_is_stdio_and_one_stream", tty_is_stdio_and_one_stream),
        ("no_tty_without_the_flag", no_tty_without_the_flag),
        (
            "tty_is_the_controlling_terminal_and_console",
            tty_is_the_controlling_terminal_and_console,
        ),
        (
            "tty_with_init_user_and_readonly_rootfs",
            tty_with_init_user_and_readonly_rootfs,
        ),
        (
            "tty_in_a_privileged_container",
            tty_in_a_privileged_container,
        ),
        ("large_tty_output_is_complete", large_tty_output_is_complete),
        (
            "killed_tty_container_gives_137",
            killed_tty_container_gives_137,
        ),
    ];
    support::main(
        "runtime_tty",
        || Suite::new("berth-tty-", "berth-tty-test"),
        cases,
    );
}

impl Suite {
    /// A container running `sh -c <script>`, with a terminal when `tty`.
    fn case(&self, name: &str, script: &str, tty: bool) -> Case {
        let dir = self.case_dir(name, true);
        let args = vec!["sh".into(), "-c".into(), script.into()];
        let mut spec = self.spec(name, dir.path(), args);
        spec.id = format!("{:0>64}", name.len() * 1000 + dir.path().as_os_str().len());
        spec.hostname = "tty-test".into();
        spec.env = vec!["PATH=/usr/bin:/bin".into(), "HOME=/".into()];
        spec.tty = tty;
        self.container(dir, spec)
    }
}

// ---- cases ----

/// The terminal turns "\n" into "\r\n" (ONLCR); the log keeps the "\r" as docker does.
fn tty_is_stdio_and_one_stream(s: &Suite) {
    let script = "tty; test -t 0 && test -t 1 && test -t 2 && echo all-tty; stty size; \
                  echo to-stderr >&2; exit 5";
    let mut c = s.case("stdio", script, true);
    let rec = c.run();
    assert_eq!((rec.exit_code, rec.signal), (5, None));
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["/dev/pts/0\r", "all-tty\r", "24 80\r", "to-stderr\r"]
    );
    assert!(
        c.lines(Stream::Stderr).is_empty(),
        "a terminal has one stream"
    );
}

fn no_tty_without_the_flag(s: &Suite) {
    let script = "test -t 1 || echo not-a-tty; tty";
    let mut c = s.case("notty", script, false);
    assert_eq!(c.run().exit_code, 1, "tty fails without a terminal");
    assert_eq!(c.lines(Stream::Stdout), vec!["not-a-tty", "not a tty"]);
}

fn tty_is_the_controlling_terminal_and_console(s: &Suite) {
    // /dev/tty opens only for a process with a controlling terminal; the session's leader is
    // the command itself (PID 1), whose group is the terminal's foreground group.
    let script = "echo via-dev-tty > /dev/tty; \
                  [ /dev/console -ef /dev/pts/0 ] && echo console-is-tty; \
                  cut -d' ' -f6,7,8 /proc/1/stat; ls /dev/pts | tr '\\n' ' '";
    let mut c = s.case("ctty", script, true);
    assert_eq!(c.run().exit_code, 0);
    let out = c.lines(Stream::Stdout);
    assert_eq!(out[..2], ["via-dev-tty\r", "console-is-tty\r"], "{out:?}");
    // PID 1's session, tty_nr and foreground group: it leads session 1, its terminal is
    // /dev/pts/0 ((136 << 8) | 0 = 34816), and its group is in the foreground.
    assert_eq!(out[2], "1 34816 1\r", "{out:?}");
    // The container's own devpts instance: its ptmx and the one terminal, nothing of the host.
    assert_eq!(out[3].trim(), "0 ptmx", "{out:?}");
    assert_eq!(out.len(), 4, "{out:?}");
}

fn tty_with_init_user_and_readonly_rootfs(s: &Suite) {
    let script = "tty; id -u; stat -c %u /dev/pts/0; echo reopened > /dev/tty; \
                  echo direct > /dev/pts/0; cat /proc/1/cmdline | head -c 3; echo";
    let mut c = s.case("init", script, true);
    c.spec.init = true;
    c.spec.uid = 1000;
    c.spec.gid = 1000;
    c.spec.rootfs.readonly = true;
    assert_eq!(c.run().exit_code, 0);
    let out = c.lines(Stream::Stdout);
    assert_eq!(
        out[..5],
        ["/dev/pts/0\r", "1000\r", "1000\r", "reopened\r", "direct\r"],
        "{out:?}"
    );
    // PID 1 is berth's init (not `sh`), and the command still has the terminal.
    assert_ne!(out[5], "sh\r", "{out:?}");
}

fn tty_in_a_privileged_container(s: &Suite) {
    let script = "tty; [ /dev/console -ef /dev/pts/0 ] && echo console-is-tty";
    let mut c = s.case("privileged", script, true);
    c.spec.security.privileged = true;
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["/dev/pts/0\r", "console-is-tty\r"]
    );
}

/// More than a terminal's buffer, written just before exit: drained until EIO, nothing lost.
fn large_tty_output_is_complete(s: &Suite) {
    let mut c = s.case("seq", "seq 1 50000", true);
    assert_eq!(c.run().exit_code, 0);
    let lines = c.lines(Stream::Stdout);
    assert_eq!(lines.len(), 50_000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &format!("{}\r", i + 1));
    }
}

fn killed_tty_container_gives_137(s: &Suite) {
    let mut c = s.case("kill", "echo ready; exec sleep 1000", true);
    let started = c.start().expect("container starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.lines(Stream::Stdout).is_empty() {
        assert!(Instant::now() < deadline, "container never got ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(started.pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let rec = c.wait_done();
    assert_eq!((rec.exit_code, rec.signal), (137, Some(9)));
    assert_eq!(c.lines(Stream::Stdout), vec!["ready\r"]);
}
