//! `/v1/agents`: AI agent identities holding an Ed25519 key.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;
use crate::secret::Secret;

/// Where an agent stands; only an active agent's tokens verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgentStatus {
    /// Can obtain and use tokens.
    Active,
    /// Its tokens are refused until it is resumed.
    Paused,
    /// Permanently refused.
    Revoked,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

impl AgentStatus {
    /// The wire name, as the `status` filter takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "active",
            AgentStatus::Paused => "paused",
            AgentStatus::Revoked => "revoked",
            // Not a filter the server knows: it answers 422.
            AgentStatus::Unknown => "unknown",
        }
    }
}

/// An agent as the API shows it: its public key, never its private key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// `agt_…`; also the RFC 9421 `keyid` of its signatures.
    pub id: String,
    /// Human label.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Current status.
    pub status: AgentStatus,
    /// Ed25519 public key, base64url.
    pub public_key: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A freshly created agent: the only time its private key is visible.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAgent {
    /// The Ed25519 seed (`sgl_ask_…`); store it now.
    pub agent_key: Secret,
    /// Everything else.
    #[serde(flatten)]
    pub agent: AgentInfo,
}

/// What to create.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// 1–100 characters.
    pub name: String,
    /// Up to 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Which agents to list; `None` takes the server default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentQuery {
    /// 1–100, default 20.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Agents to skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Only agents in this status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AgentStatus>,
}

impl ops::QueryParams for AgentQuery {
    fn params(&self) -> Vec<(&'static str, String)> {
        [
            ("limit", self.limit.map(|n| n.to_string())),
            ("offset", self.offset.map(|n| n.to_string())),
            ("status", self.status.map(|s| s.as_str().to_owned())),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
    }
}

/// One page of agents, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentList {
    /// This page.
    pub agents: Vec<AgentInfo>,
    /// Whether a later `offset` has more.
    pub has_more: bool,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    #[serde(default)]
    has_more: bool,
}

/// `/v1/agents`.
#[derive(Debug, Clone, Copy)]
pub struct Agents<'a>(pub(super) &'a Core);

impl Agents<'_> {
    /// Creates an agent; its private key is in the answer, once.
    pub async fn create(&self, agent: &NewAgent) -> Result<CreatedAgent> {
        self.0.data(&ops::AGENTS_CREATE, args![agent]).await
    }

    /// One page of your agents.
    pub async fn list(&self, query: &AgentQuery) -> Result<AgentList> {
        let (agents, meta): (_, ListMeta) =
            self.0.data_meta(&ops::AGENTS_LIST, args![query]).await?;
        Ok(AgentList {
            agents,
            has_more: meta.has_more,
        })
    }

    /// One agent.
    pub async fn get(&self, id: &str) -> Result<AgentInfo> {
        self.0.data(&ops::AGENTS_GET, args![id]).await
    }

    /// Blocks the agent's tokens until [`Agents::resume`].
    pub async fn pause(&self, id: &str) -> Result<AgentInfo> {
        self.0.data(&ops::AGENTS_PAUSE, args![id]).await
    }

    /// Lets a paused agent's tokens verify again.
    pub async fn resume(&self, id: &str) -> Result<AgentInfo> {
        self.0.data(&ops::AGENTS_RESUME, args![id]).await
    }

    /// Revokes the agent and, at once, every token it holds.
    pub async fn revoke(&self, id: &str) -> Result<AgentInfo> {
        self.0.data(&ops::AGENTS_REVOKE, args![id]).await
    }
}
