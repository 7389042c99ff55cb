//! Parsed container configs, kept between container lists. A container's `config_json` is
//! written once, when it is created, and never changed (ids are random and never reused), so a
//! parsed copy is good for the container's whole life. Parsing 1000 configs was most of a
//! `GET /api/v1/containers` of 1000 containers.

use super::{ContainerConfig, ContainerRow};
use crate::Result;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub(crate) struct ConfigCache {
    parsed: Mutex<HashMap<String, Arc<ContainerConfig>>>,
}

impl ConfigCache {
    /// The configs of `rows` (every container), in their order; parsed once per container.
    /// The configs of containers gone since are dropped.
    pub fn get_all(&self, rows: &[ContainerRow]) -> Result<Vec<Arc<ContainerConfig>>> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let config = match parsed.get(&row.id) {
                Some(config) => Arc::clone(config),
                None => {
                    let config = Arc::new(row.config()?);
                    parsed.insert(row.id.clone(), Arc::clone(&config));
                    config
                }
            };
            out.push(config);
        }
        if parsed.len() > rows.len() {
            let live: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            parsed.retain(|id, _| live.contains(id.as_str()));
        }
        Ok(out)
    }

    /// Forgets a removed container's config.
    pub fn forget(&self, id: &str) {
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}
