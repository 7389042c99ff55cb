//! The stats files a sampler reads every second, kept open between samples.
//!
//! Opening `memory.stat` of a cgroup or `/proc/PID/net/dev` walks the path through kernfs
//! and procfs on every open: with 500 watched containers (7 files each) the `openat` path
//! walks were a third of the daemon's CPU (`perf record`). Both kinds are seq_files, and a
//! read at position 0 starts the file's records again (fs/seq_file.c, `seq_read_iter`: "if
//! request is to read from zero offset, reset iterator to first record"), so `pread(fd, …, 0)`
//! of a kept descriptor gives the file's contents as a fresh open would. A read that fails
//! (ENODEV once a cgroup is removed) drops the descriptor and the path is opened again.
//!
//! Descriptors are limited: all samplers together keep at most half of the process's soft
//! `RLIMIT_NOFILE` ([`Budget`]); the other half is for connections, logs, the database and
//! the shims. Past the budget a file is opened and closed per read, as before. The limit is
//! not raised: containers would inherit a raised one.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// How many descriptors the samplers may keep open together.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    pub(crate) const fn new(limit: usize) -> Budget {
        Budget {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// The process's budget: half its soft descriptor limit.
    pub(crate) fn process() -> &'static Budget {
        static BUDGET: OnceLock<Budget> = OnceLock::new();
        BUDGET.get_or_init(|| {
            let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024);
            Budget::new(usize::try_from(soft / 2).unwrap_or(usize::MAX))
        })
    }

    /// One descriptor of the budget, or `None` when it is spent.
    fn take(&'static self) -> Option<Lease> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Lease(self))
    }

    /// Descriptors kept now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// A descriptor counted against a [`Budget`]; returned when dropped.
#[derive(Debug)]
struct Lease(&'static Budget);

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One sampler's open files, by path, and the buffer they are read into.
#[derive(Debug)]
pub(crate) struct KeptFiles {
    budget: &'static Budget,
    files: HashMap<PathBuf, (File, Lease)>,
    buf: Vec<u8>,
}

impl KeptFiles {
    pub(crate) fn new(budget: &'static Budget) -> KeptFiles {
        KeptFiles {
            budget,
            files: HashMap::new(),
            buf: Vec::new(),
        }
    }

    /// The whole of `path`, through its kept descriptor when there is one; the open's error
    /// (NotFound for a file the controller lacks) otherwise.
    pub(crate) fn read(&mut self, path: &Path) -> io::Result<String> {
        if let Some((file, _)) = self.files.get(path) {
            match read_all_at_zero(file, &mut self.buf) {
                Ok(len) => return text(&self.buf[..len]),
                // Gone (ENODEV) or failing: opened again below, or the open says why.
                Err(_) => {
                    self.files.remove(path);
                }
            }
        }
        let file = File::open(path)?;
        let len = read_all_at_zero(&file, &mut self.buf)?;
        let contents = text(&self.buf[..len])?;
        if let Some(lease) = self.budget.take() {
            self.files.insert(path.to_path_buf(), (file, lease));
        }
        Ok(contents)
    }

    /// Descriptors this sampler keeps.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.files.len()
    }
}

/// Reads `file` from position 0 to its end into `buf` (grown as needed); the length read.
/// A seq_file read returns at most one buffer of records, so a short read is not the end:
/// only a read of 0 is.
fn read_all_at_zero(file: &File, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize((buf.len() * 2).max(4096), 0);
        }
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => return Ok(len),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn text(bytes: &[u8]) -> io::Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn leaked(limit: usize) -> &'static Budget {
        Box::leak(Box::new(Budget::new(limit)))
    }

    #[test]
    fn a_kept_file_is_read_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory.current");
        fs::write(&path, "4096\n").unwrap();
        let mut files = KeptFiles::new(leaked(8));
        assert_eq!(files.read(&path).unwrap(), "4096\n");
        assert_eq!(files.kept(), 1);
        // Rewritten in place (same inode, as the kernel regenerates a seq_file): the kept
        // descriptor reads the new contents, shorter ones too.
        fs::write(&path, "12\n").unwrap();
        assert_eq!(files.read(&path).unwrap(), "12\n");
        // Larger than one read buffer: read to the end.
        let big = "x".repeat(10_000);
        fs::write(&path, &big).unwrap();
        assert_eq!(files.read(&path).unwrap(), big);
        assert_eq!(files.kept(), 1, "still the one descriptor");
        let err = files.read(&dir.path().join("io.stat")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn the_budget_caps_kept_descriptors_and_gets_them_back() {
        let budget = leaked(2);
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..3)
            .map(|i| {
                let p = dir.path().join(format!("f{i}"));
                fs::write(&p, format!("{i}")).unwrap();
                p
            })
            .collect();
        let mut a = KeptFiles::new(budget);
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(
                a.read(p).unwrap(),
                i.to_string(),
                "read past the budget too"
            );
        }
        assert_eq!((a.kept(), budget.used()), (2, 2));
        let mut b = KeptFiles::new(budget);
        assert_eq!(b.read(&paths[2]).unwrap(), "2");
        assert_eq!(b.kept(), 0, "the budget is spent");
        drop(a);
        assert_eq!(
            budget.used(),
            0,
            "a dropped sampler returns its descriptors"
        );
        b.read(&paths[2]).unwrap();
        assert_eq!((b.kept(), budget.used()), (1, 1));
    }

    #[test]
    fn a_file_that_fails_is_opened_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpu.stat");
        fs::write(&path, "usage_usec 1\n").unwrap();
        let mut files = KeptFiles::new(leaked(4));
        files.read(&path).unwrap();
        // A kept descriptor that cannot be read (a directory stands in for a removed
        // cgroup's file, whose reads fail with ENODEV).
        let break_it = |files: &mut KeptFiles| {
            let broken = File::open(dir.path()).unwrap();
            let lease = files.budget.take().unwrap();
            files.files.insert(path.clone(), (broken, lease));
        };
        break_it(&mut files);
        assert_eq!(files.read(&path).unwrap(), "usage_usec 1\n");
        assert_eq!(files.kept(), 1);
        fs::remove_file(&path).unwrap();
        break_it(&mut files);
        assert_eq!(
            files.read(&path).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!((files.kept(), files.budget.used()), (0, 0));
    }
}
