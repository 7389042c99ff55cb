//! `berth run` and `berth create`: create a container from an image; `run` also starts it and,
//! unless detached, streams its output and exits with its exit code.

use super::api::Api;
use super::print_stream;
use super::pull::{self, Output};
use crate::client::has_code;
use anyhow::Result;
use berth_engine::units::{parse_size, parse_swap};
use berth_wire::container::health::HealthConfig;
use berth_wire::container::{ContainerSummary, CreateOptions};
use berth_wire::ErrorCode;
use std::io::IsTerminal;

// Options shared by `create` and `run` (a plain comment: under `defer` a doc comment here
// would replace the subcommands' own about lines).
#[derive(clap::Args)]
pub struct CreateArgs {
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Set environment variables (KEY=VALUE)
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user")]
    user: Option<String>,
    /// Container host name
    #[arg(long)]
    hostname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Memory limit (e.g. 32m, 1g)
    #[arg(short = 'm', long)]
    memory: Option<String>,
    /// Memory plus swap limit; -1 for unlimited swap
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Number of CPUs (e.g. 0.5)
    #[arg(long, allow_hyphen_values = true)]
    cpus: Option<f64>,
    /// CPU shares (relative weight, default 1024)
    #[arg(short = 'c', long = "cpu-shares")]
    cpu_shares: Option<u64>,
    /// Maximum number of processes (-1 for unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Give extended privileges to this container
    #[arg(long)]
    privileged: bool,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    cap_drop: Vec<String>,
    /// Add a host device to the container (HOST[:CONTAINER][:PERMISSIONS], permissions a
    /// subset of rwm, default rwm)
    #[arg(long = "device")]
    device: Vec<String>,
    /// Security options (no-new-privileges[=true|false], seccomp=unconfined|PROFILE.json)
    #[arg(long = "security-opt")]
    security_opt: Vec<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    init: bool,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    read_only: bool,
    /// Log options (max-size=20m, max-file=3)
    #[arg(long = "log-opt")]
    log_opt: Vec<String>,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout")]
    stop_timeout: Option<u64>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    tty: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Bind mount a volume ([SOURCE:]DEST[:ro|rw|nocopy])
    #[arg(short = 'v', long = "volume")]
    volume: Vec<String>,
    /// Attach a filesystem mount (type=volume|bind|tmpfs,source=…,target=…[,readonly])
    #[arg(long = "mount")]
    mount: Vec<String>,
    /// Mount a tmpfs directory (PATH[:size=…,mode=…,ro])
    #[arg(long = "tmpfs")]
    tmpfs: Vec<String>,
    /// Restart policy to apply when a container exits (no, on-failure[:max-retries], always,
    /// unless-stopped)
    #[arg(long)]
    restart: Option<String>,
    /// Connect the container to a network (none, host, bridge or a network's name)
    #[arg(long = "network", alias = "net")]
    network: Option<String>,
    /// Publish a container's port to the host ([HOSTIP:][HOSTPORT:]PORT[/PROTO])
    #[arg(short = 'p', long = "publish")]
    publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long)]
    expose: Vec<String>,
    /// Set metadata on the container (KEY=VALUE, or KEY for an empty value)
    #[arg(short = 'l', long = "label")]
    label: Vec<String>,
    /// Read labels from a file of KEY=VALUE lines ('#' starts a comment line)
    #[arg(long = "label-file")]
    label_file: Vec<std::path::PathBuf>,
    /// Pull the image before creating: always, missing (when not stored) or never
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pull: PullPolicy,
    /// Platform of the image to pull (os/arch[/variant])
    #[arg(long)]
    platform: Option<String>,
    /// Add additional groups to join (names from the image's /etc/group, or ids)
    #[arg(long = "group-add")]
    group_add: Vec<String>,
    /// Command to run to check health (through /bin/sh -c)
    #[arg(long = "health-cmd")]
    health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h), default 30s
    #[arg(long = "health-interval")]
    health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h), default 30s
    #[arg(long = "health-timeout")]
    health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy, default 3
    #[arg(long = "health-retries")]
    health_retries: Option<u32>,
    /// Start period for the container to initialize before failures count (ms|s|m|h)
    #[arg(long = "health-start-period")]
    health_start_period: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    no_healthcheck: bool,
    /// The image, then the command and its arguments (replacing the image's Cmd). As docker
    /// parses it, everything after the image is the command's, flags included.
    #[arg(
        value_name = "IMAGE [COMMAND] [ARG...]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    image_and_command: Vec<String>,
}

/// `--pull`: when `run`/`create` pull the image (docker's values).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PullPolicy {
    Always,
    Missing,
    Never,
}

#[derive(clap::Args)]
pub struct Args {
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    #[command(flatten)]
    create: CreateArgs,
}

impl CreateArgs {
    /// The health flags as docker's HealthConfig (None when no flag was given).
    fn healthcheck(&self) -> Result<Option<HealthConfig>> {
        let duration = |flag: &str, value: &Option<String>| -> Result<i64> {
            value
                .as_deref()
                .map(super::format::parse_go_duration)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
                .map(|v| v.unwrap_or(0))
        };
        let timing_given = self.health_interval.is_some()
            || self.health_timeout.is_some()
            || self.health_retries.is_some()
            || self.health_start_period.is_some();
        if self.no_healthcheck {
            if self.health_cmd.is_some() || timing_given {
                anyhow::bail!("--no-healthcheck conflicts with --health-* options");
            }
            return Ok(Some(HealthConfig {
                test: vec!["NONE".to_string()],
                ..HealthConfig::default()
            }));
        }
        if self.health_cmd.is_none() && !timing_given {
            return Ok(None);
        }
        Ok(Some(HealthConfig {
            test: self
                .health_cmd
                .iter()
                .flat_map(|cmd| ["CMD-SHELL".to_string(), cmd.clone()])
                .collect(),
            interval: duration("health-interval", &self.health_interval)?,
            timeout: duration("health-timeout", &self.health_timeout)?,
            start_period: duration("health-start-period", &self.health_start_period)?,
            retries: self.health_retries.unwrap_or(0),
        }))
    }

    /// The image as typed.
    fn image(&self) -> &str {
        self.image_and_command
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The create request; `attached`: the client attaches its stdin right away (`run -i`
    /// without `-d`, `create -i`), so the container's stdin ends with that client's.
    fn options(&self, attached: bool) -> Result<CreateOptions> {
        let (no_new_privileges, seccomp) = security_opts(&self.security_opt)?;
        let (mut log_max_size, mut log_max_files) = (None, None);
        for opt in &self.log_opt {
            match opt.split_once('=') {
                Some(("max-size", v)) => log_max_size = Some(parse_size(v)?.max(0) as u64),
                Some(("max-file", v)) => {
                    log_max_files = Some(v.parse::<u32>().map_err(|_| {
                        anyhow::anyhow!("invalid --log-opt {opt:?}: max-file takes a number")
                    })?)
                }
                _ => anyhow::bail!("unsupported --log-opt {opt:?} (max-size=…, max-file=…)"),
            }
        }
        Ok(CreateOptions {
            image: self.image().to_string(),
            name: self.name.clone(),
            cmd: self.image_and_command.iter().skip(1).cloned().collect(),
            entrypoint: self.entrypoint.as_ref().map(|e| {
                if e.is_empty() {
                    vec![]
                } else {
                    vec![e.clone()]
                }
            }),
            env: self.env.iter().map(|e| with_host_value(e)).collect(),
            workdir: self.workdir.clone(),
            hostname: self.hostname.clone(),
            user: self.user.clone(),
            auto_remove: self.rm,
            memory: self.memory.as_deref().map(parse_size).transpose()?,
            memory_swap: self.memory_swap.as_deref().map(parse_swap).transpose()?,
            cpus: self.cpus,
            cpu_shares: self.cpu_shares,
            pids_limit: self.pids_limit,
            privileged: self.privileged,
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            no_new_privileges,
            seccomp,
            init: self.init,
            read_only: self.read_only,
            log_max_size,
            log_max_files,
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            tty: self.tty,
            open_stdin: self.interactive,
            stdin_once: self.interactive && attached,
            volumes: self.volume.clone(),
            mounts: self.mount.clone(),
            tmpfs: self.tmpfs.clone(),
            restart: self.restart.clone(),
            network: self.network.clone(),
            publish: self.publish.clone(),
            publish_all: self.publish_all,
            expose: self.expose.clone(),
            labels: self.labels()?,
            group_add: self.group_add.clone(),
            healthcheck: self.healthcheck()?,
            devices: self
                .device
                .iter()
                .map(|d| berth_engine::container::devices::parse(d))
                .collect::<Result<_, _>>()?,
            // The client's terminal size, so the command starts with it (docker's ConsoleSize).
            console_size: self
                .tty
                .then(super::terminal::size)
                .flatten()
                .map(|(rows, columns)| [rows, columns]),
        })
    }

    /// The label files' labels, then `--label`s over them.
    fn labels(&self) -> Result<std::collections::BTreeMap<String, String>> {
        let mut lines = Vec::new();
        for path in &self.label_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read label file {}: {e}", path.display()))?;
            lines.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            );
        }
        lines.extend(self.label.iter().cloned());
        Ok(super::labels(lines.iter().map(String::as_str)))
    }
}

/// `-e NAME` without `=` takes the value from the CLI's own environment, as docker does.
/// `--security-opt` values: no_new_privs, and the seccomp choice as the create body carries
/// it. `seccomp=PROFILE.json` is read here, on the client, and sent as its compact JSON text
/// (as docker's CLI does), so the daemon needs no access to the client's files.
fn security_opts(opts: &[String]) -> Result<(Option<bool>, Option<String>)> {
    let (mut no_new_privileges, mut seccomp) = (None, None);
    for opt in opts {
        match opt.split_once(['=', ':']) {
            None if opt == "no-new-privileges" => no_new_privileges = Some(true),
            Some(("no-new-privileges", value)) => {
                no_new_privileges = Some(value.parse::<bool>().map_err(|_| {
                    anyhow::anyhow!("invalid --security-opt {opt:?}: expected true or false")
                })?)
            }
            Some(("seccomp", value @ ("unconfined" | "builtin"))) => {
                seccomp = Some(value.to_string())
            }
            Some(("seccomp", path)) if !path.is_empty() => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("opening seccomp profile ({path}) failed: {e}"))?;
                let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("the seccomp profile ({path}) is not valid JSON: {e}")
                })?;
                seccomp = Some(json.to_string());
            }
            _ => anyhow::bail!(
                "unsupported --security-opt {opt:?} (no-new-privileges[=BOOL], \
                 seccomp=unconfined|PROFILE.json)"
            ),
        }
    }
    Ok((no_new_privileges, seccomp))
}

pub(crate) fn with_host_value(pair: &str) -> String {
    if pair.contains('=') {
        pair.to_string()
    } else {
        match std::env::var(pair) {
            Ok(value) => format!("{pair}={value}"),
            Err(_) => pair.to_string(),
        }
    }
}

async fn create_container(
    api: &Api,
    args: &CreateArgs,
    attached: bool,
) -> Result<ContainerSummary> {
    let options = args.options(attached)?;
    let pull = || pull::pull(api, args.image(), args.platform.as_deref(), Output::Stderr);
    let create = || api.container_create(&options);
    if args.pull == PullPolicy::Always {
        pull().await?;
        return create().await;
    }
    let result = create().await;
    let missing = result
        .as_ref()
        .err()
        .is_some_and(|e| has_code(e, ErrorCode::NoSuchImage));
    if !missing {
        return result;
    }
    let shown = berth_engine::image::Reference::parse(args.image())
        .map(|r| r.familiar())
        .unwrap_or_else(|_| args.image().to_string());
    if args.pull == PullPolicy::Never {
        anyhow::bail!("No such image: {shown} (--pull never: not pulling it)");
    }
    // docker's flow: say so, pull with progress on stderr, then create again.
    eprintln!("Unable to find image '{shown}' locally");
    pull().await?;
    create().await
}

pub async fn create(api: &Api, args: CreateArgs) -> Result<i32> {
    let container = create_container(api, &args, true).await?;
    println!("{}", container.id);
    Ok(0)
}

/// Exit codes as docker's: 125 when the daemon refuses, 127 when the command is not found,
/// 126 when it cannot be run; otherwise the container's own exit code.
pub async fn run(api: &Api, args: Args) -> Result<i32> {
    match run_inner(api, args).await {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("berth: {e:#}");
            Ok(super::run_exit_code_for(&e))
        }
    }
}

async fn run_inner(api: &Api, args: Args) -> Result<i32> {
    let create = &args.create;
    if create.tty && create.interactive && !args.detach && !std::io::stdin().is_terminal() {
        anyhow::bail!("the input device is not a TTY");
    }
    let container = create_container(api, create, !args.detach).await?;
    let id = container.id.as_str();
    // `--rm`: a container that could not be started goes.
    let discard = || async move {
        if args.create.rm {
            // With its anonymous volumes, as the exit path of `--rm` removes them.
            let _ = api.container_remove(id, true, true).await;
        }
    };
    if args.detach {
        if let Err(e) = api.container_start(id).await {
            discard().await;
            return Err(e);
        }
        println!("{}", container.id);
        return Ok(0);
    }
    if create.interactive {
        let session = super::attach::Session {
            start: true,
            stdin: true,
            tty: create.tty,
            detach_keys: args.detach_keys.clone(),
        };
        let attached = super::attach::attach(api, id, session).await;
        if attached.is_err() {
            discard().await;
        }
        return attached;
    }
    let body = match api.container_attach_output(id, true).await {
        Ok(body) => body,
        Err(e) => {
            discard().await;
            return Err(e);
        }
    };
    match print_stream(body).await? {
        Some(code) => Ok(code),
        None => Ok(api.container_wait(id).await?.exit_code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Run {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Args {
        Run::try_parse_from(std::iter::once("run").chain(argv.iter().copied()))
            .expect("parses")
            .args
    }

    #[test]
    fn everything_after_the_image_is_the_command() {
        let run = parse(&["--entrypoint", "sh", "-d", "busybox", "-c", "echo $HOME"]);
        let options = run.create.options(false).expect("options");
        assert!(run.detach);
        assert_eq!(options.image, "busybox");
        assert_eq!(options.entrypoint, Some(vec!["sh".to_string()]));
        assert_eq!(options.cmd, ["-c", "echo $HOME"]);
        // berth's own flags after the image belong to the command too.
        let run = parse(&["busybox", "ls", "--rm", "-d", "-m", "1g"]);
        let options = run.create.options(false).expect("options");
        assert!(!run.detach && !options.auto_remove && options.memory.is_none());
        assert_eq!(options.cmd, ["ls", "--rm", "-d", "-m", "1g"]);
        let run = parse(&["--rm", "--group-add", "audio", "-it", "debian"]);
        let options = run.create.options(true).expect("options");
        assert!(options.auto_remove && options.tty && options.cmd.is_empty());
        assert_eq!(options.group_add, ["audio"]);
        assert_eq!(options.healthcheck, None);
        let run = parse(&[
            "--health-cmd",
            "test -e /ok",
            "--health-interval",
            "1m30s",
            "--health-retries",
            "2",
            "busybox",
        ]);
        let health = run
            .create
            .options(false)
            .expect("options")
            .healthcheck
            .expect("set");
        assert_eq!(health.test, ["CMD-SHELL", "test -e /ok"]);
        assert_eq!(
            (health.interval, health.timeout, health.retries),
            (90_000_000_000, 0, 2)
        );
        let off = parse(&["--no-healthcheck", "busybox"])
            .create
            .options(false)
            .expect("off");
        assert!(off.healthcheck.expect("set").is_none());
        assert!(
            parse(&["--no-healthcheck", "--health-cmd", "true", "busybox"])
                .create
                .options(false)
                .is_err()
        );
        assert!(parse(&["--health-interval", "soon", "busybox"])
            .create
            .options(false)
            .is_err());
        assert!(
            Run::try_parse_from(["run", "--rm"]).is_err(),
            "an image is required"
        );
    }

    #[test]
    fn devices_are_parsed_on_the_client() {
        let run = parse(&[
            "--device",
            "/dev/fuse",
            "--device=/dev/zero:/dev/z:r",
            "busybox",
        ]);
        let devices = run.create.options(false).expect("options").devices;
        let got: Vec<_> = devices
            .iter()
            .map(|d| {
                (
                    d.path_on_host.as_str(),
                    d.path_in_container.as_str(),
                    d.cgroup_permissions.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("/dev/fuse", "/dev/fuse", "rwm"),
                ("/dev/zero", "/dev/z", "r")
            ]
        );
        let bad = parse(&["--device", "/dev/zero:/dev/z:rwz", "busybox"])
            .create
            .options(false)
            .unwrap_err();
        assert!(bad.to_string().contains("\"rwz\""), "{bad}");
        assert!(
            Run::try_parse_from(["run", "--device"]).is_err(),
            "--device needs a value"
        );
    }

    fn opts(items: &[&str]) -> Result<(Option<bool>, Option<String>)> {
        security_opts(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn seccomp_options_are_read_on_the_client() {
        assert_eq!(opts(&[]).unwrap(), (None, None));
        assert_eq!(
            opts(&["seccomp=unconfined", "no-new-privileges=false"]).unwrap(),
            (Some(false), Some("unconfined".into()))
        );
        assert_eq!(
            opts(&["seccomp:unconfined"]).unwrap().1.as_deref(),
            Some("unconfined")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        std::fs::write(
            &path,
            "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": []\n}\n",
        )
        .unwrap();
        let (_, sent) = opts(&[&format!("seccomp={}", path.display())]).unwrap();
        assert_eq!(
            sent.as_deref(),
            Some(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#),
            "the file's content, compacted"
        );
        let missing = opts(&["seccomp=/nonexistent/profile.json"]).unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/profile.json"),
            "{missing}"
        );
        std::fs::write(&path, "{not json").unwrap();
        let bad = opts(&[&format!("seccomp={}", path.display())]).unwrap_err();
        assert!(bad.to_string().contains("not valid JSON"), "{bad}");
        assert!(opts(&["seccomp="]).is_err());
        assert!(opts(&["apparmor=unconfined"]).is_err());
    }
}
