//! berth's embedded container engine: no HTTP, no UI.
//!
//! The public API is [`Engine`], a cheap handle over one service per concept, plus the
//! modules' own types. Where each concept's verbs are:
//!
//! | concept    | service (its stores)                                     | file                     |
//! |------------|----------------------------------------------------------|--------------------------|
//! | images     | [`Images`] (`engine.images()`): image store, registries, image lock, pull queue | `engine/images.rs`, `engine/images/{pull,push}.rs` |
//! | volumes    | [`Volumes`] (`engine.volumes()`): volume folders, their lock and sizes | `engine/volumes.rs` |
//! | networks   | [`Networks`] (`engine.networks()`): bridge settings, port proxies, netns | `engine/networks.rs` |
//! | containers | [`Containers`] (`engine.containers()`): locks, exit watches, root mounts, caches, execs, restarts, seccomp, health, stats, space reserve, discard folder | `engine/containers.rs` (lifecycle), `engine/{attach,exec,health,list,reconcile,restart,session,stats}.rs` |
//! | system     | [`System`] (`engine.system()`): data root; `df`, `prune`, `info` | `engine/system.rs` |
//! | events     | `engine.events(query)` over `Events`: the event bus, docker's actors | `engine/events.rs` |
//! | auth       | [`auth::Auth`] (`engine.auth()`)                          | `auth/`                  |
//! | alerts     | [`alerts::Alerts`] (`engine.alerts()`)                    | `alerts/`                |
//!
//! `engine.rs` itself only opens the services and hands them out. The services share the
//! catalogue (`db`) and the events service; the containers service, whose lifecycle crosses
//! images, volumes and networks, holds shared handles (`Arc`) to them, and the system
//! service, which gathers everyone's numbers, holds handles to all four. Below the services, one module per concept holds
//! the rules and formats: `image` (references, content store, archives, layer unpacking),
//! `catalog` (images' rows), `volume`, `network`, `container` (configs, rows, names, state),
//! `runtime` (namespaces, rootfs, cgroups, the shim), `logs` (the per-container log format),
//! `events`, `stats`, `health`, `exec`, `db` (the catalogue). General helpers that belong to
//! no concept: `ids` (random hex ids), [`units`] (sizes, CPUs, signals, times users type),
//! `fs_size` (the one directory-size walker), `discard` (trees renamed away, then deleted).

pub mod alerts;
pub mod attach;
pub mod auth;
mod catalog;
pub mod container;
pub mod db;
pub mod digest;
mod discard;
mod engine;
mod error;
pub mod events;
pub mod exec;
pub mod files;
pub mod filters;
mod fs_size;
pub mod health;
mod ids;
pub mod image;
pub mod logs;
pub mod network;
mod phases;
#[cfg(test)]
mod proptest_cases;
pub mod reserve;
pub mod runtime;
pub mod stats;
pub mod system;
pub mod units;
pub mod volume;

pub use catalog::details::{HistoryEntry, ImageInspect};
pub use catalog::filter::created_seconds;
pub use catalog::removal::ImageDeleteRecord;
pub use catalog::ImageSummary;
pub use container::DEFAULT_CGROUP_PARENT;
pub use engine::session::{AttachRequest, AttachSession, OutputSession};
pub use engine::{
    Attached, ContainerQuery, ContainerStats, Containers, Engine, EngineConfig, ExitWaiter,
    ImagePruneReport, Images, ListStamp, Networks, PullResult, PushResult, SavedArchive, System,
    Volumes,
};
pub use error::{Error, Result};
