//! Capability tokens (`/v1/cap-tokens`): a `cap_…` credential that lets a
//! front end act for one of the caller's apps with some of its scopes,
//! optionally bound to origins and emails and given a lifetime.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;

/// What a new capability token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewCapToken {
    /// One of the caller's apps.
    pub app_id: String,
    /// A non-empty subset of the app's scopes.
    pub scopes: Vec<String>,
    /// Lifetime in seconds (1 to one year); `None` never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<i64>,
    /// Origins (`scheme://host[:port]`) it is bound to (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
    /// Emails it is bound to (at most 100).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
}

/// A new capability token; `token` is shown only here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapToken {
    /// `capid_…`.
    pub id: String,
    /// The token (`cap_…`).
    pub token: String,
    /// The app it serves.
    pub app_id: String,
    /// What it grants.
    pub scopes: Vec<String>,
    /// RFC 3339; `None` if it never expires.
    pub expires_at: Option<String>,
    /// The origins it is bound to.
    pub origins: Vec<String>,
    /// The emails it is bound to, lowercase.
    pub emails: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// Capability tokens.
#[derive(Debug, Clone, Copy)]
pub struct CapTokens<'a>(pub(super) &'a Core);

impl CapTokens<'_> {
    /// Mints a capability token for one of the caller's apps (`apps.write`).
    pub async fn create(&self, token: &NewCapToken) -> Result<CapToken> {
        self.0.data(&ops::CAP_TOKENS_CREATE, args![token]).await
    }
}
