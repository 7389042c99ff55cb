//! The engine's crate-level error: every module's error gathered, plus the user-facing kinds
//! (not found, conflict, invalid input) that adapters map to HTTP statuses and exit codes.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such {kind}: {id}")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    #[error(transparent)]
    Registry(#[from] crate::image::registry::RegistryError),
    /// The container's command was not found in it (a shell's 127).
    #[error("{0}")]
    CommandNotFound(String),
    /// The container's command exists but cannot be executed (a shell's 126).
    #[error("{0}")]
    CommandNotExecutable(String),
    #[error(transparent)]
    Runtime(crate::runtime::RuntimeError),
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error(transparent)]
    Alert(#[from] crate::alerts::AlertError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("failed to {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt record in the catalogue: {0}")]
    Corrupt(String),
}

impl From<crate::runtime::RuntimeError> for Error {
    /// The command's own failures become kinds of their own; the rest stays a runtime error.
    fn from(err: crate::runtime::RuntimeError) -> Self {
        use crate::runtime::RuntimeError as R;
        match err {
            R::CommandNotFound(message) => Error::CommandNotFound(message),
            R::CommandNotExecutable(message) => Error::CommandNotExecutable(message),
            other => Error::Runtime(other),
        }
    }
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            id: id.into(),
        }
    }
}
