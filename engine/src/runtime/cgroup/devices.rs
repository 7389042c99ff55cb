//! Which device nodes a container may create and open: docker's default allow list, and how
//! each cgroup version enforces it (v1 `devices.deny`/`devices.allow` lines; v2 a BPF program
//! built in `devices_bpf.rs`).
//!
//! Without this, a container root with CAP_MKNOD (in docker's default set) could `mknod` a
//! host disk node and read it. The rules follow runc's defaults, trimmed to the nodes the
//! runtime's /dev actually has (`rootfs.rs`) plus the container's own ptys.

use crate::runtime::spec::{DeviceSpec, SecuritySpec};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of node a rule is about (cgroup-v1/devices.rst: `a`, `c` or `b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// Both kinds (`a`).
    All,
    Char,
    Block,
}

/// Access a rule grants; a set of `r` (open for reading), `w` (open for writing) and `m`
/// (mknod). Stored and sent as its letters ("rwm", "r").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Access(u8);

impl Access {
    pub const MKNOD: Access = Access(1);
    pub const READ: Access = Access(2);
    pub const WRITE: Access = Access(4);
    pub const ALL: Access = Access(7);

    /// The union of two sets.
    pub const fn with(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }

    /// Whether every access in `other` is in `self`.
    pub fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits as bpf.h's `BPF_DEVCG_ACC_MKNOD | _READ | _WRITE` (same values).
    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    /// Parses a permission string as docker's `validDeviceMode`: one or more of `r`, `w` and
    /// `m`, each at most once, in any order. Anything else (empty, `rwz`, `rr`) is `None`.
    pub fn parse(text: &str) -> Option<Access> {
        let mut access = Access(0);
        for c in text.chars() {
            let bit = match c {
                'r' => Access::READ,
                'w' => Access::WRITE,
                'm' => Access::MKNOD,
                _ => return None,
            };
            if access.contains(bit) {
                return None;
            }
            access = access.with(bit);
        }
        (access.0 != 0).then_some(access)
    }
}

impl TryFrom<String> for Access {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Access::parse(&text).ok_or_else(|| format!("invalid device access {text:?}"))
    }
}

impl From<Access> for String {
    fn from(access: Access) -> String {
        access.to_string()
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bit, c) in [
            (Access::READ, 'r'),
            (Access::WRITE, 'w'),
            (Access::MKNOD, 'm'),
        ] {
            if self.contains(bit) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// One allow rule; `None` for a major or minor number means any (`*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: Access,
}

impl DeviceRule {
    const fn char(major: u32, minor: Option<u32>, access: Access) -> Self {
        DeviceRule {
            kind: DeviceKind::Char,
            major: Some(major),
            minor,
            access,
        }
    }

    /// Whether this rule allows `access` to the node `kind` `major:minor` (`kind` is the
    /// node's, never `All`).
    pub fn allows(&self, kind: DeviceKind, major: u32, minor: u32, access: Access) -> bool {
        (self.kind == DeviceKind::All || self.kind == kind)
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
            && self.access.contains(access)
    }

    /// The rule as a line for v1 `devices.allow`: "c 1:3 rwm", "b *:* m", "a".
    pub fn v1_line(&self) -> String {
        let number = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let kind = match self.kind {
            DeviceKind::All => 'a',
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        };
        format!(
            "{kind} {}:{} {}",
            number(self.major),
            number(self.minor),
            self.access
        )
    }
}

const RWM: Access = Access::ALL;
const RW: Access = Access::READ.with(Access::WRITE);

/// The nodes every container may use. Creating any node stays allowed (opening it does not),
/// as in runc, so images that `mknod` during setup keep working.
pub const DEFAULT_RULES: [DeviceRule; 10] = [
    DeviceRule {
        kind: DeviceKind::Char,
        major: None,
        minor: None,
        access: Access::MKNOD,
    },
    DeviceRule {
        kind: DeviceKind::Block,
        major: None,
        minor: None,
        access: Access::MKNOD,
    },
    // The nodes rootfs.rs binds into /dev: null, zero, full, random, urandom, tty.
    DeviceRule::char(1, Some(3), RWM),
    DeviceRule::char(1, Some(5), RWM),
    DeviceRule::char(1, Some(7), RWM),
    DeviceRule::char(1, Some(8), RWM),
    DeviceRule::char(1, Some(9), RWM),
    DeviceRule::char(5, Some(0), RWM),
    // /dev/ptmx → pts/ptmx of the container's own devpts instance (5:2), and its ptys
    // (Unix98 pty slaves, major 136; devices.txt).
    DeviceRule::char(5, Some(2), RWM),
    DeviceRule::char(136, None, RW),
];

/// What a container may do with devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePolicy {
    /// No restriction (`--privileged`).
    AllowAll,
    /// Only these rules; everything else is denied.
    Only(Vec<DeviceRule>),
}

impl DevicePolicy {
    /// docker's choice: privileged containers use every device, others [`DEFAULT_RULES`].
    pub fn for_security(security: &SecuritySpec) -> Self {
        Self::for_container(security, &[])
    }

    /// As [`for_security`](Self::for_security), plus one rule per `--device` node: exactly its
    /// kind and numbers, with its access. Rules only add (a v1 access is allowed when one
    /// exception covers it, cgroup-v1/devices.rst), so a device whose numbers the defaults
    /// already allow fully (`--device /dev/zero:/dev/z:r`) stays fully usable, and `m`
    /// changes nothing while the defaults allow mknod of every node — as with docker, whose
    /// defaults are runc's. `--privileged` allows everything whatever the devices say.
    pub fn for_container(security: &SecuritySpec, devices: &[DeviceSpec]) -> Self {
        if security.privileged {
            return DevicePolicy::AllowAll;
        }
        let mut rules = DEFAULT_RULES.to_vec();
        for device in devices {
            let rule = DeviceRule {
                kind: device.kind,
                major: Some(device.major),
                minor: Some(device.minor),
                access: device.access,
            };
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        DevicePolicy::Only(rules)
    }

    /// Whether the policy allows `access` to the node `kind` `major:minor`.
    pub fn allows(&self, kind: DeviceKind, major: u32, minor: u32, access: Access) -> bool {
        match self {
            DevicePolicy::AllowAll => true,
            DevicePolicy::Only(rules) => rules.iter().any(|r| r.allows(kind, major, minor, access)),
        }
    }

    /// The v1 writes that put this policy in place, in order: (file, line). Each line is
    /// its own write(2), as the kernel parses one rule per write (cgroup-v1/devices.rst).
    pub(crate) fn v1_writes(&self) -> Vec<(&'static str, String)> {
        match self {
            DevicePolicy::AllowAll => vec![("devices.allow", "a".to_string())],
            DevicePolicy::Only(rules) => {
                // "echo a > devices.deny" drops every inherited exception and makes the
                // default deny; the allow lines then add the exceptions back.
                let mut writes = vec![("devices.deny", "a".to_string())];
                writes.extend(rules.iter().map(|r| ("devices.allow", r.v1_line())));
                writes
            }
        }
    }
}

impl Default for DevicePolicy {
    fn default() -> Self {
        DevicePolicy::Only(DEFAULT_RULES.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_lines_use_the_kernel_syntax() {
        let lines: Vec<String> = DEFAULT_RULES.iter().map(DeviceRule::v1_line).collect();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[1], "b *:* m");
        assert_eq!(lines[2], "c 1:3 rwm");
        assert_eq!(lines[9], "c 136:* rw");
        let all = DeviceRule {
            kind: DeviceKind::All,
            major: None,
            minor: None,
            access: Access::READ,
        };
        assert_eq!(all.v1_line(), "a *:* r");
    }

    #[test]
    fn v1_writes_deny_everything_then_allow_the_rules() {
        let writes = DevicePolicy::default().v1_writes();
        assert_eq!(writes[0], ("devices.deny", "a".to_string()));
        assert_eq!(writes.len(), 1 + DEFAULT_RULES.len());
        assert!(writes[1..].iter().all(|(f, _)| *f == "devices.allow"));
        assert_eq!(
            DevicePolicy::AllowAll.v1_writes(),
            vec![("devices.allow", "a".to_string())]
        );
    }

    #[test]
    fn the_default_policy_allows_the_dev_nodes_and_mknod_only() {
        let p = DevicePolicy::default();
        let rw = Access::READ.with(Access::WRITE);
        for minor in [3, 5, 7, 8, 9] {
            assert!(p.allows(DeviceKind::Char, 1, minor, rw), "1:{minor}");
        }
        assert!(p.allows(DeviceKind::Char, 5, 0, rw), "tty");
        assert!(p.allows(DeviceKind::Char, 5, 2, rw), "ptmx");
        assert!(p.allows(DeviceKind::Char, 136, 7, rw), "a pty");
        // /dev/mem, a disk, a disk opened as a char node, the host's console.
        assert!(!p.allows(DeviceKind::Char, 1, 1, Access::READ));
        assert!(!p.allows(DeviceKind::Block, 8, 0, Access::READ));
        assert!(!p.allows(DeviceKind::Char, 8, 0, Access::WRITE));
        assert!(!p.allows(DeviceKind::Char, 5, 1, Access::READ));
        // Creating nodes is allowed, of either kind.
        assert!(p.allows(DeviceKind::Block, 8, 0, Access::MKNOD));
        assert!(p.allows(DeviceKind::Char, 1, 1, Access::MKNOD));
        // One rule must grant the whole request: none grants mknod and read of 1:1 together.
        assert!(!p.allows(DeviceKind::Char, 1, 1, Access::READ.with(Access::MKNOD)));
    }

    #[test]
    fn permissions_parse_as_dockers_device_modes() {
        assert_eq!(Access::parse("rwm"), Some(Access::ALL));
        assert_eq!(Access::parse("mwr"), Some(Access::ALL));
        assert_eq!(Access::parse("r"), Some(Access::READ));
        assert_eq!(
            Access::parse("wm").map(|a| a.to_string()).as_deref(),
            Some("wm")
        );
        for bad in ["", "rwz", "rr", "R", "rw m", "a"] {
            assert_eq!(Access::parse(bad), None, "{bad:?}");
        }
        let json = serde_json::to_string(&Access::READ.with(Access::MKNOD)).unwrap();
        assert_eq!(json, "\"rm\"");
        assert!(serde_json::from_str::<Access>("\"x\"").is_err());
    }

    #[test]
    fn each_device_adds_one_rule_for_exactly_its_numbers() {
        let node = |kind, major, minor, access| DeviceSpec {
            path: "/dev/x".into(),
            kind,
            major,
            minor,
            mode: 0o666,
            uid: 0,
            gid: 0,
            access,
        };
        let devices = [
            node(DeviceKind::Char, 10, 229, Access::READ),
            node(DeviceKind::Block, 7, 0, Access::ALL),
            // Already a default rule: not repeated.
            node(DeviceKind::Char, 1, 3, Access::ALL),
        ];
        let policy = DevicePolicy::for_container(&SecuritySpec::default(), &devices);
        let DevicePolicy::Only(rules) = &policy else {
            panic!("{policy:?}")
        };
        assert_eq!(rules.len(), DEFAULT_RULES.len() + 2);
        assert_eq!(rules[DEFAULT_RULES.len()].v1_line(), "c 10:229 r");
        assert_eq!(rules[DEFAULT_RULES.len() + 1].v1_line(), "b 7:0 rwm");
        assert!(policy.allows(DeviceKind::Char, 10, 229, Access::READ));
        assert!(!policy.allows(DeviceKind::Char, 10, 229, Access::WRITE));
        assert!(!policy.allows(DeviceKind::Char, 10, 228, Access::READ));
        assert!(
            !policy.allows(DeviceKind::Char, 7, 0, Access::READ),
            "kind matters"
        );
        assert!(policy.allows(DeviceKind::Block, 7, 0, Access::READ.with(Access::WRITE)));
        let privileged = SecuritySpec {
            privileged: true,
            ..Default::default()
        };
        assert_eq!(
            DevicePolicy::for_container(&privileged, &devices),
            DevicePolicy::AllowAll
        );
    }

    #[test]
    fn privileged_means_no_restriction() {
        let privileged = SecuritySpec {
            privileged: true,
            ..Default::default()
        };
        assert_eq!(
            DevicePolicy::for_security(&privileged),
            DevicePolicy::AllowAll
        );
        assert!(DevicePolicy::AllowAll.allows(DeviceKind::Block, 8, 0, Access::ALL));
        assert_eq!(
            DevicePolicy::for_security(&SecuritySpec::default()),
            DevicePolicy::default()
        );
    }
}
