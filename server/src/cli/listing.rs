//! What the `ls` and `rm`/`revoke` verbs of users, tokens, board links and the audit log share:
//! the `--format` flag, the names or ids to remove, printing the API's objects, and removing
//! each of several.

use super::template;
use anyhow::Result;

// `ls`'s flags (a plain comment, or it would be every `ls` subcommand's about line).
#[derive(clap::Args)]
pub struct LsArgs {
    /// Format output: 'table', 'json' (the API's objects, one a line) or a template
    #[arg(long)]
    pub format: Option<String>,
}

// The names or ids an `rm` or `revoke` takes, one at least (a plain comment, as above).
#[derive(clap::Args)]
pub struct IdsArgs {
    #[arg(required = true)]
    pub ids: Vec<String>,
}

/// `--format json` (one API object a line) or a template over the API's objects.
pub fn print_objects(format: &str, items: &[impl serde::Serialize]) -> Result<()> {
    let values = items
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    let header = |field: &str| field.to_uppercase().replace('_', " ");
    print!("{}", template::render_list(format, &values, &header)?);
    Ok(())
}

/// `remove` for each, in order: the id printed when gone, an error line when not; 1 if
/// any failed.
pub async fn remove_each<F, Fut>(ids: &[String], remove: F) -> Result<i32>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut failed = false;
    for id in ids {
        match remove(id.clone()).await {
            Ok(()) => println!("{id}"),
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}
