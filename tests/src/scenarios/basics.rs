//! The server is up, discovery is read, PKCE is S256, and the test clock
//! works.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{body, check, text, Ctx};

pub(super) async fn healthz(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let res = cx.request(&c, "GET", "/healthz", None).await?;
    check(res["status"] == 200, &format!("healthz: {res}"))?;
    check(
        !text(&res, "/headers/x-request-id")?.is_empty(),
        "X-Request-Id",
    )
}

pub(super) async fn discovery(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.sdk.client(json!({ "issuer": cx.target.issuer })).await?;
    let md = cx.sdk.ok("discover", json!({ "client": c })).await?;
    check(md["issuer"] == cx.target.issuer, &format!("issuer: {md}"))?;
    let s256 = md["code_challenge_methods_supported"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x == "S256"));
    check(s256, "S256 advertised")?;
    check(
        md["authorization_response_iss_parameter_supported"] == true,
        "RFC 9207 iss advertised",
    )?;
    check(
        text(&md, "/token_endpoint")?.starts_with(&cx.target.issuer),
        "token endpoint on the issuer",
    )
}

pub(super) async fn openid_configuration(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let md = cx.sdk.ok("discover", json!({ "client": c })).await?;
    let res = cx
        .request(&c, "GET", "/.well-known/openid-configuration", None)
        .await?;
    let oidc = body(&res)?;
    for member in [
        "issuer",
        "token_endpoint",
        "jwks_uri",
        "authorization_endpoint",
    ] {
        check(
            oidc[member] == md[member],
            &format!("{member} differs: {oidc}"),
        )?;
    }
    Ok(())
}

/// `pkce()` gives a fresh RFC 7636 verifier and its S256 challenge,
/// recomputed here from the RFC's definition.
pub(super) async fn pkce(cx: &mut Ctx<'_>) -> Result<(), String> {
    let a = cx.sdk.ok("pkce", json!({})).await?;
    let b = cx.sdk.ok("pkce", json!({})).await?;
    let verifier = text(&a, "/verifier")?;
    let unreserved = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
    check(
        (43..=128).contains(&verifier.len()) && verifier.chars().all(unreserved),
        &format!("verifier: {verifier}"),
    )?;
    check(a["method"] == "S256", "method S256")?;
    let s256 = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    check(
        a["challenge"] == s256.as_str(),
        &format!("challenge {} is not S256 of the verifier", a["challenge"]),
    )?;
    check(a["verifier"] != b["verifier"], "a fresh verifier per call")
}

/// The server's clock moves and the server believes it: a token the SDK
/// obtained is refused once the clock passes its expiry.
pub(super) async fn test_clock(cx: &mut Ctx<'_>) -> Result<(), String> {
    let c = cx.key_client().await?;
    let tokens = cx.sdk.ok("exchangeApiKey", json!({ "client": c })).await?;
    let token = text(&tokens, "/accessToken")?;
    let before = cx.web.get_as("/v1/api-keys", &token).await?;
    check(before.status == 200, "token accepted before")?;
    cx.web.advance_clock(601).await?;
    let after = cx.web.get_as("/v1/api-keys", &token).await;
    cx.web.advance_clock(-601).await?;
    let after = after?;
    check(
        after.status == 401,
        &format!("expired token refused: {}", after.body),
    )?;
    let after: Value = after.json()?;
    check(
        after["code"] == "invalid_token",
        &format!("expired token refused: {after}"),
    )
}
