//! `/v1/domains`: domains proven by a DNS TXT record.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;

/// Whether the TXT record was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DomainStatus {
    /// Publish [`DomainInfo::record`], then verify.
    Pending,
    /// Proven.
    Verified,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

/// The DNS record to publish.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct DnsRecord {
    /// `TXT`.
    #[serde(rename = "type")]
    pub record_type: String,
    /// `_sigil-challenge.<domain>`.
    pub name: String,
    /// `sigil-verification=…`.
    pub value: String,
}

/// A domain as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainInfo {
    /// `dom_…`.
    pub id: String,
    /// Lowercase hostname.
    pub domain: String,
    /// Whether it is proven.
    pub status: DomainStatus,
    /// What to publish.
    pub record: DnsRecord,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub verified_at: Option<String>,
}

/// `/v1/domains`.
#[derive(Debug, Clone, Copy)]
pub struct Domains<'a>(pub(super) &'a Core);

impl Domains<'_> {
    /// Adds a domain, pending until its TXT record is verified.
    pub async fn add(&self, domain: &str) -> Result<DomainInfo> {
        self.0.data(&ops::DOMAINS_ADD, args![domain]).await
    }

    /// Your domains, oldest first.
    pub async fn list(&self) -> Result<Vec<DomainInfo>> {
        self.0.data(&ops::DOMAINS_LIST, args![]).await
    }

    /// One domain.
    pub async fn get(&self, id: &str) -> Result<DomainInfo> {
        self.0.data(&ops::DOMAINS_GET, args![id]).await
    }

    /// Looks the TXT record up; a missing record is a 422
    /// `verification_failed` error, an unreachable resolver a 502.
    pub async fn verify(&self, id: &str) -> Result<DomainInfo> {
        self.0.data(&ops::DOMAINS_VERIFY, args![id]).await
    }

    /// Deletes a domain.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.no_content(&ops::DOMAINS_DELETE, args![id]).await
    }
}
