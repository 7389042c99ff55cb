//! What the auth verbs read besides their arguments: passwords (from the terminal without
//! echo, or one line of stdin as `docker login --password-stdin`) and durations (`30d`).

use anyhow::{bail, Context, Result};
use std::io::{BufRead, Write};
use std::time::Duration;

/// A password: one line of stdin with `from_stdin`, else asked twice on the terminal.
pub fn password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        return password_line(std::io::stdin().lock());
    }
    let first = ask_hidden("Password: ")?;
    if first.is_empty() {
        bail!("the password is empty");
    }
    let second = ask_hidden("Repeat password: ")?;
    if first != second {
        bail!("the passwords do not match");
    }
    Ok(first)
}

/// The first line of `input`, its line ending stripped; an empty one is refused.
pub fn password_line(mut input: impl BufRead) -> Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    if password.is_empty() {
        bail!("the password read from stdin is empty");
    }
    Ok(password.to_string())
}

/// Prints `prompt` on the terminal and reads a line there with echo off (termios on
/// /dev/tty, so stdin and stdout may be redirected); echo comes back even on error.
fn ask_hidden(prompt: &str) -> Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| {
            anyhow::anyhow!(
                "no terminal to ask for the password on: pass --password-stdin (e.g. `echo \"$PASSWORD\" | berth user add NAME --password-stdin`)"
            )
        })?;
    let saved = tcgetattr(&tty).context("cannot read the terminal's mode")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    tty.write_all(prompt.as_bytes())?;
    tty.flush()?;
    tcsetattr(&tty, SetArg::TCSAFLUSH, &quiet).context("cannot turn the terminal's echo off")?;
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    let _ = tcsetattr(&tty, SetArg::TCSAFLUSH, &saved);
    read.context("cannot read the password from the terminal")?;
    if !line.ends_with('\n') {
        // ctrl-d: no newline was echoed either.
        let _ = tty.write_all(b"\n");
        bail!("no password given");
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `30d`, `12h`, `90m`, `3600s`, `1h30m` (humantime's units) as seconds; zero is refused.
pub fn duration_secs(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let duration: Duration = match humantime::parse_duration(text) {
        Ok(duration) => duration,
        Err(e) => {
            // A plain number of days, in case humantime ever reads `d` otherwise.
            let days = text.strip_suffix('d').and_then(|d| d.parse::<u64>().ok());
            match days {
                Some(days) => Duration::from_secs(days * 86_400),
                None => {
                    return Err(format!(
                        "invalid duration {text:?} ({e}): expected e.g. 30d, 12h, 90m or 3600s"
                    ))
                }
            }
        }
    };
    if duration.as_secs() == 0 {
        return Err(format!("invalid duration {text:?}: at least a second"));
    }
    Ok(duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_days_hours_minutes_seconds() {
        assert_eq!(duration_secs("30d"), Ok(30 * 86_400));
        assert_eq!(duration_secs("12h"), Ok(12 * 3600));
        assert_eq!(duration_secs("90m"), Ok(90 * 60));
        assert_eq!(duration_secs("3600s"), Ok(3600));
        assert_eq!(duration_secs("1h30m"), Ok(5400));
        assert_eq!(duration_secs(" 7d "), Ok(7 * 86_400));
        assert!(duration_secs("0s").is_err());
        assert!(duration_secs("500ms").is_err(), "under a second");
        assert!(duration_secs("soon").is_err());
        assert!(duration_secs("").is_err());
        assert!(duration_secs("-1d").is_err());
    }

    #[test]
    fn a_stdin_password_is_its_first_line() {
        let read = |text: &str| password_line(text.as_bytes());
        assert_eq!(read("s3cret\n").unwrap(), "s3cret");
        assert_eq!(read("s3cret\r\n").unwrap(), "s3cret");
        assert_eq!(read("s3cret").unwrap(), "s3cret", "no newline at the end");
        assert_eq!(
            read("a b \nsecond line\n").unwrap(),
            "a b ",
            "spaces are kept"
        );
        assert!(read("").is_err());
        assert!(read("\n").is_err());
    }
}
