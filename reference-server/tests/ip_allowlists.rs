//! IP allowlists on API keys against the real server: a key used from
//! outside its networks gets 403 `ip_not_allowed` (audited), from inside it
//! works, and `X-Forwarded-For` counts only from a `--trusted-proxy`.

mod common;

use serde_json::{json, Value};

/// `GET /v1/api-keys` with `key`, from behind `forwarded_for` if given.
async fn list(base: &str, key: &str, forwarded_for: Option<&str>) -> (u16, Value) {
    let mut req = http::Request::get(format!("{base}/v1/api-keys"))
        .header("authorization", format!("Bearer {key}"));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let (status, body, _) = common::send(req.body(Vec::new()).unwrap()).await;
    (status, body)
}

async fn key_with(s: &common::TestServer, admin: &str, allowed: Value) -> (String, String) {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(admin),
            Some(json!({ "name": "fenced", "preset": "read", "allowedIps": allowed })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["key"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_key_works_only_from_its_networks_and_refusals_are_audited() {
    let s = common::start().await;
    let (_, admin) = s.account("ops@example.com").await;
    let (id, outside) = key_with(&s, &admin, json!(["192.0.2.0/24", "2001:db8::/32"])).await;
    let (status, body) = list(&s.base, &outside, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ip_not_allowed")),
        "{body}"
    );
    // The exchange refuses it too.
    let (status, body, _) = s
        .call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(json!({ "apiKey": outside })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ip_not_allowed")),
        "{body}"
    );
    let (status, audit, _) = s
        .call("GET", "/v1/audit?type=key.ip_denied", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[0]["subject"], id.as_str());
    assert_eq!(entries[0]["data"]["ip"], "127.0.0.1");

    // Inside the list: it works; lifting the list (null) opens it.
    let (_, inside) = key_with(&s, &admin, json!(["127.0.0.1"])).await;
    let (status, body) = list(&s.base, &inside, None).await;
    assert_eq!(status, 200, "{body}");
    let shown = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        shown["allowedIps"],
        json!(["192.0.2.0/24", "2001:db8::/32"])
    );
    let (status, body, _) = s
        .call(
            "PATCH",
            &format!("/v1/api-keys/{id}"),
            Some(&admin),
            Some(json!({ "allowedIps": null })),
        )
        .await;
    assert_eq!(
        (status, &body["data"]["allowedIps"]),
        (200, &Value::Null),
        "{body}"
    );
    assert_eq!(list(&s.base, &outside, None).await.0, 200);
    let (status, body, _) = s
        .call(
            "PATCH",
            &format!("/v1/api-keys/{id}"),
            Some(&admin),
            Some(json!({ "allowedIps": ["10.0.0.0/8"] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(list(&s.base, &outside, None).await.0, 403);

    // Bad lists are 422.
    for bad in [
        json!([]),
        json!(["10.0.0.0/33"]),
        json!(["example.com"]),
        json!("10.0.0.0/8"),
    ] {
        let (status, body, _) = s
            .call(
                "POST",
                "/v1/api-keys",
                Some(&admin),
                Some(json!({ "name": "x", "allowedIps": bad })),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    // Behind a trusted proxy (the test's own loopback address).
    let mut config = sigil_server::Config::for_tests();
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let s = common::start_with(config).await;
    let (_, admin) = s.account("ops@example.com").await;
    let (_, key) = key_with(&s, &admin, json!(["192.0.2.0/24"])).await;
    assert_eq!(list(&s.base, &key, Some("192.0.2.44")).await.0, 200);
    // The client-written left part of the chain does not count.
    assert_eq!(
        list(&s.base, &key, Some("192.0.2.44, 198.51.100.7"))
            .await
            .0,
        403
    );
    assert_eq!(list(&s.base, &key, Some("198.51.100.7")).await.0, 403);

    // Without trusted proxies, a spoofed X-Forwarded-For changes nothing.
    let s = common::start().await;
    let (_, admin) = s.account("ops@example.com").await;
    let (_, key) = key_with(&s, &admin, json!(["192.0.2.0/24"])).await;
    let (status, body) = list(&s.base, &key, Some("192.0.2.44")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ip_not_allowed"))
    );
}
