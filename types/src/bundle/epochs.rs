//! The validator sets a validator chain proves, walked once for every
//! kind of bundle.

use crate::encoding::Canonical;
use crate::genesis::Genesis;
use crate::ids::ChainId;
use crate::state_proof::{Status, validators_key};
use crate::validator::ValidatorSet;

use super::{BundleError, SetChange, StepError, certified};

/// The validator sets a validator chain proves: set #0 is the genesis
/// set, set #k the one the `k`-th change scheduled, each certifying from
/// its first height until the next set's.
#[derive(Clone, Debug)]
pub struct ValidatorEpochs<'a> {
    genesis: &'a ValidatorSet,
    /// `(first height, set)` of each change, oldest first.
    changes: Vec<(u64, &'a ValidatorSet)>,
}

impl<'a> ValidatorEpochs<'a> {
    /// Walks `steps` from `genesis.validators`. For step `k` (from 1), with
    /// `S` the set before it: its header is for `chain`, names `S` and is
    /// certified by `S` at its height; its schedule applies from the
    /// header's height + 1, after the previous change; and its proof shows
    /// `Status::Validators(schedule)` under [`validators_key`] in the
    /// header's state. The schedule's set is then set #k.
    pub fn walk(
        genesis: &'a Genesis,
        chain: &ChainId,
        steps: &'a [SetChange],
    ) -> Result<Self, BundleError> {
        let mut epochs = ValidatorEpochs {
            genesis: &genesis.validators,
            changes: Vec::with_capacity(steps.len()),
        };
        let key = validators_key();
        for (i, step) in steps.iter().enumerate() {
            let fail = |error| BundleError::ValidatorChain { step: i + 1, error };
            let (previous, current) = epochs.latest();
            certified(&step.header, &step.certificate, current, i, chain)
                .map_err(|e| fail(StepError::Header(e)))?;
            let from = step.schedule.from_height;
            if Some(from) != step.header.height.checked_add(1) {
                return Err(fail(StepError::FromHeight {
                    from,
                    header: step.header.height,
                }));
            }
            if from <= previous {
                return Err(fail(StepError::Order { from, previous }));
            }
            let value = Status::Validators(step.schedule.clone()).to_canonical();
            step.proof
                .verify(&step.header.state_root, &key, Some(&value))
                .map_err(|e| fail(StepError::Proof(e)))?;
            epochs.changes.push((from, &step.schedule.set));
        }
        Ok(epochs)
    }

    /// The latest set walked and its first height (0 for the genesis set).
    fn latest(&self) -> (u64, &'a ValidatorSet) {
        self.changes
            .last()
            .map_or((0, self.genesis), |&(from, set)| (from, set))
    }

    /// The set that certifies height `height` — the last one whose first
    /// height is at or below it — and its number. A change whose first
    /// height is above `height` is not applied.
    pub fn at(&self, height: u64) -> (usize, &'a ValidatorSet) {
        let mut found = (0, self.genesis);
        for (i, &(from, set)) in self.changes.iter().enumerate() {
            if from > height {
                break;
            }
            found = (i + 1, set);
        }
        found
    }

    /// Number of changes walked.
    pub fn changes(&self) -> usize {
        self.changes.len()
    }
}
