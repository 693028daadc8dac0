//! AI agents: a token request signed with the agent key (RFC 9421, the SDK
//! signs and verifies), the token verified offline and by the server, its
//! revocation, and a policy that denies issuance.

use serde_json::{json, Value};

use super::{check, expect_error, text, Ctx};

/// The audience the agent asks for.
const SERVICE: &str = "svc.conformance";

/// A new agent of the full key's account: `(client, agent)`.
async fn new_agent(cx: &mut Ctx<'_>) -> Result<(String, Value), String> {
    let c = cx.key_client().await?;
    let agent = cx
        .sdk
        .call(&c, "agents.create", json!([{ "name": cx.unique("agent") }]))
        .await?;
    check(
        text(&agent, "/agentKey")?.starts_with("sgl_ask_"),
        "the agent key, once",
    )?;
    Ok((c, agent))
}

pub(super) async fn signed_token(cx: &mut Ctx<'_>) -> Result<(), String> {
    let (c, agent) = new_agent(cx).await?;
    let (id, key) = (text(&agent, "/id")?, text(&agent, "/agentKey")?);
    let body = json!({
        "agent_id": id,
        "scope": ["keys.read"],
        "ttl": 120,
        "target_service": SERVICE,
        "intent": "conformance",
    });
    let mut request = json!({
        "method": "POST",
        "url": format!("{}/v1/tokens", cx.target.issuer),
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
    });
    let options = json!({"keyId": id, "key": key, "expiresIn": 60});
    let signed = cx
        .sdk
        .ok(
            "signRequest",
            json!({"request": request, "options": options}),
        )
        .await?;
    for name in ["content-digest", "signature-input", "signature"] {
        let value = signed[name]
            .as_str()
            .ok_or(format!("no {name} header: {signed}"))?;
        request["headers"][name] = value.into();
    }

    // The SDK verifies what it signed with the agent's public key, and
    // refuses the same signature over another body.
    let keys = json!({ id.clone(): { "key": agent["publicKey"] } });
    let options = json!({
        "keys": keys,
        "requiredComponents": ["@method", "@target-uri", "content-digest"],
        "requireNonce": true,
    });
    let verified = cx
        .sdk
        .ok(
            "verifyRequest",
            json!({"request": request, "options": options}),
        )
        .await?;
    check(
        verified["keyId"] == id.as_str(),
        &format!("keyid: {verified}"),
    )?;
    let mut tampered = request.clone();
    tampered["body"] = body.to_string().replace("conformance", "escalation").into();
    let e = cx
        .sdk
        .err(
            "verifyRequest",
            json!({"request": tampered, "options": options}),
        )
        .await?;
    expect_error(&e, "SignatureError", "digest_mismatch", None)?;

    // The agent sends the signed request itself; a replay is refused.
    let headers: Vec<(&str, &str)> = request["headers"]
        .as_object()
        .ok_or("headers")?
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
        .collect();
    let send = || {
        cx.web
            .send("POST", "/v1/tokens", &headers, body.to_string())
    };
    let issued = send().await?;
    check(
        issued.status == 201,
        &format!("signed issuance: HTTP {}: {}", issued.status, issued.body),
    )?;
    let issued = issued.json()?;
    let replay = send().await?;
    check(
        replay.status == 401 && replay.body.contains("replayed_nonce"),
        &format!("replayed signature: {}", replay.body),
    )?;
    let (token, jti) = (text(&issued, "/data/token")?, text(&issued, "/data/jti")?);

    let options =
        json!({"tokenType": "agent", "audience": SERVICE, "requiredScopes": ["keys.read"]});
    let claims = cx
        .sdk
        .ok(
            "verifyToken",
            json!({"client": c, "token": token, "options": options}),
        )
        .await?;
    check(
        claims["agent_id"] == id.as_str() && claims["jti"] == jti.as_str(),
        &format!("agent claims: {claims}"),
    )?;
    let verdict = cx.sdk.call(&c, "tokens.verify", json!([token])).await?;
    check(
        verdict["valid"] == true,
        &format!("valid at the server: {verdict}"),
    )?;
    cx.sdk.call(&c, "tokens.revoke", json!([jti])).await?;
    let verdict = cx.sdk.call(&c, "tokens.verify", json!([token])).await?;
    check(
        verdict["valid"] == false && verdict["reason"] == "token_revoked",
        &format!("revoked: {verdict}"),
    )?;
    cx.sdk
        .call(&c, "agents.revoke", json!([id]))
        .await
        .map(drop)
}

pub(super) async fn policy_denied(cx: &mut Ctx<'_>) -> Result<(), String> {
    let (c, agent) = new_agent(cx).await?;
    let id = text(&agent, "/id")?;
    let rule = json!({"effect": "deny", "match": {"agents": [id]}});
    let policy = json!([{"name": cx.unique("deny"), "priority": 10000, "rules": [rule]}]);
    let policy = cx.sdk.call(&c, "policies.create", policy).await?;
    let issue = json!([{"agent_id": id, "scope": ["keys.read"], "target_service": SERVICE}]);
    let e = cx.sdk.call_err(&c, "tokens.issue", issue.clone()).await?;
    expect_error(&e, "ApiError", "policy_denied", Some(403))?;
    cx.sdk
        .call(&c, "policies.delete", json!([text(&policy, "/id")?]))
        .await?;
    let issued = cx.sdk.call(&c, "tokens.issue", issue).await?;
    check(
        issued["status"] == "issued",
        &format!("issued once the policy is gone: {issued}"),
    )?;
    cx.sdk
        .call(&c, "agents.revoke", json!([id]))
        .await
        .map(drop)
}
