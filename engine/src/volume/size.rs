//! A volume's size on disk, measured by walking its folder on a blocking thread (never on the
//! async executor) and cached for a short while, so lists of many volumes or a busy dashboard
//! do not walk the same tree again and again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a measured size is reused.
const FRESH: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(crate) struct SizeCache {
    sizes: Mutex<HashMap<String, (Instant, u64)>>,
}

impl SizeCache {
    /// The bytes under `dir` (volume `name`), from the cache when fresh.
    pub async fn measure(&self, name: &str, dir: PathBuf) -> u64 {
        self.measure_by(name, dir, tree_size).await
    }

    /// `measure` with the walk given, so a test can see where it runs.
    async fn measure_by(
        &self,
        name: &str,
        dir: PathBuf,
        walk: impl FnOnce(&Path) -> u64 + Send + 'static,
    ) -> u64 {
        if let Some((at, size)) = self.lock().get(name).copied() {
            if at.elapsed() < FRESH {
                return size;
            }
        }
        let size = tokio::task::spawn_blocking(move || walk(&dir))
            .await
            .unwrap_or(0);
        self.lock().insert(name.to_string(), (Instant::now(), size));
        size
    }

    /// The bytes under `dir` now (prune reports what it frees), cached for later readers.
    pub async fn measure_now(&self, name: &str, dir: PathBuf) -> u64 {
        self.forget(name);
        self.measure(name, dir).await
    }

    pub fn forget(&self, name: &str) {
        self.lock().remove(name);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, u64)>> {
        self.sizes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Bytes of the files under `dir`, symlinks not followed, hard links counted once (as
/// docker's volume size); what cannot be read is left out (the volume may be in use).
fn tree_size(dir: &Path) -> u64 {
    crate::fs_size::tree_size(dir, crate::fs_size::Unreadable::Skip).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk runs off the executor: on a one-thread runtime, the walk waits for a signal
    /// that only another task on that runtime sends. A walk on the executor would wait in vain
    /// (and report `u64::MAX` after its timeout).
    #[test]
    fn measuring_leaves_the_executor_free_and_caches() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a"), b"0123456789").expect("write");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let cache = SizeCache::default();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let size = runtime.block_on(async {
            let measuring = cache.measure_by("v", dir.path().to_path_buf(), move |dir| match wait
                .recv_timeout(Duration::from_secs(10))
            {
                Ok(()) => tree_size(dir),
                Err(_) => u64::MAX,
            });
            let other = async move {
                tokio::task::yield_now().await;
                go.send(()).expect("the walk is waiting");
            };
            tokio::join!(measuring, other).0
        });
        assert_ne!(size, u64::MAX, "the executor was blocked while measuring");
        assert_eq!(size, 10);
        // Fresh sizes come from the cache: a file added now is not walked for yet.
        std::fs::write(dir.path().join("more"), b"x").expect("write");
        let again = runtime.block_on(cache.measure("v", dir.path().to_path_buf()));
        assert_eq!(again, 10);
    }
}
