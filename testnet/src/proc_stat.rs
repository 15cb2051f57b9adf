//! `/proc/<pid>/stat`: a process's state, CPU time and exit code, for the
//! cluster's liveness checks and the load generator's CPU figures.

use std::fs;

/// The unit of the line's times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// The fields of a `/proc/<pid>/stat` line that Chancery's tools read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcStat {
    /// The state letter (field 3): `R`, `S`, ... or `Z`, exited and not
    /// yet reaped by its parent.
    pub state: char,
    /// User plus system CPU time, in seconds (fields 14 and 15).
    pub cpu_seconds: f64,
    /// The exit code in `waitpid` form (field 52, Linux 3.5 and later).
    pub exit_code: Option<i32>,
}

impl ProcStat {
    /// Process `pid`'s line (`"self"`: this process); `None` if there is no
    /// such process.
    pub fn of(pid: &str) -> Option<Self> {
        Self::parse(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Parses a line. The command name (field 2) is in parentheses and may
    /// hold spaces and parentheses, so fields are counted after its last
    /// `)`: the state is the first there.
    pub fn parse(line: &str) -> Option<Self> {
        let fields: Vec<&str> = line.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
        Some(ProcStat {
            state: fields.first()?.chars().next()?,
            cpu_seconds: (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND,
            exit_code: fields.get(49).and_then(|f| f.parse().ok()),
        })
    }

    /// Exited, and not yet reaped.
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }

    /// How a zombie ended: "exited with status 2", "was killed by signal 9".
    pub fn exit_description(&self) -> Option<String> {
        let code = self.exit_code.filter(|_| self.is_zombie())?;
        Some(match code & 0x7f {
            0 => format!("exited with status {}", (code >> 8) & 0xff),
            signal => format!("was killed by signal {signal}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ProcStat;

    /// A line with the given state, utime and stime (ticks) and exit code,
    /// and a command name with a space and a `)`.
    fn line(state: &str, utime: u64, stime: u64, code: i32) -> String {
        let between = ["0"; 10].join(" ");
        let after = ["0"; 36].join(" ");
        format!("4242 (chancery node) x) {state} {between} {utime} {stime} {after} {code}")
    }

    #[test]
    fn fields_are_counted_after_the_command_name() {
        let s = ProcStat::parse(&line("S", 250, 75, 0)).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.cpu_seconds, 3.25);
        assert_eq!(s.exit_code, Some(0));
        assert!(!s.is_zombie());
        assert_eq!(ProcStat::parse("4242 (short) S 1 2"), None);
        assert_eq!(ProcStat::parse("no parenthesis"), None);
    }

    #[test]
    fn a_zombie_says_how_it_ended() {
        let ended = |code| ProcStat::parse(&line("Z", 0, 0, code)).unwrap();
        assert_eq!(
            ended(2 << 8).exit_description().as_deref(),
            Some("exited with status 2")
        );
        assert_eq!(
            ended(9).exit_description().as_deref(),
            Some("was killed by signal 9")
        );
        let running = ProcStat::parse(&line("R", 0, 0, 0)).unwrap();
        assert_eq!(running.exit_description(), None);
    }

    #[test]
    fn this_process_is_running() {
        let me = ProcStat::of("self").unwrap();
        assert!(!me.is_zombie());
        assert!(me.cpu_seconds >= 0.0);
        assert_eq!(ProcStat::of(&u32::MAX.to_string()), None);
    }
}
