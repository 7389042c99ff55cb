//! Which events fire which rules: each container event is matched against the enabled rules,
//! with what the matcher remembers of each container (a user's kill before its exit, an exit
//! before its next start, the restart windows).
//!
//! Each rule fires once per occurrence:
//! - `died`: a `die` with a non-zero `exitCode`, unless a user's stop or kill (the engine's
//!   `kill` event) came since the container's start: that exit was asked for.
//! - `oom`: the `oom` event. An OOM kill is `oom` then `die` (exit 137): the oom rule fires for
//!   the `oom` and a died rule for the `die`, so a died rule alone also hears of OOM kills, and
//!   an oom rule beside it sends a second, more precise alert.
//! - `unhealthy`: the action `health_status: unhealthy` (docker emits it when the health
//!   status changes to unhealthy, not on every failed probe).
//! - `restart_loop`: a restart is a `start` after a `die` that no user asked for (a restart
//!   policy's, or a user starting a crashed container again; not `docker restart`). The
//!   rule fires when the Nth restart within M minutes happens, then stays quiet until its
//!   window has drained: a restart with no other in the M minutes before it re-arms it.

use super::rules::{Condition, Rule};
use berth_wire::alert::AlertKind;
use berth_wire::event::{Event, Scope};
use std::collections::{HashMap, VecDeque};

/// The action docker emits when a health check turns unhealthy.
pub const UNHEALTHY_ACTION: &str = "health_status: unhealthy";

/// A rule that fired, for the event that fired it.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub rule: Rule,
    pub kind: AlertKind,
    pub event: Event,
    pub message: String,
}

#[derive(Default)]
pub struct Matcher {
    rules: Vec<Rule>,
    containers: HashMap<String, Track>,
}

/// What the matcher remembers of one container.
#[derive(Default)]
struct Track {
    /// A user's stop or kill came since the container's last start: its exit is intended.
    killed: bool,
    /// The container's last exit was its own (not asked for): its next start is a restart.
    exited_by_itself: bool,
    /// Per restart-loop rule id, that rule's window over this container.
    windows: HashMap<i64, Window>,
}

/// The latest restarts within a rule's window (at most N are kept: only whether N are within
/// the window, and whether any is, matter), and whether the rule has fired in this burst.
#[derive(Default, Debug)]
pub struct Window {
    times_ns: VecDeque<i64>,
    fired: bool,
}

impl Window {
    /// Records a restart at `now_ns`; true if this is the one the rule fires for.
    pub fn restart(&mut self, now_ns: i64, restarts: u32, minutes: u32) -> bool {
        let span = i64::from(minutes) * 60 * 1_000_000_000;
        while self
            .times_ns
            .front()
            .is_some_and(|&t| now_ns.saturating_sub(t) >= span)
        {
            self.times_ns.pop_front();
        }
        if self.times_ns.is_empty() {
            // The window has drained: the next burst may fire again.
            self.fired = false;
        }
        self.times_ns.push_back(now_ns);
        while self.times_ns.len() > restarts as usize {
            self.times_ns.pop_front();
        }
        if !self.fired && self.times_ns.len() >= restarts as usize {
            self.fired = true;
            return true;
        }
        false
    }
}

impl Matcher {
    /// Replaces the rules (after an admin's change); windows of removed rules are forgotten.
    pub fn set_rules(&mut self, rules: Vec<Rule>) {
        for track in self.containers.values_mut() {
            track
                .windows
                .retain(|id, _| rules.iter().any(|r| r.id == *id));
        }
        self.rules = rules;
    }

    /// The rules this event fires, in rule order.
    pub fn on_event(&mut self, event: &Event) -> Vec<Firing> {
        if event.kind != Scope::Container {
            return Vec::new();
        }
        let id = event.actor.id.as_str();
        let mut fired = Vec::new();
        match event.action.as_str() {
            "kill" => self.track(id).killed = true,
            "destroy" => {
                self.containers.remove(id);
            }
            "oom" => fired = self.fire(event, |c| c == Condition::Oom),
            UNHEALTHY_ACTION => fired = self.fire(event, |c| c == Condition::Unhealthy),
            "die" => {
                let track = self.track(id);
                let intended = std::mem::take(&mut track.killed);
                track.exited_by_itself = !intended;
                let code = event
                    .actor
                    .attributes
                    .get("exitCode")
                    .and_then(|c| c.parse::<i64>().ok())
                    .unwrap_or(0);
                if !intended && code != 0 {
                    fired = self.fire(event, |c| c == Condition::Died);
                }
            }
            "start" => {
                let track = self.track(id);
                track.killed = false;
                if std::mem::take(&mut track.exited_by_itself) {
                    fired = self.restarted(event);
                }
            }
            _ => {}
        }
        fired
    }

    fn track(&mut self, id: &str) -> &mut Track {
        self.containers.entry(id.to_string()).or_default()
    }

    /// The enabled rules covering the event's container whose condition passes `which`.
    fn fire(&self, event: &Event, which: impl Fn(Condition) -> bool) -> Vec<Firing> {
        self.rules
            .iter()
            .filter(|r| r.enabled && which(r.condition) && r.covers(event))
            .map(|rule| Firing {
                rule: rule.clone(),
                kind: rule.condition.kind(),
                event: event.clone(),
                message: message(rule.condition, event),
            })
            .collect()
    }

    /// A restart: every restart-loop rule covering the container counts it.
    fn restarted(&mut self, event: &Event) -> Vec<Firing> {
        let mut fired = Vec::new();
        let Some(track) = self.containers.get_mut(&event.actor.id) else {
            return fired;
        };
        for rule in self.rules.iter().filter(|r| r.enabled && r.covers(event)) {
            if let Condition::RestartLoop { restarts, minutes } = rule.condition {
                let window = track.windows.entry(rule.id).or_default();
                if window.restart(event.time_nano, restarts, minutes) {
                    fired.push(Firing {
                        rule: rule.clone(),
                        kind: AlertKind::RestartLoop,
                        event: event.clone(),
                        message: message(rule.condition, event),
                    });
                }
            }
        }
        fired
    }
}

/// One line for a human: "container web (busybox) died with exit code 3".
fn message(condition: Condition, event: &Event) -> String {
    let attribute = |name: &str| {
        event
            .actor
            .attributes
            .get(name)
            .map(String::as_str)
            .unwrap_or("")
    };
    let who = format!("container {} ({})", attribute("name"), attribute("image"));
    match condition {
        Condition::Died => format!("{who} died with exit code {}", attribute("exitCode")),
        Condition::Oom => format!("{who} was killed for running out of memory"),
        Condition::Unhealthy => format!("{who} is unhealthy"),
        Condition::RestartLoop { restarts, minutes } => format!(
            "{who} restarted {restarts} times within {minutes} minute{}",
            if minutes == 1 { "" } else { "s" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;

    fn rule(id: i64, condition: Condition) -> Rule {
        Rule {
            id,
            condition,
            container: None,
            label: None,
            webhook: "http://127.0.0.1:9/".into(),
            enabled: true,
            created_at_ms: 0,
        }
    }

    fn event(id: &str, action: &str, at_s: i64, extra: &[(&str, &str)]) -> Event {
        let name = format!("{id}-name");
        let mut attributes = vec![("name", name.as_str()), ("image", "busybox")];
        attributes.extend_from_slice(extra);
        Event {
            time: at_s,
            time_nano: at_s * SEC,
            ..crate::events::test_event(Scope::Container, action, id, &attributes)
        }
    }

    fn matcher(rules: Vec<Rule>) -> Matcher {
        let mut m = Matcher::default();
        m.set_rules(rules);
        m
    }

    fn ids(firings: &[Firing]) -> Vec<i64> {
        firings.iter().map(|f| f.rule.id).collect()
    }

    #[test]
    fn died_fires_once_for_a_non_zero_exit_and_never_for_zero() {
        let mut m = matcher(vec![rule(1, Condition::Died)]);
        let fired = m.on_event(&event("c", "die", 0, &[("exitCode", "3")]));
        assert_eq!(ids(&fired), vec![1]);
        assert_eq!(fired[0].kind, AlertKind::Died);
        assert_eq!(
            fired[0].message,
            "container c-name (busybox) died with exit code 3"
        );
        assert!(m
            .on_event(&event("c", "die", 1, &[("exitCode", "0")]))
            .is_empty());
        // The same container dying again is another occurrence.
        assert_eq!(
            ids(&m.on_event(&event("c", "die", 2, &[("exitCode", "1")]))),
            vec![1]
        );
    }

    #[test]
    fn an_exit_a_user_asked_for_is_no_death() {
        let mut m = matcher(vec![rule(1, Condition::Died)]);
        m.on_event(&event("c", "start", 0, &[]));
        m.on_event(&event("c", "kill", 1, &[("signal", "15")]));
        assert!(m
            .on_event(&event("c", "die", 1, &[("exitCode", "143")]))
            .is_empty());
        // Started again, it crashes on its own: that one counts.
        m.on_event(&event("c", "start", 2, &[]));
        assert_eq!(
            ids(&m.on_event(&event("c", "die", 3, &[("exitCode", "2")]))),
            vec![1]
        );
    }

    #[test]
    fn an_oom_kill_fires_the_oom_rule_for_oom_and_the_died_rule_for_die() {
        let mut m = matcher(vec![rule(1, Condition::Died), rule(2, Condition::Oom)]);
        let oom = m.on_event(&event("c", "oom", 0, &[]));
        assert_eq!(ids(&oom), vec![2]);
        assert_eq!(
            oom[0].message,
            "container c-name (busybox) was killed for running out of memory"
        );
        assert_eq!(
            ids(&m.on_event(&event("c", "die", 0, &[("exitCode", "137")]))),
            vec![1]
        );
    }

    #[test]
    fn unhealthy_fires_on_the_health_status_action_only() {
        let mut m = matcher(vec![rule(1, Condition::Unhealthy)]);
        assert!(m
            .on_event(&event("c", "health_status: healthy", 0, &[]))
            .is_empty());
        let fired = m.on_event(&event("c", UNHEALTHY_ACTION, 1, &[]));
        assert_eq!(ids(&fired), vec![1]);
        assert_eq!(fired[0].kind, AlertKind::Unhealthy);
        assert!(m
            .on_event(&event("c", "die", 2, &[("exitCode", "1")]))
            .is_empty());
    }

    #[test]
    fn filters_and_disabled_rules_and_other_event_types_fire_nothing() {
        let mut only_web = rule(1, Condition::Died);
        only_web.container = Some("web-name".into());
        let mut off = rule(2, Condition::Died);
        off.enabled = false;
        let mut m = matcher(vec![only_web, off]);
        assert!(m
            .on_event(&event("db", "die", 0, &[("exitCode", "1")]))
            .is_empty());
        assert_eq!(
            ids(&m.on_event(&event("web", "die", 0, &[("exitCode", "1")]))),
            vec![1]
        );
        let mut image = event("web", "die", 0, &[("exitCode", "1")]);
        image.kind = Scope::Image;
        assert!(m.on_event(&image).is_empty());
    }

    /// A crash-and-restart at `at_s`: die (exit 1), then the policy's start.
    fn crash_restart(m: &mut Matcher, id: &str, at_s: i64) -> Vec<i64> {
        m.on_event(&event(id, "die", at_s, &[("exitCode", "1")]));
        ids(&m.on_event(&event(id, "start", at_s, &[])))
    }

    #[test]
    fn a_restart_loop_fires_once_at_the_nth_restart_until_the_window_drains() {
        let loop_rule = Condition::RestartLoop {
            restarts: 3,
            minutes: 1,
        };
        let mut m = matcher(vec![rule(7, loop_rule)]);
        // The first start (of a created container) is no restart.
        assert!(m.on_event(&event("c", "start", 0, &[])).is_empty());
        assert!(crash_restart(&mut m, "c", 1).is_empty());
        assert!(crash_restart(&mut m, "c", 2).is_empty());
        assert_eq!(crash_restart(&mut m, "c", 3), vec![7]);
        // Still looping within the minute: quiet.
        for t in 4..50 {
            assert!(
                crash_restart(&mut m, "c", t).is_empty(),
                "fired again at {t}"
            );
        }
        // Restarts every 30 s keep the window from draining: still quiet.
        for t in [80, 110, 140] {
            assert!(
                crash_restart(&mut m, "c", t).is_empty(),
                "fired again at {t}"
            );
        }
        // A minute with no restart drains it; a new burst fires again, at its third.
        assert!(crash_restart(&mut m, "c", 201).is_empty());
        assert!(crash_restart(&mut m, "c", 202).is_empty());
        assert_eq!(crash_restart(&mut m, "c", 203), vec![7]);
    }

    #[test]
    fn restarts_spread_wider_than_the_window_never_fire() {
        let mut m = matcher(vec![rule(
            1,
            Condition::RestartLoop {
                restarts: 3,
                minutes: 1,
            },
        )]);
        for t in [0, 40, 80, 120, 160, 200] {
            assert!(crash_restart(&mut m, "c", t).is_empty(), "fired at {t}");
        }
    }

    #[test]
    fn user_restarts_are_not_counted_and_containers_have_their_own_windows() {
        let mut m = matcher(vec![rule(
            1,
            Condition::RestartLoop {
                restarts: 2,
                minutes: 5,
            },
        )]);
        // `docker restart`: kill, die, stop, start, restart: asked for, not a loop.
        for t in 0..5 {
            m.on_event(&event("c", "kill", t, &[("signal", "15")]));
            m.on_event(&event("c", "die", t, &[("exitCode", "143")]));
            m.on_event(&event("c", "stop", t, &[]));
            assert!(m.on_event(&event("c", "start", t, &[])).is_empty());
            m.on_event(&event("c", "restart", t, &[]));
        }
        assert!(crash_restart(&mut m, "a", 10).is_empty());
        assert!(crash_restart(&mut m, "b", 11).is_empty());
        assert_eq!(crash_restart(&mut m, "a", 12), vec![1]);
        // A removed container is forgotten: a new one of the same id starts afresh.
        m.on_event(&event("b", "destroy", 13, &[]));
        assert!(crash_restart(&mut m, "b", 14).is_empty());
    }

    #[test]
    fn the_window_keeps_at_most_n_times() {
        let mut w = Window::default();
        for t in 0..10_000 {
            w.restart(t * SEC / 100, 3, 60);
        }
        assert_eq!(w.times_ns.len(), 3);
    }
}
