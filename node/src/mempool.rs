//! The mempool: admission checks before consensus, and the queue blocks
//! are cut from.
//!
//! Admission decodes each record (canonical form only), bounds its size,
//! looks up the issuer and key, refuses duplicates, and verifies all
//! signatures of a submission in one batch under the acceptance rule of
//! `chancery-types`. A record is admitted once per node; its signature is
//! not checked again by this node's execution. The queue is bounded in
//! records and bytes: past either bound, admission answers
//! [`AdmitError::Full`], which the API reports as RESOURCE_EXHAUSTED.
//! Client submissions meet a tighter bound first, [`AdmitError::Busy`]
//! (see `runtime::backlog`). Records still queued `regossip_after` after
//! they arrived are handed back to be gossiped again ([`Mempool::stale`]).

use std::collections::VecDeque;
use std::time::Instant;

use chancery_types::crypto::batch::{BatchItem, verify_batch};
use chancery_types::fast_hash::{FastMap, FastSet};
use chancery_types::{
    AgencyId, Canonical, ChainId, DecodeError, KeyId, PublicKey, Record, RecordId, RejectCode,
    SignatureError, SignedRecord, Timestamp,
};

/// What a policy refusal says, naming the agency and what it may not do.
fn policy_message(r: &Record, code: &RejectCode) -> String {
    let (issuer, kind) = (&r.issuer, r.kind.name());
    match code {
        RejectCode::KindNotPermitted => {
            format!("policy: agency `{issuer}` may not issue `{kind}` records")
        }
        RejectCode::Denied => format!(
            "policy: the deny list of agency `{issuer}` forbids `{kind}` records or subject `{}`",
            r.subject
        ),
        RejectCode::NotApproved => format!(
            "governance: proposal `{}` lacks valid approvals from enough agencies",
            r.subject
        ),
        other => format!("policy: refused ({other:?})"),
    }
}

/// Where the mempool finds issuer keys (the ledger's current rules).
pub trait IssuerKeys {
    /// Whether the agency is registered.
    fn agency_known(&self, agency: &AgencyId) -> bool;
    /// The agency's key with this id, if it is valid at time `at`.
    fn key(&self, agency: &AgencyId, key_id: &KeyId, at: Timestamp) -> Option<PublicKey>;
    /// Largest body the policy allows, in bytes.
    fn max_body_bytes(&self) -> usize;
    /// The policy's verdict on `r` (permissions, deny list, governance
    /// approvals); `Err` carries the code execution would reject it with.
    fn policy(&self, r: &Record) -> Result<(), RejectCode>;
}

/// Why a record was not admitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdmitError {
    /// Not the canonical encoding of a signed record.
    #[error("signed_record is not a canonical signed record: {0}")]
    Decode(#[from] DecodeError),
    /// The issuer agency is not registered.
    #[error("issuer agency `{0}` is not registered")]
    UnknownIssuer(AgencyId),
    /// The key is not one of the agency's keys valid at the record's time.
    #[error(
        "key {key_id} is not a key of `{agency}` that is valid at the record's timestamp and not revoked"
    )]
    KeyNotValid {
        /// The agency.
        agency: AgencyId,
        /// The key id named by the record.
        key_id: KeyId,
    },
    /// The policy forbids the record (the API answers FAILED_PRECONDITION).
    #[error("{}", policy_message(.record, .code))]
    Policy {
        /// What execution would say.
        code: RejectCode,
        /// The record.
        record: Box<Record>,
    },
    /// The body is larger than the policy allows.
    #[error("body is {len} bytes; the policy allows {max}")]
    BodyTooLarge {
        /// Body size.
        len: usize,
        /// Policy bound.
        max: usize,
    },
    /// The signature is refused by the acceptance rule.
    #[error("signature rejected: {0}")]
    BadSignature(SignatureError),
    /// Already in the mempool or already committed.
    #[error("record {0} was already submitted")]
    Duplicate(RecordId),
    /// The mempool holds as much as the network commits in
    /// `mempool.max_backlog`; retry later.
    #[error(
        "node busy: {waiting} records wait, the backlog bound is {limit} (mempool.max_backlog of the network's peak commit rate); retry later"
    )]
    Busy {
        /// Records queued and held.
        waiting: usize,
        /// The bound.
        limit: usize,
    },
    /// The mempool is at its bound; retry later.
    #[error("mempool full ({records} records, {bytes} bytes); retry later")]
    Full {
        /// Records queued.
        records: usize,
        /// Bytes queued.
        bytes: usize,
    },
}

/// Mempool bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Records queued, at most.
    pub max_records: usize,
    /// Bytes queued, at most.
    pub max_bytes: usize,
    /// Client submissions wait behind at most this long of the network's
    /// peak commit rate (the runtime's backlog bound).
    pub max_backlog: std::time::Duration,
    /// Queued records waiting this long are sent to the other validators
    /// again ([`Mempool::stale`]).
    pub regossip_after: std::time::Duration,
    /// A queued record waiting this long in one view makes this
    /// validator, when a backup, suspect the view's primary
    /// (`consensus.request_timeout`; [`Mempool::oldest_queued`]).
    pub request_timeout: std::time::Duration,
}

/// How many times `regossip_after` a record gossiped by a peer waits
/// before this node sends it again ([`Mempool::stale`]): the validator a
/// client submitted it to sends it first, and only if that one has
/// stopped do the others, so a stalled network does not carry a copy of
/// every waiting record from every validator at each interval.
pub const GOSSIPED_WAIT: u32 = 4;

/// One admitted record.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Its id.
    pub id: RecordId,
    /// The record.
    pub record: SignedRecord,
    /// Its canonical size.
    pub size: usize,
    /// When it was admitted, or last handed out by [`Mempool::stale`].
    pub since: Instant,
    /// When it was admitted (the request timer's start).
    pub admitted: Instant,
    /// A client submitted it to this node ([`Mempool::submit`]), which
    /// therefore gossips it again while it waits.
    pub submitted: bool,
}

/// Pending records in arrival order, plus the records taken for a
/// proposal that has not committed yet ("held"). Held records still count
/// against the bounds and still make a resubmission a duplicate, until
/// they commit or go back to the queue.
#[derive(Debug)]
pub struct Mempool {
    chain: ChainId,
    limits: Limits,
    queue: VecDeque<Admitted>,
    /// Ids of queued and held records.
    ids: FastSet<RecordId>,
    /// Held records and their sizes.
    held: FastMap<RecordId, usize>,
    /// Bytes of queued and held records.
    bytes: usize,
}

impl Mempool {
    /// An empty mempool for `chain`.
    pub fn new(chain: ChainId, limits: Limits) -> Self {
        Mempool {
            chain,
            limits,
            queue: VecDeque::new(),
            ids: FastSet::default(),
            held: FastMap::default(),
            bytes: 0,
        }
    }

    /// Records queued (waiting to be proposed).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Its bounds.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Records taken for a proposal that has not committed yet.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Bytes of queued and held records.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a record is queued or held.
    pub fn contains(&self, id: &RecordId) -> bool {
        self.ids.contains(id)
    }

    /// Admits a batch of encoded records gossiped by a peer; one result
    /// per input, in order. `committed` says, for each of the ids it is
    /// given, whether it is already on the chain (asked once per batch).
    pub fn admit(
        &mut self,
        encoded: &[Vec<u8>],
        keys: &dyn IssuerKeys,
        committed: &dyn Fn(&[RecordId]) -> Vec<bool>,
    ) -> Vec<Result<RecordId, AdmitError>> {
        self.admit_from(encoded, keys, committed, false)
    }

    /// As [`Mempool::admit`], for records a client submitted to this node:
    /// [`Mempool::stale`] hands these back while they wait.
    pub fn submit(
        &mut self,
        encoded: &[Vec<u8>],
        keys: &dyn IssuerKeys,
        committed: &dyn Fn(&[RecordId]) -> Vec<bool>,
    ) -> Vec<Result<RecordId, AdmitError>> {
        self.admit_from(encoded, keys, committed, true)
    }

    fn admit_from(
        &mut self,
        encoded: &[Vec<u8>],
        keys: &dyn IssuerKeys,
        committed: &dyn Fn(&[RecordId]) -> Vec<bool>,
        submitted: bool,
    ) -> Vec<Result<RecordId, AdmitError>> {
        // Decoding and duplicates first (the chain asked once for the
        // batch), then the key checks; signatures of the survivors in one
        // batch.
        let now = Instant::now();
        let mut seen = FastSet::default();
        let decoded: Vec<_> = encoded.iter().map(|b| self.decode(b, &mut seen)).collect();
        let asked: Vec<RecordId> = decoded
            .iter()
            .filter_map(|d| d.as_ref().ok().map(|(_, id)| *id))
            .collect();
        let mut on_chain = committed(&asked).into_iter();
        let mut results: Vec<Result<RecordId, AdmitError>> = Vec::with_capacity(encoded.len());
        let mut candidates: Vec<(usize, SignedRecord, PublicKey, Vec<u8>, RecordId)> = Vec::new();
        for (i, (bytes, d)) in encoded.iter().zip(decoded).enumerate() {
            let (record, id) = match d {
                Ok(d) => d,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            // No answer counts as not on the chain, as a failed lookup
            // does: execution refuses a duplicate anyway.
            if on_chain.next().unwrap_or(false) {
                results.push(Err(AdmitError::Duplicate(id)));
                continue;
            }
            match self.precheck(record, keys) {
                Ok((record, key)) => {
                    // The record's bytes are in hand: no need to encode it again.
                    let message = SignedRecord::signing_bytes_from_canonical(bytes, &self.chain)
                        .unwrap_or_else(|| record.signing_bytes(&self.chain));
                    candidates.push((i, record, key, message, id));
                    results.push(Ok(id));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        let items: Vec<BatchItem<'_>> = candidates
            .iter()
            .map(|(_, r, k, m, _)| BatchItem {
                key: k,
                message: m,
                signature: &r.signature,
            })
            .collect();
        let verdicts = verify_batch(&items);
        drop(items);
        for ((i, record, _, _, id), verdict) in candidates.into_iter().zip(verdicts) {
            if let Err(e) = verdict {
                results[i] = Err(AdmitError::BadSignature(e));
                continue;
            }
            let size = encoded[i].len();
            if self.ids.len() >= self.limits.max_records
                || self.bytes + size > self.limits.max_bytes
            {
                results[i] = Err(AdmitError::Full {
                    records: self.ids.len(),
                    bytes: self.bytes,
                });
                continue;
            }
            self.bytes += size;
            self.ids.insert(id);
            self.queue.push_back(Admitted {
                id,
                record,
                size,
                since: now,
                admitted: now,
                submitted,
            });
        }
        results
    }

    /// Decodes a record and refuses it if this mempool or an earlier
    /// record of the batch (`seen`) already holds it.
    fn decode(
        &self,
        bytes: &[u8],
        seen: &mut FastSet<RecordId>,
    ) -> Result<(SignedRecord, RecordId), AdmitError> {
        let record = SignedRecord::from_canonical(bytes)?;
        // The id is the hash of exactly these (canonical) bytes.
        let id = RecordId(chancery_types::Hash::of(bytes));
        if self.ids.contains(&id) || !seen.insert(id) {
            return Err(AdmitError::Duplicate(id));
        }
        Ok((record, id))
    }

    /// The checks of a new record besides its signature: issuer, size,
    /// key, policy. Returns the key to check the signature with.
    fn precheck(
        &self,
        record: SignedRecord,
        keys: &dyn IssuerKeys,
    ) -> Result<(SignedRecord, PublicKey), AdmitError> {
        let r = &record.record;
        if !keys.agency_known(&r.issuer) {
            return Err(AdmitError::UnknownIssuer(r.issuer.clone()));
        }
        let max = keys.max_body_bytes();
        if r.body.len() > max {
            return Err(AdmitError::BodyTooLarge {
                len: r.body.len(),
                max,
            });
        }
        let key =
            keys.key(&r.issuer, &r.key_id, r.timestamp)
                .ok_or_else(|| AdmitError::KeyNotValid {
                    agency: r.issuer.clone(),
                    key_id: r.key_id,
                })?;
        if let Err(code) = keys.policy(r) {
            return Err(AdmitError::Policy {
                code,
                record: Box::new(r.clone()),
            });
        }
        Ok((record, key))
    }

    /// Takes up to `max` records for a block, oldest first. They stay
    /// held (counted, and duplicates) until [`Mempool::remove_committed`]
    /// or [`Mempool::requeue`].
    pub fn take(&mut self, max: usize) -> Vec<Admitted> {
        let n = max.min(self.queue.len());
        let taken: Vec<Admitted> = self.queue.drain(..n).collect();
        for a in &taken {
            self.held.insert(a.id, a.size);
        }
        taken
    }

    /// The encodings of up to `max` queued records that have waited long
    /// enough at `now` since they were admitted or last returned here,
    /// oldest in the queue first: `limits().regossip_after` for records
    /// submitted here ([`Mempool::submit`]), [`GOSSIPED_WAIT`] times that
    /// for records a peer gossiped. Each returned record waits a full
    /// interval again before it is returned again. The runtime sends them
    /// to the other validators once more, so a record whose gossip was
    /// lost (a peer unreachable, or restarted and its mempool empty) still
    /// reaches whichever validator proposes: first from the validator a
    /// client gave it to, and later, should that one have stopped, from
    /// any that hold it. Records taken for a proposal are not queued, so
    /// not returned.
    pub fn stale(&mut self, now: Instant, max: usize) -> Vec<Vec<u8>> {
        let submitted_after = self.limits.regossip_after;
        let gossiped_after = submitted_after.saturating_mul(GOSSIPED_WAIT);
        let mut out = Vec::new();
        for a in self.queue.iter_mut() {
            if out.len() >= max {
                break;
            }
            let after = if a.submitted {
                submitted_after
            } else {
                gossiped_after
            };
            if now.saturating_duration_since(a.since) >= after {
                a.since = now;
                out.push(a.record.to_canonical());
            }
        }
        out
    }

    /// When the longest-waiting queued record was admitted, if any: the
    /// runtime's request timer. Records taken for a proposal that has not
    /// committed are not queued, so not counted; those it hands back
    /// ([`Mempool::requeue`]) keep their admission time.
    pub fn oldest_queued(&self) -> Option<Instant> {
        // The queue is in admission order: blocks take from the front,
        // and requeued records go back to the front they were taken from.
        self.queue.front().map(|a| a.admitted)
    }

    /// Puts records taken for a block that did not commit back at the
    /// front, in their order. Records held here go back as they were;
    /// others are admitted without the bounds (they were admitted before).
    pub fn requeue(&mut self, records: Vec<Admitted>) {
        for a in records.into_iter().rev() {
            if self.held.remove(&a.id).is_some() {
                self.queue.push_front(a);
            } else if self.ids.insert(a.id) {
                self.bytes += a.size;
                self.queue.push_front(a);
            }
        }
    }

    /// Forgets records that were committed (by any proposer), queued or held.
    pub fn remove_committed(&mut self, ids: &[RecordId]) {
        let mut gone: FastSet<&RecordId> = FastSet::default();
        for id in ids {
            if let Some(size) = self.held.remove(id) {
                self.ids.remove(id);
                self.bytes -= size;
            } else if self.ids.contains(id) {
                gone.insert(id);
            }
        }
        if gone.is_empty() {
            return;
        }
        let mut bytes = self.bytes;
        self.queue.retain(|a| {
            let keep = !gone.contains(&a.id);
            if !keep {
                bytes -= a.size;
            }
            keep
        });
        self.bytes = bytes;
        for id in gone {
            self.ids.remove(id);
        }
    }
}
