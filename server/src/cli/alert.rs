//! `berth alert rule add|ls|rm`, `berth alert test`, `berth alert deliveries`: alert rules
//! and their webhook delivery log (admin only).

use super::api::Api;
use super::format;
use super::listing::{print_objects, remove_each, IdsArgs, LsArgs};
use anyhow::Result;
use berth_wire::alert::{AlertAttempt, AlertKind, AlertOutcome, AlertRule, CreateAlertRule};

#[derive(clap::Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Manage alert rules (add, ls, rm)
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Send a test alert to a rule's webhook and show the first attempt
    Test(TestArgs),
    /// Show the delivery log: every attempt at sending an alert, newest first
    Deliveries(DeliveriesArgs),
}

#[derive(clap::Subcommand)]
#[command(defer = true)]
pub enum RuleCommand {
    /// Add a rule; prints its id
    Add(AddArgs),
    /// List rules
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Remove one or more rules by id (their unsent deliveries are cancelled)
    #[command(alias = "remove")]
    Rm(IdsArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// What to alert on: died (a non-zero exit no user asked for), oom, unhealthy or
    /// restart-loop (with --restarts and --minutes)
    #[arg(long = "on", value_name = "CONDITION", value_parser = parse_kind)]
    on: AlertKind,
    /// restart-loop: this many restarts…
    #[arg(long, value_name = "N")]
    restarts: Option<u32>,
    /// restart-loop: …within this many minutes
    #[arg(long, value_name = "M")]
    minutes: Option<u32>,
    /// Only this container (its name or an id prefix)
    #[arg(long, value_name = "NAME")]
    container: Option<String>,
    /// Only containers with this label (key or key=value)
    #[arg(long, value_name = "LABEL")]
    label: Option<String>,
    /// Where the alert is POSTed as JSON (http:// or https://)
    #[arg(long, value_name = "URL")]
    webhook: String,
    /// Add the rule switched off
    #[arg(long)]
    disabled: bool,
}

#[derive(clap::Args)]
pub struct TestArgs {
    /// The rule's id
    id: String,
}

#[derive(clap::Args)]
pub struct DeliveriesArgs {
    /// How many attempts to show, newest first
    #[arg(short = 'n', long, default_value_t = 50)]
    limit: u32,
    /// Format output: 'table', 'json' (the API's objects, one a line) or a template
    #[arg(long)]
    format: Option<String>,
}

fn parse_kind(text: &str) -> Result<AlertKind, String> {
    text.parse()
}

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    match command {
        Command::Rule(RuleCommand::Add(a)) => add(api, a).await,
        Command::Rule(RuleCommand::Ls(a)) => ls(api, a).await,
        Command::Rule(RuleCommand::Rm(a)) => {
            remove_each(&a.ids, |id| async move { api.alert_rule_remove(&id).await }).await
        }
        Command::Test(a) => test(api, a).await,
        Command::Deliveries(a) => deliveries(api, a).await,
    }
}

async fn add(api: &Api, args: AddArgs) -> Result<i32> {
    let rule = api
        .alert_rule_create(&CreateAlertRule {
            kind: args.on,
            restarts: args.restarts,
            minutes: args.minutes,
            container: args.container,
            label: args.label,
            webhook: args.webhook,
            enabled: Some(!args.disabled),
        })
        .await?;
    println!("{}", rule.id);
    Ok(0)
}

/// `restart-loop 3/1m`, `died` …: the condition as the table shows it.
fn condition(rule: &AlertRule) -> String {
    match (rule.kind, rule.restarts, rule.minutes) {
        (AlertKind::RestartLoop, Some(n), Some(m)) => format!("restart-loop {n} in {m}m"),
        (kind, _, _) => kind.as_str().replace('_', "-"),
    }
}

async fn ls(api: &Api, args: LsArgs) -> Result<i32> {
    let rules = api.alert_rules().await?;
    match args.format.as_deref() {
        None | Some("") | Some("table") => {
            let rows: Vec<Vec<String>> = rules
                .iter()
                .map(|r| {
                    let filter = match (&r.container, &r.label) {
                        (Some(c), Some(l)) => format!("container={c},label={l}"),
                        (Some(c), None) => format!("container={c}"),
                        (None, Some(l)) => format!("label={l}"),
                        (None, None) => "*".to_string(),
                    };
                    vec![
                        r.id.to_string(),
                        condition(r),
                        filter,
                        if r.enabled { "yes" } else { "no" }.to_string(),
                        format::ago_ms(r.created_at_ms),
                        r.webhook.clone(),
                    ]
                })
                .collect();
            let header = ["ID", "ON", "CONTAINERS", "ENABLED", "CREATED", "WEBHOOK"];
            print!("{}", format::table(&header, &rows));
        }
        Some(other) => print_objects(other, &rules)?,
    }
    Ok(0)
}

/// What an attempt came to: `200`, `500`, or the error.
fn result(attempt: &AlertAttempt) -> String {
    match (&attempt.status, &attempt.error) {
        (Some(status), Some(error)) => format!("{status} {error}"),
        (Some(status), None) => status.to_string(),
        (None, Some(error)) => error.clone(),
        (None, None) => "-".to_string(),
    }
}

async fn test(api: &Api, args: TestArgs) -> Result<i32> {
    let tested = api.alert_test(&args.id).await?;
    match tested.attempt {
        Some(a) if a.outcome == AlertOutcome::Delivered => {
            println!("delivered (delivery {}: {})", tested.delivery, result(&a));
            Ok(0)
        }
        Some(a) => {
            println!(
                "not delivered (delivery {}: {}; {})",
                tested.delivery,
                result(&a),
                a.outcome.as_str()
            );
            Ok(1)
        }
        None => {
            println!(
                "queued as delivery {}; no answer yet (see berth alert deliveries)",
                tested.delivery
            );
            Ok(1)
        }
    }
}

async fn deliveries(api: &Api, args: DeliveriesArgs) -> Result<i32> {
    let attempts = api.alert_deliveries(args.limit.clamp(1, 1000)).await?;
    match args.format.as_deref() {
        None | Some("") | Some("table") => {
            let now = format::now_ms();
            let rows: Vec<Vec<String>> = attempts
                .iter()
                .map(|a| {
                    vec![
                        format::timestamp(a.time_ms),
                        a.delivery.to_string(),
                        a.rule.to_string(),
                        a.alert.replace('_', "-"),
                        a.attempt.to_string(),
                        a.outcome.as_str().to_string(),
                        a.next_retry_ms
                            .map(|t| format::expires_ms(Some(t), now).replace("expired", "now"))
                            .unwrap_or_else(|| "-".to_string()),
                        result(a),
                    ]
                })
                .collect();
            let header = [
                "TIME", "DELIVERY", "RULE", "ALERT", "ATTEMPT", "OUTCOME", "RETRY", "RESULT",
            ];
            print!("{}", format::table(&header, &rows));
        }
        Some(other) => print_objects(other, &attempts)?,
    }
    Ok(0)
}
