//! SQL storage: one set of queries for SQLite and PostgreSQL.
//!
//! Every statement is written once, in the SQL both engines accept
//! (`$1` placeholders, `ON CONFLICT`, `IS NOT DISTINCT FROM`), and runs
//! through sqlx's `Any` driver. What really differs lives in
//! [`dialect`]: the migrations directory, how a write transaction
//! serializes, and the few statements one engine spells differently.
//!
//! SQLite durability is set by `--sqlite-synchronous`. `normal` (the
//! default) makes a commit durable against a process crash, the guarantee
//! SYSTEM.md asks for (`kill -9`): the WAL frame is written before the commit
//! returns, and only an OS crash or power loss can lose the last commits.
//! `full` also fsyncs every commit, for power-loss safety, at a large cost to
//! write throughput (every token issuance appends to the audit chain).

use std::sync::Arc;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use super::cache::CoherentCache;
use super::changes::{Change, ChangeFeed};
use super::{
    Agent, AgentStatus, AgentToken, ApiKey, App, AppMessage, AppSubject, AuditEntry, AuditFilter,
    AuthorizationCode, CapToken, CodeIssue, Domain, IdempotentResponse, NewAuditEvent,
    RefreshToken, RefreshUse, SigningKeyRow, Store, StoreError, StoreResult, User,
};
use dialect::Dialect;

pub mod dialect;
mod federation;
mod plans;
mod trust;
mod webhooks;
mod workspaces;

/// How many entries each lookup cache holds.
const LOOKUP_CACHE: usize = 4096;

/// `(account, app context, event type)` of an emitted event.
type SubscriptionKey = (String, Option<String>, String);

/// A [`Store`] on SQLite or PostgreSQL.
///
/// App, API-key and agent lookups and each account's active policies (every
/// client authentication, API-key request and agent-token issuance) are
/// cached in memory. Every write clears the caches it affects through
/// [`ChangeFeed::publish`], which on PostgreSQL also tells every other node
/// sharing the database (`NOTIFY`), so a key revoked on one node is refused
/// on all of them.
#[derive(Clone)]
pub struct SqlStore {
    /// Readers (SQLite in WAL mode: they never wait for the writer).
    pool: AnyPool,
    /// Writers. On SQLite one connection, so writers queue for it in the
    /// pool (async, first come first served) instead of in SQLite's busy
    /// handler, which sleeps and retries and makes contended writes take
    /// seconds. On PostgreSQL the same pool as the readers.
    writer: AnyPool,
    dialect: Dialect,
    /// For an in-memory SQLite database, a connection nobody uses, held so
    /// the database lives as long as the store: it lasts only while one
    /// connection is open, and the pool closes a connection whose query was
    /// cancelled mid-flight (a client that hung up).
    _keep_alive: Option<Arc<tokio::sync::Mutex<sqlx::AnyConnection>>>,
    caches: Arc<Caches>,
    changes: ChangeFeed,
}

/// The lookup caches, cleared by [`Change`]s from this node or another.
pub(crate) struct Caches {
    apps: CoherentCache<String, Option<App>>,
    keys: CoherentCache<Vec<u8>, Option<ApiKey>>,
    agents: CoherentCache<String, Option<Agent>>,
    active_policies: CoherentCache<String, Vec<super::Policy>>,
    /// Whether `(account, app context, event type)` has a subscribed,
    /// enabled webhook endpoint: most events of most accounts have none, and
    /// then emitting needs no write transaction.
    subscribed: CoherentCache<SubscriptionKey, bool>,
    /// Users' moderation states (read on every token issuance).
    moderation: CoherentCache<String, Option<super::trust::Moderation>>,
    /// Holders' plans (read on every agent creation and token issuance).
    plans: CoherentCache<super::plans::Holder, Option<super::plans::Plan>>,
}

impl Caches {
    fn new() -> Self {
        Self {
            apps: CoherentCache::new(LOOKUP_CACHE),
            keys: CoherentCache::new(LOOKUP_CACHE),
            agents: CoherentCache::new(LOOKUP_CACHE),
            active_policies: CoherentCache::new(LOOKUP_CACHE),
            subscribed: CoherentCache::new(LOOKUP_CACHE),
            moderation: CoherentCache::new(LOOKUP_CACHE),
            plans: CoherentCache::new(LOOKUP_CACHE),
        }
    }

    /// Forgets what `change` may have made stale.
    pub(crate) fn apply(&self, change: Change) {
        match change {
            Change::Apps => {
                self.apps.invalidate();
                self.keys.invalidate();
                self.subscribed.invalidate();
            }
            Change::Keys => self.keys.invalidate(),
            Change::Agents => self.agents.invalidate(),
            Change::Policies => self.active_policies.invalidate(),
            Change::Webhooks => self.subscribed.invalidate(),
            Change::Moderation => self.moderation.invalidate(),
            Change::Plans => self.plans.invalidate(),
            Change::Revocations | Change::SigningKeys => {}
            Change::All => {
                for c in Change::CACHED {
                    self.apply(c);
                }
            }
        }
    }
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &self.dialect)
            .field("cached_apps", &self.caches.apps.len())
            .field("cached_keys", &self.caches.keys.len())
            .field("cached_agents", &self.caches.agents.len())
            .field("cached_policy_sets", &self.caches.active_policies.len())
            .finish()
    }
}

impl SqlStore {
    /// Opens and migrates the database at `url`: `sqlite://path.db`,
    /// `sqlite::memory:` or `postgres://…`.
    pub async fn open(url: &str, sqlite_synchronous_full: bool) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of(url)?;
        let url = dialect.connect_url(url);
        let pragmas = dialect.session_setup(&url, sqlite_synchronous_full);
        let options = move || {
            let pragmas = pragmas.clone();
            AnyPoolOptions::new().after_connect(move |conn, _| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    if !pragmas.is_empty() {
                        sqlx::Executor::execute(conn, pragmas.as_str()).await?;
                    }
                    Ok(())
                })
            })
        };
        let (pool, writer, keep_alive) = match dialect {
            Dialect::Sqlite if dialect::is_memory(&url) => {
                // One pool; a connection held aside keeps the database.
                let pool = options()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect(&url)
                    .await?;
                let keep = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
                (
                    pool.clone(),
                    pool,
                    Some(Arc::new(tokio::sync::Mutex::new(keep))),
                )
            }
            Dialect::Sqlite => {
                let writer = options().max_connections(1).connect(&url).await?;
                let pool = options().max_connections(8).connect(&url).await?;
                (pool, writer, None)
            }
            Dialect::Postgres => {
                let pool = options()
                    .max_connections(16)
                    .acquire_timeout(std::time::Duration::from_secs(5))
                    .connect(&url)
                    .await?;
                (pool.clone(), pool, None)
            }
        };
        dialect.migrate(&writer).await?;
        let caches = Arc::new(Caches::new());
        let changes = ChangeFeed::start(dialect, &url, writer.clone(), caches.clone()).await?;
        Ok(Self {
            pool,
            writer,
            dialect,
            _keep_alive: keep_alive,
            caches,
            changes,
        })
    }

    /// A write transaction (see [`Dialect::begin_write`]).
    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self.writer.begin_with(self.dialect.begin_write()).await?)
    }

    /// A [`Self::write_tx`] that also holds `lock`, for a transaction that
    /// reads what it then writes (the audit chain's head, a workspace's
    /// owners, the current signing key).
    async fn serialized_tx(
        &self,
        lock: dialect::Lock,
    ) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.write_tx().await?;
        if let Some(statement) = self.dialect.lock(lock) {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Clears the caches `change` touches here and on every other node.
    async fn publish(&self, change: Change) {
        self.changes.publish(change).await;
    }

    /// The row `sql` finds for text parameters `params` ($1, $2, …), read
    /// with `map`: the lookups by a unique key (id, email, id and workspace).
    async fn row<T>(
        &self,
        sql: &str,
        params: &[&str],
        map: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        Ok(self.rows(sql, params, map).await?.into_iter().next())
    }

    /// Every row `sql` finds for text parameters `params`, read with `map`.
    async fn rows<T>(
        &self,
        sql: &str,
        params: &[&str],
        map: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let query = params.iter().fold(sqlx::query(sql), |q, p| q.bind(*p));
        query.fetch_all(&self.pool).await?.iter().map(map).collect()
    }
}

/// Reads a 0/1 flag: SQLite stores an integer, PostgreSQL a boolean.
fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// The current UNIX time, for rows stamped by the database itself.
fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn json_list(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json(list: &[String]) -> String {
    serde_json::Value::from(list).to_string()
}

/// An IP allowlist as stored: a JSON array of CIDRs.
fn networks_json(list: &[ipnet::IpNet]) -> String {
    serde_json::Value::from_iter(list.iter().map(|n| n.to_string())).to_string()
}

fn networks(json: &str) -> StoreResult<Vec<ipnet::IpNet>> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("allowed_ips: {e}"));
    let list: Vec<String> = serde_json::from_str(json).map_err(|e| corrupt(&e))?;
    list.iter()
        .map(|n| n.parse().map_err(|e| corrupt(&e)))
        .collect()
}

fn scopes(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

pub(super) fn conflict(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Database(e),
    }
}

const IDEMPOTENT_SELECT: &str =
    "SELECT request_hash, status, response FROM idempotency_keys WHERE app_id = $1 AND key = $2";

fn idempotent_from(row: &AnyRow) -> StoreResult<IdempotentResponse> {
    let status: i64 = row.try_get("status")?;
    Ok(IdempotentResponse {
        request_hash: row.try_get("request_hash")?,
        status: u16::try_from(status)
            .map_err(|_| StoreError::Corrupt("idempotency status".into()))?,
        response: row.try_get("response")?,
    })
}

fn user_from(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        alias: row.try_get("alias")?,
        created_at: row.try_get("created_at")?,
    })
}

fn app_from(row: &AnyRow) -> StoreResult<App> {
    Ok(App {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        redirect_uris: json_list(row.try_get("redirect_uris")?)?,
        allowed_origins: json_list(row.try_get("allowed_origins")?)?,
        is_public: flag(row, "is_public")?,
        secret_hash: row.try_get("secret_hash")?,
        scopes: scopes(row.try_get("scopes")?),
        created_at: row.try_get("created_at")?,
    })
}

fn agent_from(row: &AnyRow) -> StoreResult<Agent> {
    let status: String = row.try_get("status")?;
    Ok(Agent {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        public_key: row.try_get("public_key")?,
        status: AgentStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("agent status {status:?}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn domain_from(row: &AnyRow) -> StoreResult<Domain> {
    Ok(Domain {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        domain: row.try_get("domain")?,
        challenge: row.try_get("challenge")?,
        created_at: row.try_get("created_at")?,
        verified_at: row.try_get("verified_at")?,
    })
}

const DOMAIN_COLUMNS: &str = "id, workspace_id, domain, challenge, created_at, verified_at";

const AGENT_COLUMNS: &str =
    "id, workspace_id, name, description, public_key, status, created_at, updated_at";

fn key_from(row: &AnyRow) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        owner_id: row.try_get("owner_id")?,
        app_id: row.try_get("app_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        last4: row.try_get("last4")?,
        scopes: scopes(row.try_get("scopes")?),
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        created_at: row.try_get("created_at")?,
        allowed_ips: row
            .try_get::<Option<String>, _>("allowed_ips")?
            .map(|json| networks(&json))
            .transpose()?,
    })
}

fn refresh_from(row: &AnyRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        family_id: row.try_get("family_id")?,
        app_id: row.try_get("app_id")?,
        user_id: row.try_get("user_id")?,
        scope: row.try_get("scope")?,
        session_id: row.try_get("session_id")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    })
}

fn code_from(row: &AnyRow) -> StoreResult<AuthorizationCode> {
    let family_id: Option<String> = row.try_get("family_id")?;
    let access_jti: Option<String> = row.try_get("access_jti")?;
    let access_expires_at: Option<i64> = row.try_get("access_expires_at")?;
    let issued = match (family_id, access_jti, access_expires_at) {
        (Some(family_id), Some(access_jti), Some(access_expires_at)) => Some(CodeIssue {
            family_id,
            access_jti,
            access_expires_at,
        }),
        _ => None,
    };
    Ok(AuthorizationCode {
        app_id: row.try_get("app_id")?,
        user_id: row.try_get("user_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: row.try_get("code_challenge")?,
        scope: row.try_get("scope")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        issued,
    })
}

fn audit_from(row: &AnyRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        ts: row.try_get("ts")?,
        kind: row.try_get("type")?,
        account: row.try_get("account")?,
        actor: row.try_get("actor")?,
        subject: row.try_get("subject")?,
        data: row.try_get("data")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const AUDIT_COLUMNS: &str = "seq, id, ts, type, account, actor, subject, data, prev_hash, hash";

const POLICY_COLUMNS: &str =
    "id, workspace_id, name, description, priority, rules, is_active, created_at, updated_at";

fn rules_json(rules: &[crate::core::policy::Rule]) -> StoreResult<String> {
    serde_json::to_string(rules).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn policy_from(row: &AnyRow) -> StoreResult<super::Policy> {
    let rules: String = row.try_get("rules")?;
    Ok(super::Policy {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        priority: row.try_get("priority")?,
        rules: serde_json::from_str(&rules).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        is_active: flag(row, "is_active")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const APPROVAL_COLUMNS: &str =
    "id, workspace_id, agent_id, policy_id, scope, ttl, target_service, \
                                intent, status, created_at, decided_at, collected_at";

fn approval_from(row: &AnyRow) -> StoreResult<super::Approval> {
    let status: String = row.try_get("status")?;
    Ok(super::Approval {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        agent_id: row.try_get("agent_id")?,
        policy_id: row.try_get("policy_id")?,
        scope: scopes(row.try_get("scope")?),
        ttl: row.try_get("ttl")?,
        target_service: row.try_get("target_service")?,
        intent: row.try_get("intent")?,
        status: super::ApprovalStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("approval status {status:?}")))?,
        created_at: row.try_get("created_at")?,
        decided_at: row.try_get("decided_at")?,
        collected_at: row.try_get("collected_at")?,
    })
}

/// Rows per multi-row INSERT: at most 10 parameters each, far below
/// SQLite's and PostgreSQL's limits.
const ROWS_PER_INSERT: usize = 256;

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values each.
fn values(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let cells: Vec<String> = (1..=columns)
            .map(|c| format!("${}", r * columns + c))
            .collect();
        format!("({})", cells.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// The owner of the workspace a row is made in (`owner_id` on owned rows).
/// Statements using it bind the workspace id second.
pub(super) const WORKSPACE_OWNER: &str = "(SELECT owner_id FROM workspaces WHERE id = $2)";

const KEY_COLUMNS: &str =
    "id, workspace_id, owner_id, app_id, name, prefix, last4, scopes, expires_at, \
                           revoked_at, last_used_at, created_at, allowed_ips";

#[async_trait::async_trait]
impl Store for SqlStore {
    fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    async fn secret(&self, name: &str, generate: Vec<u8>) -> StoreResult<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(generate)
        .execute(&self.writer)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO users (id, email, alias, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.alias)
            .bind(user.created_at)
            .execute(&mut *tx)
            .await
            .map_err(conflict)?;
        workspaces::insert_workspace(
            &mut tx,
            &crate::store::workspaces::Workspace::personal(user),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.row("SELECT * FROM users WHERE email = $1", &[email], user_from)
            .await
    }

    async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        self.row("SELECT * FROM users WHERE id = $1", &[id], user_from)
            .await
    }

    async fn set_user_alias(&self, id: &str, alias: Option<&str>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET alias = $1 WHERE id = $2")
            .bind(alias)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_app(&self, app: &App) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO apps (id, workspace_id, name, redirect_uris, allowed_origins, is_public, \
             secret_hash, scopes, created_at, owner_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {WORKSPACE_OWNER})"
        ))
        .bind(&app.id)
        .bind(&app.workspace_id)
        .bind(&app.name)
        .bind(to_json(&app.redirect_uris))
        .bind(to_json(&app.allowed_origins))
        .bind(app.is_public)
        .bind(&app.secret_hash)
        .bind(app.scopes.join(" "))
        .bind(app.created_at)
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        self.publish(Change::Apps).await;
        Ok(())
    }

    async fn app(&self, id: &str) -> StoreResult<Option<App>> {
        self.caches
            .apps
            .get_or_load(id, || async {
                self.row("SELECT * FROM apps WHERE id = $1", &[id], app_from)
                    .await
            })
            .await
    }

    async fn apps_of(&self, workspace_id: &str) -> StoreResult<Vec<App>> {
        self.rows(
            "SELECT * FROM apps WHERE workspace_id = $1 ORDER BY created_at DESC, id",
            &[workspace_id],
            app_from,
        )
        .await
    }

    async fn update_app(&self, app: &App) -> StoreResult<()> {
        sqlx::query(
            "UPDATE apps SET name = $1, redirect_uris = $2, allowed_origins = $3, secret_hash = $4, \
             scopes = $5 WHERE id = $6",
        )
        .bind(&app.name)
        .bind(to_json(&app.redirect_uris))
        .bind(to_json(&app.allowed_origins))
        .bind(&app.secret_hash)
        .bind(app.scopes.join(" "))
        .bind(&app.id)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Apps).await;
        Ok(())
    }

    async fn delete_app(&self, id: &str, workspace_id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE api_keys SET app_id = NULL WHERE app_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM apps WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // Its keys lost their app, its webhook endpoints went with it.
        self.publish(Change::Apps).await;
        Ok(done.rows_affected() == 1)
    }

    async fn origin_allowed(&self, origin: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(self.dialect.origin_allowed())
            .bind(origin)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn create_api_key(&self, key: &ApiKey, secret_hash: &[u8]) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, workspace_id, owner_id, app_id, name, prefix, last4, \
             secret_hash, scopes, expires_at, created_at, allowed_ips) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&key.id)
        .bind(&key.workspace_id)
        .bind(&key.owner_id)
        .bind(&key.app_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.last4)
        .bind(secret_hash)
        .bind(key.scopes.join(" "))
        .bind(key.expires_at)
        .bind(key.created_at)
        .bind(key.allowed_ips.as_deref().map(networks_json))
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        self.publish(Change::Keys).await;
        Ok(())
    }

    async fn api_key_by_hash(&self, secret_hash: &[u8]) -> StoreResult<Option<ApiKey>> {
        self.caches
            .keys
            .get_or_load(secret_hash, || async {
                sqlx::query(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = $1"
                ))
                .bind(secret_hash)
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map(key_from)
                .transpose()
            })
            .await
    }

    async fn api_key(&self, id: &str, workspace_id: &str) -> StoreResult<Option<ApiKey>> {
        self.row(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND workspace_id = $2"),
            &[id, workspace_id],
            key_from,
        )
        .await
    }

    async fn api_keys_of(&self, workspace_id: &str) -> StoreResult<Vec<ApiKey>> {
        self.rows(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE workspace_id = $1 ORDER BY created_at DESC, id"
        ), &[workspace_id], key_from).await
    }

    async fn rename_api_key(&self, id: &str, workspace_id: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE api_keys SET name = $1 WHERE id = $2 AND workspace_id = $3")
            .bind(name)
            .bind(id)
            .bind(workspace_id)
            .execute(&self.writer)
            .await?;
        self.publish(Change::Keys).await;
        Ok(done.rows_affected() == 1)
    }

    async fn set_api_key_allowed_ips(
        &self,
        id: &str,
        workspace_id: &str,
        allowed: Option<&[ipnet::IpNet]>,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET allowed_ips = $1 WHERE id = $2 AND workspace_id = $3")
                .bind(allowed.map(networks_json))
                .bind(id)
                .bind(workspace_id)
                .execute(&self.writer)
                .await?;
        self.publish(Change::Keys).await;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_api_key(&self, id: &str, workspace_id: &str, at: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND workspace_id = $3",
        )
        .bind(at)
        .bind(id)
        .bind(workspace_id)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Keys).await;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_api_key(&self, id: &str, workspace_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&self.writer)
            .await?;
        self.publish(Change::Keys).await;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_refresh_token(&self, hash: &[u8], token: &RefreshToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, app_id, user_id, scope, session_id, \
             expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(hash)
        .bind(&token.family_id)
        .bind(&token.app_id)
        .bind(&token.user_id)
        .bind(&token.scope)
        .bind(&token.session_id)
        .bind(token.expires_at)
        .bind(unix_now())
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    async fn use_refresh_token(&self, hash: &[u8], at: i64) -> StoreResult<RefreshUse> {
        // One statement decides the winner under concurrent refresh, and a
        // revoked family can never be spent, whatever the interleaving.
        let spent = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND family_id NOT IN (SELECT family_id FROM revoked_families) \
             RETURNING family_id, app_id, user_id, scope, session_id, expires_at, used_at",
        )
        .bind(at)
        .bind(hash)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(row) = spent {
            return Ok(RefreshUse::Fresh(refresh_from(&row)?));
        }
        let found =
            sqlx::query("SELECT family_id, used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match found {
            Some(row) => match row.try_get::<Option<i64>, _>("used_at")? {
                Some(_) => RefreshUse::Reused {
                    family_id: row.try_get("family_id")?,
                },
                None => RefreshUse::Revoked,
            },
            None => RefreshUse::Unknown,
        })
    }

    async fn revoke_family(&self, family_id: &str, at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO revoked_families (family_id, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(family_id)
            .bind(at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn is_family_revoked(&self, family_id: &str) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM revoked_families WHERE family_id = $1")
                .bind(family_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    async fn refresh_family(&self, hash: &[u8]) -> StoreResult<Option<RefreshToken>> {
        sqlx::query(
            "SELECT family_id, app_id, user_id, scope, session_id, expires_at, used_at \
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(refresh_from)
        .transpose()
    }

    async fn revoke_jti(&self, jti: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO revoked_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Revocations).await;
        Ok(())
    }

    async fn revoked_jtis(&self, now: i64) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT jti FROM revoked_jtis WHERE expires_at > $1")
                .bind(now)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        let rows = sqlx::query(
            "SELECT kid, seed, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, rowid DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SigningKeyRow {
                    kid: r.try_get("kid")?,
                    seed: r.try_get("seed")?,
                    created_at: r.try_get("created_at")?,
                    retired_at: r.try_get("retired_at")?,
                })
            })
            .collect()
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRow,
        stale_before: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.serialized_tx(dialect::Lock::SigningKeys).await?;
        let fresh: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM signing_keys WHERE retired_at IS NULL AND created_at >= $1 LIMIT 1",
        )
        .bind(stale_before)
        .fetch_optional(&mut *tx)
        .await?;
        if fresh.is_some() {
            return Ok(false);
        }
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(key.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO signing_keys (kid, seed, created_at) VALUES ($1, $2, $3)")
            .bind(&key.kid)
            .bind(&key.seed)
            .bind(key.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.publish(Change::SigningKeys).await;
        Ok(true)
    }

    async fn insert_signin_code(
        &self,
        hash: &[u8],
        email: &str,
        at: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE signin_codes SET used_at = $1 WHERE email = $2 AND used_at IS NULL")
            .bind(at)
            .bind(email)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signin_codes (code_hash, email, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(email)
        .bind(expires_at)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn redeem_signin_code(
        &self,
        email: &str,
        hash: &[u8],
        at: i64,
        max_attempts: i64,
    ) -> StoreResult<bool> {
        // One statement each, so two guesses racing cannot both pass the
        // attempt limit and a code cannot be redeemed twice.
        let redeemed = sqlx::query(
            "UPDATE signin_codes SET used_at = $1 WHERE email = $2 AND code_hash = $3 \
             AND used_at IS NULL AND expires_at > $4 AND attempts < $5",
        )
        .bind(at)
        .bind(email)
        .bind(hash)
        .bind(at)
        .bind(max_attempts)
        .execute(&self.writer)
        .await?;
        if redeemed.rows_affected() > 0 {
            return Ok(true);
        }
        sqlx::query(
            "UPDATE signin_codes SET attempts = attempts + 1 WHERE email = $1 \
             AND used_at IS NULL AND expires_at > $2",
        )
        .bind(email)
        .bind(at)
        .execute(&self.writer)
        .await?;
        Ok(false)
    }

    async fn insert_browser_session(
        &self,
        hash: &[u8],
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO browser_sessions (token_hash, user_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(user_id)
        .bind(expires_at)
        .bind(unix_now())
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    async fn browser_session_user(&self, hash: &[u8], at: i64) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM browser_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(hash)
        .bind(at)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn insert_authorization_code(
        &self,
        hash: &[u8],
        code: &AuthorizationCode,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, app_id, user_id, redirect_uri, \
             code_challenge, scope, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(hash)
        .bind(&code.app_id)
        .bind(&code.user_id)
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(&code.scope)
        .bind(code.expires_at)
        .bind(unix_now())
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    async fn authorization_code(&self, hash: &[u8]) -> StoreResult<Option<AuthorizationCode>> {
        sqlx::query("SELECT * FROM authorization_codes WHERE code_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(code_from)
            .transpose()
    }

    async fn claim_authorization_code(
        &self,
        hash: &[u8],
        at: i64,
        issued: &CodeIssue,
    ) -> StoreResult<bool> {
        // One statement decides the winner when the same code races itself.
        let claimed = sqlx::query(
            "UPDATE authorization_codes SET used_at = $1, family_id = $2, access_jti = $3, \
             access_expires_at = $4 WHERE code_hash = $5 AND used_at IS NULL RETURNING code_hash",
        )
        .bind(at)
        .bind(&issued.family_id)
        .bind(&issued.access_jti)
        .bind(issued.access_expires_at)
        .bind(hash)
        .fetch_optional(&self.writer)
        .await?;
        Ok(claimed.is_some())
    }

    async fn record_consent(
        &self,
        user_id: &str,
        app_id: &str,
        scopes: &[String],
        at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        // Write first: the transaction takes SQLite's write lock before it
        // reads, so a concurrent grant cannot be lost between read and write.
        sqlx::query("UPDATE consents SET granted_at = $1 WHERE user_id = $2 AND app_id = $3")
            .bind(at)
            .bind(user_id)
            .bind(app_id)
            .execute(&mut *tx)
            .await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT scope FROM consents WHERE user_id = $1 AND app_id = $2")
                .bind(user_id)
                .bind(app_id)
                .fetch_optional(&mut *tx)
                .await?;
        let mut granted = before.as_deref().map(self::scopes).unwrap_or_default();
        for s in scopes {
            if !granted.contains(s) {
                granted.push(s.clone());
            }
        }
        sqlx::query(
            "INSERT INTO consents (user_id, app_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, app_id) DO UPDATE SET scope = excluded.scope, \
             granted_at = excluded.granted_at",
        )
        .bind(user_id)
        .bind(app_id)
        .bind(granted.join(" "))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
    async fn create_agent(&self, agent: &Agent) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO agents ({AGENT_COLUMNS}, owner_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {WORKSPACE_OWNER})"
        ))
        .bind(&agent.id)
        .bind(&agent.workspace_id)
        .bind(&agent.name)
        .bind(&agent.description)
        .bind(&agent.public_key)
        .bind(agent.status.as_str())
        .bind(agent.created_at)
        .bind(agent.updated_at)
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        self.publish(Change::Agents).await;
        Ok(())
    }

    async fn agent(&self, id: &str) -> StoreResult<Option<Agent>> {
        self.caches
            .agents
            .get_or_load(id, || async {
                self.row(
                    &format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1"),
                    &[id],
                    agent_from,
                )
                .await
            })
            .await
    }

    async fn agents_of(
        &self,
        workspace_id: &str,
        status: Option<AgentStatus>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Agent>> {
        sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE workspace_id = $1 \
             AND ($2 IS NULL OR status = $3) ORDER BY created_at DESC, id LIMIT $4 OFFSET $5"
        ))
        .bind(workspace_id)
        .bind(status.map(AgentStatus::as_str))
        .bind(status.map(AgentStatus::as_str))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(agent_from)
        .collect()
    }

    async fn set_agent_status(
        &self,
        id: &str,
        workspace_id: &str,
        status: AgentStatus,
        at: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE agents SET status = $1, updated_at = $2 \
             WHERE id = $3 AND workspace_id = $4 AND status != 'revoked'",
        )
        .bind(status.as_str())
        .bind(at)
        .bind(id)
        .bind(workspace_id)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Agents).await;
        Ok(done.rows_affected() == 1)
    }

    async fn blocked_agents(&self) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM agents WHERE status != 'active'")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn record_agent_tokens(&self, tokens: &[AgentToken]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for chunk in tokens.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO agent_tokens (jti, agent_id, issued_at, expires_at) VALUES {}",
                values(chunk.len(), 4)
            );
            let mut insert = sqlx::query(&sql);
            for t in chunk {
                insert = insert
                    .bind(&t.jti)
                    .bind(&t.agent_id)
                    .bind(t.issued_at)
                    .bind(t.expires_at);
            }
            insert.execute(&mut *tx).await.map_err(conflict)?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn count_live_agents(&self, workspace_id: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM agents WHERE workspace_id = $1 AND status != 'revoked'",
        )
        .bind(workspace_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.max(0) as u64)
    }

    async fn count_agent_tokens_since(&self, workspace_id: &str, since: i64) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM agent_tokens t JOIN agents a ON a.id = t.agent_id \
             WHERE a.workspace_id = $1 AND t.issued_at >= $2",
        )
        .bind(workspace_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.max(0) as u64)
    }

    async fn create_domain(&self, domain: &Domain) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO domains ({DOMAIN_COLUMNS}, owner_id) VALUES ($1, $2, $3, $4, $5, $6, {WORKSPACE_OWNER})"
        ))
        .bind(&domain.id)
        .bind(&domain.workspace_id)
        .bind(&domain.domain)
        .bind(&domain.challenge)
        .bind(domain.created_at)
        .bind(domain.verified_at)
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    async fn domain(&self, id: &str, workspace_id: &str) -> StoreResult<Option<Domain>> {
        self.row(
            &format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE id = $1 AND workspace_id = $2"),
            &[id, workspace_id],
            domain_from,
        )
        .await
    }

    async fn domains_of(&self, workspace_id: &str) -> StoreResult<Vec<Domain>> {
        self.rows(
            &format!(
            "SELECT {DOMAIN_COLUMNS} FROM domains WHERE workspace_id = $1 ORDER BY created_at, id"
        ),
            &[workspace_id],
            domain_from,
        )
        .await
    }

    async fn set_domain_verified(
        &self,
        id: &str,
        workspace_id: &str,
        at: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE domains SET verified_at = COALESCE(verified_at, $1) WHERE id = $2 AND workspace_id = $3",
        )
        .bind(at)
        .bind(id)
        .bind(workspace_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_domain(&self, id: &str, workspace_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM domains WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn agent_token(&self, jti: &str) -> StoreResult<Option<AgentToken>> {
        let row = sqlx::query(
            "SELECT jti, agent_id, issued_at, expires_at FROM agent_tokens WHERE jti = $1",
        )
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(AgentToken {
                jti: row.try_get("jti")?,
                agent_id: row.try_get("agent_id")?,
                issued_at: row.try_get("issued_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn create_policy(&self, policy: &super::Policy) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO policies ({POLICY_COLUMNS}, owner_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {WORKSPACE_OWNER})"
        ))
        .bind(&policy.id)
        .bind(&policy.workspace_id)
        .bind(&policy.name)
        .bind(&policy.description)
        .bind(policy.priority)
        .bind(rules_json(&policy.rules)?)
        .bind(policy.is_active)
        .bind(policy.created_at)
        .bind(policy.updated_at)
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        self.publish(Change::Policies).await;
        Ok(())
    }

    async fn policy(&self, id: &str, workspace_id: &str) -> StoreResult<Option<super::Policy>> {
        self.row(
            &format!("SELECT {POLICY_COLUMNS} FROM policies WHERE id = $1 AND workspace_id = $2"),
            &[id, workspace_id],
            policy_from,
        )
        .await
    }

    async fn policies_of(
        &self,
        workspace_id: &str,
        active_only: bool,
    ) -> StoreResult<Vec<super::Policy>> {
        let load = || async {
            sqlx::query(&format!(
                "SELECT {POLICY_COLUMNS} FROM policies WHERE workspace_id = $1 \
                 AND (NOT $2 OR is_active) ORDER BY priority DESC, created_at DESC, id"
            ))
            .bind(workspace_id)
            .bind(active_only)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(policy_from)
            .collect()
        };
        if active_only {
            self.caches
                .active_policies
                .get_or_load(workspace_id, load)
                .await
        } else {
            load().await
        }
    }

    async fn update_policy(&self, policy: &super::Policy) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE policies SET name = $1, description = $2, priority = $3, rules = $4, \
             is_active = $5, updated_at = $6 WHERE id = $7 AND workspace_id = $8",
        )
        .bind(&policy.name)
        .bind(&policy.description)
        .bind(policy.priority)
        .bind(rules_json(&policy.rules)?)
        .bind(policy.is_active)
        .bind(policy.updated_at)
        .bind(&policy.id)
        .bind(&policy.workspace_id)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Policies).await;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_policy(&self, id: &str, workspace_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM policies WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&self.writer)
            .await?;
        self.publish(Change::Policies).await;
        Ok(done.rows_affected() == 1)
    }

    async fn create_approval(&self, a: &super::Approval) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO approvals ({APPROVAL_COLUMNS}, owner_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, {WORKSPACE_OWNER})"
        ))
        .bind(&a.id)
        .bind(&a.workspace_id)
        .bind(&a.agent_id)
        .bind(&a.policy_id)
        .bind(a.scope.join(" "))
        .bind(a.ttl)
        .bind(&a.target_service)
        .bind(&a.intent)
        .bind(a.status.as_str())
        .bind(a.created_at)
        .bind(a.decided_at)
        .bind(a.collected_at)
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    async fn approval(&self, id: &str) -> StoreResult<Option<super::Approval>> {
        self.row(
            &format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = $1"),
            &[id],
            approval_from,
        )
        .await
    }

    async fn approvals_of(
        &self,
        workspace_id: &str,
        status: Option<super::ApprovalStatus>,
    ) -> StoreResult<Vec<super::Approval>> {
        let status = status.map(super::ApprovalStatus::as_str);
        sqlx::query(&format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE workspace_id = $1 \
             AND ($2 IS NULL OR status = $3) ORDER BY created_at DESC, id"
        ))
        .bind(workspace_id)
        .bind(status)
        .bind(status)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(approval_from)
        .collect()
    }

    async fn move_approval(
        &self,
        id: &str,
        workspace_id: &str,
        from: super::ApprovalStatus,
        to: super::ApprovalStatus,
        at: i64,
    ) -> StoreResult<bool> {
        let column = if to == super::ApprovalStatus::Collected {
            "collected_at"
        } else {
            "decided_at"
        };
        let done = sqlx::query(&format!(
            "UPDATE approvals SET status = $1, {column} = $2 \
             WHERE id = $3 AND workspace_id = $4 AND status = $5"
        ))
        .bind(to.as_str())
        .bind(at)
        .bind(id)
        .bind(workspace_id)
        .bind(from.as_str())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_nonce(
        &self,
        agent_id: &str,
        nonce: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM agent_nonces WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "INSERT INTO agent_nonces (agent_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(agent_id)
        .bind(nonce)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn remember_subject(
        &self,
        app_id: &str,
        sub: &str,
        user_id: &str,
        at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO app_subjects (app_id, sub, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(app_id)
        .bind(sub)
        .bind(user_id)
        .bind(at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn app_subject(&self, app_id: &str, sub: &str) -> StoreResult<Option<AppSubject>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.alias, c.scope FROM app_subjects s \
             JOIN users u ON u.id = s.user_id \
             LEFT JOIN consents c ON c.user_id = s.user_id AND c.app_id = s.app_id \
             WHERE s.app_id = $1 AND s.sub = $2",
        )
        .bind(app_id)
        .bind(sub)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(AppSubject {
                user_id: r.try_get("id")?,
                email: r.try_get("email")?,
                alias: r.try_get("alias")?,
                consented: r
                    .try_get::<Option<String>, _>("scope")?
                    .as_deref()
                    .map(self::scopes)
                    .unwrap_or_default(),
            })
        })
        .transpose()
    }

    async fn send_message(
        &self,
        message: &AppMessage,
        key: &str,
        first: &IdempotentResponse,
    ) -> StoreResult<Option<IdempotentResponse>> {
        let mut tx = self.write_tx().await?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys \
             (app_id, key, request_hash, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&message.app_id)
        .bind(key)
        .bind(&first.request_hash)
        .bind(i64::from(first.status))
        .bind(&first.response)
        .bind(message.created_at)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            let row = sqlx::query(IDEMPOTENT_SELECT)
                .bind(&message.app_id)
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
            return idempotent_from(&row).map(Some);
        }
        sqlx::query(
            "INSERT INTO app_messages \
             (id, app_id, user_id, subject, body, status, created_at, delivered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&message.id)
        .bind(&message.app_id)
        .bind(&message.user_id)
        .bind(&message.subject)
        .bind(&message.body)
        .bind(&message.status)
        .bind(message.created_at)
        .bind(message.delivered_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(None)
    }

    async fn create_cap_token(&self, token: &CapToken, hash: &[u8]) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO cap_tokens \
             (id, workspace_id, app_id, token_hash, scopes, origins, emails, expires_at, created_at, owner_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {WORKSPACE_OWNER})"
        ))
        .bind(&token.id)
        .bind(&token.workspace_id)
        .bind(&token.app_id)
        .bind(hash)
        .bind(token.scopes.join(" "))
        .bind(to_json(&token.origins))
        .bind(to_json(&token.emails))
        .bind(token.expires_at)
        .bind(token.created_at)
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    async fn idempotent_response(
        &self,
        app_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotentResponse>> {
        let row = sqlx::query(IDEMPOTENT_SELECT)
            .bind(app_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(idempotent_from).transpose()
    }

    async fn cap_token_by_hash(&self, hash: &[u8]) -> StoreResult<Option<CapToken>> {
        let row = sqlx::query("SELECT * FROM cap_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(CapToken {
                id: r.try_get("id")?,
                app_id: r.try_get("app_id")?,
                workspace_id: r.try_get("workspace_id")?,
                scopes: self::scopes(&r.try_get::<String, _>("scopes")?),
                origins: json_list(&r.try_get::<String, _>("origins")?)?,
                emails: json_list(&r.try_get::<String, _>("emails")?)?,
                expires_at: r.try_get("expires_at")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    async fn append_audit(&self, events: &[NewAuditEvent]) -> StoreResult<Vec<AuditEntry>> {
        // IMMEDIATE: the head is read under the write lock, so another
        // process appending to the same file cannot fork the chain.
        let mut tx = self.serialized_tx(dialect::Lock::Audit).await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (mut seq, mut prev_hash) = match head {
            Some(row) => (row.try_get::<i64, _>("seq")?, row.try_get("hash")?),
            None => (0, crate::core::audit::GENESIS.to_owned()),
        };
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            seq += 1;
            let mut entry = AuditEntry {
                seq,
                id: e.id.clone(),
                ts: e.ts,
                kind: e.kind.clone(),
                account: e.account.clone(),
                actor: e.actor.clone(),
                subject: e.subject.clone(),
                data: e.data.clone(),
                prev_hash,
                hash: String::new(),
            };
            entry.hash = crate::core::audit::entry_hash(&entry);
            prev_hash = entry.hash.clone();
            out.push(entry);
        }
        // One multi-row INSERT per chunk: per-statement overhead, not the
        // rows, is what a batch of small entries costs.
        for chunk in out.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES {}",
                values(chunk.len(), 10)
            );
            let mut insert = sqlx::query(&sql);
            for e in chunk {
                insert = insert
                    .bind(e.seq)
                    .bind(&e.id)
                    .bind(e.ts)
                    .bind(&e.kind)
                    .bind(&e.account)
                    .bind(&e.actor)
                    .bind(&e.subject)
                    .bind(&e.data)
                    .bind(&e.prev_hash)
                    .bind(&e.hash);
            }
            insert.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn audit_entries(
        &self,
        filter: &AuditFilter,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        // Numbered placeholders, bound in the same order below.
        let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1");
        let mut n = 1;
        let mut condition = |column: &str, op: &str| {
            n += 1;
            sql.push_str(&format!(" AND {column} {op} ${n}"));
        };
        let texts = [
            ("account", &filter.account),
            ("type", &filter.kind),
            ("actor", &filter.actor),
        ];
        let times = [(">=", filter.since), ("<=", filter.until)];
        for (column, value) in &texts {
            if value.is_some() {
                condition(column, "=");
            }
        }
        for (op, value) in &times {
            if value.is_some() {
                condition("ts", op);
            }
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT ${}", n + 1));
        let mut q = sqlx::query(&sql).bind(after);
        for value in texts.iter().filter_map(|(_, v)| v.as_deref()) {
            q = q.bind(value);
        }
        for value in times.iter().filter_map(|(_, v)| *v) {
            q = q.bind(value);
        }
        q.bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool closes a connection whose query a hung-up client cancelled;
    /// the in-memory database must outlive it.
    #[tokio::test]
    async fn the_in_memory_database_outlives_a_closed_pool_connection() {
        let store = SqlStore::open("sqlite::memory:", false).await.unwrap();
        let connection = store.pool.acquire().await.unwrap().detach();
        drop(connection);
        let tables: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert!(
            tables > 5,
            "the migrated schema is still there ({tables} tables)"
        );
    }
}
