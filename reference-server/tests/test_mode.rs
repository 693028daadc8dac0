//! Test mode: fixtures with known values, the controllable clock, and that
//! neither exists without `--test-mode`; plus metrics and CORS.

mod common;

use serde_json::{json, Value};
use sigil_server::Config;

fn fixtures() -> (std::path::PathBuf, Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures.example.json");
    let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, value)
}

#[tokio::test]
async fn fixtures_give_known_keys_and_clients() {
    let s = common::start().await;
    let (path, f) = fixtures();
    sigil_server::test_mode::load(&s.state, &path)
        .await
        .unwrap();
    // Loading twice is harmless.
    sigil_server::test_mode::load(&s.state, &path)
        .await
        .unwrap();
    let full = f["apiKeys"][0]["key"].as_str().unwrap();
    let read = f["apiKeys"][1]["key"].as_str().unwrap();
    let (status, body, _) = s.call("GET", "/v1/api-keys", Some(full), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "alice's one key");
    let (status, _, _) = s.call("GET", "/v1/apps", Some(read), None).await;
    assert_eq!(status, 403, "bob's key has keys.read only");
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((
                "app_ci_backend",
                "sgl_cs_ci-known-client-secret-0000000000000000",
            )),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn malformed_fixture_key_is_refused_with_advice() {
    let s = common::start().await;
    let dir = std::env::temp_dir().join(format!("sigil-fx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    std::fs::write(
        &path,
        json!({"apiKeys":[{"owner":"a@b.c","name":"x","key":"sgl_test_notvalid","preset":"read"}]})
            .to_string(),
    )
    .unwrap();
    let e = sigil_server::test_mode::load(&s.state, &path)
        .await
        .unwrap_err();
    assert!(e.contains("mint-key"), "{e}");
}

#[tokio::test]
async fn test_clock_expires_tokens() {
    let s = common::start().await;
    let (_, key) = s.account("clock@example.com").await;
    let (_, body, _) = s
        .call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(json!({"apiKey": key})),
        )
        .await;
    let token = body["data"]["accessToken"].as_str().unwrap().to_owned();
    let (status, _, _) = s.call("GET", "/v1/api-keys", Some(&token), None).await;
    assert_eq!(status, 200);
    let (status, body, _) = s
        .call("POST", "/_test/clock", None, Some(json!({"advance": 601})))
        .await;
    assert_eq!(status, 200);
    assert!(body["now"].as_i64().unwrap() > 0);
    let (status, body, _) = s.call("GET", "/v1/api-keys", Some(&token), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, _, _) = s
        .call(
            "POST",
            "/_test/clock",
            None,
            Some(json!({"advance": 1, "set": 5})),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn test_endpoints_do_not_exist_outside_test_mode() {
    let s = common::start_with(Config {
        test_mode: false,
        ..Config::for_tests()
    })
    .await;
    let (status, _, _) = s
        .call("POST", "/_test/clock", None, Some(json!({"advance": 60})))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn metrics_count_requests_per_route() {
    let s = common::start().await;
    for _ in 0..3 {
        s.call("GET", "/healthz", None, None).await;
    }
    let res = sigil::Runtime::native()
        .transport
        .send(
            http::Request::get(format!("{}/metrics", s.base))
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap();
    let text = String::from_utf8(res.body().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("sigil_http_requests_total") && l.contains("route=\"/healthz\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(text.contains("sigil_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn cors_allows_registered_origins_only() {
    let s = common::start().await;
    let (path, _) = fixtures();
    sigil_server::test_mode::load(&s.state, &path)
        .await
        .unwrap();
    let preflight = |origin: &'static str| {
        http::Request::builder()
            .method("OPTIONS")
            .uri(format!("{}/oauth/token", s.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Vec::new())
            .unwrap()
    };
    let (_, _, h) = s.raw(preflight("http://127.0.0.1:5173")).await;
    assert_eq!(h["access-control-allow-origin"], "http://127.0.0.1:5173");
    let (_, _, h) = s.raw(preflight("https://evil.example")).await;
    assert!(h.get("access-control-allow-origin").is_none());
}
