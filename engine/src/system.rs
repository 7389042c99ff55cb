//! The host-wide views: disk usage (`system df`: images with shared layers counted once,
//! containers' writable layers, volumes) and `info` (counts, kernel, cgroup version, storage).

use crate::image::LayerInfo;
use std::collections::HashMap;
use std::path::Path;

pub use berth_wire::system::{
    ContainerUsage, DiskUsage, ImageUsage, SystemInfo, SystemPruneReport,
};

/// Layer accounting over every image: (total of distinct layers, per image (size, shared)).
pub fn layer_usage(images: &[(String, Vec<LayerInfo>)]) -> (u64, HashMap<String, (u64, u64)>) {
    let mut users: HashMap<crate::digest::Digest, (u64, u64)> = HashMap::new();
    for (_, layers) in images {
        // A layer listed twice in one image is still one layer of it.
        let mut seen = std::collections::HashSet::new();
        for layer in layers {
            if seen.insert(layer.chain_id) {
                let entry = users.entry(layer.chain_id).or_insert((layer.size, 0));
                entry.1 += 1;
            }
        }
    }
    let total = users.values().map(|(size, _)| size).sum();
    let per_image = images
        .iter()
        .map(|(id, layers)| {
            let mut seen = std::collections::HashSet::new();
            let (mut size, mut shared) = (0, 0);
            for layer in layers {
                if !seen.insert(layer.chain_id) {
                    continue;
                }
                size += layer.size;
                if users.get(&layer.chain_id).is_some_and(|u| u.1 > 1) {
                    shared += layer.size;
                }
            }
            (id.clone(), (size, shared))
        })
        .collect();
    (total, per_image)
}

/// The kernel's name for the machine and its release (uname(2)).
pub fn uname() -> (String, String) {
    match nix::sys::utsname::uname() {
        Ok(u) => (
            u.machine().to_string_lossy().into_owned(),
            u.release().to_string_lossy().into_owned(),
        ),
        Err(_) => (std::env::consts::ARCH.to_string(), String::new()),
    }
}

/// `PRETTY_NAME` of os-release(5), else "Linux".
pub fn operating_system() -> String {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    pretty_name(&text).unwrap_or_else(|| "Linux".to_string())
}

fn pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.strip_prefix("PRETTY_NAME=")?;
        Some(value.trim().trim_matches('"').to_string())
    })
}

/// Total memory in bytes (/proc/meminfo's MemTotal).
pub fn mem_total() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The filesystem holding `path`, named as docker's `Backing Filesystem` names it.
pub fn backing_filesystem(path: &Path) -> String {
    use nix::sys::statfs::{
        statfs, BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, TMPFS_MAGIC, XFS_SUPER_MAGIC,
    };
    let Ok(fs) = statfs(path) else {
        return "unknown".to_string();
    };
    let magic = fs.filesystem_type();
    let name = if magic == EXT4_SUPER_MAGIC {
        "extfs"
    } else if magic == XFS_SUPER_MAGIC {
        "xfs"
    } else if magic == BTRFS_SUPER_MAGIC {
        "btrfs"
    } else if magic == TMPFS_MAGIC {
        "tmpfs"
    } else if magic.0 == 0x794c_7630 {
        "overlayfs"
    } else {
        return format!("0x{:x}", magic.0);
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    fn layer(n: u8, size: u64) -> LayerInfo {
        let hex = format!("{n:02x}").repeat(32);
        let digest: Digest = format!("sha256:{hex}").parse().unwrap();
        LayerInfo {
            blob_digest: digest,
            diff_id: digest,
            chain_id: digest,
            size,
        }
    }

    #[test]
    fn shared_layers_count_once_in_the_total() {
        let images = vec![
            ("a".to_string(), vec![layer(1, 100), layer(2, 10)]),
            ("b".to_string(), vec![layer(1, 100), layer(3, 5)]),
            ("c".to_string(), vec![layer(4, 7)]),
        ];
        let (total, per) = layer_usage(&images);
        assert_eq!(total, 122);
        assert_eq!(per["a"], (110, 100));
        assert_eq!(per["b"], (105, 100));
        assert_eq!(per["c"], (7, 0));
    }

    #[test]
    fn the_os_name_comes_from_os_release() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(pretty_name(text).unwrap(), "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(pretty_name("ID=x"), None);
    }
}
