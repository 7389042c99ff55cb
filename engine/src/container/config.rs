//! The settings a container is created with, and how they are derived from the image's config
//! and the user's options (docker's rules for Entrypoint/Cmd, Env, WorkingDir and User).

use super::restart::{check_auto_remove, RestartPolicy, RestartPolicyExt};
use crate::image::ImageDefaults;
use crate::runtime::capabilities::canonical_name;
use crate::runtime::{seccomp, LogSpec, Resources, SeccompSpec, SecuritySpec};
use crate::units::{cpus_to_quota, parse_signal};
use crate::volume::mounts::{container_mounts, MountConfig};
use crate::{Error, Result};
use berth_wire::container::health::HealthConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the user asks for when creating a container (`berth create/run`), the body of
/// `POST /api/v1/containers`.
pub use berth_wire::container::CreateOptions;

/// The resolved settings of a container, stored in the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContainerConfig {
    /// The command line run: `entrypoint` then `cmd`.
    pub args: Vec<String>,
    /// Entrypoint and Cmd apart, as inspect shows them (absent for containers from before
    /// they were kept: `args` is then all Cmd).
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub cwd: String,
    pub hostname: String,
    /// The user as given (image or option), resolved at start against the rootfs.
    pub user: String,
    pub auto_remove: bool,
    #[serde(default)]
    pub resources: Resources,
    #[serde(default)]
    pub security: SecuritySpec,
    #[serde(default)]
    pub init: bool,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub log: LogSpec,
    /// The signal `stop` sends first, e.g. `SIGTERM`.
    #[serde(default = "default_stop_signal")]
    pub stop_signal: String,
    /// Seconds `stop` waits before SIGKILL.
    #[serde(default = "default_stop_timeout")]
    pub stop_timeout: u64,
    /// The command has a pseudo-terminal; its output is one stream.
    #[serde(default)]
    pub tty: bool,
    /// The command's stdin is a pipe attach clients write into (else /dev/null).
    #[serde(default)]
    pub open_stdin: bool,
    /// The stdin pipe closes when the first attached client's input ends.
    #[serde(default)]
    pub stdin_once: bool,
    /// Volumes, bind mounts and tmpfs mounts, checked at create time.
    #[serde(default)]
    pub mounts: Vec<MountConfig>,
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    /// `none`, `host`, `bridge` or a user network (containers from before networks: none).
    #[serde(default = "default_network")]
    pub network: String,
    /// Published ports as asked (host port 0: any free one, chosen at start).
    #[serde(default)]
    pub ports: Vec<crate::network::PortBinding>,
    /// The image's, `--expose`d and published ports, `PORT/PROTO`, sorted.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// `-P` was given (the exposed ports are in `ports` with host port 0).
    #[serde(default)]
    pub publish_all: bool,
    /// The image's labels with the user's set over them.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The cgroup its cgroup is made in: the daemon's `--cgroup-parent` when it was created.
    #[serde(default = "default_cgroup_parent")]
    pub cgroup_parent: String,
    /// `--group-add`: supplementary groups as given, resolved at start against the rootfs.
    #[serde(default)]
    pub group_add: Vec<String>,
    /// The terminal's `[rows, columns]` at first start (`-t`; else the pty's 80x24).
    #[serde(default)]
    pub console_size: Option<[u16; 2]>,
    /// The health check: the user's settings over the image's (`NONE`: switched off).
    #[serde(default)]
    pub healthcheck: Option<HealthConfig>,
    /// `--device` mappings, normalised (container path and permissions filled in); the
    /// host's nodes are read at each start.
    #[serde(default)]
    pub devices: Vec<berth_wire::container::DeviceMapping>,
}

/// The daemon's default cgroup parent (docker's is `docker`).
pub const DEFAULT_CGROUP_PARENT: &str = "berth";

fn default_cgroup_parent() -> String {
    DEFAULT_CGROUP_PARENT.to_string()
}

fn default_network() -> String {
    crate::network::MODE_NONE.to_string()
}

fn default_stop_signal() -> String {
    "SIGTERM".to_string()
}

fn default_stop_timeout() -> u64 {
    10
}

/// The image's labels, then the user's (a user's label replaces the image's of that key).
fn labels(image: &ImageDefaults, options: &CreateOptions) -> Result<BTreeMap<String, String>> {
    if let Some(key) = options.labels.keys().find(|k| k.trim().is_empty()) {
        return Err(Error::InvalidInput(format!(
            "invalid label {key:?}: a label needs a key"
        )));
    }
    let mut labels = image.labels.clone();
    labels.extend(options.labels.clone());
    Ok(labels)
}

/// `net_admin`, `CAP_NET_ADMIN` → `NET_ADMIN`; `ALL` stays; unknown names are refused.
fn normalise_capabilities(names: &[String], flag: &str) -> Result<Vec<String>> {
    names
        .iter()
        .map(|name| {
            canonical_name(name)
                .map(str::to_string)
                .map_err(|e| Error::InvalidInput(format!("{e} in {flag}")))
        })
        .collect()
}

/// The limits, checked as docker checks them.
fn resources(options: &CreateOptions) -> Result<Resources> {
    const MIN_MEMORY: i64 = 6 << 20;
    if let Some(memory) = options.memory {
        if memory < MIN_MEMORY {
            return Err(Error::InvalidInput(
                "minimum memory limit allowed is 6MB".to_string(),
            ));
        }
    }
    if let Some(swap) = options.memory_swap {
        match options.memory {
            None => {
                return Err(Error::InvalidInput(
                    "you should always set the memory limit when using a memory-swap limit"
                        .to_string(),
                ))
            }
            Some(memory) if swap != -1 && swap < memory => {
                return Err(Error::InvalidInput(
                    "minimum memory-swap limit should be larger than the memory limit".to_string(),
                ))
            }
            _ => {}
        }
    }
    let (cpu_quota, cpu_period) = match options.cpus {
        Some(cpus) => {
            let (quota, period) = cpus_to_quota(cpus)?;
            (Some(quota), Some(period))
        }
        None => (None, None),
    };
    if let Some(shares) = options.cpu_shares {
        if shares != 0 && !(2..=262_144).contains(&shares) {
            return Err(Error::InvalidInput(format!(
                "invalid --cpu-shares {shares}: it must be between 2 and 262144"
            )));
        }
    }
    // docker: `--memory` alone allows as much swap again (memory+swap = twice the memory).
    let implicit_swap = match (options.memory, options.memory_swap) {
        (Some(memory), None | Some(0)) if memory > 0 => Some(memory.saturating_mul(2)),
        _ => None,
    };
    Ok(Resources {
        memory: options.memory,
        memory_swap: implicit_swap.or(options.memory_swap),
        memory_swap_implicit: implicit_swap.is_some(),
        cpu_quota,
        cpu_period,
        cpu_shares: options.cpu_shares.filter(|s| *s != 0),
        pids_limit: options.pids_limit.filter(|p| *p > 0),
    })
}

/// `-p` values, parsed; a host-network container publishes nothing (docker discards them).
/// docker's ExposedPorts of a container: the image's, `--expose`d and published ports.
fn exposed_ports(options: &CreateOptions, image: &ImageDefaults) -> Result<Vec<String>> {
    let mut ports: Vec<String> = image.exposed_ports.clone();
    for spec in &options.expose {
        ports.extend(crate::network::parse_expose(spec).map_err(Error::InvalidInput)?);
    }
    for spec in &options.publish {
        for binding in crate::network::parse_publish(spec).map_err(Error::InvalidInput)? {
            ports.push(format!(
                "{}/{}",
                binding.container_port,
                binding.proto.as_str()
            ));
        }
    }
    let mut keyed: Vec<((u16, &'static str), String)> = ports
        .into_iter()
        .filter_map(|key| {
            let (port, proto) = crate::network::ports::exposed_port(&key)?;
            Some(((port, proto.as_str()), format!("{port}/{}", proto.as_str())))
        })
        .collect();
    keyed.sort();
    keyed.dedup();
    Ok(keyed.into_iter().map(|(_, key)| key).collect())
}

/// `-p` bindings, plus with `-P` every other exposed port on a free host port (docker picks
/// from the ephemeral range; berth lets the kernel choose, on every address).
fn published_ports(
    options: &CreateOptions,
    exposed: &[String],
) -> Result<Vec<crate::network::PortBinding>> {
    let mut ports = Vec::new();
    for spec in &options.publish {
        ports.extend(crate::network::parse_publish(spec).map_err(Error::InvalidInput)?);
    }
    if options.publish_all {
        for (port, proto) in exposed
            .iter()
            .filter_map(|key| crate::network::ports::exposed_port(key))
        {
            let published = ports
                .iter()
                .any(|b| b.container_port == port && b.proto == proto);
            if !published {
                ports.push(crate::network::PortBinding {
                    proto,
                    container_port: port,
                    host_ip: String::new(),
                    host_port: 0,
                });
            }
        }
    }
    if options.network.as_deref() == Some(crate::network::MODE_HOST) {
        ports.clear();
    }
    Ok(ports)
}

/// `user`, or `base` where the user left it zero or empty (unset).
fn unset_or<T: Default + PartialEq>(user: T, base: T) -> T {
    if user == T::default() {
        base
    } else {
        user
    }
}

/// docker's merge of a container's health settings over its image's: each field the user left
/// empty or zero is the image's. A test must be `NONE`, `CMD …` or `CMD-SHELL command`.
fn healthcheck(
    image: Option<&HealthConfig>,
    user: Option<&HealthConfig>,
) -> Result<Option<HealthConfig>> {
    let merged = match (image, user) {
        (None, None) => return Ok(None),
        (Some(image), None) => image.clone(),
        (image, Some(user)) => {
            let base = image.cloned().unwrap_or_default();
            HealthConfig {
                test: unset_or(user.test.clone(), base.test),
                interval: unset_or(user.interval, base.interval),
                timeout: unset_or(user.timeout, base.timeout),
                start_period: unset_or(user.start_period, base.start_period),
                retries: unset_or(user.retries, base.retries),
            }
        }
    };
    match merged.test.first().map(String::as_str) {
        None | Some("NONE") => {}
        Some("CMD") if merged.test.len() > 1 => {}
        Some("CMD-SHELL") if merged.test.len() == 2 => {}
        _ => {
            return Err(Error::InvalidInput(format!(
                "invalid health check test {:?}: expected NONE, CMD ARGS… or CMD-SHELL COMMAND",
                merged.test
            )))
        }
    }
    for (name, value) in [
        ("interval", merged.interval),
        ("timeout", merged.timeout),
        ("start period", merged.start_period),
    ] {
        // docker's minimum for each is 1 ms (0 means "the default").
        if value != 0 && value < 1_000_000 {
            return Err(Error::InvalidInput(format!(
                "health check {name} must be at least 1ms (or 0 for the default)"
            )));
        }
    }
    Ok(Some(merged))
}

fn log_spec(options: &CreateOptions) -> Result<LogSpec> {
    let default = LogSpec::default();
    let max_size = options.log_max_size.unwrap_or(default.max_size);
    let max_files = options.log_max_files.unwrap_or(default.max_files);
    if max_size < 4096 {
        return Err(Error::InvalidInput(format!(
            "invalid log max-size {max_size}: the minimum is 4k"
        )));
    }
    if max_files < 1 {
        return Err(Error::InvalidInput(
            "invalid log max-file 0: the minimum is 1".into(),
        ));
    }
    Ok(LogSpec {
        max_size,
        max_files,
    })
}

impl ContainerConfig {
    /// Applies docker's rules: an `--entrypoint` override drops the image's Cmd; otherwise
    /// Entrypoint + (user's cmd, or the image's Cmd). Env: image's, then the user's by key.
    pub fn derive(id: &str, image: &ImageDefaults, options: &CreateOptions) -> Result<Self> {
        let (entrypoint, cmd) = match &options.entrypoint {
            Some(entrypoint) => (entrypoint.clone(), options.cmd.clone()),
            None if options.cmd.is_empty() => (image.entrypoint.clone(), image.cmd.clone()),
            None => (image.entrypoint.clone(), options.cmd.clone()),
        };
        let args: Vec<String> = entrypoint.iter().chain(cmd.iter()).cloned().collect();
        if args.is_empty() || args[0].is_empty() {
            return Err(Error::InvalidInput(
                "no command specified: the image has no Cmd or Entrypoint and none was given"
                    .into(),
            ));
        }
        let hostname = options
            .hostname
            .clone()
            .unwrap_or_else(|| id.chars().take(12).collect());
        let mut env: Vec<String> = Vec::new();
        for pair in image.env.iter().chain(options.env.iter()) {
            let key = pair.split('=').next().unwrap_or(pair);
            if key.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "invalid environment variable {pair:?}"
                )));
            }
            env.retain(|existing| existing.split('=').next() != Some(key));
            env.push(pair.clone());
        }
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.insert(0, DEFAULT_PATH.to_string());
        }
        if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            env.push(format!("HOSTNAME={hostname}"));
        }
        // docker sets TERM for a container with a terminal unless the user or image did.
        if options.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
            env.push("TERM=xterm".to_string());
        }
        let cwd = options
            .workdir
            .clone()
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| image.working_dir.clone());
        let cwd = if cwd.is_empty() { "/".to_string() } else { cwd };
        if !cwd.starts_with('/') {
            return Err(Error::InvalidInput(format!(
                "the working directory {cwd:?} is invalid: it needs to be an absolute path"
            )));
        }
        let stop_signal = options
            .stop_signal
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| Some(image.stop_signal.clone()).filter(|s| !s.is_empty()))
            .unwrap_or_else(default_stop_signal);
        let stop_signal = format!("{:?}", parse_signal(&stop_signal)?);
        let restart_policy = RestartPolicy::parse(options.restart.as_deref().unwrap_or("no"))?;
        check_auto_remove(&restart_policy, options.auto_remove)?;
        let exposed_ports = exposed_ports(options, image)?;
        Ok(ContainerConfig {
            args,
            entrypoint: Some(entrypoint),
            cmd: Some(cmd),
            env,
            cwd,
            hostname,
            user: options.user.clone().unwrap_or_else(|| image.user.clone()),
            auto_remove: options.auto_remove,
            resources: resources(options)?,
            security: SecuritySpec {
                privileged: options.privileged,
                cap_add: normalise_capabilities(&options.cap_add, "--cap-add")?,
                cap_drop: normalise_capabilities(&options.cap_drop, "--cap-drop")?,
                no_new_privileges: options.no_new_privileges.unwrap_or(true),
                seccomp: seccomp_option(options.seccomp.as_deref())?,
            },
            init: options.init,
            read_only: options.read_only,
            log: log_spec(options)?,
            stop_signal,
            stop_timeout: options.stop_timeout.unwrap_or_else(default_stop_timeout),
            tty: options.tty,
            open_stdin: options.open_stdin,
            stdin_once: options.open_stdin && options.stdin_once,
            mounts: container_mounts(
                &options.volumes,
                &options.mounts,
                &options.tmpfs,
                &image.volumes,
            )?,
            restart_policy,
            network: options
                .network
                .clone()
                .filter(|n| !n.is_empty() && n != "default")
                .unwrap_or_else(|| crate::network::MODE_BRIDGE.to_string()),
            ports: published_ports(options, &exposed_ports)?,
            exposed_ports,
            publish_all: options.publish_all,
            labels: labels(image, options)?,
            cgroup_parent: default_cgroup_parent(),
            group_add: options.group_add.clone(),
            console_size: options
                .console_size
                .filter(|&[rows, columns]| rows > 0 && columns > 0),
            healthcheck: healthcheck(image.healthcheck.as_ref(), options.healthcheck.as_ref())?,
            devices: super::devices::check(&options.devices)
                .map_err(|e| Error::InvalidInput(e.to_string()))?,
        })
    }

    /// The command line as lists show it.
    pub fn command_line(&self) -> String {
        self.args.join(" ")
    }
}

/// `--security-opt seccomp=…` as the client sent it: `unconfined`, `builtin` (berth's
/// default, as when absent), or a profile's JSON text, checked here so that a bad profile
/// fails `create` rather than every `start`.
fn seccomp_option(value: Option<&str>) -> Result<SeccompSpec> {
    match value.map(str::trim) {
        None | Some("") | Some("builtin") => Ok(SeccompSpec::Default),
        Some("unconfined") => Ok(SeccompSpec::Unconfined),
        Some(json) => {
            seccomp::validate(json).map_err(|e| Error::InvalidInput(e.to_string()))?;
            Ok(SeccompSpec::Profile(json.to_string()))
        }
    }
}

/// A container user resolved against the image's files: ids, supplementary groups and home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups: the user's memberships in /etc/group (only when no group was
    /// given, as runc does) and then `--group-add`'s.
    pub groups: Vec<u32>,
    /// The passwd entry's home directory; `/root` for root and `/` for others without one.
    pub home: String,
}

/// Resolves `user` (`""`, `UID`, `UID:GID`, `NAME`, `NAME:GROUP`) and `group_add` (group names
/// or ids) to numeric ids, looking names up in the first `/etc/passwd` and `/etc/group` found
/// in `layers` (top layer first).
pub fn resolve_user(user: &str, group_add: &[String], layers: &[PathBuf]) -> Result<ResolvedUser> {
    let passwd = read_first(layers, "etc/passwd");
    let group = read_first(layers, "etc/group");
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    // The passwd entry, if any, and the numeric ids it gives.
    let (entry, uid, primary_gid) = match user_part.parse::<u32>() {
        Ok(uid) => {
            let entry = lookup(&passwd, |f| f.get(2) == Some(&user_part));
            let gid = entry
                .as_ref()
                .and_then(|f| f.get(3).and_then(|g| g.parse().ok()))
                .unwrap_or(uid);
            (entry, uid, gid)
        }
        Err(_) => {
            let fields = lookup(&passwd, |f| f.first() == Some(&user_part)).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unable to find user {user_part}: no matching entries in passwd file"
                ))
            })?;
            let uid = fields.get(2).and_then(|v| v.parse().ok());
            let gid = fields.get(3).and_then(|v| v.parse().ok());
            match (uid, gid) {
                (Some(uid), Some(gid)) => (Some(fields), uid, gid),
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "the passwd entry of user {user_part} is malformed"
                    )))
                }
            }
        }
    };
    let group_id = |g: &str| -> Result<u32> {
        match g.parse::<u32>() {
            Ok(gid) => Ok(gid),
            Err(_) => lookup(&group, |f| f.first() == Some(&g))
                .and_then(|f| f.get(2).and_then(|v| v.parse().ok()))
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "unable to find group {g}: no matching entries in group file"
                    ))
                }),
        }
    };
    let gid = match group_part.filter(|g| !g.is_empty()) {
        None => primary_gid,
        Some(g) => group_id(g)?,
    };
    let mut groups = Vec::new();
    // Supplementary groups only in the implicit form, as runc's GetExecUser: `-u NAME`
    // (or a uid with a passwd entry) without `:GROUP`.
    if group_part.is_none() {
        if let Some(name) = entry.as_ref().and_then(|f| f.first()) {
            for fields in group
                .lines()
                .map(|line| line.split(':').collect::<Vec<_>>())
            {
                let member = fields
                    .get(3)
                    .is_some_and(|members| members.split(',').any(|m| m.trim() == *name));
                if let Some(gid) = fields.get(2).and_then(|v| v.parse::<u32>().ok()) {
                    if member && !groups.contains(&gid) {
                        groups.push(gid);
                    }
                }
            }
        }
    }
    for g in group_add {
        let gid = group_id(g)?;
        if !groups.contains(&gid) {
            groups.push(gid);
        }
    }
    let home = entry
        .as_ref()
        .and_then(|f| f.get(5))
        .filter(|h| !h.is_empty())
        .map(|h| h.to_string())
        .unwrap_or_else(|| if uid == 0 { "/root" } else { "/" }.to_string());
    Ok(ResolvedUser {
        uid,
        gid,
        groups,
        home,
    })
}

fn read_first(layers: &[PathBuf], relative: &str) -> String {
    layers
        .iter()
        .map(|layer| layer.join(relative))
        .find_map(|path| read_regular(&path))
        .unwrap_or_default()
}

/// Reads a file only if it is a regular file of sane size (never through a symlink: a layer's
/// symlink points into the container's tree, not the host's).
fn read_regular(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 4 << 20 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

fn lookup<'a>(table: &'a str, matches: impl Fn(&Vec<&'a str>) -> bool) -> Option<Vec<&'a str>> {
    table
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| matches(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ImageDefaults {
        ImageDefaults {
            entrypoint: vec![],
            cmd: vec!["sh".into()],
            env: vec!["PATH=/bin".into(), "LANG=C".into()],
            working_dir: String::new(),
            user: String::new(),
            stop_signal: String::new(),
            volumes: vec![],
            exposed_ports: vec!["80/tcp".into()],
            labels: BTreeMap::from([("maintainer".into(), "berth".into())]),
            healthcheck: None,
        }
    }

    #[test]
    fn health_settings_merge_over_the_images_field_by_field() {
        let image = HealthConfig {
            test: vec!["CMD-SHELL".into(), "curl -f localhost".into()],
            interval: 5_000_000_000,
            retries: 5,
            ..HealthConfig::default()
        };
        assert_eq!(
            healthcheck(Some(&image), None).unwrap(),
            Some(image.clone())
        );
        let user = HealthConfig {
            timeout: 2_000_000_000,
            retries: 2,
            ..HealthConfig::default()
        };
        let merged = healthcheck(Some(&image), Some(&user)).unwrap().unwrap();
        assert_eq!(merged.test, image.test);
        assert_eq!(
            (merged.interval, merged.timeout, merged.retries),
            (5_000_000_000, 2_000_000_000, 2)
        );
        let off = HealthConfig {
            test: vec!["NONE".into()],
            ..HealthConfig::default()
        };
        assert!(healthcheck(Some(&image), Some(&off))
            .unwrap()
            .unwrap()
            .is_none());
        assert_eq!(healthcheck(None, None).unwrap(), None);
        for bad in [
            vec!["CMD"],
            vec!["CMD-SHELL"],
            vec!["true"],
            vec!["CMD-SHELL", "a", "b"],
        ] {
            let user = HealthConfig {
                test: bad.iter().map(|s| s.to_string()).collect(),
                ..HealthConfig::default()
            };
            assert!(healthcheck(None, Some(&user)).is_err(), "{bad:?}");
        }
        let too_often = HealthConfig {
            interval: 1_000,
            ..image.clone()
        };
        assert!(healthcheck(None, Some(&too_often)).is_err());
    }

    #[test]
    fn user_labels_are_set_over_the_image_labels() {
        let opts = CreateOptions {
            image: "x".into(),
            labels: BTreeMap::from([
                ("maintainer".into(), "me".into()),
                ("tier".into(), String::new()),
            ]),
            ..Default::default()
        };
        let c = ContainerConfig::derive("abc", &image(), &opts).unwrap();
        let expected: BTreeMap<String, String> = BTreeMap::from([
            ("maintainer".into(), "me".into()),
            ("tier".into(), String::new()),
        ]);
        assert_eq!(c.labels, expected);
        let from_image = ContainerConfig::derive("abc", &image(), &CreateOptions::default());
        assert_eq!(from_image.unwrap().labels["maintainer"], "berth");
        let bad = CreateOptions {
            labels: BTreeMap::from([(" ".into(), "v".into())]),
            ..Default::default()
        };
        let e = ContainerConfig::derive("abc", &image(), &bad).unwrap_err();
        assert!(e.to_string().contains("needs a key"), "{e}");
    }

    #[test]
    fn publish_all_publishes_every_exposed_port_not_given_with_p() {
        let opts = CreateOptions {
            publish_all: true,
            expose: vec!["53/udp".into(), "8000-8001".into()],
            publish: vec!["127.0.0.1:9000:8000".into()],
            ..Default::default()
        };
        let cfg = ContainerConfig::derive("abcdef0123456789", &image(), &opts).expect("derive");
        assert_eq!(
            cfg.exposed_ports,
            ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]
        );
        let ports: Vec<String> = cfg.ports.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            ports,
            [
                "8000/tcp -> 127.0.0.1:9000",
                "53/udp -> 0.0.0.0:0",
                "80/tcp -> 0.0.0.0:0",
                "8001/tcp -> 0.0.0.0:0"
            ]
        );
        let bad = CreateOptions {
            expose: vec!["http".into()],
            ..Default::default()
        };
        let err = ContainerConfig::derive("abcdef0123456789", &image(), &bad).unwrap_err();
        assert_eq!(err.to_string(), "invalid range format for --expose: http");
    }

    #[test]
    fn user_cmd_replaces_image_cmd_and_entrypoint_is_kept() {
        let mut img = image();
        img.entrypoint = vec!["/entry".into()];
        let opts = CreateOptions {
            cmd: vec!["echo".into(), "hi".into()],
            ..Default::default()
        };
        let cfg = ContainerConfig::derive("abcdef0123456789", &img, &opts).expect("derive");
        assert_eq!(cfg.args, ["/entry", "echo", "hi"]);
        assert_eq!(cfg.hostname, "abcdef012345");
        assert_eq!(cfg.cwd, "/");
    }

    #[test]
    fn entrypoint_override_drops_image_cmd() {
        let opts = CreateOptions {
            entrypoint: Some(vec!["/bin/true".into()]),
            ..Default::default()
        };
        let cfg = ContainerConfig::derive("id", &image(), &opts).expect("derive");
        assert_eq!(cfg.args, ["/bin/true"]);
    }

    #[test]
    fn user_env_wins_by_key_and_hostname_is_set() {
        let opts = CreateOptions {
            env: vec!["LANG=fr".into(), "X=1".into()],
            hostname: Some("box".into()),
            ..Default::default()
        };
        let cfg = ContainerConfig::derive("id", &image(), &opts).expect("derive");
        assert_eq!(cfg.env, ["PATH=/bin", "LANG=fr", "X=1", "HOSTNAME=box"]);
    }

    #[test]
    fn no_command_and_relative_workdir_are_refused() {
        let mut img = image();
        img.cmd.clear();
        assert!(ContainerConfig::derive("id", &img, &CreateOptions::default()).is_err());
        let opts = CreateOptions {
            workdir: Some("rel".into()),
            ..Default::default()
        };
        assert!(ContainerConfig::derive("id", &image(), &opts).is_err());
    }

    #[test]
    fn seccomp_option_is_checked_at_create() {
        let derive = |seccomp: Option<&str>| {
            let opts = CreateOptions {
                seccomp: seccomp.map(str::to_string),
                ..Default::default()
            };
            ContainerConfig::derive("id", &image(), &opts).map(|c| c.security.seccomp)
        };
        assert_eq!(derive(None).unwrap(), SeccompSpec::Default);
        assert_eq!(derive(Some("builtin")).unwrap(), SeccompSpec::Default);
        assert_eq!(derive(Some("unconfined")).unwrap(), SeccompSpec::Unconfined);
        let profile = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["keyctl"],"action":"SCMP_ACT_ERRNO"}]}"#;
        assert_eq!(
            derive(Some(profile)).unwrap(),
            SeccompSpec::Profile(profile.to_string())
        );
        for (bad, says) in [
            ("{\"defaultAction\":", "invalid seccomp profile: EOF"),
            (
                r#"{"defaultAction":"SCMP_ACT_SOMETIMES"}"#,
                "unknown variant `SCMP_ACT_SOMETIMES`",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["raed"],"action":"SCMP_ACT_ALLOW"}]}"#,
                "unknown system call \"raed\"",
            ),
        ] {
            match derive(Some(bad)) {
                Err(Error::InvalidInput(message)) => {
                    assert!(message.contains(says), "{message}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn limits_and_capabilities_are_checked_like_docker() {
        let ok = CreateOptions {
            memory: Some(32 << 20),
            memory_swap: Some(-1),
            cpus: Some(0.5),
            pids_limit: Some(50),
            cap_add: vec!["net_admin".into(), "CAP_SYS_TIME".into()],
            cap_drop: vec!["ALL".into()],
            stop_signal: Some("usr1".into()),
            ..Default::default()
        };
        let cfg = ContainerConfig::derive("id", &image(), &ok).expect("derive");
        assert_eq!(cfg.resources.cpu_quota, Some(50_000));
        assert_eq!(cfg.resources.pids_limit, Some(50));
        assert_eq!(cfg.security.cap_add, ["NET_ADMIN", "SYS_TIME"]);
        assert!(cfg.security.no_new_privileges);
        assert_eq!(cfg.stop_signal, "SIGUSR1");
        let bad = [
            CreateOptions {
                memory: Some(1 << 20),
                ..Default::default()
            },
            CreateOptions {
                memory_swap: Some(64 << 20),
                ..Default::default()
            },
            CreateOptions {
                memory: Some(64 << 20),
                memory_swap: Some(32 << 20),
                ..Default::default()
            },
            CreateOptions {
                cpus: Some(-1.0),
                ..Default::default()
            },
            CreateOptions {
                cap_add: vec!["FLY".into()],
                ..Default::default()
            },
            CreateOptions {
                stop_signal: Some("SIGNOPE".into()),
                ..Default::default()
            },
            CreateOptions {
                log_max_size: Some(10),
                ..Default::default()
            },
        ];
        for options in bad {
            assert!(
                ContainerConfig::derive("id", &image(), &options).is_err(),
                "{options:?}"
            );
        }
    }

    #[test]
    fn users_resolve_from_the_top_most_passwd() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (top, bottom) = (dir.path().join("top"), dir.path().join("bottom"));
        for layer in [&top, &bottom] {
            std::fs::create_dir_all(layer.join("etc")).expect("mkdir");
        }
        std::fs::write(bottom.join("etc/passwd"), "app:x:5:5::/:/bin/sh\n").expect("write");
        std::fs::write(top.join("etc/passwd"), "app:x:1000:1001::/:/bin/sh\n").expect("write");
        std::fs::write(top.join("etc/group"), "staff:x:50:\n").expect("write");
        let layers = [top, bottom];
        let ids = |user: &str| {
            let u = resolve_user(user, &[], &layers).expect(user);
            (u.uid, u.gid)
        };
        assert_eq!(ids(""), (0, 0));
        assert_eq!(ids("app"), (1000, 1001));
        assert_eq!(ids("1000"), (1000, 1001));
        assert_eq!(ids("7:8"), (7, 8));
        assert_eq!(ids("app:staff"), (1000, 50));
        assert!(resolve_user("nobody", &[], &layers).is_err());
    }

    #[test]
    fn users_get_their_home_and_supplementary_groups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layer = dir.path().join("layer");
        std::fs::create_dir_all(layer.join("etc")).expect("mkdir");
        std::fs::write(
            layer.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/sh\nnohome:x:7:7::::\n",
        )
        .expect("write");
        std::fs::write(
            layer.join("etc/group"),
            "root:x:0:\nadm:x:4:www,other\nstaff:x:50:root, www\naudio:x:29:\n",
        )
        .expect("write");
        let layers = [layer];
        let root = resolve_user("", &[], &layers).expect("root");
        assert_eq!(
            (root.home.as_str(), root.groups.as_slice()),
            ("/root", &[50][..])
        );
        let www = resolve_user("www", &[], &layers).expect("www");
        assert_eq!(
            (www.home.as_str(), www.groups.as_slice()),
            ("/var/www", &[4, 50][..])
        );
        // By uid, the passwd entry still names the user's groups; with an explicit group,
        // no memberships are added (runc's implicit-form rule).
        assert_eq!(
            resolve_user("33", &[], &layers).expect("uid").groups,
            [4, 50]
        );
        assert!(resolve_user("www:33", &[], &layers)
            .expect("explicit")
            .groups
            .is_empty());
        // --group-add by name or id, after the memberships, without duplicates.
        let added = ["audio".to_string(), "4".to_string(), "900".to_string()];
        assert_eq!(
            resolve_user("www", &added, &layers).expect("added").groups,
            [4, 50, 29, 900]
        );
        assert!(resolve_user("www", &["nosuch".to_string()], &layers).is_err());
        // No passwd entry: root's home is /root, anyone else's /.
        assert_eq!(resolve_user("nohome", &[], &layers).expect("n").home, "/");
        assert_eq!(resolve_user("1234", &[], &layers).expect("n").home, "/");
        let bare = [dir.path().join("empty")];
        assert_eq!(resolve_user("", &[], &bare).expect("bare").home, "/root");
    }
}
