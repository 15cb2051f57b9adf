//! What the validators logged at WARN or ERROR during the measured
//! window: a stall in the figures often has its reason in a log (a slow
//! synced write, a dropped frame, a view change), and a benchmark that
//! starts its own network removes the logs when it ends.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Lines kept per run; the rest are only counted.
const KEPT: usize = 20;

/// Where each validator's log ended when the window opened.
#[derive(Debug, Clone)]
pub(super) struct Marks {
    logs: Vec<(PathBuf, u64)>,
}

/// A WARN or ERROR line, with the validator that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(super) struct Logged {
    pub(super) validator: usize,
    pub(super) line: String,
}

/// The window's WARN and ERROR lines: the first [`KEPT`], and how many in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(super) struct Warnings {
    pub(super) first: Vec<Logged>,
    pub(super) total: u64,
}

impl Marks {
    /// Marks the current end of each log (a missing log counts as empty).
    pub(super) fn take(logs: Vec<PathBuf>) -> Self {
        let logs = logs
            .into_iter()
            .map(|p| {
                let len = std::fs::metadata(&p).map_or(0, |m| m.len());
                (p, len)
            })
            .collect();
        Marks { logs }
    }

    /// The WARN and ERROR lines written since the marks. A log that cannot
    /// be read (a validator's directory gone) is passed over: this is a
    /// diagnosis, not a figure.
    pub(super) fn since(&self) -> Warnings {
        let mut w = Warnings::default();
        for (validator, (path, from)) in self.logs.iter().enumerate() {
            let Some(text) = read_from(path, *from) else {
                continue;
            };
            for line in text.lines().filter(|l| is_warning(l)) {
                w.total += 1;
                if w.first.len() < KEPT {
                    w.first.push(Logged {
                        validator,
                        line: line.trim().to_string(),
                    });
                }
            }
        }
        w
    }
}

fn read_from(path: &Path, from: u64) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    f.seek(SeekFrom::Start(from)).ok()?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A WARN or ERROR line of the node's text or JSON log format.
fn is_warning(line: &str) -> bool {
    line.contains(" WARN ")
        || line.contains(" ERROR ")
        || line.contains(r#""level":"WARN""#)
        || line.contains(r#""level":"ERROR""#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn only_lines_written_after_the_mark_at_warn_or_error_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, gone) = (
            dir.path().join("a.log"),
            dir.path().join("b.log"),
            dir.path().join("missing.log"),
        );
        std::fs::write(&a, "2026-11-29T01:00:00Z  WARN x: before the window\n").unwrap();
        let marks = Marks::take(vec![a.clone(), b.clone(), gone]);
        let mut f = std::fs::OpenOptions::new().append(true).open(&a).unwrap();
        writeln!(f, "2026-11-29T01:00:01Z  INFO x: committed height=7").unwrap();
        writeln!(
            f,
            "2026-11-29T01:00:02Z  WARN chancery_node::runtime::actions: runtime: committing a block took 412 ms"
        )
        .unwrap();
        std::fs::write(
            &b,
            concat!(
                r#"{"timestamp":"t","level":"ERROR","fields":{"message":"boom"}}"#,
                "\n",
                r#"{"timestamp":"t","level":"INFO","fields":{"message":"fine"}}"#,
                "\n"
            ),
        )
        .unwrap();
        let w = marks.since();
        assert_eq!(w.total, 2);
        assert_eq!(w.first[0].validator, 0);
        assert!(w.first[0].line.ends_with("took 412 ms"), "{:?}", w.first);
        assert_eq!(w.first[1].validator, 1);
        assert!(w.first[1].line.contains("boom"));
    }

    #[test]
    fn past_the_kept_lines_warnings_are_only_counted() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        let marks = Marks::take(vec![a.clone()]);
        let lines: String = (0..KEPT + 5)
            .map(|i| format!("t  WARN x: frame {i} dropped\n"))
            .collect();
        std::fs::write(&a, lines).unwrap();
        let w = marks.since();
        assert_eq!(w.total, (KEPT + 5) as u64);
        assert_eq!(w.first.len(), KEPT);
    }
}
