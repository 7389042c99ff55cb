//! Command lines as a POSIX shell reads them, without a shell: split into words (the run
//! form's command, the terminal's) and quoted back (the `berth run …` line shown).

/// `text` split into words as a POSIX shell does: blanks separate, `'…'` is literal, `"…"`
/// keeps blanks and lets `\` escape `"`, `\`, `$` and `` ` ``, and `\` outside quotes keeps the
/// next character. No expansion happens: there is no shell.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a single quote (') is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a double quote (\") is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a double quote (\") is not closed".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("a backslash (\\) ends the command".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    Ok(out)
}

/// `word` as a shell reads it back: as is when it is plain, else in single quotes.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | '@' | '%' | '+' | ',')
        });
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_as_a_shell_splits_them() {
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(
            split_words(r#"sh -c 'echo "hi there"; exit 3'"#).unwrap(),
            ["sh", "-c", r#"echo "hi there"; exit 3"#]
        );
        assert_eq!(
            split_words(r#"printf "a\"b\\c\n" x\ y '' """#).unwrap(),
            ["printf", r#"a"b\c\n"#, "x y", "", ""]
        );
        assert!(split_words("echo 'open").is_err());
        assert!(split_words("echo \"open").is_err());
        assert!(split_words("echo \\").is_err());
    }

    #[test]
    fn quoting_reads_back_to_the_same_words() {
        for words in [
            vec!["sh", "-c", "echo 'it''s' \"x\" $HOME; exit 3"],
            vec!["", "plain:/a=b", "tab\there"],
        ] {
            let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
            assert_eq!(split_words(&line).unwrap(), words, "{line}");
        }
        assert_eq!(quote("nginx:1.25"), "nginx:1.25");
        assert_eq!(quote("a b"), "'a b'");
    }
}
