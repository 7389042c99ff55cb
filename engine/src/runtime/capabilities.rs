//! Linux capabilities of the container's processes: docker's default set, `--cap-add`,
//! `--cap-drop` and `--privileged` turned into one bit set, and that set applied to the
//! calling process (bounding set, then permitted/effective after the switch of user).

use super::init::{sys_err, InitError};
use super::spec::SecuritySpec;
use nix::errno::Errno;

/// Capability names and numbers, from linux/capability.h (bit `n` is capability `n`).
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Docker's default capabilities (moby's `caps.DefaultCapabilities`).
const DOCKER_DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// A set of capabilities, bit `n` standing for capability number `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapSet(pub u64);

impl CapSet {
    /// Every capability berth knows by name.
    pub fn all() -> CapSet {
        CapSet((1u64 << NAMES.len()) - 1)
    }

    /// Docker's default set: `0x00000000a80425fb` in /proc/PID/status.
    pub fn docker_default() -> CapSet {
        let mut set = CapSet(0);
        for name in DOCKER_DEFAULT {
            if let Some(n) = number(name) {
                set.0 |= 1 << n;
            }
        }
        set
    }

    pub fn contains(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    /// Names without the `CAP_` prefix, in capability order.
    pub fn names(self) -> Vec<&'static str> {
        (0..NAMES.len())
            .filter(|&n| self.contains(n as u32))
            .map(|n| NAMES[n])
            .collect()
    }
}

/// A capability name that is not one of Linux's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability {0:?}")]
pub struct UnknownCapability(pub String);

/// The number of a capability named with or without `CAP_`, in any case.
pub(crate) fn number(name: &str) -> Option<u32> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    NAMES.iter().position(|n| *n == bare).map(|n| n as u32)
}

/// The canonical spelling of a `--cap-add`/`--cap-drop` entry: `ALL`, or the capability's
/// name without `CAP_` in upper case (`net_admin` → `NET_ADMIN`).
pub fn canonical_name(name: &str) -> Result<&'static str, UnknownCapability> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" || upper == "CAP_ALL" {
        return Ok("ALL");
    }
    number(name)
        .map(|n| NAMES[n as usize])
        .ok_or_else(|| UnknownCapability(name.to_string()))
}

/// One entry of `--cap-add`/`--cap-drop`: `ALL` or a single capability.
enum Entry {
    All,
    One(u32),
}

fn parse(names: &[String]) -> Result<Vec<Entry>, UnknownCapability> {
    names
        .iter()
        .map(|name| {
            let upper = name.trim().to_ascii_uppercase();
            if upper == "ALL" || upper == "CAP_ALL" {
                Ok(Entry::All)
            } else {
                number(name)
                    .map(Entry::One)
                    .ok_or_else(|| UnknownCapability(name.clone()))
            }
        })
        .collect()
}

/// The capabilities a container gets, as docker computes them: `--privileged` gives all;
/// `--cap-add ALL` gives all but the dropped ones; `--cap-drop ALL` gives only the added
/// ones; otherwise the default set plus the added minus the dropped, where a capability both
/// added and dropped stays (moby's `TweakCapabilities`). Names are checked in every case.
pub fn resolve(security: &SecuritySpec) -> Result<CapSet, UnknownCapability> {
    let add = parse(&security.cap_add)?;
    let drop = parse(&security.cap_drop)?;
    if security.privileged {
        return Ok(CapSet::all());
    }
    let bits = |entries: &[Entry]| {
        entries.iter().fold(0u64, |acc, e| match e {
            Entry::All => CapSet::all().0,
            Entry::One(n) => acc | 1 << n,
        })
    };
    let has_all = |entries: &[Entry]| entries.iter().any(|e| matches!(e, Entry::All));
    let set = if has_all(&add) {
        CapSet::all().0 & !bits(&drop)
    } else if has_all(&drop) {
        bits(&add)
    } else {
        (CapSet::docker_default().0 & !bits(&drop)) | bits(&add)
    };
    Ok(CapSet(set))
}

/// Capabilities the running kernel supports (PR_CAPBSET_READ fails past the last one).
fn kernel_caps() -> CapSet {
    let mut set = 0u64;
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) } < 0 {
            break;
        }
        set |= 1 << cap;
    }
    CapSet(set)
}

/// First half of applying `set`, while still root with every capability: removes from the
/// bounding set what the container may never get back (PR_CAPBSET_DROP needs CAP_SETPCAP),
/// clears the ambient set, and keeps the permitted set across the coming setuid
/// (PR_SET_KEEPCAPS; capabilities(7), "Effect of user ID changes on capabilities").
pub(crate) fn limit_bounding_set(set: CapSet) -> Result<(), InitError> {
    let kernel = kernel_caps();
    for cap in 0..64u32 {
        if kernel.contains(cap) && !set.contains(cap) {
            // SAFETY: prctl with integer arguments only.
            let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            if r < 0 {
                return Err(sys_err(
                    format!("drop capability {cap} from the bounding set"),
                    Errno::last(),
                ));
            }
        }
    }
    // SAFETY: prctl with integer arguments only.
    let r = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if r < 0 {
        return Err(sys_err("clear ambient capabilities", Errno::last()));
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } < 0 {
        return Err(sys_err("keep capabilities across setuid", Errno::last()));
    }
    Ok(())
}

/// Second half, after setuid: permitted and effective become `set`, inheritable is empty.
/// Docker leaves the inheritable set empty since 20.10.14 (CVE-2022-24769: a non-empty one
/// let non-root users gain capabilities through files with inheritable file capabilities).
/// A command run as a non-root user then loses all of them at execve, as under docker: with
/// no file capabilities the new permitted set is the (empty) ambient one.
pub(crate) fn set_process_caps(set: CapSet) -> Result<(), InitError> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) } < 0 {
        return Err(sys_err("reset keep-capabilities", Errno::last()));
    }
    // Nobody gets what the shim itself does not hold (e.g. when berth runs inside a
    // container): capset(2) refuses to grow the permitted set.
    let own = capget().map_err(|e| sys_err("read own capabilities", e))?;
    let set = set.0 & kernel_caps().0 & own;
    capset(set, set, 0).map_err(|e| sys_err("set capabilities", e))
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets as two 32-bit words.
const CAP_VERSION_3: u32 = 0x2008_0522;

/// The calling process's permitted set, capget(2).
fn capget() -> Result<u64, Errno> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: a valid header and room for the two data words version 3 writes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut CapHeader,
            data.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(u64::from(data[0].permitted) | u64::from(data[1].permitted) << 32)
}

/// capset(2) for the calling process.
fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<(), Errno> {
    let header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let word = |set: u64, i: u32| (set >> (32 * i)) as u32;
    let data = [0, 1].map(|i| CapData {
        effective: word(effective, i),
        permitted: word(permitted, i),
        inheritable: word(inheritable, i),
    });
    // SAFETY: a valid header and the two data words version 3 expects.
    let r = unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// Drops every capability of the calling process (the `--init` process needs none to reap
/// and forward signals to a process of its own user).
pub(crate) fn drop_all() -> Result<(), InitError> {
    capset(0, 0, 0).map_err(|e| sys_err("drop capabilities", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(add: &[&str], drop: &[&str], privileged: bool) -> SecuritySpec {
        SecuritySpec {
            privileged,
            cap_add: add.iter().map(|s| s.to_string()).collect(),
            cap_drop: drop.iter().map(|s| s.to_string()).collect(),
            no_new_privileges: true,
            seccomp: Default::default(),
        }
    }

    #[test]
    fn default_set_is_dockers() {
        assert_eq!(CapSet::docker_default().0, 0xa804_25fb);
        assert_eq!(resolve(&sec(&[], &[], false)).unwrap().0, 0xa804_25fb);
        assert_eq!(CapSet::docker_default().names().len(), 14);
    }

    #[test]
    fn names_take_any_case_with_or_without_prefix() {
        assert_eq!(number("SYS_ADMIN"), Some(21));
        assert_eq!(number("cap_sys_admin"), Some(21));
        assert_eq!(number("Net_Admin"), Some(12));
        assert_eq!(number("CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(number("CAP_"), None);
        assert_eq!(number("ALL"), None);
    }

    #[test]
    fn add_and_drop_change_the_default_set() {
        let set = resolve(&sec(
            &["SYS_ADMIN", "cap_net_admin"],
            &["CHOWN", "KILL"],
            false,
        ))
        .unwrap();
        assert!(set.contains(21) && set.contains(12));
        assert!(!set.contains(0) && !set.contains(5));
        assert!(set.contains(1), "others stay");
        // Added and dropped: the add wins, as in docker.
        let set = resolve(&sec(&["CHOWN"], &["CHOWN"], false)).unwrap();
        assert!(set.contains(0));
    }

    #[test]
    fn all_in_add_or_drop() {
        assert_eq!(resolve(&sec(&[], &["ALL"], false)).unwrap(), CapSet(0));
        assert_eq!(
            resolve(&sec(&["NET_ADMIN"], &["all"], false)).unwrap(),
            CapSet(1 << 12)
        );
        let set = resolve(&sec(&["ALL"], &["SYS_ADMIN"], false)).unwrap();
        assert_eq!(set.0, CapSet::all().0 & !(1 << 21));
        assert_eq!(CapSet::all().0, 0x1ff_ffff_ffff);
    }

    #[test]
    fn privileged_gets_everything() {
        assert_eq!(resolve(&sec(&[], &["ALL"], true)).unwrap(), CapSet::all());
    }

    #[test]
    fn unknown_names_are_refused_even_when_privileged() {
        let err = resolve(&sec(&["SYS_WIZARD"], &[], false)).unwrap_err();
        assert_eq!(err.to_string(), "unknown capability \"SYS_WIZARD\"");
        assert!(resolve(&sec(&[], &["nope"], true)).is_err());
        assert!(resolve(&sec(&[""], &[], false)).is_err());
    }

    #[test]
    fn names_list_in_order() {
        assert_eq!(CapSet(0b101).names(), vec!["CHOWN", "DAC_READ_SEARCH"]);
    }

    #[test]
    fn capget_reads_what_proc_shows() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let prm = status
            .lines()
            .find_map(|l| l.strip_prefix("CapPrm:"))
            .unwrap()
            .trim();
        assert_eq!(format!("{:016x}", capget().unwrap()), prm);
    }
}
