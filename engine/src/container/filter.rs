//! `ps --filter`: docker's container filters, checked and matched against listed containers.
//! `id` (prefix), `name` (regular expression), `label` (`KEY` or `KEY=VALUE`, all must
//! match), `status`, `exited` (exit code), `ancestor` (image), `before`/`since` (a container),
//! `volume` (name, bind source or destination), `network` (name or id), `publish`/`expose`
//! (`PORT[/PROTO]` or `START-END[/PROTO]`, the container's side).

use super::ContainerSummary;
use crate::filters::{same_image_name, Filters};
use crate::network::ports::port_range;
use crate::network::Proto;
use crate::{Error, Result};

const KEYS: [&str; 13] = [
    "id", "name", "label", "status", "exited", "ancestor", "before", "since", "volume", "network",
    "publish", "expose", "health",
];

/// docker's `health` filter values (`none`: no health check, or not running).
pub const HEALTH_VALUES: [&str; 4] = ["starting", "healthy", "unhealthy", "none"];

/// docker's status names (`removing` and `dead` are valid words no berth container has).
pub const STATUSES: [&str; 7] = [
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// Checked filters, ready to match. The caller looks up `before`/`since` (the container's
/// creation time and id: the list's order) and the image ids `ancestor` values resolve to.
#[derive(Debug, Clone, Default)]
pub struct ContainerFilter {
    filters: Filters,
    names: Vec<regex::Regex>,
    exited: Vec<i32>,
    publish: Vec<PortRange>,
    expose: Vec<PortRange>,
    pub(crate) before: Option<(i64, String)>,
    pub(crate) since: Option<(i64, String)>,
    pub(crate) ancestor_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct PortRange {
    start: u16,
    end: u16,
    proto: Proto,
}

impl ContainerFilter {
    /// Checks keys and values; clear errors for unknown keys, bad statuses, codes and ports.
    pub fn new(filters: Filters) -> Result<Self> {
        filters.check_keys(&KEYS)?;
        if let Some(bad) = filters
            .values("status")
            .iter()
            .find(|s| !STATUSES.contains(&s.as_str()))
        {
            return Err(Error::InvalidInput(format!(
                "invalid filter 'status={bad}': the statuses are {}",
                STATUSES.join(", ")
            )));
        }
        if let Some(bad) = filters
            .values("health")
            .iter()
            .find(|s| !HEALTH_VALUES.contains(&s.as_str()))
        {
            return Err(Error::InvalidInput(format!(
                "invalid filter 'health={bad}': the values are {}",
                HEALTH_VALUES.join(", ")
            )));
        }
        let names = filters
            .values("name")
            .iter()
            .map(|pattern| {
                regex::Regex::new(pattern).map_err(|e| {
                    Error::InvalidInput(format!("invalid filter 'name={pattern}': {e}"))
                })
            })
            .collect::<Result<_>>()?;
        let exited = filters
            .values("exited")
            .iter()
            .map(|code| {
                code.parse::<i32>().map_err(|_| {
                    Error::InvalidInput(format!(
                        "invalid filter 'exited={code}': an exit code is a whole number"
                    ))
                })
            })
            .collect::<Result<_>>()?;
        filters.check_single(&["before", "since"], "container")?;
        Ok(ContainerFilter {
            names,
            exited,
            publish: port_ranges(&filters, "publish")?,
            expose: port_ranges(&filters, "expose")?,
            filters,
            ..Default::default()
        })
    }

    pub fn filters(&self) -> &Filters {
        &self.filters
    }

    /// A `status` filter lists stopped containers without `-a`, as docker's does.
    pub fn lists_all(&self) -> bool {
        self.filters.contains("status")
    }

    pub fn matches(&self, c: &ContainerSummary) -> bool {
        let f = &self.filters;
        f.any("id", |v| c.id.starts_with(v))
            && (self.names.is_empty() || self.names.iter().any(|re| re.is_match(&c.name)))
            && f.labels_match(&c.labels)
            && f.any("status", |v| v == c.status_word())
            && f.any("health", |v| {
                v == c
                    .health
                    .map_or("none", berth_wire::container::health::HealthStatus::as_str)
            })
            && (self.exited.is_empty()
                || (c.state == super::ContainerState::Exited
                    && c.exit_code.is_some_and(|code| self.exited.contains(&code))))
            && f.any("ancestor", |v| {
                same_image_name(&c.image, v) || self.ancestor_ids.contains(&c.image_id)
            })
            && self
                .before
                .as_ref()
                .is_none_or(|(t, id)| place(c.created_at_ms, &c.id) > place(*t, id))
            && self
                .since
                .as_ref()
                .is_none_or(|(t, id)| place(c.created_at_ms, &c.id) < place(*t, id))
            && f.any("volume", |v| {
                c.mounts.iter().any(|m| m.name == v || m.destination == v)
            })
            && f.any("network", |v| {
                c.networks
                    .iter()
                    .any(|n| n.name == v || (!v.is_empty() && n.id.starts_with(v)))
            })
            && ports_match(&self.publish, c, true)
            && ports_match(&self.expose, c, false)
    }
}

/// A container's place in the list (newest first, then by id): `before` is a greater place.
fn place(created: i64, id: &str) -> (std::cmp::Reverse<i64>, &str) {
    (std::cmp::Reverse(created), id)
}

fn ports_match(ranges: &[PortRange], c: &ContainerSummary, published: bool) -> bool {
    ranges.is_empty()
        || c.ports.iter().any(|p| {
            (!published || p.public_port.is_some())
                && ranges.iter().any(|r| {
                    r.proto == p.proto && r.start <= p.private_port && p.private_port <= r.end
                })
        })
}

fn port_ranges(filters: &Filters, key: &str) -> Result<Vec<PortRange>> {
    filters
        .values(key)
        .iter()
        .map(|text| {
            let bad =
                |why: String| Error::InvalidInput(format!("invalid filter '{key}={text}': {why}"));
            let (ports, proto) = match text.split_once('/') {
                Some((ports, proto)) => (ports, Proto::parse(proto).map_err(bad)?),
                None => (text.as_str(), Proto::Tcp),
            };
            let (start, end) = port_range(ports)
                .ok_or_else(|| bad("expected PORT[/PROTO] or START-END[/PROTO]".into()))?;
            Ok(PortRange { start, end, proto })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{ContainerState, ListedMount, ListedNetwork};
    use crate::network::PortSummary;
    use crate::volume::mounts::MountType;

    fn container() -> ContainerSummary {
        ContainerSummary {
            id: "abc123".into(),
            name: "web-1".into(),
            image: "busybox".into(),
            image_id: "sha256:feed".into(),
            command: "httpd".into(),
            state: ContainerState::Exited,
            exit_code: Some(3),
            oom_killed: false,
            pid: None,
            created_at_ms: 1000,
            started_at_ms: Some(1000),
            finished_at_ms: Some(2000),
            restarting: false,
            ports: vec![
                PortSummary {
                    ip: Some("127.0.0.1".into()),
                    private_port: 80,
                    public_port: Some(8080),
                    proto: Proto::Tcp,
                },
                PortSummary {
                    ip: None,
                    private_port: 53,
                    public_port: None,
                    proto: Proto::Udp,
                },
            ],
            labels: [("tier".to_string(), "web".to_string())].into(),
            mounts: vec![ListedMount {
                kind: MountType::Volume,
                name: "data".into(),
                destination: "/data".into(),
            }],
            networks: vec![ListedNetwork {
                id: "0123abcd".into(),
                name: "front".into(),
            }],
            size_rw: None,
            size_root_fs: None,
            health: None,
        }
    }

    fn matches(pairs: &[&str]) -> bool {
        ContainerFilter::new(Filters::from_args(pairs).unwrap())
            .unwrap()
            .matches(&container())
    }

    #[test]
    fn each_key_matches_and_misses() {
        for (hit, miss) in [
            ("id=abc", "id=bc"),
            ("name=^web", "name=^eb"),
            ("label=tier", "label=zone"),
            ("label=tier=web", "label=tier=db"),
            ("status=exited", "status=running"),
            ("exited=3", "exited=0"),
            ("ancestor=busybox:latest", "ancestor=alpine"),
            ("volume=data", "volume=other"),
            ("volume=/data", "volume=/other"),
            ("network=front", "network=back"),
            ("network=0123", "network=4567"),
            ("publish=80", "publish=53/udp"),
            ("publish=70-90/tcp", "publish=80/udp"),
            ("expose=53/udp", "expose=53"),
        ] {
            assert!(matches(&[hit]), "{hit} should match");
            assert!(!matches(&[miss]), "{miss} should not match");
        }
    }

    #[test]
    fn values_of_a_key_are_alternatives_and_keys_all_apply() {
        assert!(matches(&["status=running", "status=exited"]));
        assert!(!matches(&["status=exited", "name=db"]));
        // Labels are the exception: each one given must be there.
        assert!(!matches(&["label=tier", "label=zone"]));
        let mut healthy = container();
        healthy.health = Some(berth_wire::container::health::HealthStatus::Healthy);
        let f = ContainerFilter::new(Filters::from_args(&["health=healthy"]).unwrap()).unwrap();
        assert!(f.matches(&healthy) && !f.matches(&container()));
        let f = ContainerFilter::new(Filters::from_args(&["health=none"]).unwrap()).unwrap();
        assert!(!f.matches(&healthy) && f.matches(&container()));
        assert!(ContainerFilter::new(Filters::from_args(&["health=sick"]).unwrap()).is_err());
        let mut restarting = container();
        restarting.restarting = true;
        let f = ContainerFilter::new(Filters::from_args(&["status=restarting"]).unwrap()).unwrap();
        assert!(f.matches(&restarting) && !f.matches(&container()));
    }

    #[test]
    fn before_and_since_follow_the_list_order() {
        let mut f = ContainerFilter::new(Filters::default()).unwrap();
        f.before = Some((1000, "abc000".into()));
        assert!(f.matches(&container()), "same time, later id: listed after");
        f.before = Some((999, "zzz".into()));
        assert!(!f.matches(&container()));
        f.before = None;
        f.since = Some((999, "zzz".into()));
        assert!(f.matches(&container()));
        f.since = Some((1000, "abc123".into()));
        assert!(!f.matches(&container()), "a container is not since itself");
    }

    #[test]
    fn bad_filters_are_clear_errors() {
        for (bad, says) in [
            ("colour=red", "invalid filter 'colour'"),
            ("status=sleeping", "the statuses are"),
            ("exited=x", "whole number"),
            ("name=(", "invalid filter 'name=('"),
            ("publish=http", "PORT[/PROTO]"),
            ("expose=80/sctp", "sctp"),
        ] {
            let e = ContainerFilter::new(Filters::from_args(&[bad]).unwrap()).unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
        let two = Filters::from_args(&["before=a", "before=b"]).unwrap();
        assert!(ContainerFilter::new(two).is_err());
    }
}
