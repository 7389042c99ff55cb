//! `network ls --filter`: docker's network filters. `name` and `id` (all or part of it),
//! `driver`, `type` (`builtin`: bridge, host and none; `custom`: user networks), `scope`
//! (every berth network is `local`), `label` (berth networks carry none).

use super::store::NetworkRow;
use super::{MODE_BRIDGE, MODE_HOST, MODE_NONE};
use crate::filters::Filters;
use crate::{Error, Result};

const KEYS: [&str; 6] = ["name", "id", "driver", "type", "scope", "label"];

/// Checked network filters.
#[derive(Debug, Clone, Default)]
pub struct NetworkFilter(Filters);

impl NetworkFilter {
    pub fn new(filters: Filters) -> Result<Self> {
        filters.check_keys(&KEYS)?;
        if let Some(bad) = filters
            .values("type")
            .iter()
            .find(|t| !matches!(t.as_str(), "builtin" | "custom"))
        {
            return Err(Error::InvalidInput(format!(
                "invalid filter 'type={bad}': builtin or custom"
            )));
        }
        Ok(NetworkFilter(filters))
    }

    pub fn matches(&self, network: &NetworkRow) -> bool {
        let f = &self.0;
        let builtin = [MODE_BRIDGE, MODE_HOST, MODE_NONE].contains(&network.name.as_str());
        f.any("name", |v| network.name.contains(v))
            && f.any("id", |v| network.id.contains(v))
            && f.any("driver", |v| network.driver == v)
            && f.any("type", |v| (v == "builtin") == builtin)
            && f.any("scope", |v| v == "local")
            // berth networks carry no labels.
            && f.labels_match(&Default::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(name: &str, driver: &str) -> NetworkRow {
        NetworkRow {
            id: format!("{name}0123456789"),
            name: name.into(),
            driver: driver.into(),
            subnet: String::new(),
            gateway: String::new(),
            bridge: String::new(),
            created_at: 0,
        }
    }

    fn matches(pairs: &[&str], n: &NetworkRow) -> bool {
        NetworkFilter::new(Filters::from_args(pairs).unwrap())
            .unwrap()
            .matches(n)
    }

    #[test]
    fn keys_match_as_dockers() {
        let front = network("front", "bridge");
        let host = network("host", "host");
        assert!(matches(&["name=ron"], &front) && !matches(&["name=back"], &front));
        assert!(matches(&["id=0123"], &front) && !matches(&["id=9999"], &front));
        assert!(matches(&["driver=bridge"], &front) && !matches(&["driver=bridge"], &host));
        assert!(matches(&["type=custom"], &front) && !matches(&["type=custom"], &host));
        assert!(matches(&["type=builtin"], &host) && !matches(&["type=builtin"], &front));
        assert!(matches(&["scope=local"], &front) && !matches(&["scope=swarm"], &front));
        assert!(!matches(&["label=a"], &front));
        assert!(matches(&["name=front", "name=back"], &front));
    }

    #[test]
    fn bad_filters_are_clear_errors() {
        for (bad, says) in [
            ("colour=red", "invalid filter 'colour'"),
            ("type=fancy", "invalid filter 'type=fancy'"),
        ] {
            let e = NetworkFilter::new(Filters::from_args(&[bad]).unwrap()).unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
    }
}
