//! Replica configuration: plain, validated parameters (no files, no clock).

use chancery_types::{ChainId, SecretKey, ValidatorSet};

use crate::error::Error;
use crate::message::MAX_PREPARED;

/// View-change timeouts: `base_ms · 2^k` after `k` view changes without a
/// delivered block, capped at `max_ms`. Serde (for the node's config file)
/// with defaults for missing fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// First timeout, in milliseconds.
    pub base_ms: u64,
    /// Largest timeout, in milliseconds.
    pub max_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            base_ms: 1_000,
            max_ms: 60_000,
        }
    }
}

impl Timeouts {
    /// The timeout after `attempt` consecutive view changes.
    pub fn after(&self, attempt: u32) -> u64 {
        self.base_ms
            .saturating_mul(1u64 << attempt.min(32))
            .min(self.max_ms)
    }
}

/// Everything a replica needs to run.
#[derive(Debug)]
pub struct Config {
    /// The chain (covered by every signature).
    pub chain_id: ChainId,
    /// The validator set (fixed for the life of this replica).
    pub validators: ValidatorSet,
    /// This replica's index in `validators`.
    pub me: u16,
    /// This replica's consensus key; must match `validators[me]`.
    pub key: SecretKey,
    /// Most heights in flight at once; `1 ≤ window ≤ execution_lag`.
    pub window: u64,
    /// `ChainParams::execution_lag` from genesis.
    pub execution_lag: u64,
    /// View-change timeouts.
    pub timeouts: Timeouts,
    /// The first height this validator set orders (0 for the genesis
    /// set). Views start at 0 with each set; VIEW-CHANGE and SUSPECT
    /// messages signed before it (under an earlier set, for views of the
    /// same numbers) are refused.
    pub first_height: u64,
}

impl Config {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| Err(Error::InvalidConfig { reason });
        let n = self.validators.n();
        let Some(v) = self.validators.get(self.me as usize) else {
            return bad(format!("me = {} but the set has {n} validators", self.me));
        };
        if v.consensus_key != self.key.public() {
            return bad(format!(
                "the key does not match validator {}'s consensus key",
                self.me
            ));
        }
        if self.execution_lag == 0 {
            return bad("execution_lag must be at least 1".into());
        }
        if self.window == 0 || self.window > self.execution_lag {
            return bad(format!(
                "window is {}; it must be between 1 and execution_lag = {}",
                self.window, self.execution_lag
            ));
        }
        if self.window > MAX_PREPARED as u64 {
            return bad(format!("window is {}; at most {MAX_PREPARED}", self.window));
        }
        if self.timeouts.base_ms == 0 || self.timeouts.max_ms < self.timeouts.base_ms {
            return bad(format!(
                "timeouts {:?}: base must be positive and at most max",
                self.timeouts
            ));
        }
        Ok(())
    }
}
