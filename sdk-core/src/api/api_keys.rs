//! `/v1/api-keys`: workspace API keys.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;
use crate::secret::Secret;

/// A key as the API shows it: never the secret, only its prefix and last 4.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    /// `key_…`.
    pub id: String,
    /// Human label.
    pub name: String,
    /// First 12 characters of the secret.
    pub prefix: String,
    /// Last 4 characters of the secret.
    pub last4: String,
    /// `prefix…last4`.
    pub masked: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Set for project-scoped keys.
    pub app_id: Option<String>,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    /// RFC 3339.
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub revoked_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Networks (CIDRs) it may be used from; anywhere when `None`.
    #[serde(default)]
    pub allowed_ips: Option<Vec<String>>,
}

/// A freshly created key: the only time its secret is visible.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CreatedApiKey {
    /// The secret (`sgl_live_…`); store it now.
    pub key: Secret,
    /// Everything else.
    #[serde(flatten)]
    pub info: ApiKeyInfo,
}

/// What to create.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct NewApiKey {
    /// Human label.
    pub name: String,
    /// Explicit scopes (or use `preset`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// `read`, `write` or `full`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// 1–3650 days; none for a key that does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
    /// Bind the key to one of your apps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Networks (CIDRs or addresses, 1-100) it may be used from; anywhere
    /// when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<Vec<String>>,
}

/// What to change on a key (`PATCH /v1/api-keys/{id}`); at least one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyUpdate {
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new allowlist: `Some(Some(networks))` sets it, `Some(None)` lifts
    /// it (sent as `null`), `None` leaves it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub allowed_ips: Option<Option<Vec<String>>>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<Vec<String>>>, D::Error> {
    Option::<Vec<String>>::deserialize(d).map(Some)
}

/// `/v1/api-keys`.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeys<'a>(pub(super) &'a Core);

impl ApiKeys<'_> {
    /// Creates a key; the secret is in the answer, once.
    pub async fn create(&self, key: &NewApiKey) -> Result<CreatedApiKey> {
        self.0.data(&ops::API_KEYS_CREATE, args![key]).await
    }

    /// Your keys, masked.
    pub async fn list(&self) -> Result<Vec<ApiKeyInfo>> {
        self.0.data(&ops::API_KEYS_LIST, args![]).await
    }

    /// One key.
    pub async fn get(&self, id: &str) -> Result<ApiKeyInfo> {
        self.0.data(&ops::API_KEYS_GET, args![id]).await
    }

    /// Renames a key.
    pub async fn rename(&self, id: &str, name: &str) -> Result<ApiKeyInfo> {
        self.0.data(&ops::API_KEYS_RENAME, args![id, name]).await
    }

    /// Renames a key and/or sets or lifts its IP allowlist.
    pub async fn update(&self, id: &str, update: &ApiKeyUpdate) -> Result<ApiKeyInfo> {
        self.0.data(&ops::API_KEYS_UPDATE, args![id, update]).await
    }

    /// Revokes a key; it is refused from the next request on.
    pub async fn revoke(&self, id: &str) -> Result<ApiKeyInfo> {
        self.0.data(&ops::API_KEYS_REVOKE, args![id]).await
    }

    /// Deletes a key.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.no_content(&ops::API_KEYS_DELETE, args![id]).await
    }
}
