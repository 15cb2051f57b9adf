//! CPU time of the validators and of the load generator itself, read from
//! `/proc/<pid>/stat` at the ends of the measured window.

use chancery_testnet::cluster::Cluster;

/// The unit of `/proc/<pid>/stat`'s times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) a process has used; `pid` may be `self`.
fn process_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_seconds(&stat)
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds. The command
/// name (field 2) is in parentheses and may hold spaces or parentheses, so
/// fields are counted after its last `)`: `utime` and `stime` are the
/// 12th and 13th after it.
fn stat_seconds(stat: &str) -> Option<f64> {
    let after = stat.rsplit_once(')')?.1;
    let mut fields = after.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// CPU seconds used so far by each validator (`None` when it is not
/// running) and by this process.
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    validators: Vec<Option<f64>>,
    client: Option<f64>,
}

impl Snapshot {
    pub(super) fn take(cluster: &Cluster) -> Self {
        Snapshot {
            validators: (0..cluster.len())
                .map(|i| process_seconds(&cluster.running_pid(i)?.to_string()))
                .collect(),
            client: process_seconds("self"),
        }
    }
}

/// CPU used over a window.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Usage {
    /// CPU seconds of the validators together (those running at both
    /// ends); `None` if none was.
    pub(super) validators_seconds: Option<f64>,
    /// Each validator's CPU seconds per second of the window: the cores
    /// it kept busy.
    pub(super) cores_by_validator: Vec<Option<f64>>,
    /// The same for the load generator (signing is done before the window).
    pub(super) client_cores: Option<f64>,
}

impl Usage {
    pub(super) fn between(start: &Snapshot, end: &Snapshot, window_secs: f64) -> Usage {
        let used = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        let each: Vec<Option<f64>> = start
            .validators
            .iter()
            .zip(&end.validators)
            .map(|(a, b)| used(*a, *b))
            .collect();
        let present: Vec<f64> = each.iter().flatten().copied().collect();
        Usage {
            validators_seconds: (!present.is_empty()).then(|| present.iter().sum()),
            cores_by_validator: each.iter().map(|s| s.map(|s| s / window_secs)).collect(),
            client_cores: used(start.client, end.client).map(|s| s / window_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_times_are_read_after_the_command_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime ...; a name with spaces and a ')'.
        let line = "4242 (chancery node) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0";
        assert_eq!(stat_seconds(line), Some(3.25));
        assert_eq!(stat_seconds("4242 (short) S 1 2"), None);
        assert_eq!(stat_seconds("no parenthesis"), None);
    }

    #[test]
    fn usage_leaves_out_validators_not_running_at_both_ends() {
        let start = Snapshot {
            validators: vec![Some(1.0), Some(2.0), None, Some(5.0)],
            client: Some(0.5),
        };
        let end = Snapshot {
            validators: vec![Some(3.0), Some(3.0), Some(9.0), None],
            client: Some(1.5),
        };
        let u = Usage::between(&start, &end, 2.0);
        assert_eq!(u.validators_seconds, Some(3.0));
        assert_eq!(u.cores_by_validator, vec![Some(1.0), Some(0.5), None, None]);
        assert_eq!(u.client_cores, Some(0.5));
        let none = Snapshot {
            validators: vec![None],
            client: None,
        };
        assert_eq!(Usage::between(&none, &none, 1.0).validators_seconds, None);
    }
}
