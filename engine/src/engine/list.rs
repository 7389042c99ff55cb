//! `ps`: the container list, newest first, with docker's filters and `--last`; a container's
//! writable-layer size (`ps -s`, `system df`).

use super::Containers;
use crate::container::list_cache::{self, ListSnapshot};
use crate::container::{ContainerFilter, ContainerRow, ContainerSummary};
use crate::filters::Filters;
use crate::network::store;
use crate::{catalog, Error, Result};
use std::sync::Arc;

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

/// What a container list shows, as of one moment: equal stamps mean equal answers to one
/// query. Read it *before* listing, so that an answer kept with it is never older than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListStamp {
    catalogue: i64,
    restarts: u64,
    /// Changes of containers' health (statuses are in memory, not in the catalogue).
    health: u64,
}

impl Containers {
    /// The container list's current stamp for `query` (one counter row and one in-memory
    /// counter), or `None` when its answer depends on more: sizes walk the files, and an
    /// `ancestor` filter names images, which the stamp does not cover.
    pub async fn container_list_stamp(&self, query: &ContainerQuery) -> Result<Option<ListStamp>> {
        if query.size || query.filters.contains("ancestor") {
            return Ok(None);
        }
        let restarts = self.inner.restarts.changes();
        let health = self.inner.health.changes();
        Ok(Some(ListStamp {
            catalogue: list_cache::generation(&self.inner.db).await?,
            restarts,
            health,
        }))
    }

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
        let snapshot = self.list_snapshot().await?;
        let mut list = Vec::new();
        for listed in &snapshot.all {
            // Without `all`: the running and paused ones plus those waiting out a restart
            // back-off.
            let restarting = self.restart_pending(&listed.id);
            if !all && !restarting && !listed.state.is_alive() {
                continue;
            }
            let mut summary = listed.clone();
            summary.restarting = restarting;
            summary.health = self.inner.health.status(&listed.id);
            if !filter.matches(&summary) {
                continue;
            }
            list.push(summary);
            if query.limit.is_some_and(|n| list.len() >= n) {
                break;
            }
        }
        if query.size {
            let images = self.inner.images.list().await?;
            for summary in &mut list {
                let size_rw = self.size_rw(&summary.id).await?;
                let image = images.iter().find(|i| i.id == summary.image_id);
                summary.size_rw = Some(size_rw);
                summary.size_root_fs = Some(size_rw + image.map_or(0, |i| i.size.max(0) as u64));
            }
        }
        Ok(list)
    }

    /// Every container's summary as of the catalogue's current generation: built once per
    /// change (see [`crate::container::ListCache`]).
    async fn list_snapshot(&self) -> Result<Arc<ListSnapshot>> {
        let db = &self.inner.db;
        let generation = list_cache::generation(db).await?;
        if let Some(snapshot) = self.inner.lists.get(generation) {
            return Ok(snapshot);
        }
        let mut published = store::all_ports(db).await?;
        let mut networks = store::all_attachments(db).await?;
        let rows = ContainerRow::list(db, true).await?;
        let configs = self.inner.configs.get_all(&rows)?;
        let mut all = Vec::with_capacity(rows.len());
        for (row, config) in rows.iter().zip(configs) {
            let mut summary = row.summary_with(&config)?;
            summary.ports = crate::container::list_ports(
                &config.exposed_ports,
                published.remove(&row.id).unwrap_or_default(),
            );
            summary.networks = networks
                .remove(&row.id)
                .unwrap_or_else(|| vec![list_cache::mode_network(&config.network)]);
            all.push(summary);
        }
        let snapshot = Arc::new(ListSnapshot { generation, all });
        self.inner.lists.put(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    /// Bytes written into a container's writable layer (walked on a blocking thread).
    pub(super) async fn size_rw(&self, id: &str) -> Result<u64> {
        let upper = self.container_dir(id).join("upper");
        tokio::task::spawn_blocking(move || {
            crate::fs_size::tree_size(&upper, crate::fs_size::Unreadable::Skip).unwrap_or(0)
        })
        .await
        .map_err(|e| Error::Conflict(format!("measuring a container was interrupted: {e}")))
    }
}
