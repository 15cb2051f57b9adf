//! End-to-end: however `chancery bench` ends early (Ctrl-C, SIGTERM, a
//! closed stdout), it stops the validators it started and removes their
//! directory. They run in their own process group, out of the
//! terminal's reach, so nothing else would stop them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chancery_tests::{chancery_cli, serial};

/// Starts `chancery bench ARGS` with its temporary directories under
/// `tmp`, stdout as given and stderr read line by line.
fn start_bench(
    tmp: &Path,
    stdout: Stdio,
    args: &[&str],
) -> Result<(Child, mpsc::Receiver<String>)> {
    let mut child = Command::new(chancery_cli()?)
        .arg("bench")
        .args(args)
        .env("TMPDIR", tmp)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .context("starting chancery bench")?;
    let stderr = child.stderr.take().context("stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok((child, rx))
}

/// Waits for a stderr line containing `text`; returns the lines so far.
fn wait_for(lines: &mpsc::Receiver<String>, text: &str, within: Duration) -> Result<Vec<String>> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(text);
                seen.push(line);
                if found {
                    return Ok(seen);
                }
            }
            Err(_) => break,
        }
    }
    bail!("no {text:?} on stderr within {within:?}: {seen:?}")
}

/// Waits for the bench to exit; its exit code and the rest of stderr.
fn finish(mut child: Child, lines: &mpsc::Receiver<String>) -> Result<(Option<i32>, String)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("the bench did not exit within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut rest = Vec::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(2)) {
        rest.push(line);
    }
    Ok((status.code(), rest.join("\n")))
}

/// Processes whose command line mentions `dir`.
fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&needle))
        .collect()
}

/// Nothing of the bench's network is left: no process, no directory.
fn assert_cleaned_up(tmp: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_under(tmp).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = processes_under(tmp);
    assert!(left.is_empty(), "validators left running: {left:?}");
    let dirs: Vec<_> = std::fs::read_dir(tmp)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert!(dirs.is_empty(), "directories left behind: {dirs:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_bench_stops_its_validators() -> Result<()> {
    let _serial = serial().await;
    for signal in ["INT", "TERM"] {
        let tmp = tempfile::tempdir()?;
        let (child, lines) = start_bench(
            tmp.path(),
            Stdio::null(),
            &["--rate", "100", "--duration", "120s", "--warmup", "1s"],
        )?;
        wait_for(&lines, "started 4 validators", Duration::from_secs(120))?;
        assert_eq!(processes_under(tmp.path()).len(), 4, "the validators run");
        let sent = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()?;
        assert!(sent.success(), "kill -{signal}");
        let (code, err) = finish(child, &lines)?;
        assert_eq!(code, Some(2), "SIG{signal}: {err}");
        let reason = if signal == "INT" {
            "interrupted"
        } else {
            "terminated"
        };
        assert!(err.contains(reason), "SIG{signal}: {err}");
        assert_cleaned_up(tmp.path())?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bench_whose_stdout_is_closed_stops_its_validators() -> Result<()> {
    let _serial = serial().await;
    let tmp = tempfile::tempdir()?;
    let (mut child, lines) = start_bench(
        tmp.path(),
        Stdio::piped(),
        &["--rate", "100", "--duration", "2s", "--warmup", "1s"],
    )?;
    // `chancery bench | head -0`: the reader is gone before the table.
    drop(child.stdout.take());
    let (code, err) = finish(child, &lines)?;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("stdout"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_cleaned_up(tmp.path())
}
