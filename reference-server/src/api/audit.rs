//! `/v1/audit`: query, export and verify the audit log
//! ([`crate::services::audit`]).

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

use crate::app::state::AppState;
use crate::core::fields;
use crate::core::principal::Principal;
use crate::error::ApiError;
use crate::http::envelope::{envelope, envelopes, rfc3339, CursorMeta, Meta, RequestId};
use crate::services::audit::{verify_chain, Verdict, PAGE};
use crate::store::{AuditEntry, AuditFilter, Store, StoreResult};

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
        crate::core::fields::schema_from_json(json!({
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
            account: Some(caller.workspace.clone()),
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
    let pairs = crate::http::query::pairs(query.as_deref());
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
    let pairs = crate::http::query::pairs(query.as_deref());
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
    fn cursors_round_trip_and_refuse_forgeries() {
        assert_eq!(parse_cursor(&cursor_for(42)).unwrap(), 42);
        assert!(parse_cursor("42").is_err());
        assert!(parse_cursor(&URL_SAFE_NO_PAD.encode("a1:-3")).is_err());
    }
}
