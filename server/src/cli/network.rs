//! `berth network ls/create/rm/inspect/connect/disconnect`, `berth port`, and the network
//! options of `berth serve` (the default bridge's name and subnet).

use super::api::Api;
use super::inspect::Kind;
use super::{format, template};
use anyhow::{anyhow, Result};
use berth_engine::filters::Filters;
use berth_engine::network::{NetworkConfig, Subnet};
use berth_wire::network::{NetworkCreate, NetworkSummary};

// `berth serve` options for networking (a plain comment: flattened under `defer`, a doc
// comment would become `serve`'s about line).
#[derive(clap::Args)]
pub struct ServeNetworkArgs {
    /// Name of the default bridge (docker0 for docker)
    #[arg(long = "bridge-name", default_value = "berth0", value_name = "NAME")]
    bridge_name: String,
    /// Subnet of the default bridge, or `auto` for a free one
    #[arg(
        long = "bridge-subnet",
        default_value = "172.29.0.0/16",
        value_name = "CIDR|auto"
    )]
    bridge_subnet: String,
    /// Prefix of user networks' bridge names (then the start of the network id)
    #[arg(long = "bridge-prefix", default_value = "br-", value_name = "PREFIX")]
    bridge_prefix: String,
}

impl ServeNetworkArgs {
    pub fn config(&self) -> Result<NetworkConfig> {
        if self.bridge_name.is_empty() || self.bridge_name.len() > 15 {
            return Err(anyhow!(
                "invalid --bridge-name {:?}: 1 to 15 characters",
                self.bridge_name
            ));
        }
        if self.bridge_prefix.len() > 11 {
            return Err(anyhow!(
                "invalid --bridge-prefix {:?}: at most 11 characters",
                self.bridge_prefix
            ));
        }
        let bridge_subnet = match self.bridge_subnet.as_str() {
            "auto" => None,
            cidr => Some(
                cidr.parse::<Subnet>()
                    .map_err(|e| anyhow!("--bridge-subnet: {e}"))?,
            ),
        };
        Ok(NetworkConfig {
            bridge_name: self.bridge_name.clone(),
            bridge_subnet,
            bridge_prefix: self.bridge_prefix.clone(),
            ..NetworkConfig::default()
        })
    }
}

#[derive(clap::Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Create a network
    Create(CreateArgs),
    /// Remove one or more networks
    #[command(alias = "remove")]
    Rm(NamesArgs),
    /// Display detailed information on one or more networks
    Inspect(NamesArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(ConnectArgs),
    /// Remove all user networks no container is connected to
    Prune(PruneArgs),
}

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

#[derive(clap::Args)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    quiet: bool,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Provide filter values (name=…, id=…, driver=…, type=builtin|custom, scope=local)
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format output: 'table', 'table TEMPLATE', 'json' or a template ('{{.Name}}')
    #[arg(long)]
    format: Option<String>,
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// Driver to manage the network (only bridge)
    #[arg(short, long)]
    driver: Option<String>,
    /// Subnet in CIDR format
    #[arg(long)]
    subnet: Option<String>,
    /// IPv4 gateway for the subnet
    #[arg(long)]
    gateway: Option<String>,
    name: String,
}

#[derive(clap::Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    networks: Vec<String>,
}

#[derive(clap::Args)]
pub struct ConnectArgs {
    network: String,
    container: String,
}

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    match command {
        Command::Ls(args) => {
            let filters = Filters::from_args(&args.filter)?;
            let networks = api.networks(&filters).await?;
            let id = |n: &NetworkSummary| format::list_id(&n.id, args.no_trunc);
            if args.quiet {
                networks.iter().for_each(|n| println!("{}", id(n)));
                return Ok(0);
            }
            let values: Vec<serde_json::Value> = networks
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "ID": id(n),
                        "Name": n.name,
                        "Driver": n.driver,
                        "Scope": "local",
                        "IPv6": "false",
                        "Internal": "false",
                        "Labels": "",
                        "CreatedAt": format::timestamp(n.created_at),
                    })
                })
                .collect();
            let format = match args.format.as_deref() {
                None | Some("") | Some("table") => {
                    "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
                }
                Some(other) => other,
            };
            let header = |field: &str| match field {
                "ID" => "NETWORK ID".to_string(),
                "CreatedAt" => "CREATED AT".to_string(),
                other => other.to_uppercase(),
            };
            print!("{}", template::render_list(format, &values, &header)?);
            Ok(0)
        }
        Command::Create(args) => {
            let request = NetworkCreate {
                name: args.name,
                driver: args.driver,
                subnet: args.subnet,
                gateway: args.gateway,
            };
            let created = api.network_create(&request).await?;
            println!("{}", created.id);
            Ok(0)
        }
        Command::Rm(args) => {
            each(&args.networks, |name| async move {
                api.network_remove(&name).await.map(|_| println!("{name}"))
            })
            .await
        }
        Command::Inspect(args) => {
            super::inspect::each(api, &args.networks, &[Kind::Network], None).await
        }
        Command::Connect(args) => {
            api.network_connect(&args.network, &args.container).await?;
            Ok(0)
        }
        Command::Disconnect(args) => {
            api.network_disconnect(&args.network, &args.container)
                .await?;
            Ok(0)
        }
        Command::Prune(args) => prune(api, args).await,
    }
}

async fn prune(api: &Api, args: PruneArgs) -> Result<i32> {
    let warning =
        "WARNING! This will remove all custom networks not used by at least one container.";
    if !args.force && !super::confirm(warning)? {
        return Ok(0);
    }
    let report = api.network_prune().await?;
    super::print_deleted("Networks", &report.networks_deleted);
    Ok(0)
}

/// Runs `one` for every name, printing failures; exit code 1 if any failed, as docker does.
async fn each<F, Fut>(names: &[String], one: F) -> Result<i32>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut code = 0;
    for name in names {
        if let Err(e) = one(name.clone()).await {
            eprintln!("Error: {e:#}");
            code = 1;
        }
    }
    Ok(code)
}

#[derive(clap::Args)]
pub struct PortArgs {
    container: String,
    /// Only this container port (PORT[/PROTO])
    private_port: Option<String>,
}

/// `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports.
pub async fn port(api: &Api, args: PortArgs) -> Result<i32> {
    let inspect = api.container_inspect(&args.container).await?;
    let wanted = args.private_port.map(|p| {
        if p.contains('/') {
            p
        } else {
            format!("{p}/tcp")
        }
    });
    let empty = serde_json::Map::new();
    let ports = inspect["NetworkSettings"]["Ports"]
        .as_object()
        .unwrap_or(&empty);
    let mut found = false;
    for (key, hosts) in ports {
        if wanted.as_ref().is_some_and(|w| w != key) {
            continue;
        }
        for host in hosts.as_array().into_iter().flatten() {
            let ip = host["HostIp"].as_str().unwrap_or_default();
            let port = host["HostPort"].as_str().unwrap_or_default();
            found = true;
            if wanted.is_some() {
                println!("{ip}:{port}");
            } else {
                println!("{key} -> {ip}:{port}");
            }
        }
    }
    if let (Some(wanted), false) = (wanted, found) {
        eprintln!(
            "Error: No public port '{wanted}' published for {}",
            args.container
        );
        return Ok(1);
    }
    Ok(0)
}
