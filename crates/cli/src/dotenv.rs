//! The `.env` file in the working directory: read at start (variables already in the environment win),
//! and, for commands run with `--env`, updated in place with their results.
//!
//! Reading is `dotenvy`'s. Writing keeps every other line and comment as it was and replaces only the
//! assignments of the keys we write (appending the ones that are new). Values are written in single
//! quotes, where dotenv parsers take everything literally: a private JWK's JSON then survives as one line,
//! which is why `PRIVATE_KEY` is stored as a JWK rather than a multi-line PEM.
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The file name looked up in the working directory.
pub const FILE_NAME: &str = ".env";

/// The `.env` path in the working directory.
pub fn path() -> PathBuf {
    PathBuf::from(FILE_NAME)
}

/// Loads `.env` if there is one; a missing file is fine, an unreadable one is reported.
pub fn load_from_working_directory() -> Result<(), String> {
    match dotenvy::from_path(path()) {
        Ok(()) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// The value a key has in the `.env` file itself (not the environment).
pub fn file_value(path: &Path, key: &str) -> Option<String> {
    let iter = dotenvy::from_path_iter(path).ok()?;
    iter.filter_map(Result::ok).find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Sets `updates` in the file at `path` (created with mode 0600 if missing).
pub fn write_back(path: &Path, updates: &[(&str, &str)]) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let updated = apply(&existing, updates);
    write_private(path, &updated)
}

/// The file text after setting `updates`.
pub fn apply(existing: &str, updates: &[(&str, &str)]) -> String {
    let mut done = vec![false; updates.len()];
    let mut out: Vec<String> = Vec::new();
    let mut lines = existing.lines();
    while let Some(line) = lines.next() {
        let Some((key, value)) = assignment(line) else {
            out.push(line.to_owned());
            continue;
        };
        let Some(index) = updates.iter().position(|(k, _)| *k == key) else {
            out.push(line.to_owned());
            continue;
        };
        // A quoted value may span several lines; drop its continuation lines along with it.
        if let Some(quote) = unclosed_quote(value) {
            for continuation in lines.by_ref() {
                if continuation.contains(quote) {
                    break;
                }
            }
        }
        if !done[index] {
            out.push(format!("{key}={}", quote_value(updates[index].1)));
            done[index] = true;
        }
    }
    for (index, (key, value)) in updates.iter().enumerate() {
        if !done[index] {
            out.push(format!("{key}={}", quote_value(value)));
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// `KEY=value` or `export KEY=value` → (`KEY`, `value`).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') {
        return None;
    }
    let trimmed = trimmed.strip_prefix("export ").map(str::trim_start).unwrap_or(trimmed);
    let (key, value) = trimmed.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return None;
    }
    Some((key, value.trim_start()))
}

/// The quote character a value opens without closing on the same line.
fn unclosed_quote(value: &str) -> Option<char> {
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &value[1..];
    if rest.contains(quote) { None } else { Some(quote) }
}

/// Single quotes when possible (literal in every dotenv dialect); otherwise double quotes with escapes.
fn quote_value(value: &str) -> String {
    if !value.contains('\'') && !value.contains('\n') {
        return format!("'{value}'");
    }
    let mut escaped = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '$' => escaped.push_str("\\$"),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    format!("\"{escaped}\"")
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = dir.join(format!(".env.tollgate-{}.tmp", std::process::id()));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp).with_context(|| format!("writing {}", temp.display()))?;
        std::io::Write::write_all(&mut file, text.as_bytes()).with_context(|| format!("writing {}", temp.display()))?;
    }
    std::fs::rename(&temp, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_in_place_and_appends_new_keys() {
        let before = "# my org\nOKTA_URL=https://x.example\nexport CLIENT_ID=old\n\nAPI_KEY='k'\n";
        let after = apply(before, &[("CLIENT_ID", "new"), ("KEY_ID", "kid1")]);
        assert_eq!(after, "# my org\nOKTA_URL=https://x.example\nCLIENT_ID='new'\n\nAPI_KEY='k'\nKEY_ID='kid1'\n");
    }

    #[test]
    fn multi_line_values_are_replaced_whole() {
        let before = "A=1\nPRIVATE_KEY=\"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\"\nB=2\n";
        let after = apply(before, &[("PRIVATE_KEY", "{\"kty\":\"RSA\"}")]);
        assert_eq!(after, "A=1\nPRIVATE_KEY='{\"kty\":\"RSA\"}'\nB=2\n");
    }

    #[test]
    fn written_values_read_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        let jwk = r#"{"kty":"EC","crv":"P-256","x":"a-b_c","d":"$HOME#x"}"#;
        let odd = "it's \"quoted\" $HOME\\n";
        write_back(&path, &[("PRIVATE_KEY", jwk), ("ODD", odd)]).unwrap();
        assert_eq!(file_value(&path, "PRIVATE_KEY").as_deref(), Some(jwk));
        assert_eq!(file_value(&path, "ODD").as_deref(), Some(odd));
        write_back(&path, &[("ODD", "plain")]).unwrap();
        assert_eq!(file_value(&path, "PRIVATE_KEY").as_deref(), Some(jwk));
        assert_eq!(file_value(&path, "ODD").as_deref(), Some("plain"));
    }
}
