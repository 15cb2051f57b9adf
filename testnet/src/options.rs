//! Setting `node.toml` options by dotted key (`block.max_delay=5ms`), for
//! benchmarks and experiments that need the same change on every node.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Sets `key = value` in the TOML file at `path` from an assignment
/// `section.key=value`. The value is an integer, `true`/`false`, or else
/// a string (durations such as `5ms` are strings in `node.toml`).
/// Missing sections are created; the node checks the result when it loads.
pub fn set_option(path: &Path, assignment: &str) -> Result<()> {
    let (key, value) = parse_assignment(assignment)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc: toml::Table = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let parts: Vec<&str> = key.split('.').collect();
    let (last, sections) = parts.split_last().context("empty option key")?;
    let mut table = &mut doc;
    for s in sections {
        let entry = table
            .entry(s.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = match entry {
            toml::Value::Table(t) => t,
            _ => bail!(
                "option `{key}`: `{s}` is not a section in {}",
                path.display()
            ),
        };
    }
    table.insert(last.to_string(), value);
    std::fs::write(path, toml::to_string(&doc)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn parse_assignment(assignment: &str) -> Result<(&str, toml::Value)> {
    let Some((key, raw)) = assignment.split_once('=') else {
        bail!("option `{assignment}` is not of the form section.key=value");
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|p| p.trim().is_empty()) {
        bail!("option `{assignment}`: the key must be a dotted name such as block.max_delay");
    }
    let raw = raw.trim();
    let value = if let Ok(i) = raw.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(b) = raw.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(raw.to_string())
    };
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_set_typed_values_and_create_sections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "data_dir = \"data\"\n[block]\nmax_records = 2000\nmax_delay = \"20ms\"\n",
        )
        .unwrap();
        set_option(&path, "block.max_delay=5ms").unwrap();
        set_option(&path, "block.max_records = 500").unwrap();
        set_option(&path, "log.level=debug").unwrap();
        let doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        assert_eq!(doc["block"]["max_delay"].as_str(), Some("5ms"));
        assert_eq!(doc["block"]["max_records"].as_integer(), Some(500));
        assert_eq!(doc["log"]["level"].as_str(), Some("debug"));
        assert_eq!(doc["data_dir"].as_str(), Some("data"));
    }

    #[test]
    fn malformed_options_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "data_dir = \"data\"\n").unwrap();
        let err = set_option(&path, "block.max_delay").unwrap_err();
        assert!(err.to_string().contains("section.key=value"), "{err}");
        let err = set_option(&path, "block..x=1").unwrap_err();
        assert!(err.to_string().contains("dotted name"), "{err}");
        let err = set_option(&path, "data_dir.x=1").unwrap_err();
        assert!(err.to_string().contains("not a section"), "{err}");
    }
}
