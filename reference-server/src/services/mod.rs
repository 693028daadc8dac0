//! What handlers call beyond the store: the audit log, webhooks, signing keys,
//! quotas and plans, rate limits, moderation, metrics and the dev mailbox. [`crate::AppState`]
//! holds them; none of them names it, so each takes its store, clock and
//! settings explicitly.

pub mod audit;
pub mod federated_users;
pub mod federation;
pub mod key_use;
pub mod keys;
pub mod mailbox;
pub mod metrics;
pub mod moderation;
pub mod plans;
pub mod quota;
pub mod ratelimit;
pub mod webhooks;
