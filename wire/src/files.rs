//! A folder of a volume (or a container's filesystem) as the file browser shows it: its
//! entries with kind, size, permissions and modification time.

use serde::{Deserialize, Serialize};

/// What an entry is. Symbolic links are shown, never followed, in a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Dir,
    File,
    Symlink,
    /// A device, socket or FIFO: listed, never opened.
    Other,
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    /// Bytes (of the link itself for a symbolic link).
    pub size: u64,
    /// The permission bits (`0o755`).
    pub mode: u32,
    /// Unix milliseconds.
    pub modified_ms: i64,
    /// Where a symbolic link points, as written in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

/// A folder's entries: folders first, then by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Listing {
    /// The folder, normalised (`/`, `/a/b`).
    pub path: String,
    pub entries: Vec<FileEntry>,
    /// The folder holds more entries than a listing shows ([`MAX_LISTED`]).
    pub truncated: bool,
}

/// The query naming a file or folder (`?path=/a/b`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PathQuery {
    /// Inside the volume; `..` and links never lead out of it. Empty is the top.
    #[serde(default)]
    pub path: String,
}

/// The most entries one listing carries.
pub const MAX_LISTED: usize = 5_000;

/// `path` made absolute and normal: `a//b/./c/../d` is `/a/b/d`, and `..` at the top stays
/// at the top (as the kernel's RESOLVE_IN_ROOT treats it).
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The folder holding `path` (`/a/b` → `/a`; `/` stays `/`).
pub fn parent(path: &str) -> String {
    let path = normalise(path);
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((head, _)) => head.to_string(),
    }
}

/// `name` inside the folder `dir`.
pub fn child(dir: &str, name: &str) -> String {
    normalise(&format!("{dir}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_never_climb_above_the_top() {
        assert_eq!(normalise(""), "/");
        assert_eq!(normalise("a//b/./c/../d"), "/a/b/d");
        assert_eq!(normalise("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(normalise("a/.."), "/");
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/"), "/");
        assert_eq!(child("/", "x"), "/x");
        assert_eq!(child("/a", "x y"), "/a/x y");
    }
}
