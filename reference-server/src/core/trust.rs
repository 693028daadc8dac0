//! The trust model's rules, free of I/O: a user's trust level, their trust
//! score and its breakdown, the moderation states and their effects, and
//! when reports move a user to a stricter state. `GET /trust-model`
//! publishes these same constants, so the document cannot drift from them.

use serde::{Deserialize, Serialize};

/// Seconds in a day.
const DAY: i64 = 86_400;

/// What a user shows of themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    /// No alias and no verified domain: apps know only the pairwise slug.
    Private,
    /// An alias, which nothing proves.
    Unverified,
    /// Proved control of a domain (a DNS TXT record, `/v1/domains`).
    Verified,
}

impl TrustLevel {
    /// The level of a user with (or without) an alias and a verified domain.
    pub fn of(has_alias: bool, has_verified_domain: bool) -> Self {
        match (has_verified_domain, has_alias) {
            (true, _) => Self::Verified,
            (false, true) => Self::Unverified,
            (false, false) => Self::Private,
        }
    }
}

/// Where moderation put a user.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ModerationState {
    /// No action.
    Clean,
    /// Warned: no effect beyond the score.
    Warn,
    /// Cannot send messages through apps (`403 account_restricted`).
    Restrict,
    /// Gets no new token on any path (`account_disabled`).
    Disabled,
}

impl ModerationState {
    /// Every state, mildest first.
    pub const ALL: [Self; 4] = [Self::Clean, Self::Warn, Self::Restrict, Self::Disabled];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Warn => "warn",
            Self::Restrict => "restrict",
            Self::Disabled => "disabled",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// What the state does, for people.
    pub fn effect(self) -> &'static str {
        match self {
            Self::Clean => "none",
            Self::Warn => "none beyond the behaviour penalty",
            Self::Restrict => "messages sent as or by this account are refused: 403 account_restricted",
            Self::Disabled => "no new token on any path (OAuth grants, API-key exchange, sign-in, agent tokens): account_disabled",
        }
    }

    /// Whether messages sent as or by the account are refused.
    pub fn blocks_messages(self) -> bool {
        self >= Self::Restrict
    }

    /// Whether new tokens are refused.
    pub fn blocks_tokens(self) -> bool {
        self == Self::Disabled
    }

    /// The behaviour penalty of the state (score points taken off).
    pub fn penalty(self) -> i64 {
        match self {
            Self::Clean => 0,
            Self::Warn => 10,
            Self::Restrict => 25,
            Self::Disabled => 50,
        }
    }
}

/// The score every user starts from.
pub const BASE_SCORE: i64 = 50;
/// Added once the user verified a domain.
pub const VERIFIED_DOMAIN_BONUS: i64 = 20;
/// The account-age factor reaches this after [`FULL_AGE_DAYS`].
pub const MAX_AGE_BONUS: i64 = 30;
/// Days until the account-age factor is full.
pub const FULL_AGE_DAYS: i64 = 365;
/// Taken off per distinct account whose apps reported the user recently.
pub const REPORT_PENALTY: i64 = 10;
/// The report penalty is at most this.
pub const MAX_REPORT_PENALTY: i64 = 40;
/// Reports older than this many days no longer count.
pub const REPORT_WINDOW_DAYS: i64 = 90;
/// Distinct reporting accounts that put a user in `warn`.
pub const WARN_AT_REPORTERS: u64 = 2;
/// Distinct reporting accounts that put a user in `restrict`.
pub const RESTRICT_AT_REPORTERS: u64 = 3;

/// The start of the report window at `now`.
pub fn report_window_start(now: i64) -> i64 {
    now - REPORT_WINDOW_DAYS * DAY
}

/// A trust score, 0-100, and what made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TrustScore)]
pub struct Score {
    /// `base + verifiedDomainBonus + accountAge - reportPenalty -
    /// behaviourPenalty`, clamped to 0-100.
    #[schema(minimum = 0, maximum = 100)]
    pub score: i64,
    /// Always 50.
    pub base: i64,
    /// 20 with a verified domain, else 0.
    #[schema(minimum = 0, maximum = 20)]
    pub verified_domain_bonus: i64,
    /// 0-30, linear over the account's first 365 days.
    #[schema(minimum = 0, maximum = 30)]
    pub account_age: i64,
    /// 10 per distinct account whose apps reported the user in the last 90
    /// days, at most 40.
    #[schema(minimum = 0, maximum = 40)]
    pub report_penalty: i64,
    /// From the moderation state: warn 10, restrict 25, disabled 50.
    #[schema(minimum = 0, maximum = 50)]
    pub behaviour_penalty: i64,
}

/// What the score is computed from.
#[derive(Debug, Clone, Copy)]
pub struct ScoreInputs {
    /// UNIX seconds the account was created.
    pub created_at: i64,
    /// Now, UNIX seconds.
    pub now: i64,
    /// Whether the user verified a domain.
    pub verified_domain: bool,
    /// Distinct accounts whose apps reported the user in the window.
    pub reporters: u64,
    /// The current moderation state.
    pub state: ModerationState,
}

impl Score {
    /// The score for `inputs`.
    pub fn of(inputs: &ScoreInputs) -> Self {
        let days = ((inputs.now - inputs.created_at) / DAY).clamp(0, FULL_AGE_DAYS);
        let account_age = days * MAX_AGE_BONUS / FULL_AGE_DAYS;
        let verified_domain_bonus = if inputs.verified_domain {
            VERIFIED_DOMAIN_BONUS
        } else {
            0
        };
        let reporters = i64::try_from(inputs.reporters).unwrap_or(i64::MAX);
        let report_penalty = reporters
            .saturating_mul(REPORT_PENALTY)
            .min(MAX_REPORT_PENALTY);
        let behaviour_penalty = inputs.state.penalty();
        let score =
            (BASE_SCORE + verified_domain_bonus + account_age - report_penalty - behaviour_penalty)
                .clamp(0, 100);
        Self {
            score,
            base: BASE_SCORE,
            verified_domain_bonus,
            account_age,
            report_penalty,
            behaviour_penalty,
        }
    }
}

/// The state reports lead to from `current`, when stricter: reports only
/// ever escalate, never past `restrict` (disabling is a person's decision),
/// and never undo what an operator set.
pub fn escalation(current: ModerationState, reporters: u64) -> Option<ModerationState> {
    let due = if reporters >= RESTRICT_AT_REPORTERS {
        ModerationState::Restrict
    } else if reporters >= WARN_AT_REPORTERS {
        ModerationState::Warn
    } else {
        return None;
    };
    (due > current).then_some(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_alias_and_domain() {
        assert_eq!(TrustLevel::of(false, false), TrustLevel::Private);
        assert_eq!(TrustLevel::of(true, false), TrustLevel::Unverified);
        assert_eq!(TrustLevel::of(false, true), TrustLevel::Verified);
    }

    #[test]
    fn score_adds_up_and_is_clamped() {
        let inputs = ScoreInputs {
            created_at: 0,
            now: 400 * DAY,
            verified_domain: true,
            reporters: 0,
            state: ModerationState::Clean,
        };
        assert_eq!(Score::of(&inputs).score, 100);
        let fresh = ScoreInputs {
            now: 0,
            verified_domain: false,
            reporters: 9,
            state: ModerationState::Disabled,
            ..inputs
        };
        let s = Score::of(&fresh);
        assert_eq!(
            (s.report_penalty, s.behaviour_penalty, s.score),
            (40, 50, 0)
        );
        let half = ScoreInputs {
            now: 365 * DAY / 2,
            ..fresh
        };
        assert_eq!(Score::of(&half).account_age, 14);
    }

    #[test]
    fn reports_only_escalate_up_to_restrict() {
        use ModerationState::*;
        assert_eq!(escalation(Clean, 1), None);
        assert_eq!(escalation(Clean, 2), Some(Warn));
        assert_eq!(escalation(Warn, 3), Some(Restrict));
        assert_eq!(escalation(Restrict, 9), None);
        assert_eq!(escalation(Disabled, 9), None);
    }
}
