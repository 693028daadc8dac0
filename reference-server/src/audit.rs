//! The audit log: an append-only SHA-256 hash chain of security events, and
//! `/v1/audit` to query, export and verify it.
//!
//! Handlers call [`AuditLog::record`] after their own write succeeded. Every
//! call goes to one group-commit writer ([`GroupCommit`]), which appends
//! what is queued in ONE write transaction, commits and only then
//! acknowledges each caller: an audit write is durable when `record`
//! returns, yet concurrent writes share one commit.
//! The chain head is read inside each batch's write transaction, so a second
//! process on the same database file cannot fork the chain.
//!
//! Entries never carry secrets: at most a key's 12-character prefix.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::envelope::{envelope, envelopes, rfc3339, CursorMeta, Meta, RequestId};
use crate::error::ApiError;
use crate::fields;
use crate::principal::Principal;
use crate::state::AppState;
use crate::store::group_commit::{Batching, GroupCommit, WriteBatch};
use crate::store::{AuditEntry, AuditFilter, NewAuditEvent, Store, StoreResult};

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// How the audit writer batches: a queued (unawaited) batch may grow for
/// 10 ms, so a high issuance rate costs one commit per few hundred events.
const BATCHING: Batching = Batching {
    max_batch: 1024,
    linger: std::time::Duration::from_millis(10),
    queue: 8192,
};
/// Rows fetched per page by export and verify.
const PAGE: u32 = 500;

/// The hash of `entry` (its `hash` field is ignored), as 64 lowercase hex
/// digits.
///
/// Exact serialization: SHA-256 over the UTF-8 bytes of the compact JSON
/// array (serde_json, no whitespace)
///
/// ```text
/// [seq, id, ts, type, account, actor, subject, data, prev_hash]
/// ```
///
/// where `seq` and `ts` (UNIX seconds) are JSON integers; `id`, `type` and
/// `prev_hash` are JSON strings; `account`, `actor` and `subject` are JSON
/// strings or `null`; and `data` is the stored JSON text itself encoded as a
/// JSON *string* (so the bytes that are stored are the bytes that are hashed,
/// with no re-serialization). JSON string escaping makes the encoding
/// unambiguous. Example for a genesis entry:
/// `[1,"aud_x",1700000000,"key.created","usr_a","key_b","key_c","{\"name\":\"n\"}","000…0"]`.
pub fn entry_hash(entry: &AuditEntry) -> String {
    let canonical = json!([
        entry.seq,
        entry.id,
        entry.ts,
        entry.kind,
        entry.account,
        entry.actor,
        entry.subject,
        entry.data,
        entry.prev_hash,
    ])
    .to_string();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A security event to record.
#[derive(Debug, Clone)]
pub struct Event {
    kind: String,
    account: Option<String>,
    actor: Option<String>,
    subject: Option<String>,
    data: Value,
}

impl Event {
    /// An event of `kind` with no account, actor, subject or data yet.
    pub fn new(kind: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            account: None,
            actor: None,
            subject: None,
            data: json!({}),
        }
    }
    /// An event of `kind` done by `caller` in its own account (the actor is
    /// the API key when one was used, else the user).
    pub fn by(kind: &str, caller: &Principal) -> Self {
        Self::new(kind)
            .account(&caller.account)
            .actor(caller.key_id.as_deref().unwrap_or(&caller.account))
    }
    /// The user whose log shows the entry.
    pub fn account(mut self, account: &str) -> Self {
        self.account = Some(account.to_owned());
        self
    }
    /// Who acted.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = Some(actor.to_owned());
        self
    }
    /// What was acted on.
    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }
    /// Details (never secrets).
    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

/// The handle every handler records through (cheap to clone).
#[derive(Debug, Clone)]
pub struct AuditLog {
    commits: GroupCommit<NewAuditEvent>,
    clock: Arc<Clock>,
}

impl AuditLog {
    /// Starts the writer task over `store`; it ends when every handle is
    /// dropped.
    pub fn spawn(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        let write: WriteBatch<NewAuditEvent> = Box::new(move |events| {
            let store = store.clone();
            Box::pin(async move { store.append_audit(&events).await.map(drop) })
        });
        Self {
            commits: GroupCommit::spawn("the audit writer", BATCHING, write),
            clock,
        }
    }

    /// Appends `event` to the chain; returns once it is committed. For
    /// administrative changes, whose entry must exist once the change is
    /// acknowledged.
    pub async fn record(&self, event: Event) -> StoreResult<()> {
        self.commits.submit(self.entry(event)).await
    }

    /// Returns once every event queued before this call is committed, so a
    /// query that follows sees them (read-your-writes for the audit API).
    pub async fn flush(&self) -> StoreResult<()> {
        self.commits.flush().await
    }

    /// Queues `event` for a coming group commit without waiting for it, so
    /// high-volume events (token issuance) never wait on the audit writer.
    /// The queue is bounded: when it is full this waits for room, which is
    /// the backpressure. A process crash can lose the last few milliseconds
    /// of queued entries, never an acknowledged `record`, and never the
    /// chain's integrity.
    pub async fn enqueue(&self, event: Event) -> StoreResult<()> {
        self.commits.queue(self.entry(event)).await
    }

    fn entry(&self, event: Event) -> NewAuditEvent {
        NewAuditEvent {
            id: crate::crypto::new_sortable_id("aud_"),
            ts: self.clock.now(),
            kind: event.kind,
            account: event.account,
            actor: event.actor,
            subject: event.subject,
            data: event.data.to_string(),
        }
    }
}

/// The first broken link of the whole chain, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every link holds.
    Valid {
        /// Entries checked.
        entries: u64,
    },
    /// The first entry whose link does not hold.
    Broken {
        /// Its `seq`.
        seq: i64,
        /// What does not hold.
        reason: &'static str,
    },
}

/// Recomputes the chain over every entry, in pages, from the genesis.
pub async fn verify_chain(store: &dyn Store) -> StoreResult<Verdict> {
    let all = AuditFilter::default();
    let (mut prev_seq, mut prev_hash, mut entries) = (0_i64, GENESIS.to_owned(), 0_u64);
    loop {
        let page = store.audit_entries(&all, prev_seq, PAGE).await?;
        if page.is_empty() {
            return Ok(Verdict::Valid { entries });
        }
        for e in page {
            let reason = if e.prev_hash != prev_hash {
                Some("prev_hash does not match the previous entry's hash")
            } else if e.seq != prev_seq + 1 {
                Some("seq does not follow the previous entry")
            } else if entry_hash(&e) != e.hash {
                Some("hash does not match the entry's contents")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Ok(Verdict::Broken { seq: e.seq, reason });
            }
            prev_seq = e.seq;
            prev_hash = e.hash;
            entries += 1;
        }
    }
}

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/audit", get(list))
        .route("/v1/audit/export", get(export))
        .route("/v1/audit/verify", get(verify))
}

/// An audit entry as the API shows it (`#/components/schemas/AuditEntry`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditEntry)]
pub struct AuditEntryView {
    /// Position in the whole chain, from 1.
    seq: i64,
    /// `aud_…`.
    id: String,
    /// When it happened (RFC 3339).
    #[schema(format = DateTime)]
    ts: String,
    /// The event type, e.g. `key.created`.
    r#type: String,
    /// Who acted (user, key, agent or app id).
    #[schema(required = true)]
    actor: Option<String>,
    /// What it acted on.
    #[schema(required = true)]
    subject: Option<String>,
    /// Event details (never secrets).
    #[schema(value_type = Object)]
    data: Value,
    /// The previous entry's `hash` (64 zeros for the first).
    prev_hash: String,
    /// SHA-256 over this entry and `prevHash` (see the server docs).
    hash: String,
}

/// The chain checked end to end (`#/components/schemas/AuditChainVerdict`):
/// `{valid: true, entries}` or `{valid: false, broken_at, reason}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = AuditChainVerdict)]
pub enum ChainVerdict {
    /// Every link holds.
    Valid {
        #[schema(value_type = fields::True)]
        valid: bool,
        /// Entries checked.
        entries: u64,
    },
    /// The first link that does not.
    Broken {
        #[schema(value_type = fields::False)]
        valid: bool,
        /// The `seq` of the first broken entry.
        broken_at: i64,
        /// What does not hold.
        reason: &'static str,
    },
}

envelopes! {
    /// A page of entries, oldest first.
    AuditListEnvelope(Vec<AuditEntryView>, CursorMeta);
    /// The chain's verdict.
    AuditChainVerdictEnvelope(ChainVerdict, Meta);
}

/// The public view of an entry.
pub fn view(e: &AuditEntry) -> AuditEntryView {
    AuditEntryView {
        seq: e.seq,
        id: e.id.clone(),
        ts: rfc3339(e.ts),
        r#type: e.kind.clone(),
        actor: e.actor.clone(),
        subject: e.subject.clone(),
        data: serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    }
}

/// `since`/`until`: UNIX seconds or RFC 3339 (`#/components/schemas/AuditTime`).
#[derive(Debug)]
pub struct AuditTime;

impl utoipa::PartialSchema for AuditTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::schema_from_json(json!({
            "description": "UNIX seconds or an RFC 3339 date-time",
            "anyOf": [
                { "type": "integer", "minimum": i64::MIN, "maximum": i64::MAX },
                { "type": "string", "format": "date-time" },
            ],
        }))
    }
}
impl utoipa::ToSchema for AuditTime {}

/// `since`/`until`: RFC 3339 or UNIX seconds. As the document says: an
/// integer without a `+`, or an RFC 3339 `date-time` with its `T` (`time`
/// would also take the space RFC 3339 §5.6 mentions, JSON Schema does not).
fn parse_time(name: &str, value: &str) -> Result<i64, ApiError> {
    if let Some(secs) = Some(value)
        .filter(|v| !v.starts_with('+'))
        .and_then(|v| v.parse::<i64>().ok())
    {
        return Ok(secs);
    }
    Some(value)
        .filter(|v| !v.contains(' '))
        .ok_or(())
        .and_then(|v| {
            time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ())
        })
        .map(|t| t.unix_timestamp())
        .map_err(|_| ApiError::validation(format!("{name} must be RFC 3339 or UNIX seconds")))
}

fn cursor_for(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("a1:{seq}"))
}

fn parse_cursor(cursor: &str) -> Result<i64, ApiError> {
    Some(cursor)
        .filter(|c| fields::AUDIT_CURSOR.matches(c))
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("a1:")?.parse::<i64>().ok())
        .filter(|s| *s >= 0)
        .ok_or_else(|| ApiError::validation("cursor is not one this server issued"))
}

/// Parsed query parameters.
struct Params {
    filter: AuditFilter,
    after: i64,
    limit: u32,
    format: Option<String>,
}

/// Reads the filters; `extra` names the other parameters the route takes.
fn params(
    caller: &Principal,
    pairs: Vec<(String, String)>,
    extra: &[&str],
) -> Result<Params, ApiError> {
    let mut p = Params {
        filter: AuditFilter {
            account: Some(caller.account.clone()),
            ..AuditFilter::default()
        },
        after: 0,
        limit: 50,
        format: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in pairs {
        if seen.contains(&name) {
            return Err(ApiError::validation(format!("{name} is given twice")));
        }
        if !["type", "actor", "since", "until"].contains(&name.as_str())
            && !extra.contains(&name.as_str())
        {
            return Err(ApiError::validation(format!("unknown parameter {name}")));
        }
        match name.as_str() {
            "type" | "actor" if value.chars().count() > 200 => {
                return Err(ApiError::validation(format!(
                    "{name} must be 1-200 characters"
                )))
            }
            "type" => p.filter.kind = Some(value),
            "actor" => p.filter.actor = Some(value),
            "since" => p.filter.since = Some(parse_time("since", &value)?),
            "until" => p.filter.until = Some(parse_time("until", &value)?),
            "limit" => {
                p.limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=500).contains(l))
                    .ok_or_else(|| ApiError::validation("limit must be 1-500"))?
            }
            "cursor" => p.after = parse_cursor(&value)?,
            "format" => p.format = Some(value),
            _ => {}
        }
        seen.push(name);
    }
    // `since` after `until` is an empty range: it selects nothing.
    Ok(p)
}

#[utoipa::path(
    get,
    path = "/v1/audit",
    operation_id = "listAuditEntries",
    tag = "audit",
    params(
        ("type" = Option<String>, Query, max_length = 200, description = "Only this event type, e.g. `key.created`"),
        ("actor" = Option<String>, Query, max_length = 200, description = "Only this actor (user, key, agent or app id)"),
        ("since" = Option<AuditTime>, Query, description = "At or after: UNIX seconds or RFC 3339"),
        ("until" = Option<AuditTime>, Query, description = "At or before: UNIX seconds or RFC 3339 (before `since`: nothing)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "1-500, default 50"),
        ("cursor" = Option<fields::AuditCursor>, Query, description = "`meta.nextCursor` of the previous page"),
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's entries, oldest first; `meta.nextCursor` is null on the last page", body = AuditListEnvelope),
        (status = 403, description = "`insufficient_scope`: no `audit.read`"),
        (status = 422, description = "`validation_failed`: an invalid, unknown or repeated parameter, or a cursor this server did not issue"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    caller.require("audit.read")?;
    let pairs = crate::query::pairs(query.as_deref());
    let p = params(&caller, pairs, &["limit", "cursor"])?;
    state.audit.flush().await?;
    let mut page = state
        .store
        .audit_entries(&p.filter, p.after, p.limit + 1)
        .await?;
    let more = page.len() > p.limit as usize;
    page.truncate(p.limit as usize);
    let next = match page.last() {
        Some(last) if more => Value::from(cursor_for(last.seq)),
        _ => Value::Null,
    };
    let data: Vec<AuditEntryView> = page.iter().map(view).collect();
    let Json(mut body) = envelope(data, &rid, state.clock.now());
    body["meta"]["nextCursor"] = next;
    Ok(Json(body))
}

/// `format` of an export.
#[derive(Debug)]
pub struct ExportFormat;

impl utoipa::PartialSchema for ExportFormat {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        fields::string_enum(["csv", "json"], "`csv` or `json`").into()
    }
}
impl utoipa::ToSchema for ExportFormat {}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line
/// break, with quotes doubled.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The export's CSV header line.
const CSV_HEADER: &str = "seq,id,ts,type,actor,subject,data,prev_hash,hash\r\n";

fn csv_row(e: &AuditEntry) -> String {
    let fields = [
        e.seq.to_string(),
        e.id.clone(),
        rfc3339(e.ts),
        e.kind.clone(),
        e.actor.clone().unwrap_or_default(),
        e.subject.clone().unwrap_or_default(),
        e.data.clone(),
        e.prev_hash.clone(),
        e.hash.clone(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// Where an export stream stands.
struct Export {
    store: Arc<dyn Store>,
    filter: AuditFilter,
    after: i64,
    csv: bool,
    started: bool,
    wrote_row: bool,
    done: bool,
}

/// The next chunk of the export: the header (or `[`) and the rows of one
/// page, or the closing `]`; `None` when finished.
async fn next_chunk(mut x: Export) -> Option<(StoreResult<String>, Export)> {
    if x.done {
        return None;
    }
    let mut chunk = String::new();
    if !x.started {
        x.started = true;
        chunk.push_str(if x.csv { CSV_HEADER } else { "[" });
    }
    let page = match x.store.audit_entries(&x.filter, x.after, PAGE).await {
        Ok(page) => page,
        Err(e) => {
            x.done = true;
            return Some((Err(e), x));
        }
    };
    if page.is_empty() {
        x.done = true;
        if !x.csv {
            chunk.push(']');
        }
        return Some((Ok(chunk), x));
    }
    for e in &page {
        if x.csv {
            chunk.push_str(&csv_row(e));
        } else {
            if x.wrote_row {
                chunk.push(',');
            }
            chunk.push_str(&serde_json::to_string(&view(e)).unwrap_or_default());
            x.wrote_row = true;
        }
    }
    x.after = page.last().map_or(x.after, |e| e.seq);
    Some((Ok(chunk), x))
}

#[utoipa::path(
    get,
    path = "/v1/audit/export",
    operation_id = "exportAudit",
    tag = "audit",
    params(
        ("format" = Option<ExportFormat>, Query, description = "`csv` or `json` (default `json`)"),
        ("type" = Option<String>, Query, max_length = 200, description = "Only this event type"),
        ("actor" = Option<String>, Query, max_length = 200, description = "Only this actor"),
        ("since" = Option<AuditTime>, Query, description = "At or after: UNIX seconds or RFC 3339"),
        ("until" = Option<AuditTime>, Query, description = "At or before: UNIX seconds or RFC 3339 (before `since`: nothing)"),
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's filtered log, oldest first, streamed: CSV (RFC 4180, with a header line `seq,id,ts,type,actor,subject,data,prev_hash,hash`) or a JSON array", content(
            (Vec<AuditEntryView> = "application/json"),
            (String = "text/csv"),
        ), headers(("Content-Disposition" = String, description = "`attachment; filename=\"audit.json\"` or `audit.csv`"))),
        (status = 403, description = "`insufficient_scope`: no `audit.read`"),
        (status = 422, description = "`validation_failed`: an invalid, unknown or repeated parameter"),
    )
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    caller: Principal,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    caller.require("audit.read")?;
    let pairs = crate::query::pairs(query.as_deref());
    let p = params(&caller, pairs, &["format"])?;
    state.audit.flush().await?;
    let csv = match p.format.as_deref().unwrap_or("json") {
        "csv" => true,
        "json" => false,
        _ => return Err(ApiError::validation("format must be csv or json")),
    };
    let start = Export {
        store: state.store.clone(),
        filter: p.filter,
        after: 0,
        csv,
        started: false,
        wrote_row: false,
        done: false,
    };
    let body = Body::from_stream(futures_util::stream::unfold(start, next_chunk));
    let (content_type, file) = if csv {
        (
            "text/csv; charset=utf-8",
            "attachment; filename=\"audit.csv\"",
        )
    } else {
        ("application/json", "attachment; filename=\"audit.json\"")
    };
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(file));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[utoipa::path(
    get,
    path = "/v1/audit/verify",
    operation_id = "verifyAuditChain",
    tag = "audit",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "`{valid: true, entries}`, or `{valid: false, broken_at, reason}` for the first broken link of the whole chain", body = AuditChainVerdictEnvelope),
        (status = 403, description = "`insufficient_scope`: no `audit.read`"),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("audit.read")?;
    state.audit.flush().await?;
    let data = match verify_chain(state.store.as_ref()).await? {
        Verdict::Valid { entries } => ChainVerdict::Valid {
            valid: true,
            entries,
        },
        Verdict::Broken { seq, reason } => ChainVerdict::Broken {
            valid: false,
            broken_at: seq,
            reason,
        },
    };
    Ok(envelope(data, &rid, state.clock.now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn the_hash_covers_every_field_and_matches_the_documented_form() {
        let e = AuditEntry {
            seq: 1,
            id: "aud_x".into(),
            ts: 1_700_000_000,
            kind: "key.created".into(),
            account: Some("usr_a".into()),
            actor: Some("key_b".into()),
            subject: None,
            data: r#"{"name":"n"}"#.into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        let doc = format!(
            r#"[1,"aud_x",1700000000,"key.created","usr_a","key_b",null,"{{\"name\":\"n\"}}","{GENESIS}"]"#
        );
        let expected: String = Sha256::digest(doc.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entry_hash(&e), expected);
        let mut changed = e.clone();
        changed.data = r#"{"name":"m"}"#.into();
        assert_ne!(entry_hash(&changed), expected);
        let mut changed = e;
        changed.account = Some("usr_other".into());
        assert_ne!(entry_hash(&changed), expected);
    }

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        assert_eq!(parse_cursor(&cursor_for(42)).unwrap(), 42);
        assert!(parse_cursor("42").is_err());
        assert!(parse_cursor(&URL_SAFE_NO_PAD.encode("a1:-3")).is_err());
    }
}
