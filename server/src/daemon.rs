//! `berth serve`: opens the engine on its data root and serves the dashboard and the API on a
//! TCP address (for browsers) and a unix socket (for the CLI), until SIGINT or SIGTERM.

use crate::security::{Security, SecurityConfig};
use crate::transport;
use anyhow::{bail, Context, Result};
use berth_engine::auth::AuthPolicy;
use berth_engine::image::registry::RegistryConfig;
use berth_engine::{Engine, EngineConfig};
use berth_wire::Role;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// A TOML file of these flags' long names and values (flags and variables win over it)
    /// [default: /etc/berth/berth.toml, if it exists]
    #[arg(long, value_name = "FILE", env = "BERTH_CONFIG")]
    config: Option<PathBuf>,
    /// Where berth keeps its images, containers and catalogue
    #[arg(long, default_value = "/var/lib/berth", env = "BERTH_DATA_ROOT")]
    data_root: PathBuf,
    /// Address of the web dashboard and HTTP API
    #[arg(long, default_value = "127.0.0.1:7878", env = "BERTH_LISTEN")]
    listen: String,
    /// Unix socket for the CLI
    #[arg(long, default_value = crate::client::DEFAULT_SOCKET, env = "BERTH_SOCKET")]
    socket: PathBuf,
    /// A pull-through mirror for docker.io, tried before Docker Hub (repeatable)
    #[arg(long = "registry-mirror", value_name = "URL")]
    registry_mirrors: Vec<String>,
    /// A registry reached over plain HTTP or unverified TLS (repeatable)
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    insecure_registries: Vec<String>,
    /// A PEM CA certificate trusted for every registry (repeatable; per registry, put CAs in
    /// <data-root>/certs.d/HOST[:PORT]/*.crt)
    #[arg(long = "registry-ca", value_name = "FILE")]
    registry_cas: Vec<PathBuf>,
    #[command(flatten)]
    network: crate::cli::network::ServeNetworkArgs,
    /// The address users reach the dashboard at, e.g. https://berth.example.org behind a
    /// reverse proxy (repeatable): its host is answered, its origin trusted, and an https one
    /// makes the session cookie Secure
    #[arg(
        long = "public-url",
        value_name = "URL",
        env = "BERTH_PUBLIC_URL",
        value_delimiter = ','
    )]
    public_urls: Vec<String>,
    /// Another host name (or address) requests may name in their Host header (repeatable);
    /// loopback names and addresses are always answered
    #[arg(long = "allowed-host", value_name = "NAME")]
    allowed_hosts: Vec<String>,
    /// The cgroup containers' cgroups are made in, in every hierarchy (a relative path)
    #[arg(long = "cgroup-parent", default_value = berth_engine::DEFAULT_CGROUP_PARENT, value_name = "PATH")]
    cgroup_parent: String,
    /// A dashboard session not used for this long ends (e.g. 30m, 12h)
    #[arg(long = "session-idle", default_value = "12h", value_name = "DURATION", value_parser = crate::cli::input::duration_secs)]
    session_idle: u64,
    /// A dashboard session ends this long after its login, however much it is used
    #[arg(long = "session-max", default_value = "7d", value_name = "DURATION", value_parser = crate::cli::input::duration_secs)]
    session_max: u64,
    /// Audit log entries older than this are deleted
    #[arg(long = "audit-retention", default_value = "90d", value_name = "DURATION", value_parser = crate::cli::input::duration_secs)]
    audit_retention: u64,
    /// The wait after an alert webhook's first failed attempt, doubled for each later one
    /// (tests shorten it)
    #[arg(long = "alert-retry-base-ms", default_value_t = 1000, hide = true)]
    alert_retry_base_ms: u64,
    #[command(flatten)]
    transport: transport::TransportArgs,
}

impl ServeArgs {
    /// Alert deliveries: the defaults, with the back-off's base from its (hidden) flag.
    fn alert_config(&self) -> berth_engine::alerts::AlertConfig {
        berth_engine::alerts::AlertConfig {
            retry_base: Duration::from_millis(self.alert_retry_base_ms.max(1)),
            ..Default::default()
        }
    }

    /// Login and audit durations from the flags; the limits on failed logins keep their
    /// defaults.
    fn auth_policy(&self) -> Result<AuthPolicy> {
        if self.session_idle > self.session_max {
            bail!(
                "--session-idle ({}s) is longer than --session-max ({}s): a session could never idle out",
                self.session_idle,
                self.session_max
            );
        }
        Ok(AuthPolicy {
            session_idle: Duration::from_secs(self.session_idle),
            session_absolute: Duration::from_secs(self.session_max),
            audit_retention: Duration::from_secs(self.audit_retention),
            ..AuthPolicy::default()
        })
    }
}

/// The program the daemon runs as each container's shim: `berth-shim` beside the berth
/// executable `berth` (built with it: a smaller monitor), else berth itself (`berth shim`).
fn shim_program(berth: PathBuf) -> PathBuf {
    let companion = berth.with_file_name("berth-shim");
    let runnable = std::fs::metadata(&companion).is_ok_and(|m| {
        m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
    });
    if runnable {
        companion
    } else {
        berth
    }
}

pub async fn serve(args: ServeArgs, admin_password: Option<String>) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!("berth serve must run as root: it creates namespaces, cgroups and mounts");
    }
    // The listening flags and the certificate are checked before anything is opened.
    let transport = args.transport.prepare(&args.listen)?;
    let berth = std::env::current_exe().context("cannot find berth's own executable")?;
    let shim_program = shim_program(berth);
    let engine = Engine::open(EngineConfig {
        data_root: args.data_root.clone(),
        shim_program,
        registry: RegistryConfig {
            mirrors: args.registry_mirrors.clone(),
            insecure: args.insecure_registries.clone(),
            ca_files: args.registry_cas.clone(),
        },
        network: args.network.config()?,
        cgroup_parent: args.cgroup_parent.clone(),
        auth: args.auth_policy()?,
        alerts: args.alert_config(),
    })
    .await
    .with_context(|| format!("cannot open the data root {}", args.data_root.display()))?;

    for url in &args.public_urls {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!(
                "invalid --public-url {url:?}: expected http://HOST[:PORT] or https://HOST[:PORT]"
            );
        }
    }
    let security = Security::new(
        engine.clone(),
        SecurityConfig {
            allowed_hosts: args.allowed_hosts.clone(),
            public_origins: args.public_urls.clone(),
            secure_cookies: args.public_urls.iter().any(|u| u.starts_with("https://")),
        },
    );
    let app = crate::router::app(security);
    let app = transport::limits::apply(app, transport.ws.clone(), transport.upload);

    let tcp = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let unix = bind_socket(&args.socket)?;
    if let Some(gid) = transport.group {
        transport::chown_socket(&args.socket, gid)?;
    }
    let address = tcp.local_addr().context("reading the listening address")?;
    tracing::info!(data_root = %args.data_root.display(), socket = %args.socket.display(), config = ?args.config, "berth is ready");
    let scheme = if transport.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let base = args
        .public_urls
        .first()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("{scheme}://{address}"));
    println!("berth is serving the dashboard at {base}/");
    first_user(&engine, &base, admin_password).await?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let tcp_server = transport::serve(
        tcp,
        app.clone(),
        transport.options.clone(),
        transport.tls.clone(),
        stop_rx.clone(),
    );
    let unix_server = transport::serve(unix, app, transport.options.clone(), None, stop_rx.clone());
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    // Followers of logs keep connections open; after a stop request they get a short grace.
    let grace = async {
        transport::stopped(stop_rx).await;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    };
    tokio::select! {
        ((), ()) = async { tokio::join!(tcp_server, unix_server) } => {}
        () = grace => {}
    }
    let _ = std::fs::remove_file(&args.socket);
    // Containers keep running under their shims; the next `serve` re-attaches to them.
    tracing::info!("berth stopped; running containers keep running");
    Ok(())
}

/// With no users yet: the admin from `BERTH_ADMIN_PASSWORD`, or a one-time setup address
/// printed on the terminal and in the log.
async fn first_user(engine: &Engine, base: &str, admin_password: Option<String>) -> Result<()> {
    let auth = engine.auth();
    if auth.has_users().await? {
        return Ok(());
    }
    if let Some(password) = admin_password.filter(|p| !p.is_empty()) {
        auth.add_user("admin", &password, Role::Admin)
            .await
            .context("cannot create the admin from BERTH_ADMIN_PASSWORD")?;
        tracing::info!("created the user admin with the password in BERTH_ADMIN_PASSWORD");
        println!("berth created the user admin (password from BERTH_ADMIN_PASSWORD): log in at {base}/login");
        return Ok(());
    }
    if let Some(token) = auth.setup_token().await? {
        let url = format!("{base}/setup?token={token}");
        tracing::warn!("no users yet: create the first admin at {url}");
        println!(
            "berth has no users yet: open {url} to create the first admin (the link works once)"
        );
    }
    Ok(())
}

fn bind_socket(path: &PathBuf) -> Result<tokio::net::UnixListener> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            bail!("another daemon is already listening on {}", path.display());
        }
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove stale {}", path.display()))?;
    }
    let listener = tokio::net::UnixListener::bind(path)
        .with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    Ok(listener)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_companion_shim_is_used_when_it_is_an_executable_beside_berth() {
        let dir = tempfile::tempdir().unwrap();
        let berth = dir.path().join("berth");
        std::fs::write(&berth, "").unwrap();
        assert_eq!(
            shim_program(berth.clone()),
            berth,
            "no companion: berth itself"
        );
        let companion = dir.path().join("berth-shim");
        std::fs::write(&companion, "").unwrap();
        assert_eq!(
            shim_program(berth.clone()),
            berth,
            "not executable: berth itself"
        );
        std::fs::set_permissions(&companion, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(shim_program(berth), companion);
    }
}
