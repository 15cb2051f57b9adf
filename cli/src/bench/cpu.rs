//! CPU time of the validators and of the load generator itself, read from
//! `/proc/<pid>/stat` (`chancery_testnet::proc_stat`) at the ends of the
//! measured window.

use chancery_testnet::cluster::Cluster;
use chancery_testnet::proc_stat::ProcStat;

/// CPU seconds (user + system) a process has used; `pid` may be `self`.
fn process_seconds(pid: &str) -> Option<f64> {
    Some(ProcStat::of(pid)?.cpu_seconds)
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
