//! What goes into the replica ([`Input`]) and what comes out ([`Action`]).

use std::sync::Arc;

use chancery_types::{Block, CommitCertificate, Hash};

use crate::evidence::Equivocation;
use crate::message::Message;
use crate::state::PersistentState;

/// Identifies one persist request; acknowledge it with [`Input::Persisted`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersistToken(pub u64);

/// Why a timer was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// No block delivered in time in a normal view: change view.
    Progress {
        /// The view the timer guards.
        view: u64,
    },
    /// The view change to `view` did not complete in time: try the next.
    ViewChange {
        /// The view being changed to.
        view: u64,
    },
}

/// A timer. Only the most recently scheduled one is live; the replica
/// ignores older ones when they fire, so the node never needs to cancel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timer {
    /// Why.
    pub kind: TimerKind,
    /// Sequence number.
    pub seq: u64,
}

/// Something that happened, fed to [`crate::Replica::handle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Start (or resume after [`crate::Replica::restore`]): schedules the first timer.
    Start,
    /// A message from a peer (already decoded).
    Message(Message),
    /// A message from a peer as raw bytes (decoded here; malformed ones are dropped).
    Bytes(Vec<u8>),
    /// A timer set by [`Action::ScheduleTimer`] fired.
    TimerFired(Timer),
    /// The block asked for by [`Action::BuildProposal`].
    ProposalReady(Block),
    /// The node's verdict on a block from [`Action::ValidateBlock`].
    BlockValidated {
        /// Header hash of the block.
        hash: Hash,
        /// Whether its content passed the node's stateless checks.
        valid: bool,
    },
    /// The state from [`Action::Persist`] with this token (and every earlier one) is durable.
    Persisted(PersistToken),
    /// The node holds a record that has waited longer than its request
    /// timeout in the current view without the primary proposing it:
    /// suspect the primary (a backup in a normal view only; see
    /// [`crate::message::Suspect`]). The node may repeat this while the
    /// record waits; each repeat sends the suspicion again.
    Suspect,
    /// The node's network connected (again) to this validator index:
    /// send it what this replica has said in the current view, which it
    /// may have missed while it was not connected (ARCHITECTURE.md D46).
    PeerConnected(u16),
    /// A certified block fetched by block sync (after [`Action::RequestBlocks`],
    /// or from the node's own ledger after a restart).
    SyncedBlock {
        /// The block.
        block: Arc<Block>,
        /// Its commit certificate.
        certificate: CommitCertificate,
    },
}

/// Something the node must do.
///
/// Ordering contract: when a call returns a [`Action::Persist`], every
/// `Send`, `Broadcast` and `Deliver` produced from then on is withheld by the
/// replica until [`Input::Persisted`] acknowledges that token, and comes out
/// of that later call. A vote therefore never leaves before it is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send to one validator.
    Send {
        /// Its index.
        to: u16,
        /// The message.
        message: Message,
    },
    /// Send to every other validator.
    Broadcast {
        /// The message.
        message: Message,
    },
    /// Write this state durably (replacing the previous one), then answer
    /// with [`Input::Persisted`].
    Persist {
        /// Token to acknowledge.
        token: PersistToken,
        /// The state to store.
        state: PersistentState,
    },
    /// Fire [`Input::TimerFired`] with `timer` at time `at` (ms).
    ScheduleTimer {
        /// The timer.
        timer: Timer,
        /// When.
        at: u64,
    },
    /// This replica is primary: build a block and answer with [`Input::ProposalReady`].
    BuildProposal {
        /// Its height.
        height: u64,
        /// Its view (the header's `view`).
        view: u64,
        /// Its parent.
        parent: Hash,
    },
    /// Check a proposed block's content; answer with [`Input::BlockValidated`].
    ValidateBlock {
        /// The block.
        block: Arc<Block>,
    },
    /// A block is decided: store it with its certificate. Heights come in order.
    Deliver {
        /// The block.
        block: Arc<Block>,
        /// Its commit certificate (a quorum of COMMIT signatures).
        certificate: CommitCertificate,
    },
    /// This replica is behind: fetch certified blocks `from..=to` and feed
    /// them back as [`Input::SyncedBlock`].
    RequestBlocks {
        /// First height.
        from: u64,
        /// Last height.
        to: u64,
    },
    /// A validator equivocated.
    Evidence(Equivocation),
}

impl Action {
    /// `true` for actions with an effect outside the node (held back while a
    /// persist is outstanding).
    pub fn is_effect(&self) -> bool {
        matches!(
            self,
            Action::Send { .. } | Action::Broadcast { .. } | Action::Deliver { .. }
        )
    }
}
