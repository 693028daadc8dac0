//! Typed clients for Sigil's management API (`/v1`) and app API (`/app/v1`),
//! over an authenticated [`Session`]: every call gets the session's renewal,
//! retry and typed-error rules, and answers are unwrapped from the
//! `{data, meta}` envelope. One private send path serves every resource.

mod account;
mod agents;
mod api_keys;
mod app;
mod apps;
mod audit;
mod cap_tokens;
mod domains;
mod ops;
mod plans;
mod policies;
mod provider_login;
mod tokens;
mod trust;
mod webhooks;
mod workspaces;

use std::sync::Arc;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::session::Session;

pub use account::{Account, AccountUpdate, Accounts};
pub use agents::{AgentInfo, AgentList, AgentQuery, AgentStatus, Agents, CreatedAgent, NewAgent};
pub use api_keys::{ApiKeyInfo, ApiKeyUpdate, ApiKeys, CreatedApiKey, NewApiKey};
pub use app::{AppApi, FiledReport, Identity, NewMessage, NewReport, ReportReason, SentMessage};
pub use apps::{AppInfo, AppUpdate, AppWithSecret, Apps, NewApp};
pub use audit::{Audit, AuditEntry, AuditFilter, AuditFormat, AuditPage, ChainVerdict};
pub use cap_tokens::{CapToken, CapTokens, NewCapToken};
pub use domains::{DnsRecord, DomainInfo, DomainStatus, Domains};
pub use ops::{Operation, OPERATIONS};
pub use plans::{PlanChange, PlanHolder, PlanInfo, PlanLimits, PlanUsage, Plans};
pub use policies::{
    Approval, ApprovalStatus, Approvals, Effect, NewPolicy, Policies, PolicyInfo, PolicyUpdate,
    Rule, RuleLimit, RuleMatch, TimeOfDay,
};
pub use provider_login::{ProviderLogin, ProviderSession, ProviderUser};
pub use tokens::{
    AgentToken, Issuance, RevokedToken, TokenRequest, TokenVerdict, Tokens, ValidAgentToken,
};
pub use trust::{
    ModerationChange, ModerationInfo, ModerationState, ReportCounts, Trust, TrustLevel,
    TrustProfile, TrustScore,
};
pub use webhooks::{
    CreatedWebhook, Delivery, DeliveryStatus, NewWebhook, WebhookInfo, WebhookStatus, Webhooks,
};
pub use workspaces::{NewWorkspaceMember, WorkspaceInfo, WorkspaceMember, Workspaces};

/// The management API (`/v1`) of one Sigil server.
#[derive(Debug, Clone)]
pub struct Management {
    core: Core,
}

impl Management {
    /// A client for the server at `base_url` (usually the issuer).
    pub fn new(session: Arc<Session>, base_url: &str) -> Result<Self> {
        Core::new(session, base_url).map(|core| Self { core })
    }

    /// `/v1/api-keys`.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys(&self.core)
    }

    /// `/v1/workspaces`.
    pub fn workspaces(&self) -> Workspaces<'_> {
        Workspaces(&self.core)
    }

    /// `POST /auth/oauth/exchange`, for the code a provider login returns.
    /// Sent without a bearer token: it works on a client whose session
    /// holds no tokens yet.
    pub fn provider_login(&self) -> ProviderLogin<'_> {
        ProviderLogin(&self.core)
    }

    /// `/v1/apps`.
    pub fn apps(&self) -> Apps<'_> {
        Apps(&self.core)
    }

    /// `/v1/agents`.
    pub fn agents(&self) -> Agents<'_> {
        Agents(&self.core)
    }

    /// `/v1/tokens`.
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens(&self.core)
    }

    /// `/v1/policies`.
    pub fn policies(&self) -> Policies<'_> {
        Policies(&self.core)
    }

    /// `/v1/approvals`: token requests held by a `require_approval` rule.
    pub fn approvals(&self) -> Approvals<'_> {
        Approvals(&self.core)
    }

    /// `/v1/audit`.
    pub fn audit(&self) -> Audit<'_> {
        Audit(&self.core)
    }

    /// `/v1/webhooks`: the account's endpoints.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks::new(&self.core, false)
    }

    /// `/v1/domains`.
    pub fn domains(&self) -> Domains<'_> {
        Domains(&self.core)
    }

    /// Trust and moderation: the model, your standing, the operator API.
    pub fn trust(&self) -> Trust<'_> {
        Trust(&self.core)
    }

    /// Plans: yours, and the operator API.
    pub fn plans(&self) -> Plans<'_> {
        Plans(&self.core)
    }

    /// Your own account: email and alias.
    pub fn account(&self) -> Accounts<'_> {
        Accounts(&self.core)
    }

    /// Capability tokens for your apps' front ends.
    pub fn cap_tokens(&self) -> CapTokens<'_> {
        CapTokens(&self.core)
    }

    /// Any operation of [`OPERATIONS`], `/app/v1` ones included, by name
    /// with JSON arguments (a list in the typed method's order), answered
    /// with the server's JSON: what bindings expose as typed clients.
    pub async fn call(&self, operation: &str, args: Value) -> Result<Value> {
        ops::call(&self.core, operation, args).await
    }
}

/// What every client holds: the session and the server's base URL.
#[derive(Debug, Clone)]
struct Core {
    session: Arc<Session>,
    base: url::Url,
}

/// `{data, meta}`; `M` picks the meta members a caller needs.
#[derive(Deserialize)]
struct Envelope<T, M> {
    data: T,
    #[serde(default)]
    meta: M,
}

/// Positional JSON arguments for an [`ops::Operation`], from typed values.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        vec![$(serde_json::to_value($arg).map_err(|e| crate::Error::InvalidInput(e.to_string()))?),*]
    };
}
use args;

impl Core {
    fn new(session: Arc<Session>, base_url: &str) -> Result<Self> {
        let base =
            url::Url::parse(base_url).map_err(|e| Error::InvalidInput(format!("base URL: {e}")))?;
        if base.cannot_be_a_base() {
            return Err(Error::InvalidInput("base URL cannot hold paths".into()));
        }
        Ok(Self { session, base })
    }

    fn url(&self, req: &ops::Req) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            // Each segment is percent-encoded: an id can never change the path.
            path.pop_if_empty().extend(&req.path);
        }
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&req.query);
        }
        url.into()
    }

    /// Checks the arguments, sends the operation and returns the answer
    /// (a non-2xx answer is already a typed error). An operation that
    /// needs no token goes out without one, through the same runtime.
    async fn exec(&self, op: &ops::Operation, args: Vec<Value>) -> Result<crate::HttpResponse> {
        let req = op.request(args)?;
        let mut request = http::Request::builder()
            .method(req.method.clone())
            .uri(self.url(&req))
            .header(http::header::ACCEPT, "application/json");
        for (name, value) in &req.headers {
            request = request.header(*name, value);
        }
        let bytes = match &req.body {
            Some(v) => {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
                serde_json::to_vec(v).map_err(|e| Error::InvalidInput(e.to_string()))?
            }
            None => Vec::new(),
        };
        let request = request
            .body(bytes)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        if op.requires_auth() {
            self.session.request(request).await
        } else {
            self.session.request_without_token(request).await
        }
    }

    /// Sends and unwraps `data`.
    async fn data<T: DeserializeOwned>(&self, op: &ops::Operation, args: Vec<Value>) -> Result<T> {
        self.data_meta::<T, IgnoredAny>(op, args)
            .await
            .map(|(d, _)| d)
    }

    /// Sends and unwraps `data` and the `meta` members `M` names
    /// (pagination).
    async fn data_meta<T: DeserializeOwned, M: DeserializeOwned + Default>(
        &self,
        op: &ops::Operation,
        args: Vec<Value>,
    ) -> Result<(T, M)> {
        unwrap(&self.exec(op, args).await?)
    }

    /// Sends a call whose answer has no body worth reading (204).
    async fn no_content(&self, op: &ops::Operation, args: Vec<Value>) -> Result<()> {
        self.exec(op, args).await.map(drop)
    }
}

/// `data` and `meta` of an answer already received.
fn unwrap<T: DeserializeOwned, M: DeserializeOwned + Default>(
    response: &crate::HttpResponse,
) -> Result<(T, M)> {
    crate::runtime::json_body(response, "Sigil API response")
        .map(|e: Envelope<T, M>| (e.data, e.meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newer server may add a status; an older SDK must still decode the
    /// answer rather than fail the whole call.
    #[test]
    fn unknown_statuses_decode_as_unknown() {
        let new = "\"archived\"";
        assert_eq!(
            serde_json::from_str::<AgentStatus>(new).unwrap(),
            AgentStatus::Unknown
        );
        assert_eq!(
            serde_json::from_str::<ApprovalStatus>(new).unwrap(),
            ApprovalStatus::Unknown
        );
        assert_eq!(
            serde_json::from_str::<Effect>(new).unwrap(),
            Effect::Unknown
        );
        assert_eq!(
            serde_json::from_str::<DomainStatus>(new).unwrap(),
            DomainStatus::Unknown
        );
        assert_eq!(
            serde_json::from_str::<WebhookStatus>(new).unwrap(),
            WebhookStatus::Unknown
        );
        assert_eq!(
            serde_json::from_str::<DeliveryStatus>(new).unwrap(),
            DeliveryStatus::Unknown
        );
        assert_eq!(
            serde_json::from_str::<AgentStatus>("\"paused\"").unwrap(),
            AgentStatus::Paused
        );
    }
}
