//! API keys and the grants a backend uses: key exchange, client
//! credentials, RFC 8693 token exchange, introspection, revocation, and
//! offline verification against the JWKS.

use serde_json::{json, Value};

use super::{check, expect_error, text, Ctx};

pub(super) const API_KEY_TOKEN_TYPE: &str = "urn:sigil:params:oauth:token-type:api_key";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

pub(super) async fn key_exchange(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let key = cx.target.known.full_key.clone();
    let t = cx
        .sdk
        .ok("exchangeApiKey", json!({"client": c, "apiKey": key}))
        .await?;
    check(!text(&t, "/accessToken")?.is_empty(), "access token")?;
    check(
        t["expiresAt"].as_u64() > Some(super::now_secs()),
        "expiry in the future",
    )?;
    // Without a key argument: the session's own token, cached between calls.
    let first = cx.sdk.ok("exchangeApiKey", json!({"client": c})).await?;
    let again = cx.sdk.ok("exchangeApiKey", json!({"client": c})).await?;
    check(
        first["accessToken"] == again["accessToken"],
        "session token cached",
    )?;
    // What the SDK saves the caller from: the call without a credential.
    let anonymous = cx.web.get("/v1/api-keys").await?;
    let refused = anonymous.status == 401
        && anonymous.json()?["code"] == "missing_credentials"
        && anonymous.header("www-authenticate").is_some();
    check(refused, &format!("no credential: {}", anonymous.body))?;
    let res = cx.request(&c, "GET", "/v1/api-keys", None).await?;
    check(
        res["status"] == 200,
        &format!("the key session lists keys: {res}"),
    )
}

pub(super) async fn key_lifecycle(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let new = json!([{"name": cx.unique("key"), "preset": "read", "expiresInDays": 1}]);
    let created = cx.sdk.call(&c, "apiKeys.create", new).await?;
    let secret = text(&created, "/key")?;
    let id = text(&created, "/id")?;
    let listed = cx
        .sdk
        .call(&c, "apiKeys.list", json!([]))
        .await?
        .to_string();
    check(!listed.contains(&secret), "lists are masked")?;
    check(listed.contains(&secret[..12]), "lists show the prefix")?;
    cx.sdk.call(&c, "apiKeys.revoke", json!([id])).await?;
    let e = cx
        .sdk
        .err("exchangeApiKey", json!({"client": c, "apiKey": secret}))
        .await?;
    expect_error(&e, "ApiError", "invalid_token", Some(401))
}

pub(super) async fn client_credentials(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.app_client().await?;
    let t = cx
        .sdk
        .ok(
            "clientCredentials",
            json!({"client": c, "scopes": ["keys.read"]}),
        )
        .await?;
    check(t["scope"] == "keys.read", &format!("narrowed scope: {t}"))?;
    check(
        t.get("refreshToken").is_none(),
        "no refresh token for an app",
    )?;
    let e = cx
        .sdk
        .err(
            "clientCredentials",
            json!({"client": c, "scopes": ["account.write"]}),
        )
        .await?;
    expect_error(&e, "OAuthError", "invalid_scope", Some(400))
}

pub(super) async fn introspect_revoke(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.app_client().await?;
    let t = cx.sdk.ok("clientCredentials", json!({"client": c})).await?;
    let token = text(&t, "/accessToken")?;
    let i = cx
        .sdk
        .ok("introspect", json!({"client": c, "token": token}))
        .await?;
    check(i["active"] == true, &format!("active: {i}"))?;
    check(
        i["client_id"] == cx.target.known.app_id.as_str(),
        "client_id",
    )?;
    let revoke = json!({"client": c, "token": token, "hint": "access_token"});
    cx.sdk.ok("revoke", revoke).await?;
    let i = cx
        .sdk
        .ok("introspect", json!({"client": c, "token": token}))
        .await?;
    check(i["active"] == false, &format!("inactive after revoke: {i}"))?;
    let bearer = format!("Bearer {token}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let refused = cx
        .web
        .send("POST", "/app/v1/identity/lookup", &headers, "{}")
        .await?;
    check(
        refused.status == 401,
        &format!("revoked token refused: {}", refused.body),
    )
}

pub(super) async fn token_exchange(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.app_client().await?;
    let options = json!({
        "subjectToken": cx.target.known.full_key,
        "subjectTokenType": API_KEY_TOKEN_TYPE,
        "scopes": ["keys.read"],
    });
    let t = cx
        .sdk
        .ok("tokenExchange", json!({"client": c, "options": options}))
        .await?;
    check(
        t["issuedTokenType"] == ACCESS_TOKEN_TYPE,
        &format!("issued_token_type: {t}"),
    )?;
    check(t["scope"] == "keys.read", "requested scope")?;
    let listed = cx
        .web
        .get_as("/v1/api-keys", &text(&t, "/accessToken")?)
        .await?;
    check(listed.status == 200, "the exchanged token works")
}

pub(super) async fn jwks_verify(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let t = cx.sdk.ok("exchangeApiKey", json!({"client": c})).await?;
    let token = text(&t, "/accessToken")?;
    let issuer = cx.target.issuer.clone();
    let verify =
        |token: &str, options: Value| json!({"client": c, "token": token, "options": options});
    let options = json!({"audience": issuer, "requiredScopes": ["keys.read"]});
    let claims = cx.sdk.ok("verifyToken", verify(&token, options)).await?;
    check(
        claims["iss"] == issuer.as_str() && claims["jti"].is_string(),
        &format!("claims: {claims}"),
    )?;
    let tampered = tampered(&token)?;
    let cases = [
        (tampered.as_str(), json!({}), "invalid_signature"),
        (
            token.as_str(),
            json!({"requiredScopes": ["no.such"]}),
            "insufficient_scope",
        ),
        (
            token.as_str(),
            json!({"audience": "https://elsewhere.example"}),
            "invalid_audience",
        ),
    ];
    for (token, options, code) in cases {
        let e = cx.sdk.err("verifyToken", verify(token, options)).await?;
        expect_error(&e, "TokenError", code, None)?;
    }
    Ok(())
}

/// A `TokenVerifier` over a JWKS the app fetched once: it checks the token
/// with no request of its own, and refuses a tampered signature, a key the
/// JWKS lacks, and the token once `now` is past its expiry.
pub(super) async fn token_verifier(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let t = cx.sdk.ok("exchangeApiKey", json!({"client": c})).await?;
    let token = text(&t, "/accessToken")?;
    let issuer = cx.target.issuer.clone();
    let jwks = cx.web.get("/.well-known/jwks.json").await?.json()?;
    let verify = |jwks: &Value, token: &str, now: Option<i64>| {
        json!({"jwks": jwks, "token": token, "now": now,
               "options": {"issuer": issuer, "audience": issuer, "requiredScopes": ["keys.read"]}})
    };
    let before = jwks_requests(cx).await?;
    let claims = cx
        .sdk
        .ok("verifyOffline", verify(&jwks, &token, None))
        .await?;
    check(
        claims["iss"] == issuer.as_str() && claims["jti"].is_string(),
        &format!("claims: {claims}"),
    )?;
    let after = jwks_requests(cx).await?;
    check(
        after == before,
        &format!("the verifier fetched the JWKS: {before:?} -> {after:?} requests"),
    )?;
    let tampered = tampered(&token)?;
    let e = cx
        .sdk
        .err("verifyOffline", verify(&jwks, &tampered, None))
        .await?;
    expect_error(&e, "TokenError", "invalid_signature", None)?;
    let empty = json!({"keys": []});
    let e = cx
        .sdk
        .err("verifyOffline", verify(&empty, &token, None))
        .await?;
    expect_error(&e, "TokenError", "unknown_key", None)?;
    let exp = claims["exp"].as_i64().ok_or("no exp claim")?;
    let e = cx
        .sdk
        .err("verifyOffline", verify(&jwks, &token, Some(exp + 3600)))
        .await?;
    expect_error(&e, "TokenExpiredError", "token_expired", None)
}

/// The JWS with one character of its signature changed.
fn tampered(token: &str) -> Result<String, String> {
    let (head, sig) = token.rsplit_once('.').ok_or("not a JWS")?;
    let flipped = if sig.as_bytes()[10] == b'A' { 'B' } else { 'A' };
    Ok(format!("{head}.{}{flipped}{}", &sig[..10], &sig[11..]))
}

/// The server's count of JWKS requests, on the runner's own server only: a
/// deployment (`--url`) also serves other clients, or runs several nodes.
async fn jwks_requests(cx: &Ctx<'_>) -> Result<Option<u64>, String> {
    if cx.target.launcher.is_none() {
        return Ok(None);
    }
    cx.web
        .requests("GET", "/.well-known/jwks.json")
        .await
        .map(Some)
}
