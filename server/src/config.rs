//! `berth serve`'s configuration file (TOML): its keys are the long flags (`listen`,
//! `data-root`, `public-url = [...]`, `max-connections`, …) and it is read from `--config FILE`,
//! `BERTH_CONFIG`, or `/etc/berth/berth.toml` when that exists.
//!
//! Precedence: flags > environment > file > defaults. The command line is parsed once; every
//! key of the file whose flag got its value from neither the command line nor the
//! environment becomes `--key=value` arguments, and the whole is parsed again. Unknown keys,
//! wrong types and invalid values are errors naming the key and the file.

use anyhow::{anyhow, bail, Context, Result};
use clap::parser::ValueSource;
use clap::{ArgAction, Command};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The file read when neither `--config` nor `BERTH_CONFIG` names one, if it exists.
pub const DEFAULT_CONFIG: &str = "/etc/berth/berth.toml";

/// `argv` with the configuration file's values added, for `berth serve`; any other command
/// line unchanged (and a command line clap refuses too: its own parse reports the error).
///
/// Only `serve` reads the file, so a command line without the word `serve` is returned as it
/// is, before `command` builds clap's tree: every client command (`run`, `ps`, …) then pays
/// for one parse instead of three (building berth's command tree costs milliseconds).
pub fn with_config_file(
    command: impl FnOnce() -> Command,
    argv: Vec<OsString>,
) -> Result<Vec<OsString>> {
    if !argv.iter().skip(1).any(|a| a == "serve") {
        return Ok(argv);
    }
    with_config_file_at(command(), argv, Path::new(DEFAULT_CONFIG))
}

fn with_config_file_at(
    mut command: Command,
    mut argv: Vec<OsString>,
    default: &Path,
) -> Result<Vec<OsString>> {
    let Ok(matches) = command.clone().try_get_matches_from(&argv) else {
        return Ok(argv);
    };
    let Some(("serve", serve)) = matches.subcommand() else {
        return Ok(argv);
    };
    let path = match serve.get_one::<PathBuf>("config") {
        Some(path) => path.clone(),
        None if default.exists() => default.to_path_buf(),
        None => return Ok(argv),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("invalid TOML in {}", path.display()))?;
    command.build();
    let serve_command = command
        .find_subcommand("serve")
        .expect("berth has a serve command");
    let file = path.display();
    let mut added = Vec::new();
    for (key, value) in &table {
        let arg = serve_command
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()) && key != "config")
            .ok_or_else(|| anyhow!("{file}: unknown key `{key}` (keys are serve's long flags)"))?;
        let values: Vec<String> = match (arg.get_action(), value) {
            (ArgAction::SetTrue, toml::Value::Boolean(true)) => vec![String::new()],
            (ArgAction::SetTrue, toml::Value::Boolean(false)) => vec![],
            (ArgAction::SetTrue, _) => bail!("{file}: key `{key}` takes true or false"),
            (ArgAction::Append, toml::Value::Array(items)) => items
                .iter()
                .map(|item| scalar(item).ok_or_else(|| type_error(&file, key)))
                .collect::<Result<_>>()?,
            (_, value) => vec![scalar(value).ok_or_else(|| type_error(&file, key))?],
        };
        // Each value must be one the flag takes: the flag alone, parsed by serve's own parser.
        for value in values.iter().filter(|v| !v.is_empty()) {
            let one = [
                OsString::from("serve"),
                OsString::from(format!("--{key}={value}")),
            ];
            if let Err(e) = serve_command.clone().try_get_matches_from(one) {
                use clap::error::ErrorKind;
                if matches!(
                    e.kind(),
                    ErrorKind::InvalidValue | ErrorKind::ValueValidation
                ) {
                    let message = e.to_string();
                    let message = message.trim().trim_start_matches("error: ");
                    let first = message.lines().next().unwrap_or_default();
                    bail!("{file}: key `{key}`: {first}");
                }
            }
        }
        let source = serve.value_source(arg.get_id().as_str());
        if matches!(
            source,
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        for value in values {
            added.push(if value.is_empty() {
                OsString::from(format!("--{key}"))
            } else {
                OsString::from(format!("--{key}={value}"))
            });
        }
    }
    argv.extend(added);
    Ok(argv)
}

/// A string, an integer or a float, as a flag's value.
fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(n) => Some(n.to_string()),
        _ => None,
    }
}

fn type_error(file: &impl std::fmt::Display, key: &str) -> anyhow::Error {
    anyhow!("{file}: key `{key}` takes a string or a number (a list only for repeatable flags)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, CommandFactory, Parser};

    fn argv(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn file(text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path.display().to_string())
    }

    /// A serve command of its own, with an environment variable no other test touches.
    fn small() -> Command {
        Command::new("berth").subcommand(
            Command::new("serve")
                .arg(
                    Arg::new("config")
                        .long("config")
                        .value_parser(clap::value_parser!(PathBuf)),
                )
                .arg(
                    Arg::new("listen")
                        .long("listen")
                        .env("BERTH_TEST_CONFIG_PRECEDENCE")
                        .default_value("127.0.0.1:7878"),
                )
                .arg(
                    Arg::new("data-root")
                        .long("data-root")
                        .default_value("/var/lib/berth"),
                ),
        )
    }

    fn listen_and_root(argv: Vec<OsString>) -> (String, String) {
        let m = small().get_matches_from(argv);
        let (_, s) = m.subcommand().unwrap();
        (
            s.get_one::<String>("listen").unwrap().clone(),
            s.get_one::<String>("data-root").unwrap().clone(),
        )
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
        let (_dir, path) = file("listen = \"0.0.0.0:1\"\ndata-root = \"/srv/berth\"\n");
        let none = Path::new("/nonexistent/berth.toml");
        // The file over the defaults.
        let args = with_config_file_at(small(), argv(&["berth", "serve", "--config", &path]), none)
            .unwrap();
        assert_eq!(
            listen_and_root(args),
            ("0.0.0.0:1".into(), "/srv/berth".into())
        );
        // A flag over the file.
        let args = with_config_file_at(
            small(),
            argv(&[
                "berth",
                "serve",
                "--config",
                &path,
                "--listen",
                "127.0.0.1:2",
            ]),
            none,
        )
        .unwrap();
        assert_eq!(
            listen_and_root(args),
            ("127.0.0.1:2".into(), "/srv/berth".into())
        );
        // The environment over the file.
        std::env::set_var("BERTH_TEST_CONFIG_PRECEDENCE", "127.0.0.1:3");
        let args = with_config_file_at(small(), argv(&["berth", "serve", "--config", &path]), none)
            .unwrap();
        let env = listen_and_root(args.clone());
        // …and a flag over the environment.
        let args = with_config_file_at(
            small(),
            argv(&[
                "berth",
                "serve",
                "--config",
                &path,
                "--listen",
                "127.0.0.1:4",
            ]),
            none,
        )
        .unwrap();
        let flag = listen_and_root(args);
        std::env::remove_var("BERTH_TEST_CONFIG_PRECEDENCE");
        assert_eq!(env, ("127.0.0.1:3".into(), "/srv/berth".into()));
        assert_eq!(flag.0, "127.0.0.1:4");
        // No --config: the default file, when it exists.
        let args =
            with_config_file_at(small(), argv(&["berth", "serve"]), Path::new(&path)).unwrap();
        assert_eq!(listen_and_root(args).1, "/srv/berth");
        let args = with_config_file_at(small(), argv(&["berth", "serve"]), none).unwrap();
        assert_eq!(listen_and_root(args).1, "/var/lib/berth");
    }

    #[test]
    fn berths_own_flags_take_lists_and_booleans() {
        let (_dir, path) = file(
            "public-url = [\"https://a.example\", \"https://b.example\"]\n\
             insecure-registry = [\"localhost:5000\"]\n\
             max-connections = 64\n\
             insecure-listen = true\n",
        );
        let args = with_config_file(
            crate::Args::command,
            argv(&["berth", "serve", "--config", &path]),
        )
        .unwrap();
        let text: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
        for expected in [
            "--public-url=https://a.example",
            "--public-url=https://b.example",
            "--insecure-registry=localhost:5000",
            "--max-connections=64",
            "--insecure-listen",
        ] {
            assert!(
                text.contains(&expected.to_string()),
                "{expected} in {text:?}"
            );
        }
        crate::Args::try_parse_from(args).expect("the result parses");
    }

    #[test]
    fn a_client_command_line_is_kept_without_building_the_command_tree() {
        for line in [
            &["berth", "ps"][..],
            &["berth", "-H", "unix:///x", "run", "busybox"],
        ] {
            let kept = with_config_file(|| panic!("the tree was built for {line:?}"), argv(line));
            assert_eq!(kept.unwrap(), argv(line));
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key_and_the_file() {
        for (text, key) in [
            ("listn = \"x\"\n", "`listn`"),
            ("config = \"/etc/other.toml\"\n", "`config`"),
            ("listen = [\"a\", \"b\"]\n", "`listen`"),
            ("max-connections = \"many\"\n", "`max-connections`"),
            ("insecure-listen = \"yes\"\n", "`insecure-listen`"),
        ] {
            let (_dir, path) = file(text);
            let err = with_config_file(
                crate::Args::command,
                argv(&["berth", "serve", "--config", &path]),
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains(key) && err.contains(&path), "{text}: {err}");
        }
    }
}
