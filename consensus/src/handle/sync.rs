//! Block sync: learning that we are behind (f+1 validators signing far
//! above our window, or a valid commit certificate above our tip) and
//! applying certified blocks the node fetched.

use std::sync::Arc;

use chancery_types::{Block, CommitCertificate};

use crate::action::Action;
use crate::error::Error;
use crate::replica::{MAX_SYNCED, Replica};

impl Replica {
    pub(crate) fn on_synced_block(
        &mut self,
        block: Arc<Block>,
        certificate: CommitCertificate,
        out: &mut Vec<Action>,
    ) -> Result<(), Error> {
        let height = block.header.height;
        if height <= self.delivered {
            return Err(Error::AlreadyDelivered {
                height,
                delivered: self.delivered,
            });
        }
        self.check_epoch(height)?;
        if certificate.vote.height != height {
            return Err(Error::BadHeader {
                field: "height",
                detail: format!(
                    "{height}, but the certificate is for {}",
                    certificate.vote.height
                ),
            });
        }
        if block.header.chain_id != self.cfg.chain_id {
            return Err(Error::BadHeader {
                field: "chain_id",
                detail: format!("{} is not this chain", block.header.chain_id),
            });
        }
        certificate
            .verify_for(
                &block.header.hash(),
                self.validators(height),
                &self.cfg.chain_id,
            )
            .map_err(|error| Error::BadCertificate { height, error })?;
        if height == self.delivered + 1 && block.header.parent != self.tip_hash {
            return Err(Error::ParentMismatch {
                height,
                found: block.header.parent,
                expected: self.tip_hash,
            });
        }
        if self.synced.len() >= MAX_SYNCED && height > self.delivered + 1 {
            return Ok(());
        }
        self.certified.insert(height, certificate.clone());
        self.synced.insert(height, (block, certificate));
        self.try_deliver(out);
        Ok(())
    }

    /// Remembers a verified certificate above our tip and asks for the blocks.
    pub(crate) fn learn_certificate(&mut self, cert: CommitCertificate, out: &mut Vec<Action>) {
        let height = cert.vote.height;
        if height <= self.delivered || self.check_epoch(height).is_err() {
            return;
        }
        self.certified.entry(height).or_insert(cert);
        self.request_blocks(height, out);
    }

    /// `signer` signed a message at `height`, beyond our window. Once f+1
    /// validators are that far ahead, at least one honest one delivered past
    /// `height - window`: fetch up to there.
    pub(crate) fn note_ahead(
        &mut self,
        signer: u16,
        view: u64,
        height: u64,
        out: &mut Vec<Action>,
    ) {
        let e = self.ahead.entry(signer).or_insert(0);
        *e = (*e).max(height);
        let (v, h) = self.ahead_in_view.entry(signer).or_insert((view, height));
        if (view, height) > (*v, *h) {
            (*v, *h) = (view, height);
        }
        let mut heights: Vec<u64> = self.ahead.values().copied().collect();
        let need = self.f() + 1;
        if heights.len() < need {
            return;
        }
        heights.sort_unstable_by(|a, b| b.cmp(a));
        let target = heights[need - 1].saturating_sub(self.cfg.window);
        self.request_blocks(target, out);
    }
}
