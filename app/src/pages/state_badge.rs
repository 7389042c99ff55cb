//! A container's state as every page shows it: one colour per state (running green, paused
//! amber, restarting blue, exited grey, a failed exit or unhealthy red, created outlined) and
//! always the word too, with the exit code and the health beside it.

use crate::model::{ContainerState, ContainerSummary};
use berth_wire::container::health::HealthStatus;
use leptos::prelude::*;

/// The badge's tone: its class suffix.
pub fn tone(c: &ContainerSummary) -> &'static str {
    if c.restarting {
        return "restarting";
    }
    match c.state {
        ContainerState::Running if c.health == Some(HealthStatus::Unhealthy) => "bad",
        ContainerState::Running => "running",
        ContainerState::Paused => "paused",
        ContainerState::Created => "created",
        ContainerState::Exited if c.exit_code.unwrap_or(0) != 0 || c.oom_killed => "bad",
        ContainerState::Exited => "exited",
    }
}

/// The words: "running · healthy", "exited (137) · out of memory", "restarting".
pub fn words(c: &ContainerSummary) -> String {
    let mut text = match (c.state, c.exit_code) {
        _ if c.restarting => "restarting".to_string(),
        (ContainerState::Exited, Some(code)) => format!("exited ({code})"),
        (state, _) => state.as_str().to_string(),
    };
    if c.state == ContainerState::Exited && c.oom_killed {
        text.push_str(" · out of memory");
    }
    if let (ContainerState::Running, Some(health)) = (c.state, c.health) {
        text.push_str(" · ");
        text.push_str(health.as_str());
    }
    text
}

#[component]
pub fn StateBadge(c: ContainerSummary) -> impl IntoView {
    view! {
        <span
            class=format!("state state-{}", tone(&c))
            data-testid="container-state"
            data-state=c.status_word()
        >
            {words(&c)}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(state: ContainerState, exit: Option<i32>) -> ContainerSummary {
        let mut c: ContainerSummary = serde_json::from_value(serde_json::json!({
            "id": "0123456789abcdef", "name": "web", "image": "busybox", "image_id": "",
            "command": "sleep 300", "state": "running", "exit_code": null, "pid": null,
            "created_at_ms": 0, "started_at_ms": null, "finished_at_ms": null
        }))
        .expect("a summary");
        c.state = state;
        c.exit_code = exit;
        c
    }

    #[test]
    fn each_state_has_its_tone_and_words() {
        let running = c(ContainerState::Running, None);
        assert_eq!(
            (tone(&running), words(&running).as_str()),
            ("running", "running")
        );
        let mut sick = running.clone();
        sick.health = Some(HealthStatus::Unhealthy);
        assert_eq!(
            (tone(&sick), words(&sick).as_str()),
            ("bad", "running · unhealthy")
        );
        let clean = c(ContainerState::Exited, Some(0));
        assert_eq!(
            (tone(&clean), words(&clean).as_str()),
            ("exited", "exited (0)")
        );
        let mut oom = c(ContainerState::Exited, Some(137));
        oom.oom_killed = true;
        assert_eq!(
            (tone(&oom), words(&oom).as_str()),
            ("bad", "exited (137) · out of memory")
        );
        let mut again = c(ContainerState::Exited, Some(1));
        again.restarting = true;
        assert_eq!(
            (tone(&again), words(&again).as_str()),
            ("restarting", "restarting")
        );
        assert_eq!(tone(&c(ContainerState::Created, None)), "created");
        assert_eq!(tone(&c(ContainerState::Paused, None)), "paused");
    }
}
