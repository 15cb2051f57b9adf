//! What execution up to a height produced: the roots a later header carries.

use chancery_types::Hash;
use chancery_types::log_proof::LogHead;

use crate::error::{LedgerError, Result};
use crate::keys::{be_u64, hash_at};

/// The record log and state tree after executing every block up to
/// `height` (0 = the genesis state). Header `h` must carry the summary of
/// `h − execution_lag`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExecSummary {
    /// The executed height.
    pub height: u64,
    /// Record log root.
    pub log_root: Hash,
    /// Record log size.
    pub log_size: u64,
    /// State tree root.
    pub state_root: Hash,
}

impl ExecSummary {
    /// The log head (size and root) this summary states.
    pub fn log_head(&self) -> LogHead {
        LogHead {
            size: self.log_size,
            root: self.log_root,
        }
    }

    /// `height ‖ log_root ‖ log_size ‖ state_root` (80 bytes).
    pub fn encode(&self) -> [u8; 80] {
        let mut v = [0u8; 80];
        v[..8].copy_from_slice(&self.height.to_be_bytes());
        v[8..40].copy_from_slice(&self.log_root.0);
        v[40..48].copy_from_slice(&self.log_size.to_be_bytes());
        v[48..].copy_from_slice(&self.state_root.0);
        v
    }

    /// Decodes [`ExecSummary::encode`].
    pub fn decode(v: &[u8]) -> Result<Self> {
        if v.len() != 80 {
            return Err(LedgerError::Corrupt {
                what: "exec summary",
                detail: format!("{} bytes", v.len()),
            });
        }
        Ok(ExecSummary {
            height: be_u64(v, 0, "exec summary")?,
            log_root: hash_at(v, 8, "exec summary")?,
            log_size: be_u64(v, 40, "exec summary")?,
            state_root: hash_at(v, 48, "exec summary")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = ExecSummary {
            height: 3,
            log_root: Hash([1; 32]),
            log_size: 40,
            state_root: Hash([2; 32]),
        };
        assert_eq!(ExecSummary::decode(&s.encode()).unwrap(), s);
        assert!(ExecSummary::decode(&s.encode()[1..]).is_err());
        assert_eq!(s.log_head().size, 40);
    }
}
