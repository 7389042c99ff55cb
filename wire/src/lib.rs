//! The API's vocabulary: every request body, response body and stream message that the daemon,
//! the CLI and the dashboard exchange, in one crate with no dependency beyond serde, so that
//! it builds for wasm and a message cannot drift between its writer and its reader.

pub mod alert;
pub mod auth;
pub mod board;
pub mod container;
pub mod error;
pub mod event;
pub mod exec;
pub mod files;
pub mod filters;
pub mod image;
pub mod network;
pub mod registry;
pub mod stats;
pub mod stream;
pub mod system;
pub mod units;
pub mod volume;
pub mod ws;

pub use auth::Role;
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use stats::{HostPoint, StatsPoint};
