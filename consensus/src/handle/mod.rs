//! One file per protocol step.
//!
//! - [`admit`]: view / window / buffering checks shared by per-height messages.
//! - [`proposal`]: the primary asks for, signs and sends a block (PRE-PREPARE).
//! - [`pre_prepare`]: a backup accepts a proposal, has it validated, PREPAREs.
//! - [`prepare`]: collecting PREPAREs, becoming prepared, COMMITting.
//! - [`commit`]: collecting COMMITs, deciding, delivering in height order.
//! - [`view_change`]: leaving a view, VIEW-CHANGE messages, joining others.
//! - [`new_view`]: NEW-VIEW, choosing the re-proposals, entering a view.
//! - [`timer`]: timeouts with backoff.
//! - [`suspect`]: the request timer's suspicions; f+1 change the view.
//! - [`reconnect`]: what a peer that (re)connects missed, sent again.
//! - [`sync`]: certified blocks from block sync; learning we are behind.

pub(crate) mod admit;
pub(crate) mod commit;
pub(crate) mod new_view;
pub(crate) mod pre_prepare;
pub(crate) mod prepare;
pub(crate) mod proposal;
pub(crate) mod reconnect;
pub(crate) mod suspect;
pub(crate) mod sync;
pub(crate) mod timer;
pub(crate) mod view_change;
