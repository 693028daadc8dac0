//! Per-account plan quotas: agents that are not revoked, and agent tokens
//! issued per calendar month (UTC, on the server clock). Over a limit the
//! answer is 402 `quota_exceeded`, naming the limit and the current usage.
//!
//! Agents are counted in the store when one is created (not a hot path).
//! Tokens are counted in memory: an account's counter is seeded from one
//! indexed count the first time it issues in a month, then kept here, so
//! issuing a token adds no database read.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::StatusCode;
use time::{Date, OffsetDateTime, Time};

use crate::error::ApiError;
use crate::store::Store;

/// The 402 answer for `quota` at `limit` with `usage` already spent.
pub fn exceeded(quota: &str, limit: u64, usage: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYMENT_REQUIRED,
        "quota_exceeded",
        format!("the plan allows {limit} {quota}; {usage} are in use"),
    )
    .with("quota", quota)
    .with("limit", limit)
    .with("usage", usage)
}

/// Refuses a new agent once `owner` holds `limit` agents that are not revoked.
pub async fn check_agents(store: &dyn Store, owner: &str, limit: u64) -> Result<(), ApiError> {
    let usage = store.count_live_agents(owner).await?;
    if usage >= limit {
        return Err(exceeded("agents", limit, usage));
    }
    Ok(())
}

/// UNIX seconds of the first instant of `now`'s month (UTC) and of the next.
pub fn month_bounds(now: i64) -> (i64, i64) {
    let at = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let start = |year: i32, month: time::Month| {
        Date::from_calendar_date(year, month, 1)
            .map(|d| d.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp())
            .unwrap_or(now)
    };
    let (year, month) = (at.year(), at.month());
    let next_year = if month == time::Month::December {
        year + 1
    } else {
        year
    };
    (start(year, month), start(next_year, month.next()))
}

/// Agent tokens issued this month, per account: `(month start, count)`.
#[derive(Debug, Default)]
pub struct TokenQuota(Mutex<HashMap<String, (i64, u64)>>);

impl TokenQuota {
    fn cached(&self, owner: &str, month: i64) -> bool {
        self.0
            .lock()
            .map(|m| m.get(owner).is_some_and(|(at, _)| *at == month))
            .unwrap_or(false)
    }

    /// Takes one token from `owner`'s monthly allowance of `limit`, or
    /// answers 402. Give it back with [`TokenQuota::release`] when the token
    /// is then not issued.
    pub async fn reserve(
        &self,
        store: &dyn Store,
        owner: &str,
        now: i64,
        limit: u64,
    ) -> Result<(), ApiError> {
        let (month, resets) = month_bounds(now);
        let seed = if self.cached(owner, month) {
            None
        } else {
            Some(store.count_agent_tokens_since(owner, month).await?)
        };
        let mut map = self
            .0
            .lock()
            .map_err(|_| ApiError::internal(&"token quota lock poisoned"))?;
        let entry = map.entry(owner.to_owned()).or_insert((month, 0));
        if entry.0 != month {
            *entry = (month, seed.unwrap_or(0));
        } else if let Some(n) = seed {
            // Another request may have seeded it meanwhile; keep the larger.
            entry.1 = entry.1.max(n);
        }
        if entry.1 >= limit {
            return Err(exceeded("tokens per month", limit, entry.1).with("resetsAt", resets));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Returns a token reserved at `now` that was not issued.
    pub fn release(&self, owner: &str, now: i64) {
        let (month, _) = month_bounds(now);
        if let Ok(mut map) = self.0.lock() {
            if let Some((at, n)) = map.get_mut(owner) {
                if *at == month {
                    *n = n.saturating_sub(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::month_bounds;

    #[test]
    fn months_start_on_the_first_at_midnight_utc() {
        // 2026-11-22T17:00:00Z
        assert_eq!(month_bounds(1_795_366_800), (1_793_491_200, 1_796_083_200));
        // 2026-12-31T23:59:59Z rolls into 2027-01-01.
        assert_eq!(month_bounds(1_798_761_599), (1_796_083_200, 1_798_761_600));
    }
}
