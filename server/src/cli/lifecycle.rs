//! `berth start|stop|kill|rm|wait|inspect`: verbs that act on containers by id or name and
//! print each name as docker does, going on with the others when one fails.

use super::segment;
use crate::client::Client;
use anyhow::Result;
use berth_engine::container::ContainerSummary;
use hyper::Method;

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
    let results = futures::future::join_all(containers.iter().map(|c| action(segment(c)))).await;
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

/// `POST /api/v1/containers/<id>/<action><query>` for every container, as [`each`] does.
async fn post_each(
    client: &Client,
    containers: &[String],
    action: &str,
    query: &str,
) -> Result<i32> {
    each(containers, |id| async move {
        client
            .call(
                Method::POST,
                &format!("/api/v1/containers/{id}/{action}{query}"),
            )
            .await?;
        Ok(None)
    })
    .await
}

fn grace_query(time: Option<u64>) -> String {
    time.map(|t| format!("?t={t}")).unwrap_or_default()
}

pub async fn start(client: &Client, args: StartArgs) -> Result<i32> {
    if !args.attach && !args.interactive {
        return post_each(client, &args.containers, "start", "").await;
    }
    let [container] = args.containers.as_slice() else {
        anyhow::bail!("you cannot start and attach multiple containers at once");
    };
    let inspect: serde_json::Value = client
        .json(
            Method::GET,
            &format!("/api/v1/containers/{}", segment(container)),
            None::<&()>,
        )
        .await?;
    let flag = |name: &str| inspect["Config"][name].as_bool().unwrap_or(false);
    let session = super::attach::Session {
        start: true,
        stdin: args.interactive && flag("OpenStdin"),
        tty: flag("Tty"),
        detach_keys: args.detach_keys,
    };
    super::attach::attach(client, container, session).await
}

pub async fn stop(client: &Client, args: StopArgs) -> Result<i32> {
    post_each(client, &args.containers, "stop", &grace_query(args.time)).await
}

pub async fn restart(client: &Client, args: RestartArgs) -> Result<i32> {
    post_each(client, &args.containers, "restart", &grace_query(args.time)).await
}

/// `pause` or `unpause`.
pub async fn pause(client: &Client, args: PauseArgs, verb: &str) -> Result<i32> {
    post_each(client, &args.containers, verb, "").await
}

pub async fn kill(client: &Client, args: KillArgs) -> Result<i32> {
    let query = format!("?signal={}", segment(&args.signal));
    post_each(client, &args.containers, "kill", &query).await
}

pub async fn rm(client: &Client, args: RmArgs) -> Result<i32> {
    let (force, volumes) = (args.force, args.volumes);
    each(&args.containers, |id| async move {
        client
            .call(
                Method::DELETE,
                &format!("/api/v1/containers/{id}?force={force}&v={volumes}"),
            )
            .await?;
        Ok(None)
    })
    .await
}

pub async fn wait(client: &Client, args: WaitArgs) -> Result<i32> {
    each(&args.containers, |id| async move {
        let waited: crate::api::WaitResponse = client
            .json(
                Method::POST,
                &format!("/api/v1/containers/{id}/wait"),
                None::<&()>,
            )
            .await?;
        Ok(Some(waited.exit_code.to_string()))
    })
    .await
}

/// A container, or else an image, by name or id (docker's `inspect`).
pub async fn inspect(client: &Client, args: InspectArgs) -> Result<i32> {
    use super::inspect::{each, CONTAINER, IMAGE};
    each(client, &args.containers, &[CONTAINER, IMAGE]).await
}

pub async fn rename(client: &Client, args: RenameArgs) -> Result<i32> {
    client
        .json::<ContainerSummary>(
            Method::POST,
            &format!(
                "/api/v1/containers/{}/rename?name={}",
                segment(&args.container),
                segment(&args.new_name)
            ),
            None::<&()>,
        )
        .await?;
    Ok(0)
}

pub async fn prune(client: &Client, args: PruneArgs) -> Result<i32> {
    if !args.force && !super::confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(0);
    }
    let pruned: crate::api::PruneResponse = client
        .json(Method::POST, "/api/v1/containers/prune", None::<&()>)
        .await?;
    super::print_deleted("Containers", &pruned.containers_deleted);
    println!(
        "Total reclaimed space: {}",
        super::format::size(pruned.space_reclaimed as i64)
    );
    Ok(0)
}
