//! `GET /openapi.json`, generated from the handlers' annotations (utoipa), so
//! the document cannot drift from the code that serves it.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Sigil reference server",
        description = "OAuth 2.0 authorization server, API keys and management API. Errors are RFC 6749 on /oauth/* and RFC 9457 problem+json (with `code` and `requestId`) elsewhere."
    ),
    paths(
        crate::discovery::metadata,
        crate::discovery::jwks,
        crate::oauth::authorize::authorize,
        crate::oauth::authorize::consent_form,
        crate::oauth::authorize::consent,
        crate::oauth::token::token,
        crate::oauth::introspect::introspect,
        crate::oauth::introspect::revoke,
        crate::signin::signin_form,
        crate::signin::send_code,
        crate::signin::verify_form,
        crate::signin::verify,
        crate::signin::mailbox,
        crate::signin::exchange_code,
        crate::auth_api::exchange,
        crate::auth_api::client_token,
        crate::auth_api::introspect,
        crate::auth_api::refresh,
        crate::v1::api_keys::create,
        crate::v1::api_keys::list,
        crate::v1::api_keys::read,
        crate::v1::api_keys::rename,
        crate::v1::api_keys::revoke,
        crate::v1::api_keys::remove,
        crate::v1::apps::create,
        crate::v1::apps::list,
        crate::v1::apps::read,
        crate::v1::apps::update,
        crate::v1::apps::rotate_secret,
        crate::v1::apps::remove,
        crate::v1::agents::create,
        crate::v1::agents::list,
        crate::v1::agents::read,
        crate::v1::agents::pause,
        crate::v1::agents::resume,
        crate::v1::agents::revoke,
        crate::v1::agent_tokens::issue,
        crate::v1::agent_tokens::verify,
        crate::v1::agent_tokens::verify_batch,
        crate::v1::agent_tokens::revoke,
        crate::v1::policies::create,
        crate::v1::policies::list,
        crate::v1::policies::read,
        crate::v1::policies::update,
        crate::v1::policies::remove,
        crate::v1::policies::approvals,
        crate::v1::policies::grant,
        crate::v1::policies::reject,
        crate::v1::policies::collect,
        crate::v1::domains::create,
        crate::v1::domains::list,
        crate::v1::domains::read,
        crate::v1::domains::remove,
        crate::v1::domains::verify,
        crate::app_api::lookup,
        crate::app_api::send_message,
        crate::app_api::chat,
        crate::app_api::webhooks::create,
        crate::app_api::webhooks::list,
        crate::app_api::webhooks::read,
        crate::app_api::webhooks::remove,
        crate::app_api::webhooks::rotate,
        crate::app_api::webhooks::deliveries,
        crate::app_api::webhooks::redeliver,
        crate::cap_tokens::create,
        crate::cap_tokens::preview,
        crate::audit::list,
        crate::audit::export,
        crate::audit::verify,
        crate::webhooks::http::create,
        crate::webhooks::http::list,
        crate::webhooks::http::read,
        crate::webhooks::http::remove,
        crate::webhooks::http::rotate,
        crate::webhooks::http::deliveries,
        crate::webhooks::http::redeliver,
        crate::v1::account::read,
        crate::v1::account::update,
        crate::test_mode::clock,
    ),
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
        (name = "account", description = "The caller's own account: email, and the alias apps granted `profile.basic` see"),
        (name = "test-mode", description = "Only with --test-mode"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// Serves the document.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
