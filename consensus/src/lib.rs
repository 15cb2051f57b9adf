//! # chancery-consensus
//!
//! PBFT for Chancery blocks, as a deterministic, sans-I/O state machine.
//! This crate owns the agreement protocol only: which block is decided at
//! each height, with a commit certificate. It does not build, validate,
//! execute or store blocks, keep time, or touch the network or disk: the
//! node does all of that, driven by [`Action`]s, and reports back with
//! [`Input`]s.
//!
//! ```text
//!            Input (peer message, timer, proposal ready,
//!            block validated, persisted, synced block, suspect)
//!                          │
//!                          ▼
//!   ┌──────────── Replica::handle(now, input) ─────────────┐
//!   │ admit ─► pre_prepare ─► prepare ─► commit ─► deliver  │
//!   │   timer / f+1 suspects ─► view_change ─► new_view ─┘  │
//!   │ persistence gate: effects wait for Persisted(token)   │
//!   └──────────────────────────┬────────────────────────────┘
//!                              ▼
//!            Vec<Action> (send / broadcast, persist, timer, build,
//!            validate, deliver block + certificate, request blocks,
//!            evidence)
//! ```
//!
//! Modules:
//! - [`config`]: [`Config`], [`Timeouts`], validation.
//! - [`message`]: the six signed wire messages and what each signs.
//! - [`action`]: [`Input`], [`Action`], timers and persist tokens.
//! - [`state`]: [`PersistentState`], what survives a crash.
//! - [`evidence`]: [`Equivocation`] evidence.
//! - [`error`]: [`Error`], every reason an input is dropped.
//! - [`replica`]: [`Replica`], the entry point and persistence gate.
//! - `handle/`: one file per protocol step (admit, proposal, pre_prepare,
//!   prepare, commit, view_change, new_view, timer, suspect, sync).
//! - `slot`: per-height state within a view.
//!
//! `docs/CONSENSUS.md` describes the protocol, the message formats, the
//! simulator and the benchmark.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod action;
pub mod config;
pub mod error;
pub mod evidence;
mod handle;
pub mod message;
pub mod replica;
mod slot;
pub mod state;

pub use action::{Action, Input, PersistToken, Timer, TimerKind};
pub use config::{Config, Timeouts};
pub use error::Error;
pub use evidence::{Equivocation, VoteKind};
pub use handle::new_view::select as select_reproposals;
pub use message::{
    Commit, Message, NewView, NewViewBody, PrePrepare, Prepare, PrepareVote, PreparedCertificate,
    PreparedProof, ProposalVote, Suspect, SuspectVote, ViewChange, ViewChangeBody,
};
pub use replica::{Mode, Replica};
pub use state::{PersistentState, VoteBound, VoteRecord};
