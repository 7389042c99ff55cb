//! Alert rules: what each watches for, which containers it covers, where it sends; checked
//! when an admin creates one (a webhook must be an http(s) URL with a host).

use super::AlertError;
use berth_wire::alert::{AlertKind, AlertRule, CreateAlertRule};
use berth_wire::event::Event;

/// The longest window a restart-loop rule may have: a day.
pub const MAX_MINUTES: u32 = 24 * 60;
/// The most restarts a restart-loop rule may count (the window keeps this many times).
pub const MAX_RESTARTS: u32 = 1000;
/// Webhook URLs longer than this are refused.
const MAX_URL: usize = 2048;

/// What a rule fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Died,
    Oom,
    Unhealthy,
    /// The `restarts`th restart within `minutes` minutes.
    RestartLoop {
        restarts: u32,
        minutes: u32,
    },
}

impl Condition {
    pub fn kind(self) -> AlertKind {
        match self {
            Condition::Died => AlertKind::Died,
            Condition::Oom => AlertKind::Oom,
            Condition::Unhealthy => AlertKind::Unhealthy,
            Condition::RestartLoop { .. } => AlertKind::RestartLoop,
        }
    }

    /// From a kind and its parameters: a restart loop needs both, the others take none.
    pub fn new(
        kind: AlertKind,
        restarts: Option<u32>,
        minutes: Option<u32>,
    ) -> Result<Condition, AlertError> {
        match (kind, restarts, minutes) {
            (AlertKind::RestartLoop, Some(restarts), Some(minutes)) => {
                if !(1..=MAX_RESTARTS).contains(&restarts) {
                    return Err(AlertError::InvalidRule(format!(
                        "restarts must be 1 to {MAX_RESTARTS}, not {restarts}"
                    )));
                }
                if !(1..=MAX_MINUTES).contains(&minutes) {
                    return Err(AlertError::InvalidRule(format!(
                        "minutes must be 1 to {MAX_MINUTES}, not {minutes}"
                    )));
                }
                Ok(Condition::RestartLoop { restarts, minutes })
            }
            (AlertKind::RestartLoop, _, _) => Err(AlertError::InvalidRule(
                "a restart-loop rule needs restarts and minutes".into(),
            )),
            (other, None, None) => Ok(match other {
                AlertKind::Died => Condition::Died,
                AlertKind::Oom => Condition::Oom,
                _ => Condition::Unhealthy,
            }),
            (other, _, _) => Err(AlertError::InvalidRule(format!(
                "restarts and minutes are for restart-loop rules, not {other}"
            ))),
        }
    }
}

/// A rule as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub condition: Condition,
    pub container: Option<String>,
    pub label: Option<String>,
    pub webhook: String,
    pub enabled: bool,
    pub created_at_ms: i64,
}

impl Rule {
    /// Checks a request; the id and creation time are the store's.
    pub fn from_request(request: &CreateAlertRule) -> Result<Rule, AlertError> {
        let condition = Condition::new(request.kind, request.restarts, request.minutes)?;
        validate_webhook(&request.webhook)?;
        let container = non_empty(&request.container, "container")?;
        let label = non_empty(&request.label, "label")?;
        Ok(Rule {
            id: 0,
            condition,
            container,
            label,
            webhook: request.webhook.clone(),
            enabled: request.enabled.unwrap_or(true),
            created_at_ms: 0,
        })
    }

    pub fn to_wire(&self) -> AlertRule {
        let (restarts, minutes) = match self.condition {
            Condition::RestartLoop { restarts, minutes } => (Some(restarts), Some(minutes)),
            _ => (None, None),
        };
        AlertRule {
            id: self.id,
            kind: self.condition.kind(),
            restarts,
            minutes,
            container: self.container.clone(),
            label: self.label.clone(),
            webhook: self.webhook.clone(),
            enabled: self.enabled,
            created_at_ms: self.created_at_ms,
        }
    }

    /// Whether the rule covers the container an event is about (its container and label
    /// filters; none covers every container). Matched as `events --filter container=…`
    /// and `label=…` match: the name or an id prefix, a label key or key=value.
    pub fn covers(&self, event: &Event) -> bool {
        let attribute = |name: &str| event.actor.attributes.get(name).map(String::as_str);
        let container_ok = self
            .container
            .as_deref()
            .is_none_or(|want| attribute("name") == Some(want) || event.actor.id.starts_with(want));
        let label_ok = self
            .label
            .as_deref()
            .is_none_or(|want| match want.split_once('=') {
                Some((key, value)) => attribute(key) == Some(value),
                None => attribute(want).is_some(),
            });
        container_ok && label_ok
    }
}

fn non_empty(value: &Option<String>, what: &str) -> Result<Option<String>, AlertError> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Err(AlertError::InvalidRule(format!("an empty {what} filter"))),
        Some(v) if v.len() > 256 => Err(AlertError::InvalidRule(format!(
            "the {what} filter is longer than 256 bytes"
        ))),
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// A webhook must be an absolute http:// or https:// URL with a host; other schemes (file:,
/// ftp:, unix sockets …) are refused.
pub fn validate_webhook(url: &str) -> Result<reqwest::Url, AlertError> {
    let bad = |why: &str| AlertError::InvalidWebhook(format!("{url:?}: {why}"));
    if url.len() > MAX_URL {
        return Err(AlertError::InvalidWebhook(format!(
            "the URL is longer than {MAX_URL} bytes"
        )));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("only http:// and https:// webhooks are supported"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("the URL has no host"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_wire::event::Scope;

    fn request(kind: AlertKind, restarts: Option<u32>, minutes: Option<u32>) -> CreateAlertRule {
        CreateAlertRule {
            kind,
            restarts,
            minutes,
            container: None,
            label: None,
            webhook: "http://127.0.0.1:9/hook".into(),
            enabled: None,
        }
    }

    fn event(id: &str, attributes: &[(&str, &str)]) -> Event {
        crate::events::test_event(Scope::Container, "die", id, attributes)
    }

    #[test]
    fn webhooks_must_be_http_or_https_with_a_host() {
        assert!(validate_webhook("http://127.0.0.1:8080/hook").is_ok());
        assert!(validate_webhook("https://hooks.example.org/a?b=c").is_ok());
        for bad in [
            "ftp://example.org/x",
            "file:///etc/passwd",
            "unix:///run/x.sock",
            "javascript:alert(1)",
            "example.org/hook",
            "http://",
            "",
        ] {
            assert!(validate_webhook(bad).is_err(), "{bad} was accepted");
        }
        let long = format!("http://h/{}", "a".repeat(MAX_URL));
        assert!(validate_webhook(&long).is_err());
    }

    #[test]
    fn restart_loops_need_their_numbers_and_the_others_refuse_them() {
        assert_eq!(
            Rule::from_request(&request(AlertKind::RestartLoop, Some(3), Some(1)))
                .unwrap()
                .condition,
            Condition::RestartLoop {
                restarts: 3,
                minutes: 1
            }
        );
        assert!(Rule::from_request(&request(AlertKind::RestartLoop, Some(3), None)).is_err());
        assert!(Rule::from_request(&request(AlertKind::RestartLoop, Some(0), Some(1))).is_err());
        assert!(Rule::from_request(&request(AlertKind::RestartLoop, Some(3), Some(0))).is_err());
        assert!(Rule::from_request(&request(AlertKind::Died, Some(3), None)).is_err());
        let died = Rule::from_request(&request(AlertKind::Died, None, None)).unwrap();
        assert_eq!(died.condition, Condition::Died);
        assert!(died.enabled);
        let mut r = request(AlertKind::Oom, None, None);
        r.webhook = "gopher://x/".into();
        assert!(matches!(
            Rule::from_request(&r),
            Err(AlertError::InvalidWebhook(_))
        ));
        r.webhook = "http://x/".into();
        r.container = Some("  ".into());
        assert!(Rule::from_request(&r).is_err());
    }

    #[test]
    fn filters_pick_containers_by_name_id_prefix_and_label() {
        let mut rule = Rule::from_request(&request(AlertKind::Died, None, None)).unwrap();
        let web = event("abc123", &[("name", "web"), ("tier", "front")]);
        let db = event("def456", &[("name", "db")]);
        assert!(rule.covers(&web) && rule.covers(&db));
        rule.container = Some("web".into());
        assert!(rule.covers(&web) && !rule.covers(&db));
        rule.container = Some("def".into());
        assert!(!rule.covers(&web) && rule.covers(&db));
        rule.container = None;
        rule.label = Some("tier".into());
        assert!(rule.covers(&web) && !rule.covers(&db));
        rule.label = Some("tier=back".into());
        assert!(!rule.covers(&web));
        rule.label = Some("tier=front".into());
        assert!(rule.covers(&web));
    }
}
