//! The authorization-code flow with PKCE, run headlessly: the SDK builds the
//! authorization URL and handles the callback; the runner plays the user on
//! the HTML pages ([`crate::browser`]). Then the session it leaves: renewal
//! near expiry with rotation, reuse detection, refresh-and-replay on 401,
//! and logout.

use serde_json::{json, Value};

use super::{check, expect_error, now_secs, text, Ctx};
use crate::browser;

/// The scope the public fixture app is granted in these scenarios.
const SCOPE: &str = "identity.read";

/// A client of the public fixture app (PKCE, no secret).
async fn spa_client(cx: &mut Ctx<'_>) -> Result<String, String> {
    let k = &cx.target.known;
    let config = json!({
        "issuer": cx.target.issuer,
        "clientId": k.public_app_id,
        "redirectUri": k.public_redirect,
    });
    cx.sdk.client(config).await
}

/// The SDK builds the authorization URL (checked: S256 challenge, `state`,
/// no verifier); the user signs in and decides; returns the callback URL
/// (checked: `state` and RFC 9207 `iss` carried back).
async fn authorize(
    cx: &mut Ctx<'_>,
    client: &str,
    scopes: Value,
    decision: &str,
) -> Result<String, String> {
    let args = json!({"client": client, "options": {"scopes": scopes}});
    let start = cx.sdk.ok("authorizationUrl", args).await?;
    let (url, state) = (text(&start, "/url")?, text(&start, "/state")?);
    let q = query(&url)?;
    check(
        q("code_challenge_method").as_deref() == Some("S256"),
        "S256 challenge method",
    )?;
    check(
        q("code_challenge").is_some_and(|c| c.len() == 43),
        "a 43-character S256 challenge",
    )?;
    check(
        q("state").as_deref() == Some(state.as_str()),
        "state on the URL",
    )?;
    check(
        q("code_verifier").is_none(),
        "the verifier stays in the SDK",
    )?;
    let email = cx
        .target
        .known
        .user_email
        .as_deref()
        .ok_or("no user to sign in as")?;
    let back = browser::authorize(&cx.target.issuer, &url, email, decision).await?;
    let q = query(&back)?;
    check(
        q("state").as_deref() == Some(state.as_str()),
        "state carried back",
    )?;
    check(
        q("iss").as_deref() == Some(cx.target.issuer.as_str()),
        "RFC 9207 iss on the callback",
    )?;
    Ok(back)
}

/// A signed-in session on `client`: approve, then the SDK handles the
/// callback; returns the tokens.
pub(super) async fn sign_in(
    cx: &mut Ctx<'_>,
    client: &str,
    scopes: Value,
) -> Result<Value, String> {
    let back = authorize(cx, client, scopes, "approve").await?;
    cx.sdk
        .ok("handleCallback", json!({"client": client, "url": back}))
        .await
}

/// A URL's query parameters, by name.
fn query(url: &str) -> Result<impl Fn(&str) -> Option<String>, String> {
    let url = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    Ok(move |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// `tokens` stored with an expiry `seconds` from now, as a session restored
/// from storage close to its expiry would be.
async fn store_expiring(
    cx: &mut Ctx<'_>,
    client: &str,
    tokens: &Value,
    seconds: u64,
) -> Result<(), String> {
    let mut tokens = tokens.clone();
    tokens["expiresAt"] = (now_secs() + seconds).into();
    cx.sdk
        .ok("setTokens", json!({"client": client, "tokens": tokens}))
        .await
        .map(drop)
}

/// The user's slug at the app, from the access token's `sub` (verified offline).
pub(super) async fn subject(
    cx: &mut Ctx<'_>,
    client: &str,
    tokens: &Value,
) -> Result<String, String> {
    let args = json!({"client": client, "token": tokens["accessToken"]});
    let claims = cx.sdk.ok("verifyToken", args).await?;
    check(
        claims["session_type"] == "user",
        &format!("a user token: {claims}"),
    )?;
    text(&claims, "/sub")
}

/// `POST /app/v1/identity/lookup` for the user themself, through the session.
async fn lookup(cx: &mut Ctx<'_>, client: &str, sub: &str) -> Result<Value, String> {
    let body = json!({ "userId": sub }).to_string();
    let res = cx
        .request(client, "POST", "/app/v1/identity/lookup", Some(&body))
        .await?;
    check(res["status"] == 200, &format!("identity lookup: {res}"))?;
    Ok(res)
}

pub(super) async fn code_flow(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = spa_client(cx).await?;
    let back = authorize(cx, &c, json!([SCOPE]), "approve").await?;
    let tokens = cx
        .sdk
        .ok("handleCallback", json!({"client": c, "url": back}))
        .await?;
    check(
        tokens["scope"] == SCOPE,
        &format!("granted scope: {tokens}"),
    )?;
    check(tokens["refreshToken"].is_string(), "a refresh token")?;
    let stored = cx.sdk.ok("tokens", json!({"client": c})).await?;
    check(
        stored["accessToken"] == tokens["accessToken"],
        "the session holds the tokens",
    )?;
    let sub = subject(cx, &c, &tokens).await?;
    check(
        sub.starts_with("pw_"),
        &format!("a pairwise subject, got {sub}"),
    )?;
    let res = lookup(cx, &c, &sub).await?;
    check(
        super::body(&res)?["data"]["slug"] == sub.as_str(),
        "the slug is the sub",
    )?;
    // The pending transaction was spent: the same callback cannot be replayed.
    let e = cx
        .sdk
        .err("handleCallback", json!({"client": c, "url": back}))
        .await?;
    expect_error(&e, "SigilError", "state_mismatch", None)
}

pub(super) async fn access_denied(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = spa_client(cx).await?;
    let back = authorize(cx, &c, json!([SCOPE]), "deny").await?;
    let e = cx
        .sdk
        .err("handleCallback", json!({"client": c, "url": back}))
        .await?;
    expect_error(&e, "OAuthError", "access_denied", None)?;
    let stored = cx.sdk.ok("tokens", json!({"client": c})).await?;
    check(
        stored.is_null(),
        &format!("no session after a denial: {stored}"),
    )
}

pub(super) async fn refresh_rotation(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = spa_client(cx).await?;
    let first = sign_in(cx, &c, json!([SCOPE])).await?;
    store_expiring(cx, &c, &first, 5).await?;
    let renewed = cx.sdk.ok("accessToken", json!({"client": c})).await?;
    check(
        renewed != first["accessToken"],
        "renewed within the skew window",
    )?;
    let second = cx.sdk.ok("tokens", json!({"client": c})).await?;
    check(
        second["accessToken"] == renewed,
        "the renewed token is stored",
    )?;
    check(
        second["refreshToken"].is_string() && second["refreshToken"] != first["refreshToken"],
        "the refresh token rotated",
    )?;
    // Someone replays the spent refresh token: refused, and the family revoked.
    let replayer = spa_client(cx).await?;
    store_expiring(cx, &replayer, &first, 5).await?;
    let e = cx
        .sdk
        .err("accessToken", json!({"client": replayer}))
        .await?;
    expect_error(&e, "LoginRequiredError", "invalid_grant", Some(400))?;
    store_expiring(cx, &c, &second, 5).await?;
    let e = cx.sdk.err("accessToken", json!({"client": c})).await?;
    expect_error(&e, "LoginRequiredError", "invalid_grant", Some(400))?;
    let stored = cx.sdk.ok("tokens", json!({"client": c})).await?;
    check(stored.is_null(), "the session ended with its family")
}

/// Callers of one session at once, as an app's concurrent handlers.
const CONCURRENT_CALLERS: usize = 50;

/// `CONCURRENT_CALLERS` concurrent `accessToken()` calls on a user session
/// inside the skew window: one refresh-token grant reaches the server (its
/// own request count), every caller gets the one renewed token, and the
/// refresh token rotated once (the renewed one still works).
pub(super) async fn single_flight_refresh(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = spa_client(cx).await?;
    let first = sign_in(cx, &c, json!([SCOPE])).await?;
    store_expiring(cx, &c, &first, 5).await?;
    let before = cx.web.requests("POST", "/oauth/token").await?;
    let tokens = cx
        .sdk
        .ok(
            "concurrentAccessTokens",
            json!({"client": c, "count": CONCURRENT_CALLERS}),
        )
        .await?;
    // The count is the whole server's: valid because the runner runs one
    // scenario at a time.
    let after = cx.web.requests("POST", "/oauth/token").await?;
    let refreshes = after
        .checked_sub(before)
        .ok_or("the server's count went down")?;
    check(
        refreshes == 1,
        &format!("{CONCURRENT_CALLERS} callers sent {refreshes} token requests, not 1"),
    )?;
    let tokens = tokens
        .as_array()
        .ok_or("concurrentAccessTokens: not a list")?;
    check(tokens.len() == CONCURRENT_CALLERS, "one token per caller")?;
    check(
        tokens.iter().all(|t| t == &tokens[0]) && tokens[0] != first["accessToken"],
        "every caller got the one renewed token",
    )?;
    let held = cx.sdk.ok("tokens", json!({"client": c})).await?;
    check(
        held["accessToken"] == tokens[0],
        "the renewed token is stored",
    )?;
    check(
        held["refreshToken"].is_string() && held["refreshToken"] != first["refreshToken"],
        "the refresh token rotated",
    )?;
    // The rotated refresh token renews again: no caller spent it, and the
    // family was never revoked by a replay of the first one.
    store_expiring(cx, &c, &held, 5).await?;
    let again = cx.sdk.ok("accessToken", json!({"client": c})).await?;
    check(
        again != tokens[0] && cx.web.requests("POST", "/oauth/token").await? == before + 2,
        "the rotated refresh token renews once more",
    )
}

/// The server's clock passes the access tokens' expiry while the SDK still
/// holds them as fresh: its request gets a 401, renews once and replays,
/// for a user session (refresh token) and an API-key session (re-exchange).
pub(super) async fn refresh_on_401(cx: &mut Ctx<'_>) -> Result<(), String> {
    let user = spa_client(cx).await?;
    let tokens = sign_in(cx, &user, json!([SCOPE])).await?;
    let sub = subject(cx, &user, &tokens).await?;
    let key = cx.key_client().await?;
    cx.request(&key, "GET", "/v1/api-keys", None).await?;
    let key_tokens = cx.sdk.ok("tokens", json!({"client": key})).await?;
    cx.web.advance_clock(601).await?;
    let outcome = replay_after_expiry(cx, &user, &sub, &key).await;
    cx.web.advance_clock(-601).await?;
    let (user_after, key_after) = outcome?;
    check(
        user_after["accessToken"] != tokens["accessToken"],
        "user session renewed",
    )?;
    check(
        user_after["refreshToken"] != tokens["refreshToken"],
        "refresh token rotated",
    )?;
    check(
        key_after["accessToken"] != key_tokens["accessToken"],
        "key session renewed",
    )
}

async fn replay_after_expiry(
    cx: &mut Ctx<'_>,
    user: &str,
    sub: &str,
    key: &str,
) -> Result<(Value, Value), String> {
    lookup(cx, user, sub).await?;
    let res = cx.request(key, "GET", "/v1/api-keys", None).await?;
    check(
        res["status"] == 200,
        &format!("key session after expiry: {res}"),
    )?;
    let user_after = cx.sdk.ok("tokens", json!({"client": user})).await?;
    let key_after = cx.sdk.ok("tokens", json!({"client": key})).await?;
    Ok((user_after, key_after))
}

pub(super) async fn logout(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = spa_client(cx).await?;
    let tokens = sign_in(cx, &c, json!([SCOPE])).await?;
    cx.sdk.ok("logout", json!({"client": c})).await?;
    let stored = cx.sdk.ok("tokens", json!({"client": c})).await?;
    check(stored.is_null(), "tokens forgotten")?;
    let bearer = format!("Bearer {}", text(&tokens, "/accessToken")?);
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let res = cx
        .web
        .send("POST", "/app/v1/identity/lookup", &headers, "{}")
        .await?;
    check(
        res.status == 401,
        &format!("access token revoked: {}", res.body),
    )?;
    let other = spa_client(cx).await?;
    store_expiring(cx, &other, &tokens, 5).await?;
    let e = cx.sdk.err("accessToken", json!({"client": other})).await?;
    expect_error(&e, "LoginRequiredError", "invalid_grant", Some(400))
}
