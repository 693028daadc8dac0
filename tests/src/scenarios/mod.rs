//! Every scenario of the catalog, written once: each drives the SDK under
//! test through its driver (`cx.sdk`), uses the runner's own HTTP client
//! (`cx.web`) only for what an SDK never does (test clock, dev mailbox, HTML
//! pages, an agent's raw signed request), and asserts on the server's real
//! answers.

mod agents;
mod basics;
mod errors;
mod events;
mod grants;
mod login;

use serde_json::{json, Value};

use crate::catalog::Known;
use crate::driver::{Driver, SdkError};
use crate::server::Launcher;
use crate::web::Web;

/// The server under test.
#[derive(Debug)]
pub struct Target {
    /// Its issuer URL.
    pub issuer: String,
    /// Credentials with known values on it.
    pub known: Known,
    /// Set when the runner started it in test mode: starts further servers.
    pub launcher: Option<Launcher>,
}

/// What a scenario works with.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The SDK under test, a fresh driver process per scenario.
    pub sdk: Driver,
    /// Its name, to keep the objects each SDK's run creates apart.
    pub sdk_name: &'a str,
    /// The server.
    pub target: &'a Target,
    /// The runner's own HTTP client.
    pub web: Web,
}

/// Runs scenario `id`.
pub async fn run(id: &str, cx: &mut Ctx<'_>) -> Result<(), String> {
    match id {
        "server.healthz" => basics::healthz(cx).await,
        "discovery.rfc8414" => basics::discovery(cx).await,
        "discovery.openid-configuration" => basics::openid_configuration(cx).await,
        "pkce.s256" => basics::pkce(cx).await,
        "test-mode.clock" => basics::test_clock(cx).await,
        "errors.unknown-route" => errors::unknown_route(cx).await,
        "errors.api-statuses" => errors::api_statuses(cx).await,
        "errors.oauth-token-endpoint" => errors::oauth_token_endpoint(cx).await,
        "errors.rate-limit-retry-after" => errors::rate_limit(cx).await,
        "errors.plan-quota" => errors::plan_quota(cx).await,
        "keys.exchange" => grants::key_exchange(cx).await,
        "keys.lifecycle" => grants::key_lifecycle(cx).await,
        "oauth.client-credentials" => grants::client_credentials(cx).await,
        "oauth.introspect-revoke" => grants::introspect_revoke(cx).await,
        "oauth.token-exchange" => grants::token_exchange(cx).await,
        "offline.jwks-verify" => grants::jwks_verify(cx).await,
        "offline.token-verifier" => grants::token_verifier(cx).await,
        "login.authorization-code-pkce" => login::code_flow(cx).await,
        "login.access-denied" => login::access_denied(cx).await,
        "session.refresh-rotation" => login::refresh_rotation(cx).await,
        "session.single-flight-refresh" => login::single_flight_refresh(cx).await,
        "session.refresh-on-401" => login::refresh_on_401(cx).await,
        "session.logout" => login::logout(cx).await,
        "agents.signed-token" => agents::signed_token(cx).await,
        "agents.policy-denied" => agents::policy_denied(cx).await,
        "webhooks.delivery-verify" => events::webhook_delivery(cx).await,
        "app.messages-idempotency" => events::messages_idempotency(cx).await,
        other => Err(format!("the runner has no scenario `{other}`")),
    }
}

impl Ctx<'_> {
    /// A name no other run or SDK uses.
    fn unique(&self, what: &str) -> String {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        format!("conformance-{what}-{}-{ms}", self.sdk_name)
    }

    /// A client whose session holds the full API key's tokens.
    async fn key_client(&mut self) -> Result<String, String> {
        let config = json!({"issuer": self.target.issuer, "apiKey": self.target.known.full_key});
        self.sdk.client(config).await
    }

    /// A client of the confidential fixture app.
    async fn app_client(&mut self) -> Result<String, String> {
        let k = &self.target.known;
        let config = json!({
            "issuer": self.target.issuer,
            "clientId": k.app_id,
            "clientSecret": k.app_secret,
        });
        self.sdk.client(config).await
    }

    /// `request`: an authenticated call through the SDK, with a JSON body
    /// when one is given; the response as `{status, headers, body}`.
    async fn request(
        &mut self,
        client: &str,
        method: &str,
        url: &str,
        body: Option<&str>,
    ) -> Result<Value, String> {
        let args = request_args(client, method, url, body);
        self.sdk.ok("request", args).await
    }

    /// `request` that must fail.
    async fn request_err(
        &mut self,
        client: &str,
        method: &str,
        url: &str,
        body: Option<&str>,
    ) -> Result<SdkError, String> {
        let args = request_args(client, method, url, body);
        self.sdk.err("request", args).await
    }
}

fn request_args(client: &str, method: &str, url: &str, body: Option<&str>) -> Value {
    let mut args = json!({"client": client, "method": method, "url": url});
    if let Some(body) = body {
        args["body"] = body.into();
        args["headers"] = json!({"content-type": "application/json"});
    }
    args
}

/// Fails with `what` unless `cond`.
fn check(cond: bool, what: &str) -> Result<(), String> {
    cond.then_some(()).ok_or_else(|| what.to_owned())
}

/// Checks an SDK error's class, code and status; an error that came from an
/// HTTP response must carry the server's request id.
fn expect_error(e: &SdkError, class: &str, code: &str, status: Option<u16>) -> Result<(), String> {
    let right = e.class == class && e.code == code && e.status == status;
    check(
        right,
        &format!("expected {class} `{code}` status {status:?}, got {e}"),
    )?;
    check(
        status.is_none() || e.request_id.as_deref().is_some_and(|r| !r.is_empty()),
        &format!("{class} `{code}` has no requestId"),
    )
}

/// The string at a JSON pointer.
fn text(v: &Value, pointer: &str) -> Result<String, String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no string at {pointer} in {v}"))
}

/// A response's body as JSON.
fn body(response: &Value) -> Result<Value, String> {
    let text = text(response, "/body")?;
    serde_json::from_str(&text).map_err(|e| format!("body is not JSON ({e}): {text}"))
}

/// Seconds since the UNIX epoch.
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
