//! The storage layer. Handlers only see [`Store`]; [`sql::SqlStore`]
//! implements it on SQLite or PostgreSQL, and [`changes`] keeps the caches
//! of several nodes on one database coherent. Secrets arrive here already
//! hashed.

mod cache;
pub mod changes;
pub mod error;
pub mod federation;
pub mod group_commit;
pub mod plans;
pub mod sql;
pub mod trust;
pub mod webhooks;
pub mod workspaces;

pub use error::{StoreError, StoreResult};

pub use crate::core::policy::Policy;

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    /// Awaiting the owner's decision.
    Pending,
    /// Granted; the agent may collect its token once.
    Granted,
    /// Rejected.
    Rejected,
    /// Granted and its token collected.
    Collected,
}

impl ApprovalStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Granted => "granted",
            Self::Rejected => "rejected",
            Self::Collected => "collected",
        }
    }
    /// Parses a stored or wire name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(Self::Pending),
            "granted" => Some(Self::Granted),
            "rejected" => Some(Self::Rejected),
            "collected" => Some(Self::Collected),
            _ => None,
        }
    }
}

/// An issuance held by a `require_approval` rule, with the request as made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// `apv_…`.
    pub id: String,
    /// The agent's owner, who decides.
    pub workspace_id: String,
    /// The requesting agent.
    pub agent_id: String,
    /// The policy that held it.
    pub policy_id: String,
    /// Requested scopes (canonical).
    pub scope: Vec<String>,
    /// Requested lifetime, seconds.
    pub ttl: i64,
    /// Requested audience.
    pub target_service: String,
    /// Requested intent.
    pub intent: Option<String>,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds of the grant or rejection.
    pub decided_at: Option<i64>,
    /// UNIX seconds the token was collected.
    pub collected_at: Option<i64>,
}

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `usr_…`.
    pub id: String,
    /// Sign-in address, lowercase.
    pub email: String,
    /// Optional display alias shared with apps.
    pub alias: Option<String>,
    /// UNIX seconds.
    pub created_at: i64,
}

/// A registered OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The `client_id` (`app_…`).
    pub id: String,
    /// The user who manages it.
    pub workspace_id: String,
    /// Shown on the consent screen.
    pub name: String,
    /// Exact-match redirect URIs (RFC 8252 loopback ports excepted).
    pub redirect_uris: Vec<String>,
    /// Origins allowed by CORS.
    pub allowed_origins: Vec<String>,
    /// Public clients have no secret and must use PKCE.
    pub is_public: bool,
    /// SHA-256 of the client secret.
    pub secret_hash: Option<Vec<u8>>,
    /// Scopes the app may be granted.
    pub scopes: Vec<String>,
    /// UNIX seconds.
    pub created_at: i64,
}

/// An API key or personal access token (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// `key_…`.
    pub id: String,
    /// The workspace it acts in.
    pub workspace_id: String,
    /// The user who made it.
    pub owner_id: String,
    /// Set for project-scoped keys.
    pub app_id: Option<String>,
    /// Human label.
    pub name: String,
    /// First 12 characters of the secret.
    pub prefix: String,
    /// Last 4 characters of the secret.
    pub last4: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// UNIX seconds, if it expires.
    pub expires_at: Option<i64>,
    /// UNIX seconds, once revoked.
    pub revoked_at: Option<i64>,
    /// UNIX seconds of the last authenticated use.
    pub last_used_at: Option<i64>,
    /// UNIX seconds.
    pub created_at: i64,
    /// Networks it may be used from; anywhere when `None`.
    pub allowed_ips: Option<Vec<ipnet::IpNet>>,
}

impl ApiKey {
    /// Usable at `now`: not revoked, not expired.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A stored refresh token (looked up by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Every rotation of one grant shares a family; reuse revokes it whole.
    pub family_id: String,
    /// The client it was issued to.
    pub app_id: String,
    /// The user, for user sessions.
    pub user_id: Option<String>,
    /// Granted scope, space-separated.
    pub scope: String,
    /// The `sid` the access tokens carry.
    pub session_id: String,
    /// UNIX seconds.
    pub expires_at: i64,
    /// UNIX seconds it was spent (rotated), if it was.
    pub used_at: Option<i64>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// First use: the token is now spent.
    Fresh(RefreshToken),
    /// Already spent: a replay, so the family must be revoked.
    Reused {
        /// The family to revoke.
        family_id: String,
    },
    /// Unspent, but its family was revoked (logout, reuse, code replay).
    Revoked,
    /// Never issued.
    Unknown,
}

/// A token-signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    /// Key id in JWS headers and the JWKS.
    pub kid: String,
    /// Ed25519 seed.
    pub seed: Vec<u8>,
    /// UNIX seconds.
    pub created_at: i64,
    /// Set once a newer key took over; still published until dropped.
    pub retired_at: Option<i64>,
}

/// An authorization code awaiting exchange (looked up by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// The client it was issued to.
    pub app_id: String,
    /// The user who approved it.
    pub user_id: String,
    /// The redirect URI of the authorization request, repeated at the token endpoint.
    pub redirect_uri: String,
    /// The S256 PKCE challenge; `None` only for codes made outside `/oauth/authorize`.
    pub code_challenge: Option<String>,
    /// Granted scope, space-separated.
    pub scope: String,
    /// UNIX seconds.
    pub expires_at: i64,
    /// UNIX seconds it was exchanged, if it was.
    pub used_at: Option<i64>,
    /// What the exchange issued, so a replay can revoke it.
    pub issued: Option<CodeIssue>,
}

/// The tokens an authorization code was exchanged for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeIssue {
    /// The refresh-token family it started.
    pub family_id: String,
    /// The access token's `jti`.
    pub access_jti: String,
    /// When that access token expires (how long its denylist entry must live).
    pub access_expires_at: i64,
}

/// Where an agent stands; only an active agent's tokens verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    /// Can obtain and use tokens.
    Active,
    /// Temporarily blocked; can be resumed.
    Paused,
    /// Blocked for good.
    Revoked,
}

impl AgentStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Revoked => "revoked",
        }
    }
    /// Parses a stored or wire name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "active" => Some(Self::Active),
            "paused" => Some(Self::Paused),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// An AI agent identity (only the public half of its key is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// `agt_…`, also the RFC 9421 `keyid`.
    pub id: String,
    /// The user who manages it.
    pub workspace_id: String,
    /// Human label.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Ed25519 public key (32 bytes).
    pub public_key: Vec<u8>,
    /// Active, paused or revoked.
    pub status: AgentStatus,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds of the last change.
    pub updated_at: i64,
}

/// An issued agent token's record (the token itself is not stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentToken {
    /// The token's `jti`.
    pub jti: String,
    /// The agent it was issued to.
    pub agent_id: String,
    /// UNIX seconds.
    pub issued_at: i64,
    /// UNIX seconds.
    pub expires_at: i64,
}

/// A domain an account claims, proven by a DNS TXT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// `dom_…`.
    pub id: String,
    /// The claiming account.
    pub workspace_id: String,
    /// Lower-case hostname.
    pub domain: String,
    /// The value the TXT record must carry (`sigil-verification=…`).
    pub challenge: String,
    /// UNIX seconds.
    pub created_at: i64,
    /// When the TXT record was found (UNIX seconds); `None` while pending.
    pub verified_at: Option<i64>,
}

/// An audit event on its way into the chain (`seq` and hashes are assigned
/// when it is appended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    /// `aud_…`.
    pub id: String,
    /// UNIX seconds.
    pub ts: i64,
    /// Event type, e.g. `key.created`.
    pub kind: String,
    /// The user whose log shows the entry.
    pub account: Option<String>,
    /// Who acted: a user, key, agent or app id (or an email for a failed sign-in).
    pub actor: Option<String>,
    /// What was acted on.
    pub subject: Option<String>,
    /// Event details as JSON text (never secrets).
    pub data: String,
}

/// A stored audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// `aud_…`.
    pub id: String,
    /// UNIX seconds.
    pub ts: i64,
    /// Event type.
    pub kind: String,
    /// The user whose log shows the entry.
    pub account: Option<String>,
    /// Who acted.
    pub actor: Option<String>,
    /// What was acted on.
    pub subject: Option<String>,
    /// Event details as stored JSON text.
    pub data: String,
    /// The previous entry's hash (64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash (see [`crate::core::audit::entry_hash`]).
    pub hash: String,
}

/// Which audit entries a query returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this account's entries (`None`: every entry, for verification).
    pub account: Option<String>,
    /// Only this type.
    pub kind: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only entries at or after (UNIX seconds).
    pub since: Option<i64>,
    /// Only entries at or before (UNIX seconds).
    pub until: Option<i64>,
}

/// A user as one app knows them, resolved from the app's pairwise subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSubject {
    /// The global user id (never shown to the app).
    pub user_id: String,
    /// Sign-in address, lowercase (never shown to the app).
    pub email: String,
    /// The user's alias, if they set one.
    pub alias: Option<String>,
    /// Scopes the user consented to for this app.
    pub consented: Vec<String>,
}

/// A message an app sent to one of its users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppMessage {
    /// `msg_…`.
    pub id: String,
    /// The sending app.
    pub app_id: String,
    /// The recipient.
    pub user_id: String,
    /// Optional subject line.
    pub subject: Option<String>,
    /// The text.
    pub body: String,
    /// `delivered`.
    pub status: String,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub delivered_at: Option<i64>,
}

/// The first response to an idempotent request, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResponse {
    /// SHA-256 of the request body.
    pub request_hash: Vec<u8>,
    /// HTTP status.
    pub status: u16,
    /// The response body, byte for byte.
    pub response: String,
}

/// A capability token (`cap_…`; only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapToken {
    /// `cap_id_…`.
    pub id: String,
    /// The app it speaks for.
    pub app_id: String,
    /// The app's owner, who created it.
    pub workspace_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Origins it is bound to (empty: any).
    pub origins: Vec<String>,
    /// Lowercase emails it is bound to (empty: any).
    pub emails: Vec<String>,
    /// UNIX seconds; `None` never expires.
    pub expires_at: Option<i64>,
    /// UNIX seconds.
    pub created_at: i64,
}

/// Everything the handlers persist.
#[async_trait::async_trait]
pub trait Store:
    webhooks::WebhookStore
    + workspaces::WorkspaceStore
    + trust::TrustStore
    + plans::PlanStore
    + federation::FederationStore
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
{
    /// A named server secret, created with `generate` on first use.
    async fn secret(&self, name: &str, generate: Vec<u8>) -> StoreResult<Vec<u8>>;

    /// Adds a user.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    /// Finds a user by lowercase email.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Finds a user by id.
    async fn user(&self, id: &str) -> StoreResult<Option<User>>;
    /// Sets or clears (`None`) a user's alias; false when there is no such user.
    async fn set_user_alias(&self, id: &str, alias: Option<&str>) -> StoreResult<bool>;

    /// Registers an app.
    async fn create_app(&self, app: &App) -> StoreResult<()>;
    /// Finds an app by client id.
    async fn app(&self, id: &str) -> StoreResult<Option<App>>;
    /// The apps a user owns, newest first.
    async fn apps_of(&self, workspace_id: &str) -> StoreResult<Vec<App>>;
    /// Replaces an app's mutable fields.
    async fn update_app(&self, app: &App) -> StoreResult<()>;
    /// Deletes an app; false when it was not the owner's.
    async fn delete_app(&self, id: &str, workspace_id: &str) -> StoreResult<bool>;
    /// Whether any app registered `origin` for CORS.
    async fn origin_allowed(&self, origin: &str) -> StoreResult<bool>;

    /// Stores a new key with the hash of its secret.
    async fn create_api_key(&self, key: &ApiKey, secret_hash: &[u8]) -> StoreResult<()>;
    /// Finds a key by the hash of its secret.
    async fn api_key_by_hash(&self, secret_hash: &[u8]) -> StoreResult<Option<ApiKey>>;
    /// Finds one of the owner's keys.
    async fn api_key(&self, id: &str, workspace_id: &str) -> StoreResult<Option<ApiKey>>;
    /// The owner's keys, newest first.
    async fn api_keys_of(&self, workspace_id: &str) -> StoreResult<Vec<ApiKey>>;
    /// Renames; false when not found.
    async fn rename_api_key(&self, id: &str, workspace_id: &str, name: &str) -> StoreResult<bool>;
    /// Sets (or, with `None`, lifts) a key's IP allowlist; false if not found.
    async fn set_api_key_allowed_ips(
        &self,
        id: &str,
        workspace_id: &str,
        allowed: Option<&[ipnet::IpNet]>,
    ) -> StoreResult<bool>;
    /// Revokes; false when not found.
    async fn revoke_api_key(&self, id: &str, workspace_id: &str, at: i64) -> StoreResult<bool>;
    /// Deletes; false when not found.
    async fn delete_api_key(&self, id: &str, workspace_id: &str) -> StoreResult<bool>;

    /// Stores a refresh token by hash.
    async fn insert_refresh_token(&self, hash: &[u8], token: &RefreshToken) -> StoreResult<()>;
    /// Atomically spends a refresh token.
    async fn use_refresh_token(&self, hash: &[u8], at: i64) -> StoreResult<RefreshUse>;
    /// Revokes every refresh token of a family.
    async fn revoke_family(&self, family_id: &str, at: i64) -> StoreResult<()>;
    /// Whether a family was revoked.
    async fn is_family_revoked(&self, family_id: &str) -> StoreResult<bool>;
    /// The family of a refresh token, spent or not.
    async fn refresh_family(&self, hash: &[u8]) -> StoreResult<Option<RefreshToken>>;

    /// Denylists an access token id until it would have expired anyway.
    async fn revoke_jti(&self, jti: &str, expires_at: i64) -> StoreResult<()>;
    /// The denylisted ids still unexpired at `now`.
    async fn revoked_jtis(&self, now: i64) -> StoreResult<Vec<String>>;

    /// All signing keys, newest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>>;
    /// Adds a signing key and retires the previous current one, unless a
    /// current key was created at or after `stale_before` (another node
    /// rotated first); true when it rotated. Publishes
    /// [`changes::Change::SigningKeys`].
    async fn rotate_signing_key(&self, key: &SigningKeyRow, stale_before: i64)
        -> StoreResult<bool>;

    /// Changes this node and, on a shared database, the other nodes made
    /// (see [`changes`]).
    fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<changes::Change>;

    /// Stores an emailed sign-in code by hash; the address's earlier unused
    /// codes stop working, so each code request buys a fresh attempt budget.
    async fn insert_signin_code(
        &self,
        hash: &[u8],
        email: &str,
        at: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Redeems `email`'s live code when `hash` matches it and fewer than
    /// `max_attempts` wrong codes were tried; otherwise counts a wrong try.
    async fn redeem_signin_code(
        &self,
        email: &str,
        hash: &[u8],
        at: i64,
        max_attempts: i64,
    ) -> StoreResult<bool>;

    /// Stores a browser session by the hash of its cookie value.
    async fn insert_browser_session(
        &self,
        hash: &[u8],
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The user of an unexpired browser session.
    async fn browser_session_user(&self, hash: &[u8], at: i64) -> StoreResult<Option<String>>;

    /// Stores an authorization code by hash.
    async fn insert_authorization_code(
        &self,
        hash: &[u8],
        code: &AuthorizationCode,
    ) -> StoreResult<()>;
    /// Finds an authorization code, used or not.
    async fn authorization_code(&self, hash: &[u8]) -> StoreResult<Option<AuthorizationCode>>;
    /// Atomically marks a code used and records what it issued; false when
    /// another exchange got there first.
    async fn claim_authorization_code(
        &self,
        hash: &[u8],
        at: i64,
        issued: &CodeIssue,
    ) -> StoreResult<bool>;
    /// Adds `scopes` to what the user granted the app.
    async fn record_consent(
        &self,
        user_id: &str,
        app_id: &str,
        scopes: &[String],
        at: i64,
    ) -> StoreResult<()>;
    /// Adds an agent.
    async fn create_agent(&self, agent: &Agent) -> StoreResult<()>;
    /// Finds an agent by id, whoever owns it.
    async fn agent(&self, id: &str) -> StoreResult<Option<Agent>>;
    /// The owner's agents, newest first, optionally of one status.
    async fn agents_of(
        &self,
        workspace_id: &str,
        status: Option<AgentStatus>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Agent>>;
    /// Sets the status of one of the owner's agents unless it is revoked;
    /// false when not found or already revoked.
    async fn set_agent_status(
        &self,
        id: &str,
        workspace_id: &str,
        status: AgentStatus,
        at: i64,
    ) -> StoreResult<bool>;
    /// Ids of every agent that is not active (paused or revoked).
    async fn blocked_agents(&self) -> StoreResult<Vec<String>>;
    /// Records issued agent tokens, in one write transaction.
    async fn record_agent_tokens(&self, tokens: &[AgentToken]) -> StoreResult<()>;
    /// Finds an issued agent token by `jti`.
    async fn agent_token(&self, jti: &str) -> StoreResult<Option<AgentToken>>;
    /// Agents of `workspace_id` that are not revoked (plan quota).
    async fn count_live_agents(&self, workspace_id: &str) -> StoreResult<u64>;
    /// Agent tokens issued to agents of `workspace_id` at or after `since`
    /// (plan quota; an indexed count).
    async fn count_agent_tokens_since(&self, workspace_id: &str, since: i64) -> StoreResult<u64>;

    /// Stores a claimed domain; `Conflict` when the account already claims it.
    async fn create_domain(&self, domain: &Domain) -> StoreResult<()>;
    /// One domain of `workspace_id`.
    async fn domain(&self, id: &str, workspace_id: &str) -> StoreResult<Option<Domain>>;
    /// The domains of `workspace_id`, oldest first.
    async fn domains_of(&self, workspace_id: &str) -> StoreResult<Vec<Domain>>;
    /// Marks a domain verified at `at`; false when it is gone.
    async fn set_domain_verified(&self, id: &str, workspace_id: &str, at: i64)
        -> StoreResult<bool>;
    /// Deletes a domain; false when it is not there.
    async fn delete_domain(&self, id: &str, workspace_id: &str) -> StoreResult<bool>;

    /// Adds a policy.
    async fn create_policy(&self, policy: &Policy) -> StoreResult<()>;
    /// Finds one of the owner's policies.
    async fn policy(&self, id: &str, workspace_id: &str) -> StoreResult<Option<Policy>>;
    /// The owner's policies, highest priority first, then newest; only the
    /// active ones when `active_only`.
    async fn policies_of(&self, workspace_id: &str, active_only: bool) -> StoreResult<Vec<Policy>>;
    /// Replaces a policy's mutable fields; false when not the owner's.
    async fn update_policy(&self, policy: &Policy) -> StoreResult<bool>;
    /// Deletes; false when not the owner's.
    async fn delete_policy(&self, id: &str, workspace_id: &str) -> StoreResult<bool>;
    /// Adds an approval.
    async fn create_approval(&self, approval: &Approval) -> StoreResult<()>;
    /// Finds an approval by id, whoever owns it.
    async fn approval(&self, id: &str) -> StoreResult<Option<Approval>>;
    /// The owner's approvals, newest first, optionally of one status.
    async fn approvals_of(
        &self,
        workspace_id: &str,
        status: Option<ApprovalStatus>,
    ) -> StoreResult<Vec<Approval>>;
    /// Moves one of the owner's approvals from `from` to `to` atomically;
    /// false when it was not in `from` (or not the owner's).
    async fn move_approval(
        &self,
        id: &str,
        workspace_id: &str,
        from: ApprovalStatus,
        to: ApprovalStatus,
        at: i64,
    ) -> StoreResult<bool>;
    /// Records a signed-request nonce of `agent_id` until `expires_at`; false
    /// when it was already seen (a replay). Forgets expired nonces.
    async fn use_nonce(
        &self,
        agent_id: &str,
        nonce: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool>;

    /// Remembers that `sub` is the pairwise subject of `user_id` at `app_id`.
    async fn remember_subject(
        &self,
        app_id: &str,
        sub: &str,
        user_id: &str,
        at: i64,
    ) -> StoreResult<()>;
    /// The user behind `sub` at `app_id`, if that app was ever issued it.
    async fn app_subject(&self, app_id: &str, sub: &str) -> StoreResult<Option<AppSubject>>;
    /// Stores `message` (delivered) together with `first` under
    /// `(message.app_id, key)` in one transaction. When that key was already
    /// used nothing is written and its record is returned instead.
    async fn send_message(
        &self,
        message: &AppMessage,
        key: &str,
        first: &IdempotentResponse,
    ) -> StoreResult<Option<IdempotentResponse>>;
    /// Adds a capability token under the SHA-256 of its secret.
    async fn create_cap_token(&self, token: &CapToken, hash: &[u8]) -> StoreResult<()>;
    /// Finds a capability token by the SHA-256 of its secret.
    async fn cap_token_by_hash(&self, hash: &[u8]) -> StoreResult<Option<CapToken>>;
    /// The first response stored under `(app_id, key)`, if any.
    async fn idempotent_response(
        &self,
        app_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotentResponse>>;

    /// Appends `events` to the audit chain in one write transaction, reading
    /// the chain head inside it; returns the entries as stored.
    async fn append_audit(&self, events: &[NewAuditEvent]) -> StoreResult<Vec<AuditEntry>>;
    /// Up to `limit` entries matching `filter` with `seq > after`, by `seq`.
    async fn audit_entries(
        &self,
        filter: &AuditFilter,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}
