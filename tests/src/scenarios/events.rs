//! Webhooks the server really delivers (to the runner's loopback receiver)
//! verified by the SDK on the raw body, and the app API's idempotent
//! messages.

use serde_json::{json, Value};

use super::login::{sign_in, subject};
use super::{check, expect_error, now_secs, text, Ctx};
use crate::receiver::{Delivery, Receiver};

/// A valid secret that signed nothing here: the other half of a rotation.
const OTHER_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Registers the receiver for `events` with the account; returns the
/// endpoint `(id, secret)`.
async fn subscribe(
    cx: &mut Ctx<'_>,
    c: &str,
    receiver: &Receiver,
    events: &[&str],
) -> Result<(String, String), String> {
    let hook = json!([{"url": receiver.url, "events": events}]);
    let hook = cx.sdk.call(c, "webhooks.create", hook).await?;
    Ok((text(&hook, "/id")?, text(&hook, "/secret")?))
}

/// `verifyWebhook` over a delivery as received.
fn verify_args(secrets: &[&str], d: &Delivery, body: &str) -> Value {
    json!({"secrets": secrets, "headers": d.headers, "body": body})
}

/// `verifyWebhook` arguments for a message the SDK signs (`signWebhook`)
/// as sent at `timestamp`.
async fn signed_message(cx: &mut Ctx<'_>, secret: &str, timestamp: u64) -> Result<Value, String> {
    let (id, body) = ("msg_conformance", r#"{"type":"key.created","data":{}}"#);
    let sign = json!({"secrets": [secret], "id": id, "timestamp": timestamp, "body": body});
    let signature = cx.sdk.ok("signWebhook", sign).await?;
    let headers = json!({
        "webhook-id": id,
        "webhook-timestamp": timestamp.to_string(),
        "webhook-signature": signature,
    });
    Ok(json!({"secrets": [secret], "headers": headers, "body": body}))
}

pub(super) async fn webhook_delivery(cx: &mut Ctx<'_>) -> Result<(), String> {
    let mut receiver = Receiver::start().await?;
    let c = cx.key_client().await?;
    let (hook, secret) = subscribe(cx, &c, &receiver, &["key.created"]).await?;
    let new = json!([{"name": cx.unique("hooked"), "preset": "read"}]);
    let key = text(&cx.sdk.call(&c, "apiKeys.create", new).await?, "/id")?;
    let d = receiver.next_containing(&key).await?;

    let v = cx
        .sdk
        .ok("verifyWebhook", verify_args(&[&secret], &d, &d.body))
        .await?;
    check(
        v["payload"]["type"] == "key.created",
        &format!("event type: {v}"),
    )?;
    check(
        v["id"].as_str() == d.headers.get("webhook-id").map(String::as_str),
        "webhook-id",
    )?;
    let rotating = [OTHER_SECRET, secret.as_str()];
    cx.sdk
        .ok("verifyWebhook", verify_args(&rotating, &d, &d.body))
        .await?;
    let changed = d.body.replace(&key, "key_forged");
    let e = cx
        .sdk
        .err("verifyWebhook", verify_args(&[&secret], &d, &changed))
        .await?;
    expect_error(&e, "WebhookVerificationError", "invalid_signature", None)?;
    let e = cx
        .sdk
        .err("verifyWebhook", verify_args(&[OTHER_SECRET], &d, &d.body))
        .await?;
    expect_error(&e, "WebhookVerificationError", "invalid_signature", None)?;

    // What the SDK signs it verifies, within the tolerance only.
    let fresh = signed_message(cx, &secret, now_secs()).await?;
    cx.sdk.ok("verifyWebhook", fresh).await?;
    let stale = signed_message(cx, &secret, now_secs() - 3600).await?;
    let e = cx.sdk.err("verifyWebhook", stale).await?;
    expect_error(
        &e,
        "WebhookVerificationError",
        "timestamp_out_of_tolerance",
        None,
    )?;
    cx.sdk.call(&c, "webhooks.delete", json!([hook])).await?;
    cx.sdk
        .call(&c, "apiKeys.revoke", json!([key]))
        .await
        .map(drop)
}

pub(super) async fn messages_idempotency(cx: &mut Ctx<'_>) -> Result<(), String> {
    let mut receiver = Receiver::start().await?;
    let c = cx.key_client().await?;
    let (hook, secret) = subscribe(cx, &c, &receiver, &["message.delivered"]).await?;
    // An app that may message the users who approved it, and one who did.
    let redirect = "https://app.example/cb";
    let new = json!([{
        "name": cx.unique("app"),
        "redirectUris": [redirect],
        "allowedOrigins": [],
        "public": false,
        "scopes": ["messages.send", "identity.read"],
    }]);
    let app = cx.sdk.call(&c, "apps.create", new).await?;
    let (app_id, app_secret) = (text(&app, "/id")?, text(&app, "/clientSecret")?);
    let app_config =
        json!({"issuer": cx.target.issuer, "clientId": app_id, "clientSecret": app_secret});
    let mut config = app_config.clone();
    config["redirectUri"] = redirect.into();
    let user = cx.sdk.client(config).await?;
    let tokens = sign_in(cx, &user, json!(["identity.read"])).await?;
    let slug = subject(cx, &user, &tokens).await?;

    let mut config = app_config;
    config["renewal"] = "client_credentials".into();
    config["scopes"] = json!(["messages.send"]);
    let sender = cx.sdk.client(config).await?;
    let key = cx.unique("message");
    let message = json!({"to": slug, "body": "hello from the conformance runner"});
    let first = cx
        .sdk
        .call(&sender, "app.sendMessage", json!([message, key]))
        .await?;
    check(first["status"] == "delivered", &format!("sent: {first}"))?;
    let again = cx
        .sdk
        .call(&sender, "app.sendMessage", json!([message, key]))
        .await?;
    check(
        again["id"] == first["id"],
        &format!("a replay returns the first message: {again}"),
    )?;
    let changed = json!([{"to": slug, "body": "another body"}, key]);
    let e = cx.sdk.call_err(&sender, "app.sendMessage", changed).await?;
    expect_error(&e, "ApiError", "idempotency_conflict", Some(422))?;

    let id = text(&first, "/id")?;
    let d = receiver.next_containing(&id).await?;
    let v = cx
        .sdk
        .ok("verifyWebhook", verify_args(&[&secret], &d, &d.body))
        .await?;
    check(
        v["payload"]["type"] == "message.delivered" && v["payload"]["data"]["id"] == id.as_str(),
        &format!("delivery event: {v}"),
    )?;
    cx.sdk.call(&c, "webhooks.delete", json!([hook])).await?;
    cx.sdk
        .call(&c, "apps.delete", json!([app_id]))
        .await
        .map(drop)
}
