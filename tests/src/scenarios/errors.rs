//! Every error status of SYSTEM.md's list, read by the SDK as the right typed
//! error (class, code, status and the server's request id), each triggered
//! through an ordinary SDK call.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{check, expect_error, Ctx};

pub(super) async fn unknown_route(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let e = cx.request_err(&c, "GET", "/no-such-route", None).await?;
    expect_error(&e, "ApiError", "not_found", Some(404))
}

/// 400, 401 `invalid_token`, 403, 404, 409 and 422 from the management API.
pub(super) async fn api_statuses(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let e = cx
        .request_err(&c, "POST", "/v1/api-keys", Some(r#"{"name":"#))
        .await?;
    expect_error(&e, "ApiError", "invalid_json", Some(400))?;
    let unknown = json!({"client": c, "apiKey": "sgl_test_unknown"});
    let e = cx.sdk.err("exchangeApiKey", unknown).await?;
    expect_error(&e, "ApiError", "invalid_token", Some(401))?;
    // No credential at all (the server's 401 `missing_credentials`, which
    // keys.exchange shows on a raw call): the SDK refuses before sending.
    let bare = cx.sdk.client(json!({"issuer": cx.target.issuer})).await?;
    let e = cx.request_err(&bare, "GET", "/v1/api-keys", None).await?;
    expect_error(&e, "LoginRequiredError", "not_authenticated", None)?;
    let config = json!({"issuer": cx.target.issuer, "apiKey": cx.target.known.narrow_key});
    let narrow = cx.sdk.client(config).await?;
    let e = cx
        .sdk
        .call_err(
            &narrow,
            "apiKeys.create",
            json!([{"name": cx.unique("denied")}]),
        )
        .await?;
    expect_error(&e, "ApiError", "insufficient_scope", Some(403))?;
    let e = cx
        .sdk
        .call_err(&c, "apiKeys.get", json!(["key_missing"]))
        .await?;
    expect_error(&e, "ApiError", "not_found", Some(404))?;
    let public = cx.target.known.public_app_id.clone();
    let e = cx
        .sdk
        .call_err(&c, "apps.rotateSecret", json!([public]))
        .await?;
    expect_error(&e, "ApiError", "public_client", Some(409))?;
    let e = cx
        .sdk
        .call_err(
            &c,
            "apiKeys.create",
            json!([{"name": "", "preset": "read"}]),
        )
        .await?;
    expect_error(&e, "ApiError", "validation_failed", Some(422))
}

/// The RFC 6749 errors of `/oauth/token`, each as an `OAuthError`.
pub(super) async fn oauth_token_endpoint(cx: &mut Ctx<'_>) -> Result<(), String> {
    let k = &cx.target.known;
    let wrong =
        json!({"issuer": cx.target.issuer, "clientId": k.app_id, "clientSecret": "sgl_cs_wrong"});
    let wrong = cx.sdk.client(wrong).await?;
    let e = cx
        .sdk
        .err("clientCredentials", json!({"client": wrong}))
        .await?;
    expect_error(&e, "OAuthError", "invalid_client", Some(401))?;

    // A public client (no secret) may not use client_credentials: the
    // server's `unauthorized_client`, which the SDK refuses before sending.
    let public = json!({"issuer": cx.target.issuer, "clientId": k.public_app_id});
    let public = cx.sdk.client(public).await?;
    let e = cx
        .sdk
        .err("clientCredentials", json!({"client": public}))
        .await?;
    expect_error(&e, "InvalidInputError", "invalid_input", None)?;

    let app = cx.app_client().await?;
    let broad = json!({"client": app, "scopes": ["account.write"]});
    let e = cx.sdk.err("clientCredentials", broad).await?;
    expect_error(&e, "OAuthError", "invalid_scope", Some(400))?;

    let options = json!({
        "subjectToken": "sgl_test_unknown",
        "subjectTokenType": super::grants::API_KEY_TOKEN_TYPE,
    });
    let e = cx
        .sdk
        .err("tokenExchange", json!({"client": app, "options": options}))
        .await?;
    expect_error(&e, "OAuthError", "invalid_grant", Some(400))?;

    // Sigil exchanges API keys only; an access token as the subject is refused.
    let options = json!({"subjectToken": "not-a-key"});
    let e = cx
        .sdk
        .err("tokenExchange", json!({"client": app, "options": options}))
        .await?;
    expect_error(&e, "OAuthError", "invalid_request", Some(400))
}

/// 429 with `Retry-After`, on a second server whose per-credential limit is
/// one request per second: with retries off the SDK raises
/// `RateLimitError` carrying `retryAfter`; with retries on it waits as told
/// and gets through.
pub(super) async fn rate_limit(cx: &mut Ctx<'_>) -> Result<(), String> {
    let launcher = cx
        .target
        .launcher
        .as_ref()
        .ok_or("needs a second test-mode server")?;
    let server = launcher
        .start(&["--key-rate-per-sec", "1", "--key-rate-burst", "1"])
        .await?;
    let key = cx.target.known.full_key.clone();
    let config =
        |retries: u32| json!({"issuer": server.issuer, "apiKey": key, "maxRetries": retries});
    let impatient = cx.sdk.client(config(0)).await?;
    cx.request(&impatient, "GET", "/v1/api-keys", None).await?;
    let e = cx
        .request_err(&impatient, "GET", "/v1/api-keys", None)
        .await?;
    expect_error(&e, "RateLimitError", "rate_limited", Some(429))?;
    check(
        e.retry_after.is_some_and(|s| s >= 1.0),
        &format!("retryAfter: {e:?}"),
    )?;

    let patient = cx.sdk.client(config(3)).await?;
    cx.request(&patient, "GET", "/v1/api-keys", None).await?;
    let started = Instant::now();
    let res = cx.request(&patient, "GET", "/v1/api-keys", None).await?;
    check(res["status"] == 200, "through after waiting")?;
    check(
        started.elapsed() >= Duration::from_secs(1),
        &format!(
            "answered after {:?}, before the Retry-After of 1 s",
            started.elapsed()
        ),
    )
}

/// 402 `quota_exceeded` on a second server whose plan allows one agent:
/// the second `agents.create` is an `ApiError` with the status and code.
pub(super) async fn plan_quota(cx: &mut Ctx<'_>) -> Result<(), String> {
    let launcher = cx
        .target
        .launcher
        .as_ref()
        .ok_or("needs a second test-mode server")?;
    let server = launcher.start(&["--plan-max-agents", "1"]).await?;
    let config = json!({"issuer": server.issuer, "apiKey": cx.target.known.full_key});
    let c = cx.sdk.client(config).await?;
    cx.sdk
        .call(&c, "agents.create", json!([{"name": cx.unique("first")}]))
        .await?;
    let e = cx
        .sdk
        .call_err(&c, "agents.create", json!([{"name": cx.unique("second")}]))
        .await?;
    expect_error(&e, "ApiError", "quota_exceeded", Some(402))
}
