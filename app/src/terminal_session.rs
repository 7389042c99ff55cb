//! What the Terminal tab asks the daemon for, and what it says about it: the command line
//! typed in its field split into arguments (as a shell would split a simple line: spaces,
//! quotes, backslashes; no variables or globs), the user, and the connection's state.

use berth_wire::ws::TerminalSpec;

/// The command run when the field is empty.
pub const DEFAULT_COMMAND: &str = "/bin/sh";

/// One terminal session to start: the container, the command line and the user as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub container: String,
    pub cmd: Vec<String>,
    pub user: Option<String>,
}

impl Session {
    /// The session for the fields as typed; an unclosed quote is an error to show.
    pub fn new(container: &str, command: &str, user: &str) -> Result<Session, String> {
        let mut cmd = crate::shell_words::split_words(command)?;
        if cmd.is_empty() {
            cmd.push(DEFAULT_COMMAND.to_string());
        }
        let user = user.trim();
        Ok(Session {
            container: container.to_string(),
            cmd,
            user: (!user.is_empty()).then(|| user.to_string()),
        })
    }

    /// The subscription's stream, for a terminal of `rows` × `columns`.
    pub fn spec(&self, rows: u16, columns: u16) -> TerminalSpec {
        TerminalSpec {
            container: self.container.clone(),
            cmd: self.cmd.clone(),
            user: self.user.clone(),
            working_dir: None,
            rows: rows.max(1),
            columns: columns.max(1),
        }
    }
}

/// Where the tab's terminal is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermStatus {
    /// Not connected yet (the container is not running, or the bundle is loading).
    Idle,
    Connecting,
    Live,
    /// The command ended, with its exit code when the daemon knows it.
    Exited(Option<i32>),
    /// The connection dropped before the command ended.
    Disconnected,
    /// Refused or failed, in the daemon's words.
    Failed(String),
}

impl TermStatus {
    /// The CSS class suffix of the status badge (as the log's: live, failed, closed…).
    pub fn kind(&self) -> &'static str {
        match self {
            TermStatus::Idle => "idle",
            TermStatus::Connecting => "connecting",
            TermStatus::Live => "live",
            TermStatus::Exited(_) => "closed",
            TermStatus::Disconnected => "reconnecting",
            TermStatus::Failed(_) => "failed",
        }
    }

    pub fn text(&self) -> String {
        match self {
            TermStatus::Idle => "not connected".into(),
            TermStatus::Connecting => "connecting…".into(),
            TermStatus::Live => "connected".into(),
            TermStatus::Exited(Some(code)) => format!("exited with code {code}"),
            TermStatus::Exited(None) => "exited".into(),
            TermStatus::Disconnected => "disconnected".into(),
            TermStatus::Failed(e) => format!("cannot connect: {e}"),
        }
    }

    /// The line written into the terminal when a session ends this way.
    pub fn note(&self) -> Option<String> {
        match self {
            TermStatus::Exited(_) => Some(format!("[{}]", self.text())),
            TermStatus::Disconnected => Some("[connection lost — press Reconnect]".into()),
            TermStatus::Failed(e) => Some(format!("[{e}]")),
            _ => None,
        }
    }

    /// A session may be started (again) from here.
    pub fn can_connect(&self) -> bool {
        !matches!(self, TermStatus::Connecting | TermStatus::Live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<String> {
        crate::shell_words::split_words(line).expect(line)
    }

    #[test]
    fn commands_split_as_a_shell_splits_a_simple_line() {
        assert_eq!(split("/bin/sh"), ["/bin/sh"]);
        assert_eq!(split("  ls   -la /tmp "), ["ls", "-la", "/tmp"]);
        assert_eq!(
            split(r#"sh -c 'echo "a b"; exit 3'"#),
            ["sh", "-c", r#"echo "a b"; exit 3"#]
        );
        assert_eq!(split(r#"echo "say \"hi\" \n""#), ["echo", r#"say "hi" \n"#]);
        assert_eq!(split(r"echo a\ b ''"), ["echo", "a b", ""]);
        assert_eq!(split(""), Vec::<String>::new());
        assert!(crate::shell_words::split_words("echo 'open").is_err());
        assert!(crate::shell_words::split_words("echo \"open").is_err());
    }

    #[test]
    fn a_session_defaults_to_a_shell_as_the_containers_user() {
        let s = Session::new("web", "  ", " ").unwrap();
        assert_eq!(s.cmd, ["/bin/sh"]);
        assert_eq!(s.user, None);
        let s = Session::new("web", "top -d 1", " 1000:1000 ").unwrap();
        let spec = s.spec(30, 120);
        assert_eq!(spec.cmd, ["top", "-d", "1"]);
        assert_eq!(spec.user.as_deref(), Some("1000:1000"));
        assert_eq!(
            (spec.rows, spec.columns, spec.container.as_str()),
            (30, 120, "web")
        );
        // A box too small to measure still asks for a real size.
        assert_eq!(s.spec(0, 0).rows, 1);
        assert!(Session::new("web", "sh -c 'x", "").is_err());
    }

    #[test]
    fn statuses_say_what_to_do() {
        assert_eq!(TermStatus::Exited(Some(3)).text(), "exited with code 3");
        assert_eq!(
            TermStatus::Exited(Some(0)).note().as_deref(),
            Some("[exited with code 0]")
        );
        assert_eq!(
            TermStatus::Failed("container web is not running".into()).text(),
            "cannot connect: container web is not running"
        );
        assert!(TermStatus::Disconnected
            .note()
            .unwrap()
            .contains("Reconnect"));
        assert!(TermStatus::Disconnected.can_connect());
        assert!(!TermStatus::Live.can_connect());
        assert!(!TermStatus::Connecting.can_connect());
        assert_eq!(TermStatus::Live.kind(), "live");
    }
}
