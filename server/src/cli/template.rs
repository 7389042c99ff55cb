//! `--format` templates, the subset of Go's text/template that docker users write: literal
//! text, `{{.Field.Sub}}` and `{{json .}}` / `{{json .Field}}`, rendered over a JSON value.

use anyhow::{bail, Result};
use serde_json::Value;

/// Renders `template` over `value`; `\t` and `\n` as docker's CLI unescapes them.
pub fn render(template: &str, value: &Value) -> Result<String> {
    let template = template.replace("\\t", "\t").replace("\\n", "\n");
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("template: unclosed action in {template:?}");
        };
        out.push_str(&action(after[..end].trim(), value)?);
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
        (false, Value::String(s)) => s.clone(),
        (false, Value::Null) => "<no value>".into(),
        (false, v) => v.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::render;
    use serde_json::json;

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
}
