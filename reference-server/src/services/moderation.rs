//! Trust and moderation at work: a user's standing (trust level, score,
//! moderation state), state changes (audited, and sent to the user's
//! account as `moderation.changed`), and reports, which escalate a user
//! automatically once enough distinct accounts reported them
//! ([`crate::core::trust::escalation`]).

use std::sync::Arc;

use serde_json::json;

use crate::core::audit::Event;
use crate::core::clock::Clock;
use crate::core::trust::{self, ModerationState, Score, ScoreInputs, TrustLevel};
use crate::services::audit::AuditLog;
use crate::services::webhooks::Webhooks;
use crate::store::trust::{Moderation as Record, Report};
use crate::store::{Store, StoreResult, User};

/// The event every state change sends.
pub const CHANGED: &str = "moderation.changed";

/// Where a user stands.
#[derive(Debug, Clone)]
pub struct Standing {
    /// What the user shows of themselves.
    pub level: TrustLevel,
    /// The score and its breakdown.
    pub score: Score,
    /// The moderation state as stored (`None`: never moderated).
    pub moderation: Option<Record>,
    /// Reports in the window.
    pub reports: u64,
    /// Distinct reporting accounts in the window.
    pub reporters: u64,
}

impl Standing {
    /// The current state.
    pub fn state(&self) -> ModerationState {
        self.moderation
            .as_ref()
            .map_or(ModerationState::Clean, |m| m.state)
    }
}

/// Who changes a state.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// An operator's credential (key or user id).
    Operator(&'a str),
    /// The report thresholds.
    Reports,
}

/// The moderation service, on `AppState::moderation` (cheap to clone).
#[derive(Debug, Clone)]
pub struct Moderation {
    store: Arc<dyn Store>,
    audit: AuditLog,
    webhooks: Webhooks,
    clock: Arc<Clock>,
}

impl Moderation {
    /// The service over `store`, recording through `audit` and `webhooks`.
    pub fn new(
        store: Arc<dyn Store>,
        audit: AuditLog,
        webhooks: Webhooks,
        clock: Arc<Clock>,
    ) -> Self {
        Self {
            store,
            audit,
            webhooks,
            clock,
        }
    }

    /// `user_id`'s state (cached in the store: token paths read it).
    pub async fn state(&self, user_id: &str) -> StoreResult<ModerationState> {
        Ok(self
            .store
            .moderation(user_id)
            .await?
            .map_or(ModerationState::Clean, |m| m.state))
    }

    /// `user_id`'s trust level, given whether the viewer sees an alias.
    pub async fn level(&self, user_id: &str, shows_alias: bool) -> StoreResult<TrustLevel> {
        let domains = self.store.domains_of(user_id).await?;
        Ok(TrustLevel::of(
            shows_alias,
            domains.iter().any(|d| d.verified_at.is_some()),
        ))
    }

    /// `user`'s full standing.
    pub async fn standing(&self, user: &User) -> StoreResult<Standing> {
        let now = self.clock.now();
        let domains = self.store.domains_of(&user.id).await?;
        let verified_domain = domains.iter().any(|d| d.verified_at.is_some());
        let moderation = self.store.moderation(&user.id).await?;
        let (reports, reporters) = self
            .store
            .report_counts(&user.id, trust::report_window_start(now))
            .await?;
        let state = moderation
            .as_ref()
            .map_or(ModerationState::Clean, |m| m.state);
        Ok(Standing {
            level: TrustLevel::of(user.alias.is_some(), verified_domain),
            score: Score::of(&ScoreInputs {
                created_at: user.created_at,
                now,
                verified_domain,
                reporters,
                state,
            }),
            moderation,
            reports,
            reporters,
        })
    }

    /// Sets `user_id`'s state, audits it and sends `moderation.changed` to
    /// the user's account. Setting the state it already has records nothing.
    pub async fn set(
        &self,
        user_id: &str,
        to: ModerationState,
        reason: Option<&str>,
        actor: Actor<'_>,
    ) -> StoreResult<()> {
        let from = self.state(user_id).await?;
        if from == to {
            return Ok(());
        }
        let now = self.clock.now();
        let automatic = matches!(actor, Actor::Reports);
        let record = Record {
            state: to,
            reason: reason.map(str::to_owned),
            automatic,
            updated_at: now,
        };
        self.store.set_moderation(user_id, &record).await?;
        let data = json!({
            "userId": user_id,
            "from": from.as_str(),
            "to": to.as_str(),
            "reason": reason,
            "automatic": automatic,
        });
        let actor_id = match actor {
            Actor::Operator(id) => id,
            Actor::Reports => "sigil:reports",
        };
        self.audit
            .record(
                Event::new(CHANGED)
                    .account(user_id)
                    .actor(actor_id)
                    .subject(user_id)
                    .data(data.clone()),
            )
            .await?;
        self.webhooks.emit(user_id, CHANGED, data).await?;
        Ok(())
    }

    /// Files `report` (audited in the reporting account's log) and escalates
    /// the user when the distinct reporting accounts cross a threshold.
    /// Returns the user's state afterwards.
    pub async fn report(&self, report: &Report) -> StoreResult<ModerationState> {
        self.store.add_report(report).await?;
        self.audit
            .record(
                Event::new("user.reported")
                    .account(&report.reporter_account)
                    .actor(&report.app_id)
                    .subject(&report.id)
                    .data(json!({ "reason": report.reason })),
            )
            .await?;
        let since = trust::report_window_start(report.created_at);
        let (_, reporters) = self.store.report_counts(&report.user_id, since).await?;
        let current = self.state(&report.user_id).await?;
        match trust::escalation(current, reporters) {
            Some(due) => {
                let reason = format!("{reporters} accounts reported this user");
                self.set(&report.user_id, due, Some(&reason), Actor::Reports)
                    .await?;
                Ok(due)
            }
            None => Ok(current),
        }
    }
}
