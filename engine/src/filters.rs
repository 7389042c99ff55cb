//! docker's list filters: `key=value` pairs, as the CLI's `--filter` and the API's `filters`
//! JSON (`{"status":["exited"]}`). Values of one key are alternatives; keys must all match.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `busybox` and `busybox:latest` name one image (`:latest` is implied).
pub(crate) fn same_image_name(a: &str, b: &str) -> bool {
    let bare = |name: &'_ str| name.strip_suffix(":latest").unwrap_or(name).to_string();
    bare(a) == bare(b)
}

/// Filter key → its values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Filters(pub BTreeMap<String, Vec<String>>);

impl Filters {
    /// Adds `key=value`.
    pub fn add(&mut self, key: &str, value: &str) {
        self.0
            .entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }

    /// Parses and adds the CLI's `key=value`.
    pub fn add_text(&mut self, text: &str) -> Result<()> {
        match text.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                self.add(key.trim(), value.trim());
                Ok(())
            }
            _ => Err(Error::InvalidInput(format!(
                "bad format of filter (expected name=value): {text}"
            ))),
        }
    }

    /// The filters of the CLI's `--filter` arguments.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Self> {
        let mut filters = Filters::default();
        for text in args {
            filters.add_text(text.as_ref())?;
        }
        Ok(filters)
    }

    /// The API's `filters` JSON; empty text is no filter.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Filters::default());
        }
        serde_json::from_str(text)
            .map_err(|e| Error::InvalidInput(format!("invalid filters {text:?}: {e}")))
    }

    /// Fails on a key outside `known`, as docker's `invalid filter 'KEY'`.
    pub fn check_keys(&self, known: &[&str]) -> Result<()> {
        match self.0.keys().find(|key| !known.contains(&key.as_str())) {
            Some(key) => Err(Error::InvalidInput(format!("invalid filter '{key}'"))),
            None => Ok(()),
        }
    }

    /// Fails when one of `keys` is given more than once (`before=a before=b`): each names
    /// one `what` (a container, an image).
    pub fn check_single(&self, keys: &[&str], what: &str) -> Result<()> {
        match keys.iter().find(|key| self.values(key).len() > 1) {
            Some(key) => Err(Error::InvalidInput(format!(
                "filter '{key}' takes one {what}"
            ))),
            None => Ok(()),
        }
    }

    /// No value given for `key`, or `test` accepts one of them (values are alternatives).
    pub fn any(&self, key: &str, test: impl Fn(&str) -> bool) -> bool {
        let values = self.values(key);
        values.is_empty() || values.iter().any(|v| test(v))
    }

    /// Every `label` value, `KEY` or `KEY=VALUE`, is among `labels` (labels must all match).
    pub fn labels_match(&self, labels: &BTreeMap<String, String>) -> bool {
        self.values("label")
            .iter()
            .all(|v| match v.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
                None => labels.contains_key(v.as_str()),
            })
    }

    /// The values given for `key` (none when absent).
    pub fn values(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|values| !values.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(Vec::is_empty)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_text_and_json_agree() {
        let cli = Filters::from_args(&["status=exited", "status=created", "name = web"]).unwrap();
        let json = Filters::from_json(r#"{"status":["exited","created"],"name":["web"]}"#).unwrap();
        assert_eq!(cli, json);
        assert_eq!(cli.values("status"), ["exited", "created"]);
        assert!(cli.values("label").is_empty() && !cli.contains("label"));
        assert!(Filters::from_json("").unwrap().is_empty());
        assert!(cli.any("label", |_| false), "no value: no condition");
        assert!(cli.any("status", |v| v == "created") && !cli.any("status", |v| v == "running"));
        let labels = BTreeMap::from([("tier".to_string(), "web".to_string())]);
        assert!(Filters::from_args(&["label=tier", "label=tier=web"])
            .unwrap()
            .labels_match(&labels));
        assert!(!Filters::from_args(&["label=tier", "label=zone"])
            .unwrap()
            .labels_match(&labels));
        assert!(!Filters::from_args(&["label=tier=db"])
            .unwrap()
            .labels_match(&labels));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        for bad in ["status", "=x", ""] {
            let e = Filters::from_args(&[bad]).unwrap_err().to_string();
            assert!(e.contains("expected name=value"), "{bad}: {e}");
        }
        assert!(Filters::from_json("{nope").is_err());
        let f = Filters::from_args(&["colour=red"]).unwrap();
        assert_eq!(
            f.check_keys(&["status"]).unwrap_err().to_string(),
            "invalid filter 'colour'"
        );
    }
}

/// Property tests: the API's `filters` JSON is parsed or refused, never a panic, and filters
/// written back as JSON read the same.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    use crate::proptest_cases::config;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text_is_parsed_or_refused(text in any::<String>(), shaped in "[{}\\[\\]\":, a-z0-9=]{0,40}") {
            let _ = Filters::from_json(&text);
            let _ = Filters::from_json(&shaped);
            let _ = Filters::from_args(&[&text, &shaped]);
        }

        #[test]
        fn filters_round_trip_through_json(map in prop::collection::btree_map(any::<String>(), prop::collection::vec(any::<String>(), 0..3), 0..4)) {
            let filters = Filters(map);
            let json = serde_json::to_string(&filters).unwrap();
            prop_assert_eq!(Filters::from_json(&json).unwrap(), filters);
        }
    }
}
