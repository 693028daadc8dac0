//! Presenting an API key, the one check wherever a key is accepted (the
//! management API, `/auth/token/exchange` and RFC 8693): its format, that
//! it is known and active, and its IP allowlist (SearchAF), a key that lists
//! networks working only from them. An allowlist refusal is audited.

use std::net::IpAddr;

use serde_json::json;

use crate::core::audit::Event;
use crate::core::{crypto, network};
use crate::services::audit::AuditLog;
use crate::store::{ApiKey, Store, StoreResult};

/// Why a presented key is refused; each surface answers in its own error
/// shape (a problem on the API, an RFC 6749 error on the token endpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Not shaped like a Sigil API key.
    Malformed,
    /// Unknown, revoked or expired.
    Unknown,
    /// Used from outside its allowlist (403 `ip_not_allowed`).
    IpNotAllowed,
}

impl KeyRefusal {
    /// The human-readable detail.
    pub fn detail(self) -> &'static str {
        match self {
            KeyRefusal::Malformed => "malformed API key",
            KeyRefusal::Unknown => "the API key is unknown, revoked or expired",
            KeyRefusal::IpNotAllowed => "this API key may not be used from this IP address",
        }
    }
}

/// The key `credential` names, if it may be used from `ip` at `now`.
pub async fn present(
    store: &dyn Store,
    audit: &AuditLog,
    credential: &str,
    ip: IpAddr,
    now: i64,
) -> StoreResult<Result<ApiKey, KeyRefusal>> {
    if !crypto::is_well_formed_api_key(credential) {
        return Ok(Err(KeyRefusal::Malformed));
    }
    let Some(key) = store
        .api_key_by_hash(&crypto::hash(credential))
        .await?
        .filter(|k| k.is_active(now))
    else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    Ok(if admits(audit, &key, ip).await? {
        Ok(key)
    } else {
        Err(KeyRefusal::IpNotAllowed)
    })
}

/// Whether `key` may be used from `ip`; a refusal is recorded as
/// `key.ip_denied` on the audit chain of the key's workspace first.
async fn admits(audit: &AuditLog, key: &ApiKey, ip: IpAddr) -> StoreResult<bool> {
    let Some(allowed) = &key.allowed_ips else {
        return Ok(true);
    };
    if network::contains(allowed, ip) {
        return Ok(true);
    }
    tracing::warn!(key = %key.prefix, %ip, "api key used from outside its allowlist");
    audit
        .record(
            Event::new("key.ip_denied")
                .account(&key.workspace_id)
                .actor(&key.id)
                .subject(&key.id)
                .data(json!({ "ip": ip.to_canonical().to_string() })),
        )
        .await?;
    Ok(false)
}
