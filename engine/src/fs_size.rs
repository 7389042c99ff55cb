//! The one directory-size walker: bytes of the regular files under a folder.

use std::collections::HashSet;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What [`tree_size`] does with an entry it cannot read.
///
/// The two callers genuinely differ. A layer being recorded in the catalogue (unpacked,
/// imported, pulled or loaded) is a finished tree nobody else writes: an unreadable entry
/// there is a real fault, and a size that silently left it out would be stored for good, so
/// its walk fails. A volume or a container's writable layer is live: the container may delete
/// a file between the walk listing it and reading its metadata, and the number is only shown
/// (`system df`, volume lists, what a prune freed), so its walk skips what it cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// Stop and return the error.
    Fail,
    /// Leave the entry (or the folder's whole listing) out and go on; the walk never fails.
    Skip,
}

/// Bytes of the regular files under `dir`: symlinks are not followed (nor counted), and a
/// file with several hard links under `dir` is counted once (as `du` and docker's volume and
/// writable-layer sizes do). With [`Unreadable::Skip`] the result is always `Ok`, 0 for a
/// folder that cannot be listed at all.
pub(crate) fn tree_size(dir: &Path, unreadable: Unreadable) -> io::Result<u64> {
    let skip = unreadable == Unreadable::Skip;
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(_) if skip => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            // `DirEntry::metadata` does not follow symlinks.
            let meta = match entry.and_then(|entry| Ok((entry.metadata()?, entry.path()))) {
                Ok(meta) => meta,
                Err(_) if skip => continue,
                Err(e) => return Err(e),
            };
            let (meta, path) = meta;
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() && (meta.nlink() < 2 || seen.insert((meta.dev(), meta.ino())))
            {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_once_and_does_not_follow_symlinks() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/a"), vec![0u8; 1000]).expect("write");
        std::fs::hard_link(dir.path().join("sub/a"), dir.path().join("b")).expect("link");
        std::fs::write(dir.path().join("c"), b"xyz").expect("write");
        std::os::unix::fs::symlink("/usr", dir.path().join("out")).expect("symlink");
        for unreadable in [Unreadable::Fail, Unreadable::Skip] {
            assert_eq!(tree_size(dir.path(), unreadable).expect("size"), 1003);
        }
    }

    #[test]
    fn a_missing_folder_fails_or_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gone = dir.path().join("gone");
        assert!(tree_size(&gone, Unreadable::Fail).is_err());
        assert_eq!(tree_size(&gone, Unreadable::Skip).expect("size"), 0);
    }
}
