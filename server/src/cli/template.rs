//! `--format` templates, the subset of Go's text/template that docker users write: literal
//! text, `{{.Field.Sub}}` and `{{json .}}` / `{{json .Field}}`, rendered over a JSON value.

use anyhow::{bail, Result};
use serde_json::Value;

/// Renders `template` over `value`; `\t` and `\n` as docker's CLI unescapes them.
pub fn render(template: &str, value: &Value) -> Result<String> {
    expand(template, |text| action(text, value))
}

/// Renders a list as `--format` asks: `json` is a JSON line per value; `table TEMPLATE`
/// aligns the tab-separated cells of each rendered row under a header line (the template with
/// each field replaced by `header(field)`); any other template is one line per value.
pub fn render_list(
    format: &str,
    values: &[Value],
    header: &dyn Fn(&str) -> String,
) -> Result<String> {
    let format = if format.trim() == "json" {
        "{{json .}}"
    } else {
        format
    };
    let Some(template) = format.strip_prefix("table") else {
        let mut out = String::new();
        for value in values {
            out.push_str(&render(format, value)?);
            out.push('\n');
        }
        return Ok(out);
    };
    let template = template.trim_start();
    let cells = |line: String| line.split('\t').map(str::to_string).collect::<Vec<_>>();
    let titles = cells(expand(template, |text| {
        let field = text.strip_prefix("json ").unwrap_or(text).trim();
        Ok(header(field.trim_start_matches('.')))
    })?);
    let rows = values
        .iter()
        .map(|value| render(template, value).map(cells))
        .collect::<Result<Vec<_>>>()?;
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    Ok(super::format::table(&titles, &rows))
}

/// Copies `template`'s text, replacing each `{{…}}` action with `act(its trimmed text)`.
fn expand(template: &str, mut act: impl FnMut(&str) -> Result<String>) -> Result<String> {
    let template = template.replace("\\t", "\t").replace("\\n", "\n");
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("template: unclosed action in {template:?}");
        };
        out.push_str(&act(after[..end].trim())?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn action(text: &str, value: &Value) -> Result<String> {
    let (json, path) = match text.strip_prefix("json ") {
        Some(path) => (true, path.trim()),
        None => (false, text),
    };
    let Some(path) = path.strip_prefix('.') else {
        bail!("template: unsupported action {{{{{text}}}}}: use {{{{.Field}}}} or {{{{json .}}}}");
    };
    let mut current = value;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        current = match current.get(key) {
            Some(v) => v,
            None => bail!("template: can't evaluate field {key}"),
        };
    }
    Ok(match (json, current) {
        (true, v) => serde_json::to_string(v)?,
        (false, Value::Null) => "<no value>".into(),
        (false, v) => go_text(v),
    })
}

/// A value as Go's `fmt` prints it in a template: strings bare, lists `[a b]`, maps
/// `map[k:v]` with sorted keys (what `docker inspect -f '{{.Config.Cmd}}'` shows).
fn go_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_text).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_text(&map[k])))
                .collect();
            format!("map[{}]", items.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{render, render_list};
    use serde_json::json;

    #[test]
    fn lists_and_maps_print_as_go_prints_them() {
        let v = json!({"Config": {"Cmd": ["sh", "-c", "echo hi"], "Entrypoint": null,
            "Labels": {"b": "2", "a": "1"}, "Tty": false}, "State": {"Pid": 42}});
        assert_eq!(render("{{.Config.Cmd}}", &v).unwrap(), "[sh -c echo hi]");
        assert_eq!(render("{{.Config.Labels}}", &v).unwrap(), "map[a:1 b:2]");
        assert_eq!(
            render("{{.Config.Tty}} {{.State.Pid}}", &v).unwrap(),
            "false 42"
        );
        assert_eq!(
            render("{{json .Config.Cmd}}", &v).unwrap(),
            r#"["sh","-c","echo hi"]"#
        );
        assert_eq!(render("{{.Config.Entrypoint}}", &v).unwrap(), "<no value>");
    }

    #[test]
    fn fields_json_and_literals() {
        let v = json!({"Type": "container", "Actor": {"ID": "abc", "Attributes": {"name": "x"}}, "n": 3});
        assert_eq!(
            render("{{.Type}} {{.Actor.ID}}\\t{{.n}}", &v).unwrap(),
            "container abc\t3"
        );
        assert_eq!(
            render("{{json .Actor.Attributes}}", &v).unwrap(),
            r#"{"name":"x"}"#
        );
        assert_eq!(render("{{ json . }}", &v).unwrap(), v.to_string());
        assert!(render("{{.Missing}}", &v).is_err());
        assert!(render("{{range .}}", &v).is_err());
        assert!(render("{{.Type", &v).is_err());
    }

    #[test]
    fn lists_as_lines_json_or_an_aligned_table() {
        let rows = [
            json!({"ID": "a1", "Names": "web"}),
            json!({"ID": "b22", "Names": "db"}),
        ];
        let header = |field: &str| match field {
            "ID" => "CONTAINER ID".to_string(),
            other => other.to_uppercase(),
        };
        assert_eq!(
            render_list("{{.Names}}", &rows, &header).unwrap(),
            "web\ndb\n"
        );
        assert_eq!(
            render_list("json", &rows, &header).unwrap(),
            format!("{}\n{}\n", rows[0], rows[1])
        );
        assert_eq!(
            render_list("table {{.ID}}\\t{{.Names}}", &rows, &header).unwrap(),
            "CONTAINER ID   NAMES\na1             web\nb22            db\n"
        );
        assert!(render_list("table {{.Nope}}", &rows, &header).is_err());
    }
}
