//! `/v1/domains`: domains an account claims. Adding one returns the TXT
//! record to publish (`_sigil-challenge.<domain>` = `sigil-verification=…`);
//! `POST /v1/domains/{id}/verify` looks it up through the DNS resolver given
//! by `--dns-resolver` (the system resolver otherwise) and marks the domain
//! verified when the value is there. Scopes: `account.read` / `account.write`.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::fields::{CHALLENGE_LABEL, MAX_DOMAIN_CHARS};
use crate::core::principal::Principal;
use crate::core::{crypto, fields};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::store::Domain;

/// Prefix of the challenge value.
pub const CHALLENGE_PREFIX: &str = "sigil-verification=";
/// How long one DNS query may take.
const DNS_TIMEOUT: Duration = Duration::from_secs(2);

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/domains", post(create).get(list))
        .route("/v1/domains/{id}", get(read).delete(remove))
        .route("/v1/domains/{id}/verify", post(verify))
}

/// Whether a domain is proven.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DomainStatus {
    /// Added; the TXT record is not verified yet.
    Pending,
    /// The TXT record was found.
    Verified,
}

/// The DNS record that proves a domain (`#/components/schemas/DnsRecord`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DnsRecord {
    /// Always `TXT`.
    #[schema(value_type = TxtType)]
    r#type: &'static str,
    /// `_sigil-challenge.<domain>`.
    name: String,
    /// `sigil-verification=…`.
    value: String,
}

/// Always `TXT`.
#[derive(Debug)]
pub struct TxtType;

impl utoipa::PartialSchema for TxtType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        fields::string_enum(["TXT"], "Always `TXT`").into()
    }
}
impl utoipa::ToSchema for TxtType {}

/// A domain as the API shows it (`#/components/schemas/Domain`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Domain)]
pub struct DomainView {
    /// `dom_…`.
    id: String,
    /// The hostname, lowercase.
    domain: String,
    /// Whether it is proven.
    status: DomainStatus,
    /// The TXT record to publish.
    record: DnsRecord,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339; null while pending.
    #[schema(format = DateTime, required = true)]
    verified_at: Option<String>,
}

envelopes! {
    /// One domain.
    DomainEnvelope(DomainView, Meta);
    /// The account's domains.
    DomainListEnvelope(Vec<DomainView>, Meta);
}

/// The public view of a domain, with the record to publish.
pub fn view(d: &Domain) -> DomainView {
    DomainView {
        id: d.id.clone(),
        domain: d.domain.clone(),
        status: if d.verified_at.is_some() {
            DomainStatus::Verified
        } else {
            DomainStatus::Pending
        },
        record: DnsRecord {
            r#type: "TXT",
            name: format!("{CHALLENGE_LABEL}.{}", d.domain),
            value: d.challenge.clone(),
        },
        created_at: rfc3339(d.created_at),
        verified_at: d.verified_at.map(rfc3339),
    }
}

/// A lower-cased hostname: 2+ dot-separated labels of 1-63 letters, digits
/// and inner hyphens, at most [`MAX_DOMAIN_CHARS`] characters, not ending in a
/// numeric label (so never an IP address). One trailing dot is dropped.
pub fn normalize(input: &str) -> Option<String> {
    let name = input.trim().strip_suffix('.').unwrap_or(input.trim());
    let name = name.to_ascii_lowercase();
    if name.is_empty() || name.len() > MAX_DOMAIN_CHARS {
        return None;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| !t.bytes().all(|b| b.is_ascii_digit()));
    (labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok).then_some(name)
}

/// `POST /v1/domains`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateDomain)]
pub(crate) struct CreateBody {
    #[schema(value_type = fields::Hostname)]
    domain: String,
}

#[utoipa::path(
    post,
    path = "/v1/domains",
    operation_id = "createDomain",
    tag = "domains",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Added, pending: `record` is the TXT record to publish before verifying", body = DomainEnvelope),
        (status = 403, description = "`insufficient_scope`: no `account.write`"),
        (status = 409, description = "`domain_exists`: the account already added this domain"),
        (status = 422, description = "`validation_failed`: not a hostname"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("account.write")?;
    let name = Some(body.domain.as_str())
        .filter(|d| fields::HOSTNAME.matches(d))
        .and_then(normalize)
        .ok_or_else(|| ApiError::validation("domain must be a hostname such as example.com"))?;
    let now = state.clock.now();
    let domain = Domain {
        id: crypto::new_id("dom_"),
        workspace_id: caller.workspace.clone(),
        domain: name,
        challenge: format!("{CHALLENGE_PREFIX}{}", crypto::random_base62(32)),
        created_at: now,
        verified_at: None,
    };
    state
        .store
        .create_domain(&domain)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                "domain_exists",
                format!("{} was already added", domain.domain),
            ),
            other => other.into(),
        })?;
    state
        .audit
        .record(
            Event::by("domain.added", &caller)
                .subject(&domain.id)
                .data(json!({ "domain": domain.domain })),
        )
        .await?;
    tracing::info!(id = %domain.id, domain = %domain.domain, "domain added");
    Ok((StatusCode::CREATED, envelope(view(&domain), &rid, now)))
}

#[utoipa::path(
    get,
    path = "/v1/domains",
    operation_id = "listDomains",
    tag = "domains",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The account's domains, oldest first", body = DomainListEnvelope),
        (status = 403, description = "`insufficient_scope`: no `account.read`"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.read")?;
    let domains = state.store.domains_of(&caller.workspace).await?;
    let data: Vec<DomainView> = domains.iter().map(view).collect();
    Ok(envelope(data, &rid, state.clock.now()))
}

async fn owned(state: &AppState, caller: &Principal, id: &str) -> Result<Domain, ApiError> {
    state
        .store
        .domain(id, &caller.workspace)
        .await?
        .ok_or_else(|| ApiError::not_found("domain"))
}

#[utoipa::path(
    get,
    path = "/v1/domains/{id}",
    operation_id = "getDomain",
    tag = "domains",
    params(("id" = String, Path, description = "Domain id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One domain", body = DomainEnvelope),
        (status = 403, description = "`insufficient_scope`: no `account.read`"),
        (status = 404, description = "`not_found`: no such domain of the account's"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.read")?;
    let domain = owned(&state, &caller, &id).await?;
    Ok(envelope(view(&domain), &rid, state.clock.now()))
}

#[utoipa::path(
    delete,
    path = "/v1/domains/{id}",
    operation_id = "deleteDomain",
    tag = "domains",
    params(("id" = String, Path, description = "Domain id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`insufficient_scope`: no `account.write`"),
        (status = 404, description = "`not_found`: no such domain of the account's"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require("account.write")?;
    if !state.store.delete_domain(&id, &caller.workspace).await? {
        return Err(ApiError::not_found("domain"));
    }
    state
        .audit
        .record(Event::by("domain.deleted", &caller).subject(&id))
        .await?;
    tracing::info!(id = %id, "domain deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The TXT strings at `name` (a fully qualified name): empty when the name
/// does not exist or has no TXT record; `Err` with the cause when the
/// resolver could not be reached or did not answer.
async fn txt_records(
    resolver: Option<std::net::SocketAddr>,
    name: &str,
) -> Result<Vec<String>, String> {
    let unavailable = |e: NetError| e.to_string();
    let mut builder = match resolver {
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().map_err(unavailable)?,
    };
    let options = builder.options_mut();
    options.timeout = DNS_TIMEOUT;
    options.attempts = 1;
    options.cache_size = 0;
    let resolver = builder.build().map_err(unavailable)?;
    match resolver.txt_lookup(name).await {
        Ok(lookup) => Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect()),
        Err(e) if e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => Err(unavailable(e)),
    }
}

#[utoipa::path(
    post,
    path = "/v1/domains/{id}/verify",
    operation_id = "verifyDomain",
    tag = "domains",
    params(("id" = String, Path, description = "Domain id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Verified (now or before): the TXT record carries the challenge value", body = DomainEnvelope),
        (status = 403, description = "`insufficient_scope`: no `account.write`"),
        (status = 404, description = "`not_found`: no such domain of the account's"),
        (status = 422, description = "`verification_failed`: the record is missing or holds other values (`expected`, `found`)"),
        (status = 502, description = "`dns_unavailable`: the DNS resolver could not be reached or did not answer"),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.write")?;
    let domain = owned(&state, &caller, &id).await?;
    if domain.verified_at.is_some() {
        return Ok(envelope(view(&domain), &rid, state.clock.now()));
    }
    let name = format!("{CHALLENGE_LABEL}.{}.", domain.domain);
    let found = txt_records(state.config.dns_resolver, &name)
        .await
        .map_err(|cause| {
            tracing::warn!(domain = %domain.domain, error = %cause, "DNS lookup failed");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "dns_unavailable",
                format!("the DNS resolver did not answer: {cause}"),
            )
        })?;
    if !found.iter().any(|v| v == &domain.challenge) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "verification_failed",
            if found.is_empty() {
                format!("no TXT record at {}", name.trim_end_matches('.'))
            } else {
                format!(
                    "the TXT record at {} does not hold the expected value",
                    name.trim_end_matches('.')
                )
            },
        )
        .with("expected", domain.challenge.clone())
        .with("found", found));
    }
    let now = state.clock.now();
    if !state
        .store
        .set_domain_verified(&id, &caller.workspace, now)
        .await?
    {
        return Err(ApiError::not_found("domain"));
    }
    state
        .audit
        .record(
            Event::by("domain.verified", &caller)
                .subject(&id)
                .data(json!({ "domain": domain.domain })),
        )
        .await?;
    tracing::info!(id = %id, domain = %domain.domain, "domain verified");
    let domain = owned(&state, &caller, &id).await?;
    Ok(envelope(view(&domain), &rid, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_in_the_grammar_normalize() {
        for ok in ["example.com", "Sub.Example.COM.", "a-1.b2.io"] {
            assert!(fields::HOSTNAME.matches(ok), "{ok}");
            assert!(normalize(ok).is_some(), "{ok}");
        }
    }
}
