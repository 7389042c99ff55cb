//! The "run a container" form as data, the same on both sides: its fields, the checks that
//! need no engine (the server adds the engine's own parsers, see `pages::run`) and the
//! equivalent `berth run …` line.

use crate::shell_words::{quote, split_words};
use serde::{Deserialize, Serialize};

/// What the user typed; text fields hold docker's flag syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunForm {
    pub image: String,
    pub name: String,
    /// The command and its arguments, shell-quoted (empty: the image's).
    pub command: String,
    /// `KEY=value`, one per line.
    pub env: String,
    /// `-p` values (`8080:80`, `127.0.0.1:5432:5432/tcp`), one per line or space-separated.
    pub ports: String,
    /// `-v` values (`data:/var/lib/data`, `/srv/site:/usr/share/nginx/html:ro`), one per line.
    pub volumes: String,
    /// Empty: the default bridge.
    pub network: String,
    /// `512m`, `2g`.
    pub memory: String,
    /// `0.5`.
    pub cpus: String,
    pub pids_limit: String,
    /// Empty or `no`, `on-failure[:N]`, `always`, `unless-stopped`.
    pub restart: String,
    /// Run through `/bin/sh -c` inside the container.
    pub health_cmd: String,
    /// A Go duration (`30s`).
    pub health_interval: String,
    pub tty: bool,
    pub auto_remove: bool,
}

impl RunForm {
    /// The text of a text field (`None` for the fields that are chosen, not typed).
    pub fn text_mut(&mut self, field: Field) -> Option<&mut String> {
        Some(match field {
            Field::Image => &mut self.image,
            Field::Name => &mut self.name,
            Field::Command => &mut self.command,
            Field::Env => &mut self.env,
            Field::Ports => &mut self.ports,
            Field::Volumes => &mut self.volumes,
            Field::Memory => &mut self.memory,
            Field::Cpus => &mut self.cpus,
            Field::PidsLimit => &mut self.pids_limit,
            Field::HealthCmd => &mut self.health_cmd,
            Field::HealthInterval => &mut self.health_interval,
            Field::Network | Field::Restart => return None,
        })
    }
}

/// A field of the form, for an error shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Image,
    Name,
    Command,
    Env,
    Ports,
    Volumes,
    Network,
    Memory,
    Cpus,
    PidsLimit,
    Restart,
    HealthCmd,
    HealthInterval,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Image => "image",
            Field::Name => "name",
            Field::Command => "command",
            Field::Env => "env",
            Field::Ports => "ports",
            Field::Volumes => "volumes",
            Field::Network => "network",
            Field::Memory => "memory",
            Field::Cpus => "cpus",
            Field::PidsLimit => "pids_limit",
            Field::Restart => "restart",
            Field::HealthCmd => "health_cmd",
            Field::HealthInterval => "health_interval",
        }
    }
}

/// Why one field cannot be used, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl FieldError {
    pub fn new(field: Field, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// The non-empty lines of a field, trimmed.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The entries of a field that takes one per line or several separated by spaces or commas.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A container name as docker accepts it: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The checks that need no engine, each error beside its field.
pub fn check(form: &RunForm) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let image = form.image.trim();
    if image.is_empty() {
        errors.push(FieldError::new(
            Field::Image,
            "Choose the image to run, e.g. nginx:latest.",
        ));
    } else if image.chars().any(char::is_whitespace) {
        errors.push(FieldError::new(
            Field::Image,
            "An image reference has no spaces.",
        ));
    }
    let name = form.name.trim();
    if !name.is_empty() && !valid_name(name) {
        errors.push(FieldError::new(
            Field::Name,
            "A name starts with a letter or digit and holds only letters, digits, _ . and -.",
        ));
    }
    if let Err(e) = split_words(&form.command) {
        errors.push(FieldError::new(
            Field::Command,
            format!("The command cannot be read: {e}."),
        ));
    }
    for line in lines(&form.env) {
        match line.split_once('=') {
            Some((key, _)) if !key.is_empty() && !key.contains(char::is_whitespace) => {}
            _ => errors.push(FieldError::new(
                Field::Env,
                format!("“{line}” is not KEY=value."),
            )),
        }
    }
    let cpus = form.cpus.trim();
    if !cpus.is_empty() && !cpus.parse::<f64>().is_ok_and(|c| c > 0.0 && c.is_finite()) {
        errors.push(FieldError::new(
            Field::Cpus,
            "CPUs is a number above 0, e.g. 0.5 or 2.",
        ));
    }
    let pids = form.pids_limit.trim();
    if !pids.is_empty() && !pids.parse::<i64>().is_ok_and(|p| p > 0) {
        errors.push(FieldError::new(
            Field::PidsLimit,
            "The process limit is a whole number above 0.",
        ));
    }
    if !form.health_interval.trim().is_empty() && form.health_cmd.trim().is_empty() {
        errors.push(FieldError::new(
            Field::HealthInterval,
            "An interval needs a health check command.",
        ));
    }
    if form.auto_remove && !matches!(form.restart.trim(), "" | "no") {
        errors.push(FieldError::new(
            Field::Restart,
            "A container removed when it exits cannot be restarted: choose one.",
        ));
    }
    errors
}

/// The `berth run` line that does what the form does.
pub fn run_line(form: &RunForm) -> String {
    let mut args: Vec<String> = vec!["berth".into(), "run".into(), "-d".into()];
    let mut flag = |name: &str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            args.push(name.to_string());
            args.push(quote(value));
        }
    };
    flag("--name", &form.name);
    for p in words(&form.ports) {
        flag("-p", &p);
    }
    for e in lines(&form.env) {
        flag("-e", &e);
    }
    for v in lines(&form.volumes) {
        flag("-v", &v);
    }
    flag("--network", &form.network);
    flag("--memory", &form.memory);
    flag("--cpus", &form.cpus);
    flag("--pids-limit", &form.pids_limit);
    flag("--restart", &form.restart);
    flag("--health-cmd", &form.health_cmd);
    flag("--health-interval", &form.health_interval);
    if form.tty {
        args.push("-t".into());
    }
    if form.auto_remove {
        args.push("--rm".into());
    }
    let image = form.image.trim();
    args.push(if image.is_empty() {
        "IMAGE".to_string()
    } else {
        quote(image)
    });
    if let Ok(words) = split_words(&form.command) {
        args.extend(words.iter().map(|w| quote(w)));
    }
    args.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_is_beside_its_field() {
        let form = RunForm {
            image: "bad image".into(),
            name: "-web".into(),
            command: "echo 'x".into(),
            env: "A=1\nnot a pair\n =x".into(),
            cpus: "zero".into(),
            pids_limit: "-1".into(),
            health_interval: "10s".into(),
            restart: "always".into(),
            auto_remove: true,
            ..RunForm::default()
        };
        let fields: Vec<Field> = check(&form).iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                Field::Image,
                Field::Name,
                Field::Command,
                Field::Env,
                Field::Env,
                Field::Cpus,
                Field::PidsLimit,
                Field::HealthInterval,
                Field::Restart
            ]
        );
        assert!(check(&RunForm {
            image: "busybox".into(),
            ..RunForm::default()
        })
        .is_empty());
        assert_eq!(check(&RunForm::default())[0].field, Field::Image);
    }

    #[test]
    fn every_typed_field_has_its_text() {
        let mut form = RunForm::default();
        for (i, field) in [Field::Image, Field::Cpus, Field::HealthInterval]
            .into_iter()
            .enumerate()
        {
            *form.text_mut(field).unwrap() = i.to_string();
        }
        assert_eq!(
            (
                form.image.as_str(),
                form.cpus.as_str(),
                form.health_interval.as_str()
            ),
            ("0", "1", "2")
        );
        assert!(form.text_mut(Field::Restart).is_none());
    }

    #[test]
    fn the_run_line_says_what_the_form_does() {
        let form = RunForm {
            image: "nginx:latest".into(),
            name: "web".into(),
            command: "sh -c 'echo hi; sleep 5'".into(),
            env: "MODE=prod\nGREETING=hello world".into(),
            ports: "8080:80, 127.0.0.1:8443:443".into(),
            volumes: "site:/usr/share/nginx/html:ro".into(),
            memory: "256m".into(),
            restart: "unless-stopped".into(),
            tty: true,
            ..RunForm::default()
        };
        assert_eq!(
            run_line(&form),
            "berth run -d --name web -p 8080:80 -p 127.0.0.1:8443:443 -e MODE=prod \
             -e 'GREETING=hello world' -v site:/usr/share/nginx/html:ro --memory 256m \
             --restart unless-stopped -t nginx:latest sh -c 'echo hi; sleep 5'"
        );
        assert_eq!(run_line(&RunForm::default()), "berth run -d IMAGE");
    }
}
