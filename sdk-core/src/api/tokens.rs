//! `/v1/tokens`: short-lived agent tokens (`agent+jwt`).

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::policies::Approval;
use super::{args, ops, unwrap, Core};
use crate::error::Result;
use crate::secret::Secret;

/// What an agent token should carry. The server's fields are snake_case.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The agent the token is for.
    #[serde(alias = "agentId")]
    pub agent_id: String,
    /// At least one scope.
    pub scope: Vec<String>,
    /// Lifetime in seconds, 1–86400 (server default 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The audience (`aud`); `any` when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(alias = "targetService")]
    pub target_service: Option<String>,
    /// Why the agent wants it; audited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
}

/// An issued agent token.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentToken {
    /// The JWS; a bearer credential, so redacted in `Debug`.
    pub token: Secret,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Its id, for [`Tokens::revoke`].
    pub jti: String,
}

/// The outcome of a token request: policies may hold it for approval.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Issuance {
    /// 201: the token.
    Issued(AgentToken),
    /// 202: a `require_approval` rule held the request; once the owner grants
    /// it, collect the token with [`super::Approvals::collect`].
    HeldForApproval(Approval),
}

/// A verified agent token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ValidAgentToken {
    /// The agent holding it.
    pub agent_id: String,
    /// Granted scopes.
    pub scope: Vec<String>,
    /// The target service.
    pub aud: Option<String>,
    /// The stated intent.
    pub intent: Option<String>,
    /// Expiry, UNIX seconds.
    pub exp: i64,
    /// Token id.
    pub jti: String,
}

/// What the server says about one token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum TokenVerdict {
    /// The token is good (and holds `required_scope` when one was asked).
    Valid(ValidAgentToken),
    /// Refused; `reason` is a code such as `token_revoked`,
    /// `agent_inactive` or `insufficient_scope`.
    Invalid {
        /// Why.
        reason: String,
    },
}

impl TryFrom<Value> for TokenVerdict {
    type Error = serde_json::Error;

    // The server tags the two shapes with a boolean, which serde's enum
    // tagging cannot read.
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        #[derive(Deserialize)]
        struct Invalid {
            reason: String,
        }
        if value.get("valid") == Some(&Value::Bool(true)) {
            crate::json::from_value(&value).map(TokenVerdict::Valid)
        } else {
            crate::json::from_value(&value)
                .map(|i: Invalid| TokenVerdict::Invalid { reason: i.reason })
        }
    }
}

impl From<TokenVerdict> for Value {
    /// The server's own shape, `{valid, ...}`.
    fn from(v: TokenVerdict) -> Value {
        match v {
            TokenVerdict::Valid(t) => {
                let mut value = serde_json::to_value(t).unwrap_or_default();
                value["valid"] = Value::Bool(true);
                value
            }
            TokenVerdict::Invalid { reason } => {
                serde_json::json!({ "valid": false, "reason": reason })
            }
        }
    }
}

/// The answer to a revocation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokedToken {
    /// The token id.
    pub jti: String,
    /// The agent that held it.
    pub agent_id: String,
    /// Always true.
    pub revoked: bool,
}

#[derive(Deserialize)]
struct BatchAnswer {
    results: Vec<TokenVerdict>,
}

/// `/v1/tokens`.
#[derive(Debug, Clone, Copy)]
pub struct Tokens<'a>(pub(super) &'a Core);

impl Tokens<'_> {
    /// Issues an agent token with the session's credential (it needs
    /// `tokens.issue` and every requested scope).
    pub async fn issue(&self, request: &TokenRequest) -> Result<Issuance> {
        let response = self.0.exec(&ops::TOKENS_ISSUE, args![request]).await?;
        Ok(if response.status() == http::StatusCode::ACCEPTED {
            Issuance::HeldForApproval(unwrap::<_, IgnoredAny>(&response)?.0)
        } else {
            Issuance::Issued(unwrap::<_, IgnoredAny>(&response)?.0)
        })
    }

    /// Asks the server whether `token` is valid now, optionally requiring a
    /// scope. Services that hold the JWKS can verify offline instead.
    pub async fn verify(&self, token: &str, required_scope: Option<&str>) -> Result<TokenVerdict> {
        let args = args![token, required_scope];
        self.0.data(&ops::TOKENS_VERIFY, args).await
    }

    /// Verifies 1–100 tokens in one call; the verdicts are in order.
    pub async fn verify_batch(
        &self,
        tokens: &[&str],
        required_scope: Option<&str>,
    ) -> Result<Vec<TokenVerdict>> {
        // The operation refuses other sizes, saving the round trip.
        let args = args![tokens, required_scope];
        let answer: BatchAnswer = self.0.data(&ops::TOKENS_VERIFY_BATCH, args).await?;
        Ok(answer.results)
    }

    /// Revokes a token by its `jti`; it stops verifying at once.
    pub async fn revoke(&self, jti: &str) -> Result<RevokedToken> {
        self.0.data(&ops::TOKENS_REVOKE, args![jti]).await
    }
}
