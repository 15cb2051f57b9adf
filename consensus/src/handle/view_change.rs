//! VIEW-CHANGE: leave the current view, report prepared proofs, and join a
//! view change that f+1 others have started.

use chancery_types::crypto::batch::{BatchItem, verify_batch};
use chancery_types::crypto::signature::{signing_bytes, verify};
use chancery_types::{Canonical, Domain, Hash, List};

use crate::action::Action;
use crate::error::Error;
use crate::message::{Message, ViewChange, ViewChangeBody};
use crate::replica::{Mode, Replica};

impl Replica {
    /// Leaves the current view for `target` (> current view).
    pub(crate) fn start_view_change(&mut self, target: u64, out: &mut Vec<Action>) {
        tracing::debug!(
            replica = self.cfg.me,
            from = self.view,
            to = target,
            "view change"
        );
        self.view = target;
        self.mode = Mode::ViewChange;
        self.slots.clear();
        self.building = None;
        self.last_new_view = None;
        self.suspects.clear();
        self.seen.retain(|(_, v, _, _), _| *v >= target);
        self.dirty = true;
        self.send_view_change(out);
        self.attempt = self.attempt.saturating_add(1);
        self.try_new_view(out);
    }

    /// Signs and broadcasts our VIEW-CHANGE for the current view and arms the timer.
    pub(crate) fn send_view_change(&mut self, out: &mut Vec<Action>) {
        let prepared: Vec<_> = self
            .prepared
            .range(self.delivered + 1..)
            .map(|(_, p)| p.clone())
            .take(crate::message::MAX_PREPARED)
            .collect();
        let body = ViewChangeBody {
            view: self.view,
            committed: self.tip_cert.clone(),
            prepared: List::new(prepared).unwrap_or_default(),
        };
        let vc = ViewChange::new(body, self.cfg.me, &self.cfg.key, &self.cfg.chain_id);
        self.view_changes.insert(self.cfg.me, vc.clone());
        out.push(Action::Broadcast {
            message: Message::ViewChange(vc),
        });
        self.schedule_timer(out);
    }

    pub(crate) fn on_view_change(
        &mut self,
        vc: ViewChange,
        out: &mut Vec<Action>,
    ) -> Result<(), Error> {
        let signer = vc.signer;
        self.peer_key(signer)?;
        let view = vc.body.view;
        let current = self.view;
        if view < current || (view == current && self.mode == Mode::Normal) {
            // The sender missed our NEW-VIEW: hand it over if we sent one.
            if self.mode == Mode::Normal
                && let Some(nv) = &self.last_new_view
                && nv.body.view == current
            {
                out.push(Action::Send {
                    to: signer,
                    message: Message::NewView(nv.clone()),
                });
            }
            return Err(Error::StaleView {
                msg_view: view,
                current_view: current,
            });
        }
        if self
            .view_changes
            .get(&signer)
            .is_some_and(|old| old.body.view >= view)
        {
            return Ok(()); // duplicate or older
        }
        self.verify_view_change(&vc)?;
        if let Some(cert) = &vc.body.committed {
            self.learn_certificate(cert.clone(), out);
        }
        self.view_changes.insert(signer, vc);
        self.try_join(out);
        self.try_new_view(out);
        Ok(())
    }

    /// Number of validators (us included) known to want `view`.
    pub(crate) fn view_change_votes(&self, view: u64) -> usize {
        self.view_changes
            .values()
            .filter(|vc| vc.body.view == view)
            .count()
    }

    /// PBFT's rule: once f+1 others ask for views above ours, move to the
    /// highest view at least f+1 of them reached.
    fn try_join(&mut self, out: &mut Vec<Action>) {
        let mut views: Vec<u64> = self
            .view_changes
            .iter()
            .filter(|(s, vc)| **s != self.cfg.me && vc.body.view > self.view)
            .map(|(_, vc)| vc.body.view)
            .collect();
        let need = self.f() + 1;
        if views.len() < need {
            return;
        }
        views.sort_unstable_by(|a, b| b.cmp(a));
        let target = views[need - 1];
        self.start_view_change(target, out);
    }

    /// Checks a VIEW-CHANGE: signature, commit certificate, and every
    /// prepared proof (block matches, quorum of valid PREPARE signatures).
    pub(crate) fn verify_view_change(&mut self, vc: &ViewChange) -> Result<(), Error> {
        // Views start at 0 with each validator set. Every VIEW-CHANGE sent
        // under this set carries a certificate at or above the height
        // before its first (the tip the set started from); one below was
        // signed under an earlier set, for a view of the same number.
        let committed = vc.body.committed.as_ref().map_or(0, |c| c.vote.height);
        if committed.saturating_add(1) < self.cfg.first_height {
            return Err(Error::EarlierValidatorSet {
                kind: "view-change",
                signer: vc.signer,
                height: committed,
                first: self.cfg.first_height,
            });
        }
        let body_bytes = vc.body.to_canonical();
        let key_id = (vc.signer, Hash::of(&body_bytes));
        if self.verified_vcs.contains(&key_id) {
            return Ok(());
        }
        let key = self.peer_key_any(vc.signer)?;
        let chain = self.cfg.chain_id;
        verify(
            &key,
            Domain::ViewChange,
            &chain.0,
            &body_bytes,
            &vc.signature,
        )
        .map_err(|error| Error::BadSignature {
            kind: "view-change",
            signer: vc.signer,
            error,
        })?;
        if let Some(cert) = &vc.body.committed {
            cert.verify(self.set(), &chain)
                .map_err(|error| Error::BadCertificate {
                    height: cert.vote.height,
                    error,
                })?;
        }
        let bad = |height, reason| Error::BadPreparedProof {
            height,
            signer: vc.signer,
            reason,
        };
        let mut last_height = 0;
        let mut messages = Vec::new();
        let mut keys = Vec::new();
        let mut sigs = Vec::new();
        for p in vc.body.prepared.iter() {
            let v = p.certificate.vote;
            if v.height <= last_height {
                return Err(bad(v.height, "heights not increasing"));
            }
            last_height = v.height;
            if v.view >= vc.body.view {
                return Err(bad(v.height, "prepared in a view not below the new one"));
            }
            if p.block.header.height != v.height || p.block.header.hash() != v.block_hash {
                return Err(bad(v.height, "block does not match the certificate"));
            }
            if p.certificate.signatures.len() < self.quorum() {
                return Err(bad(v.height, "fewer than a quorum of signatures"));
            }
            let msg = signing_bytes(Domain::Prepare, &chain.0, &v.to_canonical());
            let mut prev: Option<u16> = None;
            for s in p.certificate.signatures.iter() {
                if prev.is_some_and(|q| q >= s.validator) {
                    return Err(bad(v.height, "signatures not sorted"));
                }
                prev = Some(s.validator);
                let k = self
                    .set()
                    .get(s.validator as usize)
                    .map(|v| v.consensus_key)
                    .ok_or(bad(v.height, "unknown signer"))?;
                keys.push(k);
                sigs.push(s.signature);
                messages.push(msg.clone());
            }
        }
        let items: Vec<BatchItem<'_>> = keys
            .iter()
            .zip(&messages)
            .zip(&sigs)
            .map(|((key, message), signature)| BatchItem {
                key,
                message,
                signature,
            })
            .collect();
        if verify_batch(&items).iter().any(Result::is_err) {
            return Err(bad(last_height, "a prepare signature is invalid"));
        }
        if self.verified_vcs.len() > 4 * self.n() + 16 {
            self.verified_vcs.clear();
        }
        self.verified_vcs.insert(key_id);
        Ok(())
    }

    /// Key of any validator, ourselves included (NEW-VIEW carries our VIEW-CHANGE).
    pub(crate) fn peer_key_any(&self, index: u16) -> Result<chancery_types::PublicKey, Error> {
        self.set()
            .get(index as usize)
            .map(|v| v.consensus_key)
            .ok_or(Error::UnknownValidator { index, n: self.n() })
    }
}
