//! Restart policies (`--restart no|on-failure[:N]|always|unless-stopped`): parsing with
//! docker's validation and error texts, the decision whether an exit is followed by a restart,
//! and docker's back-off (100 ms, doubling, at most 1 min, reset after a run of 10 s or more).

use crate::{Error, Result};
use std::time::Duration;

/// The first delay before a policy restart.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest delay between restarts.
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long resets the back-off.
const STEADY_RUN: Duration = Duration::from_secs(10);

pub use berth_wire::container::RestartPolicy;

/// The engine's side of a restart policy: parsing `--restart` with docker's validation and
/// errors, and the decisions whether an exit is followed by a restart.
pub trait RestartPolicyExt: Sized {
    /// Parses and validates `--restart` text as docker's CLI and daemon do.
    fn parse(text: &str) -> Result<Self>;

    /// Whether an exit with `exit_code` is followed by a restart, given the restarts done so
    /// far and whether a user stopped the container (docker's `ShouldRestart`).
    fn restarts_after(&self, exit_code: i32, manually_stopped: bool, restarts: u32) -> bool;

    /// Whether the daemon starts a stopped container when it comes up: `always` ones always
    /// (even after a manual stop), `unless-stopped` ones unless a user stopped them,
    /// `on-failure` ones that failed and have restarts left.
    fn starts_at_boot(&self, exit_code: i32, manually_stopped: bool, restarts: u32) -> bool;
}

impl RestartPolicyExt for RestartPolicy {
    fn parse(text: &str) -> Result<RestartPolicy> {
        let invalid = |why: &str| Error::InvalidInput(format!("invalid restart policy{why}"));
        let (name, count) = match text.split_once(':') {
            Some(("", _)) => {
                return Err(invalid(" format: no policy provided before colon"));
            }
            Some((name, count)) => (name, Some(count)),
            None => (text, None),
        };
        let count: i64 = match count.filter(|c| !c.is_empty()) {
            Some(c) => c
                .parse()
                .map_err(|_| invalid(" format: maximum retry count must be an integer"))?,
            None => 0,
        };
        match name {
            "" | "no" | "always" | "unless-stopped" if count != 0 => Err(invalid(
                ": maximum retry count can only be used with 'on-failure'",
            )),
            "" | "no" => Ok(RestartPolicy {
                name: "no".into(),
                max_retries: 0,
            }),
            "always" | "unless-stopped" => Ok(RestartPolicy {
                name: name.into(),
                max_retries: 0,
            }),
            "on-failure" if count < 0 => Err(invalid(
                ": maximum retry count cannot be negative",
            )),
            "on-failure" => Ok(RestartPolicy {
                name: name.into(),
                max_retries: u32::try_from(count)
                    .map_err(|_| invalid(": maximum retry count is too large"))?,
            }),
            other => Err(invalid(&format!(
                ": unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            ))),
        }
    }

    fn restarts_after(&self, exit_code: i32, manually_stopped: bool, restarts: u32) -> bool {
        match self.name.as_str() {
            "always" | "unless-stopped" => !manually_stopped,
            "on-failure" => {
                !manually_stopped
                    && exit_code != 0
                    && (self.max_retries == 0 || restarts < self.max_retries)
            }
            _ => false,
        }
    }

    fn starts_at_boot(&self, exit_code: i32, manually_stopped: bool, restarts: u32) -> bool {
        match self.name.as_str() {
            "always" => true,
            _ => self.restarts_after(exit_code, manually_stopped, restarts),
        }
    }
}

/// The delay before the next restart: the previous one doubled (capped), or the first delay
/// again after a run of [`STEADY_RUN`] or more.
pub fn next_delay(previous: Option<Duration>, ran_for: Duration) -> Duration {
    match previous {
        Some(previous) if ran_for < STEADY_RUN => (previous * 2).min(MAX_DELAY),
        _ => FIRST_DELAY,
    }
}

/// `--rm` with a restart policy is refused, as docker's CLI does.
pub fn check_auto_remove(policy: &RestartPolicy, auto_remove: bool) -> Result<()> {
    if auto_remove && !policy.is_none() {
        return Err(Error::InvalidInput(
            "conflicting options: cannot specify both --restart and --rm".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        RestartPolicy::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn policies_parse_and_are_validated_as_docker_does() {
        assert!(RestartPolicy::parse("no").unwrap().is_none());
        assert!(RestartPolicy::parse("").unwrap().is_none());
        assert_eq!(RestartPolicy::parse("on-failure:3").unwrap().max_retries, 3);
        assert_eq!(RestartPolicy::parse("on-failure").unwrap().max_retries, 0);
        assert_eq!(RestartPolicy::parse("always").unwrap().name, "always");
        assert_eq!(
            err("sometimes"),
            "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
        );
        assert_eq!(
            err("always:3"),
            "invalid restart policy: maximum retry count can only be used with 'on-failure'"
        );
        assert_eq!(
            err("on-failure:x"),
            "invalid restart policy format: maximum retry count must be an integer"
        );
        assert_eq!(
            err("on-failure:-1"),
            "invalid restart policy: maximum retry count cannot be negative"
        );
        assert_eq!(
            err(":3"),
            "invalid restart policy format: no policy provided before colon"
        );
    }

    #[test]
    fn which_exits_restart() {
        let on_failure = RestartPolicy::parse("on-failure:2").unwrap();
        assert!(on_failure.restarts_after(3, false, 0));
        assert!(on_failure.restarts_after(3, false, 1));
        assert!(!on_failure.restarts_after(3, false, 2));
        assert!(!on_failure.restarts_after(0, false, 0));
        let unlimited = RestartPolicy::parse("on-failure").unwrap();
        assert!(unlimited.restarts_after(1, false, 1000));
        let always = RestartPolicy::parse("always").unwrap();
        assert!(always.restarts_after(0, false, 50));
        assert!(!always.restarts_after(0, true, 0));
        assert!(always.starts_at_boot(0, true, 0));
        let unless = RestartPolicy::parse("unless-stopped").unwrap();
        assert!(unless.starts_at_boot(0, false, 0));
        assert!(!unless.starts_at_boot(0, true, 0));
        assert!(!RestartPolicy::default().restarts_after(1, false, 0));
        assert!(!RestartPolicy::default().starts_at_boot(1, false, 0));
    }

    #[test]
    fn back_off_doubles_to_a_minute_and_resets_after_a_steady_run() {
        let quick = Duration::from_secs(1);
        let mut delay = next_delay(None, quick);
        assert_eq!(delay, Duration::from_millis(100));
        delay = next_delay(Some(delay), quick);
        assert_eq!(delay, Duration::from_millis(200));
        for _ in 0..20 {
            delay = next_delay(Some(delay), quick);
        }
        assert_eq!(delay, Duration::from_secs(60));
        assert_eq!(
            next_delay(Some(delay), Duration::from_secs(10)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn auto_remove_excludes_a_policy() {
        let always = RestartPolicy::parse("always").unwrap();
        assert!(check_auto_remove(&always, true).is_err());
        assert!(check_auto_remove(&always, false).is_ok());
        assert!(check_auto_remove(&RestartPolicy::default(), true).is_ok());
    }
}
