//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the code so
//! it cannot drift from what the server does.
//!
//! Each handler's `#[utoipa::path]` states its own operation: a unique
//! `operationId`, its parameters, its request body type and the responses
//! only it produces (with their body types). What every operation of a kind
//! can answer comes from shared code, and so is added here once, from the
//! same facts that code acts on ([`complete`]):
//! - the credential extractors (`Principal`, `AppCaller`): 401, 403 and the
//!   per-credential 429;
//! - the body extractors (`ApiBody`, `OAuthBody`, `HtmlForm`): 400, 413,
//!   415 and 422;
//! - the per-IP rate limit on the OAuth, `/auth` and sign-in routes: 429;
//! - `X-Request-Id` on every response, and the error body of each kind:
//!   RFC 9457 problems, RFC 6749 errors on `/oauth/*`, HTML pages on the
//!   browser routes.
//!
//! Optional query parameters may be sent empty, which means absent, and
//! [`LINKS`] ties each create operation to the ones that use its id.

use std::sync::LazyLock;

use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document as utoipa derives it from the handlers' annotations.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Sigil reference server",
        description = "OAuth 2.0 authorization server, API keys, agent tokens and the management and app APIs. Errors are RFC 6749 `{error, error_description}` on `/oauth/*`, HTML pages on the browser routes, and RFC 9457 problem+json (with `code` and `requestId`) everywhere else. Every response carries `X-Request-Id`. Optional query parameters may be sent empty, which is the same as leaving them out."
    ),
    paths(
        crate::api::health::healthz,
        crate::http::metrics::export,
        serve,
        crate::api::discovery::metadata,
        crate::api::discovery::openid_configuration,
        crate::api::discovery::jwks,
        crate::api::oauth::authorize::authorize,
        crate::api::oauth::authorize::consent_form,
        crate::api::oauth::authorize::consent,
        crate::api::oauth::token::token,
        crate::api::oauth::introspect::introspect,
        crate::api::oauth::introspect::revoke,
        crate::api::signin::signin_form,
        crate::api::signin::send_code,
        crate::api::signin::verify_form,
        crate::api::signin::verify,
        crate::api::signin::mailbox,
        crate::api::signin::exchange_code,
        crate::api::auth_api::exchange,
        crate::api::auth_api::client_token,
        crate::api::auth_api::introspect,
        crate::api::auth_api::refresh,
        crate::api::v1::workspaces::list,
        crate::api::v1::workspaces::create,
        crate::api::v1::workspaces::read,
        crate::api::v1::workspaces::update,
        crate::api::v1::workspaces::members,
        crate::api::v1::workspaces::add_member,
        crate::api::v1::workspaces::update_member,
        crate::api::v1::workspaces::remove_member,
        crate::api::provider_login::login,
        crate::api::provider_login::callback,
        crate::api::provider_login::exchange,
        crate::api::v1::api_keys::create,
        crate::api::v1::api_keys::list,
        crate::api::v1::api_keys::read,
        crate::api::v1::api_keys::update,
        crate::api::v1::api_keys::revoke,
        crate::api::v1::api_keys::remove,
        crate::api::v1::apps::create,
        crate::api::v1::apps::list,
        crate::api::v1::apps::read,
        crate::api::v1::apps::update,
        crate::api::v1::apps::rotate_secret,
        crate::api::v1::apps::remove,
        crate::api::v1::agents::create,
        crate::api::v1::agents::list,
        crate::api::v1::agents::read,
        crate::api::v1::agents::pause,
        crate::api::v1::agents::resume,
        crate::api::v1::agents::revoke,
        crate::api::v1::agent_tokens::issue,
        crate::api::v1::agent_tokens::verify,
        crate::api::v1::agent_tokens::verify_batch,
        crate::api::v1::agent_tokens::revoke,
        crate::api::v1::policies::create,
        crate::api::v1::policies::list,
        crate::api::v1::policies::read,
        crate::api::v1::policies::update,
        crate::api::v1::policies::remove,
        crate::api::v1::policies::approvals,
        crate::api::v1::policies::grant,
        crate::api::v1::policies::reject,
        crate::api::v1::policies::collect,
        crate::api::v1::domains::create,
        crate::api::v1::domains::list,
        crate::api::v1::domains::read,
        crate::api::v1::domains::remove,
        crate::api::v1::domains::verify,
        crate::api::app_api::lookup,
        crate::api::app_api::send_message,
        crate::api::app_api::chat,
        crate::api::app_api::reports::create,
        crate::api::app_api::webhooks::create,
        crate::api::app_api::webhooks::list,
        crate::api::app_api::webhooks::read,
        crate::api::app_api::webhooks::remove,
        crate::api::app_api::webhooks::rotate,
        crate::api::app_api::webhooks::deliveries,
        crate::api::app_api::webhooks::redeliver,
        crate::api::cap_tokens::create,
        crate::api::cap_tokens::preview,
        crate::api::audit::list,
        crate::api::audit::export,
        crate::api::audit::verify,
        crate::api::webhooks::create,
        crate::api::webhooks::list,
        crate::api::webhooks::read,
        crate::api::webhooks::remove,
        crate::api::webhooks::rotate,
        crate::api::webhooks::deliveries,
        crate::api::webhooks::redeliver,
        crate::api::v1::account::read,
        crate::api::v1::account::update,
        crate::api::v1::plans::mine,
        crate::api::v1::plans::read,
        crate::api::v1::plans::change,
        crate::api::trust::model,
        crate::api::trust::mine,
        crate::api::trust::user_trust,
        crate::api::trust::moderate,
        crate::api::test_mode::clock,
    ),
    // What only parameters name (utoipa collects the rest from the bodies),
    // and the error bodies `complete` adds.
    components(schemas(
        crate::error::ProblemSchema,
        crate::error::OAuthErrorSchema,
        crate::core::fields::AuditCursor,
        crate::core::fields::ReturnTo,
        crate::core::fields::SigninEmail,
        crate::core::fields::CodeChallenge,
        crate::api::audit::AuditTime,
        crate::api::audit::ExportFormat,
        crate::api::oauth::authorize::ResponseType,
        crate::api::oauth::authorize::ChallengeMethod,
        crate::store::AgentStatus,
        crate::store::ApprovalStatus,
    )),
    modifiers(&Security),
    tags(
        (name = "oauth", description = "RFC 6749 / 7662 / 7009 / 8414 endpoints"),
        (name = "sign-in", description = "Server-rendered email sign-in (no JavaScript)"),
        (name = "session", description = "Seed session endpoints in the {data, meta} envelope"),
        (name = "api-keys", description = "API keys and personal access tokens"),
        (name = "apps", description = "OAuth apps"),
        (name = "agents", description = "AI agent identities with Ed25519 keys"),
        (name = "agent-tokens", description = "Short-lived agent tokens: issue (RFC 9421-signed or with `tokens.issue`), verify, revoke"),
        (name = "audit", description = "The hash-chained audit log: query, export, verify"),
        (name = "policies", description = "Issuance policies (allow, deny, throttle, require_approval) and the approvals they hold"),
        (name = "domains", description = "Domains an account claims, proven by a DNS TXT record"),
        (name = "app-api", description = "The app API under /app/v1, with access tokens issued to an app: identity lookup by pairwise slug, idempotent messages, AI chat, the app's own webhooks"),
        (name = "cap-tokens", description = "Capability tokens (`cap_…`): mint for an app, preview publicly"),
        (name = "webhooks", description = "Webhook endpoints (Standard Webhooks, signed), secret rotation with overlap, deliveries and redelivery"),
        (name = "workspaces", description = "Workspaces and their members (owner, admin, member, read_only). A key or app token acts in its own workspace; a signed-in user names one with `X-Sigil-Workspace` (its personal workspace by default)"),
        (name = "account", description = "The caller's own account: email, and the alias apps granted `profile.basic` see"),
        (name = "trust", description = "Trust levels, the trust score and moderation states: the public model, the caller's standing, and the operator API (`operator.moderation`)"),
        (name = "plans", description = "Plan limits behind 402 `quota_exceeded`: the caller's plan and usage, and the operator API that changes them (`operator.billing`)"),
        (name = "test-mode", description = "Only with --test-mode"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`sgl_live_…`, `sgl_test_…`) or a first-party access token. A signed-in user's token (or, on /v1 with neither header, its session cookie from this server's own pages) acts in the workspace named by `X-Sigil-Workspace`, its personal one by default; a workspace the caller is not in answers 404 `workspace_not_found`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "app_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token issued to an app: its client_credentials token, or a user token it obtained",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "OAuth client authentication, `client_secret_basic` (RFC 6749 §2.3.1); `client_secret_post` sends the same in the body, and public clients send only `client_id`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The finished document.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(build);
    &DOCUMENT
}

/// Serves the document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "getOpenApi",
    tag = "operations",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object))
)]
pub async fn serve() -> Json<Value> {
    Json(document().clone())
}

/// A link: (name, target operation, target parameter or `body.<member>`).
pub type Link = (&'static str, &'static str, &'static str);

/// Create operations and the operations that take what they created:
/// (operation, status, JSON pointer to the new id in its body, links as
/// (link name, target operation, target parameter)). A target parameter
/// `body.<member>` puts the id into that member of the request body (an
/// object with a runtime expression, which schemathesis merges into the
/// body it generates).
pub const LINKS: &[(&str, &str, &str, &[Link])] = &[
    (
        "createWorkspace",
        "201",
        "/data/id",
        &[
            ("GetWorkspace", "getWorkspace", "id"),
            ("UpdateWorkspace", "updateWorkspace", "id"),
            ("ListWorkspaceMembers", "listWorkspaceMembers", "id"),
            ("AddWorkspaceMember", "addWorkspaceMember", "id"),
        ],
    ),
    (
        "addWorkspaceMember",
        "201",
        "/data/userId",
        &[
            ("UpdateWorkspaceMember", "updateWorkspaceMember", "user_id"),
            ("RemoveWorkspaceMember", "removeWorkspaceMember", "user_id"),
        ],
    ),
    (
        "createApiKey",
        "201",
        "/data/id",
        &[
            ("GetApiKey", "getApiKey", "id"),
            ("UpdateApiKey", "updateApiKey", "id"),
            ("RevokeApiKey", "revokeApiKey", "id"),
            ("DeleteApiKey", "deleteApiKey", "id"),
        ],
    ),
    (
        "createApp",
        "201",
        "/data/id",
        &[
            ("GetApp", "getApp", "id"),
            ("UpdateApp", "updateApp", "id"),
            ("RotateAppSecret", "rotateAppSecret", "id"),
            ("DeleteApp", "deleteApp", "id"),
            ("CreateCapToken", "createCapToken", "body.app_id"),
        ],
    ),
    (
        "createAgent",
        "201",
        "/data/id",
        &[
            ("GetAgent", "getAgent", "id"),
            ("PauseAgent", "pauseAgent", "id"),
            ("ResumeAgent", "resumeAgent", "id"),
            ("RevokeAgent", "revokeAgent", "id"),
            ("IssueAgentToken", "issueAgentToken", "body.agent_id"),
        ],
    ),
    (
        "issueAgentToken",
        "201",
        "/data/jti",
        &[("RevokeAgentToken", "revokeAgentToken", "id")],
    ),
    (
        "issueAgentToken",
        "202",
        "/data/id",
        &[
            ("GrantApproval", "grantApproval", "id"),
            ("RejectApproval", "rejectApproval", "id"),
            ("CollectApprovedToken", "collectApprovedToken", "id"),
        ],
    ),
    (
        "createPolicy",
        "201",
        "/data/id",
        &[
            ("GetPolicy", "getPolicy", "id"),
            ("UpdatePolicy", "updatePolicy", "id"),
            ("DeletePolicy", "deletePolicy", "id"),
        ],
    ),
    (
        "createDomain",
        "201",
        "/data/id",
        &[
            ("GetDomain", "getDomain", "id"),
            ("VerifyDomain", "verifyDomain", "id"),
            ("DeleteDomain", "deleteDomain", "id"),
        ],
    ),
    (
        "createWebhook",
        "201",
        "/data/id",
        &[
            ("GetWebhook", "getWebhook", "id"),
            ("RotateWebhookSecret", "rotateWebhookSecret", "id"),
            ("ListWebhookDeliveries", "listWebhookDeliveries", "id"),
            ("DeleteWebhook", "deleteWebhook", "id"),
        ],
    ),
    (
        "listWebhookDeliveries",
        "200",
        "/data/0/id",
        &[(
            "RedeliverWebhookDelivery",
            "redeliverWebhookDelivery",
            "delivery_id",
        )],
    ),
    (
        "createAppWebhook",
        "201",
        "/data/id",
        &[
            ("GetAppWebhook", "getAppWebhook", "id"),
            ("RotateAppWebhookSecret", "rotateAppWebhookSecret", "id"),
            ("ListAppWebhookDeliveries", "listAppWebhookDeliveries", "id"),
            ("DeleteAppWebhook", "deleteAppWebhook", "id"),
        ],
    ),
    (
        "setUserModeration",
        "200",
        "/data/userId",
        &[("GetUserTrust", "getUserTrust", "id")],
    ),
    (
        "setAccountPlan",
        "200",
        "/data/holder/id",
        &[("GetAccountPlanAdmin", "getAccountPlanAdmin", "id")],
    ),
    (
        "listAppWebhookDeliveries",
        "200",
        "/data/0/id",
        &[(
            "RedeliverAppWebhookDelivery",
            "redeliverAppWebhookDelivery",
            "delivery_id",
        )],
    ),
];

/// Which error body an operation answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Errors {
    /// RFC 9457 `application/problem+json`.
    Problem,
    /// RFC 6749 `{error, error_description}` (`application/json`).
    OAuth,
    /// An HTML page (the browser routes).
    Page,
}

fn errors_of(path: &str) -> Errors {
    match path {
        "/oauth/token" | "/oauth/introspect" | "/oauth/revoke" => Errors::OAuth,
        "/oauth/authorize" | "/oauth/consent" | "/signin" | "/signin/verify" => Errors::Page,
        _ => Errors::Problem,
    }
}

fn error_content(kind: Errors) -> Value {
    match kind {
        Errors::Problem => json!({
            "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } }
        }),
        Errors::OAuth => json!({
            "application/json": { "schema": { "$ref": "#/components/schemas/OAuthError" } }
        }),
        Errors::Page => json!({ "text/html": { "schema": { "type": "string" } } }),
    }
}

/// A reference to a header of `#/components/headers` (see [`HEADERS`]).
fn header(name: &str) -> Value {
    json!({ "$ref": format!("#/components/headers/{name}") })
}

/// The headers shared by many responses: (name, description, schema).
const HEADERS: &[(&str, &str, &str)] = &[
    (
        "X-Request-Id",
        "Identifies this request in the server's logs (also `requestId` in problems)",
        "string",
    ),
    (
        "Retry-After",
        "Seconds to wait before trying again",
        "integer",
    ),
    (
        "WWW-Authenticate",
        "The challenge: `Bearer realm=\"sigil\", error=\"<code>\"`",
        "string",
    ),
];

/// Adds `status` unless the operation documents it; either way the
/// response gets `content` and `headers` it lacks.
fn ensure(
    responses: &mut Map<String, Value>,
    status: &str,
    description: &str,
    content: &Value,
    headers: &[(&str, Value)],
) {
    let response = responses
        .entry(status)
        .or_insert_with(|| json!({ "description": description }));
    if response.get("content").is_none() {
        response["content"] = content.clone();
    }
    for (name, value) in headers {
        let all = response
            .as_object_mut()
            .and_then(|r| {
                r.entry("headers")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
            })
            .expect("a response is an object");
        all.entry(*name).or_insert_with(|| value.clone());
    }
}

/// Adds what every operation of its kind can answer (see the module docs).
fn complete(path: &str, op: &mut Value) {
    let kind = errors_of(path);
    let errors = error_content(kind);
    let retry_after = header("Retry-After");
    let secured = op["security"].as_array().is_some_and(|reqs| {
        reqs.iter().any(|r| {
            r.as_object()
                .is_some_and(|r| r.keys().any(|k| k != "client_basic"))
        })
    });
    let has_body = op.get("requestBody").is_some();
    let responses = op["responses"]
        .as_object_mut()
        .expect("every operation documents responses");

    // The per-IP limit (`middleware::limit_per_ip`) answers in the route's
    // error shape: RFC 6749 under `/oauth/`, a problem elsewhere.
    let per_ip = ["/oauth/", "/auth/", "/signin", "/dev/mailbox"]
        .iter()
        .any(|p| path.starts_with(p));
    if per_ip {
        let content = if path.starts_with("/oauth/") {
            error_content(Errors::OAuth)
        } else {
            error_content(Errors::Problem)
        };
        ensure(
            responses,
            "429",
            "Too many requests from this IP address (`rate_limited`, or `slow_down` on /oauth): see `Retry-After`",
            &content,
            &[("Retry-After", retry_after.clone())],
        );
    }
    if secured {
        ensure(
            responses,
            "401",
            "`missing_credentials` (none sent) or `invalid_token` (unknown, revoked, expired or malformed)",
            &errors,
            &[("WWW-Authenticate", header("WWW-Authenticate"))],
        );
        ensure(
            responses,
            "403",
            "`insufficient_scope`: the credential lacks the scope this operation needs, or is not valid for this API; `ip_not_allowed`: the key's allowlist excludes the caller's address; `https_required`: a trusted proxy saw plain HTTP; `cross_site_request`: a session cookie from another site; `project_scoped_key`: a key scoped to one app used beyond that app and its keys",
            &errors,
            &[],
        );
        ensure(
            responses,
            "429",
            "`rate_limited`: this credential is over its rate limit; see `Retry-After`",
            &errors,
            &[("Retry-After", retry_after.clone())],
        );
    }
    // The management API acts in one workspace: a user's token or session
    // cookie names it with `X-Sigil-Workspace` (`http::principal`), and a
    // key or app token is bound to its own.
    if secured && path.starts_with("/v1/") {
        let params = op
            .as_object_mut()
            .expect("an operation is an object")
            .entry("parameters")
            .or_insert_with(|| json!([]));
        if let Some(params) = params.as_array_mut() {
            params.push(json!({
                "name": crate::http::principal::WORKSPACE_HEADER,
                "in": "header",
                "required": false,
                "description": "The workspace a signed-in user acts in (default: the user's personal workspace). A key or app token is bound to its own workspace, and naming another is `workspace_not_found`.",
                // Visible ASCII: what the server reads as a workspace id.
                "schema": { "type": "string", "pattern": "^[!-~]+$" },
            }));
        }
        let responses = op["responses"]
            .as_object_mut()
            .expect("every operation documents responses");
        ensure(
            responses,
            "400",
            "`invalid_workspace`: `X-Sigil-Workspace` is empty or not text",
            &errors,
            &[],
        );
        ensure(
            responses,
            "404",
            "`workspace_not_found`: no such workspace for this caller",
            &errors,
            &[],
        );
    }
    let responses = op["responses"]
        .as_object_mut()
        .expect("every operation documents responses");
    if has_body {
        let (bad, too_large, media) = match kind {
            Errors::Problem => (
                "`invalid_json`: the body is not JSON (or a form) at all, or empty",
                "`payload_too_large`: the body is over 64 KiB",
                "`unsupported_media_type`: the body is neither JSON nor a form",
            ),
            Errors::OAuth => (
                "`invalid_request`: a parameter is missing, repeated or malformed",
                "`invalid_request`: the body is over 64 KiB",
                "`invalid_request`: the body is neither a form nor JSON",
            ),
            Errors::Page => (
                "The form is malformed",
                "The form is over the size limit",
                "",
            ),
        };
        ensure(responses, "400", bad, &errors, &[]);
        ensure(responses, "413", too_large, &errors, &[]);
        if kind != Errors::Page {
            ensure(responses, "415", media, &errors, &[]);
        }
        if kind == Errors::Problem {
            ensure(
                responses,
                "422",
                "`validation_failed`: a field is missing, unknown, of the wrong type, or out of its documented range",
                &errors,
                &[],
            );
        }
    }
    if path.contains('{') && kind == Errors::Problem {
        ensure(responses, "404", "`not_found`", &errors, &[]);
    }
    // The server itself failed (a bug or an unavailable database); never
    // the client's fault, and its detail never leaks internals.
    let server_error = match kind {
        Errors::Problem => "ServerErrorProblem",
        Errors::OAuth => "ServerErrorOAuth",
        Errors::Page => "ServerErrorPage",
    };
    responses
        .entry("500")
        .or_insert_with(|| json!({ "$ref": format!("#/components/responses/{server_error}") }));
    responses.entry("503").or_insert_with(
        || json!({ "$ref": format!("#/components/responses/Unavailable{}", &server_error[11..]) }),
    );
    let request_id = header("X-Request-Id");
    for (status, response) in responses.iter_mut() {
        if response.get("$ref").is_some() {
            continue;
        }
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && response.get("content").is_none() {
            response["content"] = errors.clone();
        }
        let headers = response
            .as_object_mut()
            .expect("a response is an object")
            .entry("headers")
            .or_insert_with(|| json!({}));
        headers["X-Request-Id"] = request_id.clone();
    }

    // Optional query parameters: empty means absent (`query::parse`).
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            if p["in"] == "query" && p["required"] != true {
                let schema = p["schema"].take();
                p["schema"] = json!({
                    "anyOf": [schema, { "type": "string", "maxLength": 0 }],
                });
            }
        }
    }
}

/// `{"required": [a, b]}` with both non-null: for "not both".
fn both_given(a: &str, b: &str) -> Value {
    json!({
        "required": [a, b],
        "properties": { a: { "not": { "type": "null" } }, b: { "not": { "type": "null" } } },
    })
}

/// Rules between fields that the handlers enforce and the derive cannot
/// state, added to the request body schemas by name.
fn cross_field_rules(schemas: &mut Map<String, Value>) {
    let mut add = |name: &str, rule: Value| {
        let schema = schemas
            .get_mut(name)
            .unwrap_or_else(|| panic!("schema {name} is in the document"));
        schema
            .as_object_mut()
            .expect("a schema is an object")
            .entry("allOf")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("allOf is a list")
            .push(rule);
    };
    // `v1::api_keys::create`: "give `scopes` or `preset`, not both".
    add(
        "CreateApiKey",
        json!({ "not": both_given("scopes", "preset") }),
    );
    // `v1::policies::update`: "give at least one of …".
    let any_field: Vec<Value> = ["name", "description", "priority", "rules", "is_active"]
        .iter()
        .map(|f| json!({ "required": [f], "properties": { *f: { "not": { "type": "null" } } } }))
        .collect();
    add("UpdatePolicy", json!({ "anyOf": any_field }));
    // `v1::api_keys::update`: a non-null `name`, or `allowedIps` (where
    // null lifts the list), or both.
    add(
        "UpdateApiKey",
        json!({ "anyOf": [
            { "required": ["name"], "properties": { "name": { "not": { "type": "null" } } } },
            { "required": ["allowedIps"] },
        ] }),
    );
    // `test_mode::clock`: "give exactly one of `advance` or `set`".
    add(
        "SetTestClock",
        json!({
            "oneOf": [
                { "required": ["advance"], "properties": { "advance": { "type": "integer" } } },
                { "required": ["set"], "properties": { "set": { "type": "integer" } } },
            ],
        }),
    );
    // `oauth::authorize::consent` refuses any repeated parameter, also one it
    // does not read: every member is a single string.
    schemas
        .get_mut("ConsentForm")
        .expect("ConsentForm is in the document")["additionalProperties"] =
        json!({ "type": "string" });
    // `cap_tokens::create` takes `appId` and `expiresInSecs` as aliases:
    // one spelling of each, never both.
    let cap = schemas
        .get_mut("CreateCapToken")
        .expect("CreateCapToken is in the document");
    let props = cap["properties"]
        .as_object_mut()
        .expect("CreateCapToken has properties");
    let app_id = props["app_id"].clone();
    let expires = props["expires_in_secs"].clone();
    props.insert("appId".into(), app_id);
    props.insert("expiresInSecs".into(), expires);
    cap["required"] = json!(["scopes"]);
    cap["allOf"] = json!([
        { "oneOf": [{ "required": ["app_id"] }, { "required": ["appId"] }] },
        { "not": { "required": ["expires_in_secs", "expiresInSecs"] } },
    ]);
}

fn add_links(paths: &mut Map<String, Value>) {
    let mut by_id: Map<String, Value> = Map::new();
    for (path, item) in paths.iter() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if let Some(id) = op["operationId"].as_str() {
                by_id.insert(id.to_owned(), json!([path, method]));
            }
        }
    }
    for (from, status, pointer, links) in LINKS {
        let at = &by_id[*from];
        let (path, method) = (at[0].as_str().unwrap_or(""), at[1].as_str().unwrap_or(""));
        let response = &mut paths[path][method]["responses"][*status];
        assert!(response.is_object(), "{from} documents {status}");
        let value = format!("$response.body#{pointer}");
        for (name, target, param) in *links {
            assert!(by_id.contains_key(*target), "link target {target} exists");
            let mut link = json!({ "operationId": target });
            match param.strip_prefix("body.") {
                Some(member) => link["requestBody"] = json!({ member: value }),
                None => link["parameters"] = json!({ *param: value }),
            }
            // A delivery is redelivered at the endpoint it was listed for.
            // A delivery is redelivered at the endpoint it was listed for,
            // and a member is changed in the workspace it was added to.
            if *param == "delivery_id" || *param == "user_id" {
                link["parameters"]["id"] = json!("$request.path.id");
            }
            response["links"][*name] = link;
        }
    }
}

/// Descriptions come from doc comments written for Rust readers: drop the
/// `(#/components/schemas/…)` notes and rustdoc link brackets.
fn clean_descriptions(value: &mut Value) {
    static NOTE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r",?\s?\(?(as\s)?`#/components/schemas/\w+`\)?").expect("a valid regex")
    });
    static LINK: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\[(`[^`]+`)\]").expect("a valid regex"));
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if key == "description" => {
                        let text_now = NOTE.replace_all(text, "").into_owned();
                        *text = LINK.replace_all(&text_now, "$1").into_owned();
                    }
                    _ => clean_descriptions(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clean_descriptions),
        _ => {}
    }
}

fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
    clean_descriptions(&mut doc);
    let headers: Map<String, Value> = HEADERS
        .iter()
        .map(|(name, description, kind)| {
            let mut schema = json!({ "type": kind });
            if *kind == "integer" {
                schema["minimum"] = json!(0);
            }
            let header = json!({ "description": description, "required": true, "schema": schema });
            (name.to_string(), header)
        })
        .collect();
    doc["components"]["headers"] = Value::Object(headers);
    let server_error = |kind: Errors, code: &str| {
        json!({
            "description": format!("`{code}`: the server failed; the request id identifies it in the logs"),
            "headers": { "X-Request-Id": header("X-Request-Id") },
            "content": error_content(kind),
        })
    };
    let unavailable = |kind: Errors, code: &str| {
        json!({
            "description": format!("`{code}`: the database cannot be reached; retry after `Retry-After` seconds"),
            "headers": {
                "X-Request-Id": header("X-Request-Id"),
                "Retry-After": { "description": "Seconds to wait", "schema": { "type": "integer", "minimum": 0 } },
            },
            "content": error_content(kind),
        })
    };
    doc["components"]["responses"] = json!({
        "ServerErrorProblem": server_error(Errors::Problem, "internal_error"),
        "ServerErrorOAuth": server_error(Errors::OAuth, "server_error"),
        "ServerErrorPage": server_error(Errors::Page, "server_error"),
        "UnavailableProblem": unavailable(Errors::Problem, "unavailable"),
        "UnavailableOAuth": unavailable(Errors::OAuth, "temporarily_unavailable"),
        "UnavailablePage": unavailable(Errors::Page, "temporarily_unavailable"),
    });
    let paths = doc["paths"]
        .as_object_mut()
        .expect("the document has paths");
    for (path, item) in paths.iter_mut() {
        for (_, op) in item.as_object_mut().into_iter().flatten() {
            complete(path, op);
        }
    }
    add_links(paths);
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("the document has schemas");
    cross_field_rules(schemas);
    doc
}
