//! IP allowlists on API keys (SearchAF): a key that lists networks works
//! only from them, wherever it is presented (the management API, the
//! `/auth/token/exchange` and RFC 8693 exchanges). A refusal is audited.

use std::net::IpAddr;

use serde_json::json;

use crate::core::audit::Event;
use crate::core::network;
use crate::services::audit::AuditLog;
use crate::store::{ApiKey, StoreResult};

/// Whether `key` may be used from `ip`; a refusal is recorded as
/// `key.ip_denied` on the key owner's audit chain first.
pub async fn admits(audit: &AuditLog, key: &ApiKey, ip: IpAddr) -> StoreResult<bool> {
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
                .account(&key.owner_id)
                .actor(&key.id)
                .subject(&key.id)
                .data(json!({ "ip": ip.to_canonical().to_string() })),
        )
        .await?;
    Ok(false)
}

/// The refusal's detail, for both error shapes.
pub const REFUSAL: &str = "this API key may not be used from this IP address";
