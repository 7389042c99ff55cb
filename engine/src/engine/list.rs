//! `ps`: the container list, newest first, with docker's filters and `--last`.

use crate::container::{ContainerFilter, ContainerRow, ContainerSummary, ListedNetwork};
use crate::filters::Filters;
use crate::network::store;
use crate::{catalog, Engine, Error, Result};

/// What a container list asks for.
#[derive(Debug, Clone, Default)]
pub struct ContainerQuery {
    /// Stopped containers too (else running, paused and restarting ones).
    pub all: bool,
    /// docker's filters (see [`ContainerFilter`]).
    pub filters: Filters,
    /// The newest N, of every state (`ps -n N`, `ps -l`).
    pub limit: Option<usize>,
    /// Measure each container's writable layer (`ps -s`): a walk of its files.
    pub size: bool,
}

impl Engine {
    /// Every container (`all`) or the running, paused and restarting ones.
    pub async fn list_containers(&self, all: bool) -> Result<Vec<ContainerSummary>> {
        self.find_containers(ContainerQuery {
            all,
            ..Default::default()
        })
        .await
    }

    /// The containers a query selects, newest first. A `status` filter or a limit lists
    /// stopped containers without `all`, as docker's does.
    pub async fn find_containers(&self, query: ContainerQuery) -> Result<Vec<ContainerSummary>> {
        let db = &self.inner.db;
        let mut filter = ContainerFilter::new(query.filters)?;
        let all = query.all || filter.lists_all() || query.limit.is_some();
        if let Some(key) = filter.filters().values("before").first() {
            let row = ContainerRow::find(db, key).await?;
            filter.before = Some((row.created_at, row.id));
        }
        if let Some(key) = filter.filters().values("since").first() {
            let row = ContainerRow::find(db, key).await?;
            filter.since = Some((row.created_at, row.id));
        }
        for image in filter.filters().values("ancestor").to_vec() {
            // A name no image has matches containers by the name they were created with.
            if let Ok(row) = catalog::resolve(db, &image).await {
                filter.ancestor_ids.push(row.id);
            }
        }
        let mut published = store::all_ports(db).await?;
        let mut networks = store::all_attachments(db).await?;
        let mut list = Vec::new();
        let rows = self.rows_to_list(all).await?;
        let configs = self.inner.configs.get_all(&rows, all)?;
        for (row, config) in rows.iter().zip(configs) {
            let restarting = self.restart_pending(&row.id);
            let ports = crate::container::list_ports(
                &config.exposed_ports,
                published.remove(&row.id).unwrap_or_default(),
            );
            // `none` and `host` have no attachment rows: the mode is the network.
            let mode = ListedNetwork {
                id: config.network.clone(),
                name: config.network.clone(),
            };
            let mut summary = row.summary_with(&config)?;
            summary.restarting = restarting;
            summary.ports = ports;
            summary.networks = networks.remove(&row.id).unwrap_or_else(|| vec![mode]);
            if filter.matches(&summary) {
                list.push(summary);
                if query.limit.is_some_and(|n| list.len() >= n) {
                    break;
                }
            }
        }
        if query.size {
            let images = self.list_images().await?;
            for summary in &mut list {
                let size_rw = self.size_rw(&summary.id).await?;
                let image = images.iter().find(|i| i.id == summary.image_id);
                summary.size_rw = Some(size_rw);
                summary.size_root_fs = Some(size_rw + image.map_or(0, |i| i.size.max(0) as u64));
            }
        }
        Ok(list)
    }

    /// Every row, or (without `all`) the running and paused ones plus those waiting out a
    /// restart back-off: a plain `ps` reads no stopped container's row.
    async fn rows_to_list(&self, all: bool) -> Result<Vec<ContainerRow>> {
        let db = &self.inner.db;
        let mut rows = ContainerRow::list(db, all).await?;
        if all {
            return Ok(rows);
        }
        for id in self.inner.restarts.pending() {
            match ContainerRow::find(db, &id).await {
                Ok(row) if !rows.iter().any(|r| r.id == row.id) => rows.push(row),
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        // The catalogue's order: newest first, then by id.
        rows.sort_by(|a, b| {
            (std::cmp::Reverse(a.created_at), &a.id).cmp(&(std::cmp::Reverse(b.created_at), &b.id))
        });
        Ok(rows)
    }
}
