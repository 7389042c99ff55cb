//! berth's embedded container engine: no HTTP, no UI.
//!
//! The public API is [`Engine`] (async functions over images and containers) plus the
//! modules' own types. One module per concept: `image` (references, content store, archives,
//! layer unpacking), `runtime` (namespaces, rootfs, cgroups, the shim), `container`
//! (lifecycle and state), `logs` (the per-container log format), `db` (the catalogue),
//! `auth` (users, sessions, tokens and the audit log of the TCP API), `alerts` (rules over
//! the engine's events, sent to webhooks).

pub mod alerts;
pub mod attach;
pub mod auth;
mod catalog;
pub mod container;
pub mod db;
pub mod digest;
mod engine;
mod error;
pub mod events;
pub mod exec;
pub mod filters;
mod fs_size;
pub mod health;
mod ids;
pub mod image;
pub mod logs;
pub mod network;
pub mod reserve;
pub mod runtime;
pub mod stats;
pub mod system;
pub mod units;
pub mod volume;

pub use catalog::details::{HistoryEntry, ImageInspect};
pub use catalog::removal::ImageDeleteRecord;
pub use catalog::ImageSummary;
pub use container::DEFAULT_CGROUP_PARENT;
pub use engine::session::{AttachRequest, AttachSession, OutputSession};
pub use engine::{
    Attached, ContainerQuery, ContainerStats, Engine, EngineConfig, ExitWaiter, ImagePruneReport,
    ListStamp, PullResult, PushResult, SavedArchive,
};
pub use error::{Error, Result};
