//! `/v1/audit`: the hash-chained audit log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{args, ops, Core};
use crate::error::Result;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position in the chain.
    pub seq: i64,
    /// Entry id.
    pub id: String,
    /// RFC 3339.
    pub ts: String,
    /// Event type, e.g. `key.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Who acted (user, key, agent or app id).
    pub actor: Option<String>,
    /// What it acted on.
    pub subject: Option<String>,
    /// Event details.
    pub data: Value,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Filters for listing and exporting; `None` means no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditFilter {
    /// Only this event type.
    #[serde(alias = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Only this actor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// At or after: RFC 3339 or UNIX seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// At or before: RFC 3339 or UNIX seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// One page of entries, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// This page.
    pub entries: Vec<AuditEntry>,
    /// Pass to [`Audit::list`] for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// What [`Audit::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum ChainVerdict {
    /// Every link holds.
    Intact {
        /// Entries checked.
        entries: u64,
    },
    /// The first broken link.
    Broken {
        /// Its `seq`.
        broken_at: i64,
        /// What is wrong with it.
        reason: String,
    },
}

impl TryFrom<Value> for ChainVerdict {
    type Error = serde_json::Error;

    // Tagged by a boolean `valid`, which serde's enum tagging cannot read.
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        #[derive(Deserialize)]
        struct Intact {
            entries: u64,
        }
        #[derive(Deserialize)]
        struct Broken {
            broken_at: i64,
            reason: String,
        }
        if value.get("valid") == Some(&Value::Bool(true)) {
            crate::json::from_value(&value)
                .map(|i: Intact| ChainVerdict::Intact { entries: i.entries })
        } else {
            crate::json::from_value(&value).map(|b: Broken| ChainVerdict::Broken {
                broken_at: b.broken_at,
                reason: b.reason,
            })
        }
    }
}

impl From<ChainVerdict> for Value {
    /// The server's own shape, `{valid, ...}`.
    fn from(v: ChainVerdict) -> Value {
        match v {
            ChainVerdict::Intact { entries } => {
                serde_json::json!({ "valid": true, "entries": entries })
            }
            ChainVerdict::Broken { broken_at, reason } => {
                serde_json::json!({ "valid": false, "broken_at": broken_at, "reason": reason })
            }
        }
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    /// RFC 4180, with a header line.
    Csv,
    /// One JSON array.
    Json,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageMeta {
    next_cursor: Option<String>,
}

impl ops::QueryParams for AuditFilter {
    fn params(&self) -> Vec<(&'static str, String)> {
        [
            ("type", &self.event_type),
            ("actor", &self.actor),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.clone()?)))
        .collect()
    }
}

/// `/v1/audit`.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a>(pub(super) &'a Core);

impl Audit<'_> {
    /// One page of entries: `limit` 1–500 (default 50); `cursor` from the
    /// previous page's [`AuditPage::next_cursor`].
    pub async fn list(
        &self,
        filter: &AuditFilter,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<AuditPage> {
        let (entries, meta): (_, PageMeta) = self
            .0
            .data_meta(&ops::AUDIT_LIST, args![filter, limit, cursor])
            .await?;
        Ok(AuditPage {
            entries,
            next_cursor: meta.next_cursor,
        })
    }

    /// Checks the whole chain and reports the first broken link.
    pub async fn verify(&self) -> Result<ChainVerdict> {
        self.0.data(&ops::AUDIT_VERIFY, args![]).await
    }

    /// The filtered log as the server streams it, bytes as received (a
    /// file to save, not an envelope).
    pub async fn export(&self, format: AuditFormat, filter: &AuditFilter) -> Result<Vec<u8>> {
        let args = args![format, filter];
        Ok(self.0.exec(&ops::AUDIT_EXPORT, args).await?.into_body())
    }
}
