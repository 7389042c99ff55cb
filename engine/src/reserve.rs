//! Space held in reserve on the data root's file system: a file of allocated blocks that the
//! engine gives up when a write fails for want of space, so that the writes that end a
//! container (its exit, a stop, a removal) still fit on a disk a container has filled. It is
//! taken back once the file system has room again.

use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bytes held: SQLite's write-ahead log needs a few pages per statement, an exit record
/// one block; this leaves room for thousands of them.
pub const RESERVE_BYTES: u64 = 8 << 20;

/// The reserve file of one data root.
pub struct Reserve {
    path: PathBuf,
    held: Mutex<bool>,
}

impl Reserve {
    /// The reserve at `root/reserve.space`, taken now if the file system has room for it.
    pub fn open(root: &Path) -> Reserve {
        let reserve = Reserve {
            path: root.join("reserve.space"),
            held: Mutex::new(false),
        };
        reserve.restore();
        reserve
    }

    fn held(&self) -> std::sync::MutexGuard<'_, bool> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the space is held now.
    pub fn is_held(&self) -> bool {
        *self.held()
    }

    /// Gives the space back to the file system; says whether there was any to give.
    pub fn release(&self) -> bool {
        let mut held = self.held();
        if !*held {
            return false;
        }
        *held = false;
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::warn!(
                    "the data root is full: released {} MiB held in reserve so that exits, stops and removals can be recorded; free some space",
                    RESERVE_BYTES >> 20
                );
                true
            }
            Err(e) => {
                tracing::warn!("cannot release the reserve {}: {e}", self.path.display());
                false
            }
        }
    }

    /// Takes the space again if it is not held and the file system has at least four times
    /// as much free (so that taking it does not fill the disk again).
    pub fn restore(&self) {
        let mut held = self.held();
        if *held {
            return;
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let room = free_bytes(dir).is_ok_and(|free| free >= 4 * RESERVE_BYTES);
        let existing = std::fs::metadata(&self.path).is_ok_and(|m| m.len() == RESERVE_BYTES);
        if existing || (room && allocate(&self.path).is_ok()) {
            *held = true;
        } else {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Creates `path` with RESERVE_BYTES of allocated blocks (fallocate(2): real blocks, not a
/// sparse file).
fn allocate(path: &Path) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let file = std::fs::File::create(&tmp)?;
    // SAFETY: fallocate(2) on our own descriptor, mode 0 (allocate and extend).
    let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, RESERVE_BYTES as libc::off_t) };
    if r != 0 {
        let e = io::Error::last_os_error();
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)
}

/// Bytes an unprivileged writer could still allocate on `dir`'s file system.
fn free_bytes(dir: &Path) -> io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(dir).map_err(io::Error::from)?;
    Ok(stat.blocks_available() as u64 * stat.fragment_size() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_taken_released_and_taken_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reserve = Reserve::open(dir.path());
        let file = dir.path().join("reserve.space");
        assert!(reserve.is_held());
        let meta = std::fs::metadata(&file).expect("reserve file");
        assert_eq!(meta.len(), RESERVE_BYTES);
        use std::os::unix::fs::MetadataExt;
        assert!(
            meta.blocks() * 512 >= RESERVE_BYTES,
            "allocated, not sparse"
        );
        assert!(reserve.release());
        assert!(!file.exists() && !reserve.is_held());
        assert!(!reserve.release(), "nothing left to give");
        reserve.restore();
        assert!(reserve.is_held() && file.exists());
        // A daemon restart finds it held.
        drop(reserve);
        assert!(Reserve::open(dir.path()).is_held());
    }
}
