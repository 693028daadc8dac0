//! Provider-login persistence: logins in flight to an upstream OpenID
//! Connect provider, the (issuer, sub) links between upstream accounts and
//! users, and the single-use codes apps exchange for a session. Kept apart
//! from [`crate::store::Store`]'s core tables, as [`super::webhooks`] is.

use crate::store::StoreResult;

/// A login sent to an upstream provider, awaiting its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// The configured provider's name.
    pub provider: String,
    /// The app that asked.
    pub app_id: String,
    /// Where the app wants its code (registered for the app).
    pub redirect_uri: String,
    /// The app's own `state`, returned to it as given.
    pub app_state: Option<String>,
    /// Scopes the app's session will hold.
    pub scope: String,
    /// The `nonce` the upstream's `id_token` must carry.
    pub nonce: String,
    /// The PKCE verifier toward the upstream.
    pub code_verifier: String,
    /// UNIX seconds.
    pub expires_at: i64,
}

/// A code issued to an app after a provider login (looked up by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCode {
    /// The app it was issued to.
    pub app_id: String,
    /// The signed-in user.
    pub user_id: String,
    /// The provider the user came through.
    pub provider: String,
    /// Scopes of the session, space-separated.
    pub scope: String,
    /// Whether this login created the user.
    pub new_user: bool,
    /// The refresh-token family the exchange starts.
    pub family_id: String,
    /// UNIX seconds.
    pub expires_at: i64,
}

/// What presenting a provider code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// First use: the code is now spent.
    Fresh(ProviderCode),
    /// Already spent: a replay; what it issued is to be revoked.
    Replayed {
        /// The family its first exchange started.
        family_id: String,
    },
    /// Never issued.
    Unknown,
}

/// Storage for provider login.
#[async_trait::async_trait]
pub trait FederationStore {
    /// Stores a login in flight under the hash of its upstream `state`.
    async fn insert_pending_login(
        &self,
        state_hash: &[u8],
        login: &PendingLogin,
    ) -> StoreResult<()>;
    /// Removes and returns the login in flight for `state_hash`, if any
    /// (expired or not: the caller checks).
    async fn take_pending_login(&self, state_hash: &[u8]) -> StoreResult<Option<PendingLogin>>;
    /// The user linked to the upstream account `(issuer, subject)`.
    async fn linked_user(&self, issuer: &str, subject: &str) -> StoreResult<Option<String>>;
    /// Links `(issuer, subject)` to `user_id`.
    async fn link_identity(
        &self,
        issuer: &str,
        subject: &str,
        user_id: &str,
        at: i64,
    ) -> StoreResult<()>;
    /// Stores a code under its hash.
    async fn insert_provider_code(&self, hash: &[u8], code: &ProviderCode) -> StoreResult<()>;
    /// Spends the code with `hash` at `at`.
    async fn use_provider_code(&self, hash: &[u8], at: i64) -> StoreResult<CodeUse>;
}
