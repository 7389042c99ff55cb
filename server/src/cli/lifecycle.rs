//! `berth start|stop|kill|rm|wait|inspect`: verbs that act on containers by id or name and
//! print each name as docker does, going on with the others when one fails.

use super::api::Api;
use anyhow::Result;

#[derive(clap::Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time")]
    time: Option<u64>,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal", default_value = "KILL")]
    signal: String,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long = "volumes")]
    volumes: bool,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct RestartArgs {
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time")]
    time: Option<u64>,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct PauseArgs {
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct RenameArgs {
    container: String,
    new_name: String,
}

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// Format the output using a Go template (`{{.State.Status}}`, `{{json .Config}}`) or
    /// `json`
    #[arg(short, long)]
    format: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

/// Runs `action` on every container at once (as docker does); then prints, in the order
/// given, each name on success or the error on failure; exit code 1 if any failed.
async fn each<F, Fut>(containers: &[String], action: F) -> Result<i32>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>>>,
{
    let results = futures::future::join_all(containers.iter().map(|c| action(c.clone()))).await;
    let mut failed = 0;
    for (container, result) in containers.iter().zip(results) {
        match result {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => println!("{container}"),
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Runs `action` on every container as [`each`] does, printing each name.
async fn act_on_each<F, Fut, T>(containers: &[String], action: F) -> Result<i32>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    each(containers, |id| {
        let done = action(id);
        async move { done.await.map(|_| None) }
    })
    .await
}

pub async fn start(api: &Api, args: StartArgs) -> Result<i32> {
    if !args.attach && !args.interactive {
        return act_on_each(&args.containers, |id| async move {
            api.container_start(&id).await
        })
        .await;
    }
    let [container] = args.containers.as_slice() else {
        anyhow::bail!("you cannot start and attach multiple containers at once");
    };
    let inspect = api.container_inspect(container).await?;
    let flag = |name: &str| inspect["Config"][name].as_bool().unwrap_or(false);
    let session = super::attach::Session {
        start: true,
        stdin: args.interactive && flag("OpenStdin"),
        tty: flag("Tty"),
        detach_keys: args.detach_keys,
    };
    super::attach::attach(api, container, session).await
}

pub async fn stop(api: &Api, args: StopArgs) -> Result<i32> {
    let grace = args.time;
    act_on_each(&args.containers, |id| async move {
        api.container_stop(&id, grace).await
    })
    .await
}

pub async fn restart(api: &Api, args: RestartArgs) -> Result<i32> {
    let grace = args.time;
    act_on_each(&args.containers, |id| async move {
        api.container_restart(&id, grace).await
    })
    .await
}

/// `pause` or `unpause`.
pub async fn pause(api: &Api, args: PauseArgs, verb: &str) -> Result<i32> {
    let unpause = verb == "unpause";
    act_on_each(&args.containers, |id| async move {
        match unpause {
            true => api.container_unpause(&id).await,
            false => api.container_pause(&id).await,
        }
    })
    .await
}

pub async fn kill(api: &Api, args: KillArgs) -> Result<i32> {
    let signal = args.signal.as_str();
    act_on_each(&args.containers, |id| async move {
        api.container_kill(&id, signal).await
    })
    .await
}

pub async fn rm(api: &Api, args: RmArgs) -> Result<i32> {
    let (force, volumes) = (args.force, args.volumes);
    act_on_each(&args.containers, |id| async move {
        api.container_remove(&id, force, volumes).await
    })
    .await
}

pub async fn wait(api: &Api, args: WaitArgs) -> Result<i32> {
    each(&args.containers, |id| async move {
        let waited = api.container_wait(&id).await?;
        Ok(Some(waited.exit_code.to_string()))
    })
    .await
}

/// A container, or else an image, by name or id (docker's `inspect`).
pub async fn inspect(api: &Api, args: InspectArgs) -> Result<i32> {
    use super::inspect::{each, Kind};
    each(
        api,
        &args.containers,
        &[Kind::Container, Kind::Image],
        args.format.as_deref(),
    )
    .await
}

pub async fn rename(api: &Api, args: RenameArgs) -> Result<i32> {
    api.container_rename(&args.container, &args.new_name)
        .await?;
    Ok(0)
}

pub async fn prune(api: &Api, args: PruneArgs) -> Result<i32> {
    if !args.force && !super::confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(0);
    }
    let pruned = api.container_prune().await?;
    super::print_deleted("Containers", &pruned.containers_deleted);
    println!(
        "Total reclaimed space: {}",
        super::format::size(pruned.space_reclaimed as i64)
    );
    Ok(0)
}
