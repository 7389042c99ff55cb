//! `berth`: the daemon (`serve`: engine + dashboard + API), the CLI verbs that talk to it, and
//! the per-container shim (`berth shim`, re-executed by the daemon).

mod api;
mod cli;
mod client;
mod config;
mod daemon;
mod forms;
mod frames;
mod metrics;
mod peer;
mod router;
mod security;
#[cfg(test)]
mod testing;
mod transport;
mod web;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "A container engine with a web dashboard, in one binary"
)]
struct Args {
    /// Daemon to connect to: unix:///path, tcp://host:port or https://host:port [env: BERTH_HOST]
    #[arg(short = 'H', long = "host", global = true)]
    host: Option<String>,
    /// File holding the API token for a TCP daemon (BERTH_TOKEN wins) [env: BERTH_TOKEN]
    #[arg(long, global = true, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// CA certificates (PEM) to trust for an https:// daemon [env: BERTH_TLS_CA]
    #[arg(long, global = true, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Run the daemon: the engine, the web dashboard and the API
    Serve(daemon::ServeArgs),
    /// Load images from a `docker save` tar or an OCI archive
    Load(cli::load::Args),
    /// Download an image from a registry
    Pull(cli::pull::Args),
    /// Upload an image to a registry
    Push(cli::push::Args),
    /// Browse a registry: its repositories (catalog) or a repository's tags
    #[command(subcommand)]
    Registry(cli::registry::Command),
    /// Log in to a registry (the daemon checks and keeps the credentials)
    Login(cli::login::LoginArgs),
    /// Log out from a registry
    Logout(cli::login::LogoutArgs),
    /// List images
    Images(cli::images::Args),
    /// Create a tag TARGET that refers to the image SOURCE
    Tag(cli::tag::Args),
    /// Remove one or more images
    Rmi(cli::rmi::Args),
    /// Show the history of an image
    History(cli::history::Args),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(cli::save::Args),
    /// Import the contents of a root file system tarball as an image
    Import(cli::import::Args),
    /// Manage images (ls, rm, prune, inspect, history, save, load, import, tag)
    #[command(subcommand)]
    Image(ImageCommand),
    /// Create and run a container
    Run(cli::run::Args),
    /// Create a container without starting it
    Create(cli::run::CreateArgs),
    /// Start stopped containers
    Start(cli::lifecycle::StartArgs),
    /// List containers
    Ps(cli::ps::Args),
    /// Show a container's log
    Logs(cli::logs::Args),
    /// Stop running containers (SIGTERM, then SIGKILL after a grace period)
    Stop(cli::lifecycle::StopArgs),
    /// Send a signal to running containers
    Kill(cli::lifecycle::KillArgs),
    /// Remove containers
    Rm(cli::lifecycle::RmArgs),
    /// Display a live stream of containers' resource usage
    Stats(cli::stats::Args),
    /// Restart containers
    Restart(cli::lifecycle::RestartArgs),
    /// Pause all processes within containers
    Pause(cli::lifecycle::PauseArgs),
    /// Unpause all processes within containers
    Unpause(cli::lifecycle::PauseArgs),
    /// Rename a container
    Rename(cli::lifecycle::RenameArgs),
    /// Manage containers (prune)
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Wait for containers to exit and print their exit codes
    Wait(cli::lifecycle::WaitArgs),
    /// Show a container's details as JSON
    Inspect(cli::lifecycle::InspectArgs),
    /// Get real time events from the daemon
    Events(cli::events::Args),
    /// Manage volumes (create, ls, inspect, rm, prune)
    #[command(subcommand)]
    Volume(cli::volume::Command),
    /// Execute a command in a running container
    Exec(cli::exec::Args),
    /// Attach local standard input, output, and error streams to a running container
    Attach(cli::attach::Args),
    /// Manage berth (df, info)
    #[command(subcommand)]
    System(cli::system::Command),
    /// Display system-wide information
    Info(cli::system::InfoArgs),
    /// Show the berth version information (client and daemon)
    Version,
    /// Manage the daemon's users (add, ls, rm, passwd, role)
    #[command(subcommand)]
    User(cli::user::Command),
    /// Manage API tokens (create, ls, revoke)
    #[command(subcommand)]
    Token(cli::token::Command),
    /// Manage read-only status board links (create, ls, revoke)
    #[command(subcommand)]
    Board(cli::board::Command),
    /// Show the daemon's audit log: who did what, from where
    Audit(cli::audit::Args),
    /// Manage alerts: rules that POST to a webhook when containers die, are OOM-killed,
    /// turn unhealthy or restart in a loop (rule add|ls|rm, test, deliveries)
    #[command(subcommand)]
    Alert(cli::alert::Command),
    /// Show who the daemon takes the CLI for
    Whoami,
    /// Manage networks (ls, create, rm, inspect, connect, disconnect)
    #[command(subcommand)]
    Network(cli::network::Command),
    /// List port mappings of a container
    Port(cli::network::PortArgs),
    /// Monitor one container (internal: started by the daemon)
    #[command(hide = true)]
    Shim { spec: PathBuf },
    /// Run one exec'd command in a container (internal: started by the daemon)
    #[command(hide = true, name = "shim-exec")]
    ShimExec { spec: PathBuf },
}

#[derive(Subcommand)]
#[command(defer = true)]
enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(cli::images::Args),
    /// Remove one or more images
    #[command(alias = "remove")]
    Rm(cli::rmi::Args),
    /// Remove unused images
    Prune(cli::image_prune::Args),
    /// Display detailed information on one or more images
    Inspect(cli::inspect::ImageArgs),
    /// Show the history of an image
    History(cli::history::Args),
    /// Save one or more images to a tar archive
    Save(cli::save::Args),
    /// Load images from a `docker save` tar or an OCI archive
    Load(cli::load::Args),
    /// Import the contents of a root file system tarball as an image
    Import(cli::import::Args),
    /// Create a tag TARGET that refers to the image SOURCE
    Tag(cli::tag::Args),
}

#[derive(Subcommand)]
#[command(defer = true)]
enum ContainerCommand {
    /// Remove all stopped containers
    Prune(cli::lifecycle::PruneArgs),
}

/// The daemon's log filter unless `BERTH_LOG` sets one: info, but netlink-packet-route's
/// parse warnings only as errors. It warns about every IFLA_INET6_CONF attribute of a
/// kernel newer than itself (`expecting 236, got 240`), dozens per container start, about
/// attributes berth never reads.
const DEFAULT_LOG_FILTER: &str = "info,netlink_packet_route=error";

fn main() {
    // `berth serve` takes its configuration file's values where no flag or variable set one.
    let argv = match config::with_config_file(Args::command, std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(err) => {
            eprintln!("berth: {err:#}");
            std::process::exit(2);
        }
    };
    let args = Args::parse_from(argv);
    if let Command::Shim { spec } = &args.command {
        // The shim stays synchronous and small: no async runtime, no logging set-up.
        std::process::exit(berth_engine::runtime::shim::main(spec));
    }
    if let Command::ShimExec { spec } = &args.command {
        std::process::exit(berth_engine::runtime::exec::main(spec));
    }
    if !matches!(args.command, Command::Serve(_)) {
        cli::sigpipe::end_quietly_when_stdout_closes();
    }
    // The first admin's password is read once and kept out of the environment that the
    // daemon's shims and their containers would inherit (still one thread here).
    let admin_password = std::env::var("BERTH_ADMIN_PASSWORD").ok();
    std::env::remove_var("BERTH_ADMIN_PASSWORD");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .init();
    // The daemon serves on every core; a client command waits on one connection at a time,
    // and a runtime on its own thread starts without spawning workers.
    let mut builder = match &args.command {
        Command::Serve(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(dispatch(args, admin_password));
    std::process::exit(code);
}

async fn image(client: &cli::api::Api, command: ImageCommand) -> anyhow::Result<i32> {
    match command {
        ImageCommand::Ls(a) => cli::images::run(client, a).await,
        ImageCommand::Rm(a) => cli::rmi::run(client, a).await,
        ImageCommand::Prune(a) => cli::image_prune::run(client, a).await,
        ImageCommand::Inspect(a) => cli::inspect::image(client, a).await,
        ImageCommand::History(a) => cli::history::run(client, a).await,
        ImageCommand::Save(a) => cli::save::run(client, a).await,
        ImageCommand::Load(a) => cli::load::run(client, a).await,
        ImageCommand::Import(a) => cli::import::run(client, a).await,
        ImageCommand::Tag(a) => cli::tag::run(client, a).await,
    }
}

async fn dispatch(args: Args, admin_password: Option<String>) -> i32 {
    let result = match args.command {
        Command::Serve(serve) => daemon::serve(serve, admin_password).await.map(|()| 0),
        command => match cli::connect(&cli::Connect {
            host: args.host,
            token_file: args.token_file,
            tls_ca: args.tls_ca,
        }) {
            Err(e) => Err(e),
            Ok(client) => match command {
                Command::Load(a) => cli::load::run(&client, a).await,
                Command::Pull(a) => cli::pull::run(&client, a).await,
                Command::Push(a) => cli::push::run(&client, a).await,
                Command::Registry(c) => cli::registry::run(&client, c).await,
                Command::Login(a) => cli::login::login(&client, a).await,
                Command::Logout(a) => cli::login::logout(&client, a).await,
                Command::Images(a) => cli::images::run(&client, a).await,
                Command::Tag(a) => cli::tag::run(&client, a).await,
                Command::Rmi(a) => cli::rmi::run(&client, a).await,
                Command::History(a) => cli::history::run(&client, a).await,
                Command::Save(a) => cli::save::run(&client, a).await,
                Command::Import(a) => cli::import::run(&client, a).await,
                Command::Image(c) => image(&client, c).await,
                Command::Run(a) => cli::run::run(&client, a).await,
                Command::Create(a) => cli::run::create(&client, a).await,
                Command::Start(a) => cli::lifecycle::start(&client, a).await,
                Command::Ps(a) => cli::ps::run(&client, a).await,
                Command::Logs(a) => cli::logs::run(&client, a).await,
                Command::Stop(a) => cli::lifecycle::stop(&client, a).await,
                Command::Kill(a) => cli::lifecycle::kill(&client, a).await,
                Command::Rm(a) => cli::lifecycle::rm(&client, a).await,
                Command::Wait(a) => cli::lifecycle::wait(&client, a).await,
                Command::Stats(a) => cli::stats::run(&client, a).await,
                Command::Restart(a) => cli::lifecycle::restart(&client, a).await,
                Command::Pause(a) => cli::lifecycle::pause(&client, a, "pause").await,
                Command::Unpause(a) => cli::lifecycle::pause(&client, a, "unpause").await,
                Command::Rename(a) => cli::lifecycle::rename(&client, a).await,
                Command::Container(ContainerCommand::Prune(a)) => {
                    cli::lifecycle::prune(&client, a).await
                }
                Command::Inspect(a) => cli::lifecycle::inspect(&client, a).await,
                Command::Events(a) => cli::events::run(&client, a).await,
                Command::Volume(c) => cli::volume::run(&client, c).await,
                Command::Exec(a) => cli::exec::run(&client, a).await,
                Command::Attach(a) => cli::attach::run(&client, a).await,
                Command::System(c) => cli::system::run(&client, c).await,
                Command::Info(a) => cli::system::info(&client, a).await,
                Command::Version => cli::version::run(&client).await,
                Command::Network(c) => cli::network::run(&client, c).await,
                Command::Port(a) => cli::network::port(&client, a).await,
                Command::User(c) => cli::user::run(&client, c).await,
                Command::Token(c) => cli::token::run(&client, c).await,
                Command::Board(c) => cli::board::run(&client, c).await,
                Command::Audit(a) => cli::audit::run(&client, a).await,
                Command::Alert(c) => cli::alert::run(&client, c).await,
                Command::Whoami => cli::whoami::run(&client).await,
                Command::Serve(_) | Command::Shim { .. } | Command::ShimExec { .. } => Ok(0),
            },
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            cli::exit_code_for(&e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand's about line, by path ("user ls"), with the tree fully built
    /// (`defer` builds a subcommand's arguments only when it is invoked).
    fn abouts() -> Vec<(String, Vec<String>, String)> {
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Vec<String>, String)>) {
            let siblings: Vec<String> = cmd
                .get_subcommands()
                .map(|c| c.get_about().map(|a| a.to_string()).unwrap_or_default())
                .collect();
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name()).trim().to_string();
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                out.push((name.clone(), siblings.clone(), about));
                walk(sub, &name, out);
            }
        }
        let mut cmd = Args::command();
        cmd.build();
        let mut out = Vec::new();
        walk(&cmd, "", &mut out);
        out
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn deferred_subcommands_keep_their_own_about_lines() {
        let abouts = abouts();
        let about = |path: &str| {
            abouts
                .iter()
                .find(|(p, _, _)| p == path)
                .map(|(_, _, a)| a.clone())
                .unwrap_or_else(|| panic!("no subcommand {path}"))
        };
        assert_eq!(about("run"), "Create and run a container");
        assert_eq!(about("create"), "Create a container without starting it");
        assert!(
            about("serve").starts_with("Run the daemon"),
            "{}",
            about("serve")
        );
        assert_eq!(about("user ls"), "List users");
        assert!(about("token revoke").starts_with("Revoke one or more tokens"));
        // A struct's doc comment taking over would give siblings the same line.
        for (path, siblings, about) in &abouts {
            if about.is_empty() {
                continue;
            }
            let same = siblings.iter().filter(|s| *s == about).count();
            assert_eq!(
                same, 1,
                "{path} shares its about line {about:?} with a sibling"
            );
        }
    }

    #[test]
    fn a_run_line_parses_with_the_tree_deferred() {
        let args = Args::try_parse_from([
            "berth",
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "echo $HOME",
        ])
        .unwrap();
        assert!(matches!(args.command, Command::Run(_)));
        let bad = Args::try_parse_from(["berth", "image", "ls", "--no-such-flag"]);
        assert!(bad.is_err());
    }
}
