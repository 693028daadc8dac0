//! Rate limits answer 429 with `Retry-After` in each endpoint's error shape:
//! RFC 6749 `slow_down` on `/oauth/*`, problem+json `rate_limited` elsewhere,
//! per client IP on sign-in and OAuth endpoints and per key on `/v1`. And
//! sdk-core surfaces them as `Error::RateLimited` with the server's wait.

mod common;

use std::time::Duration;

use serde_json::{json, Value};
use sigil::{ClientAuth, Error, OAuthClient, RetryPolicy, Runtime};
use sigil_server::Config;

/// Attempts before giving up on ever seeing a 429.
const MAX_ATTEMPTS: usize = 50;

/// 2 requests per second, burst 2, per IP and per key.
fn tiny() -> Config {
    Config {
        ip_rate_per_sec: 2,
        ip_rate_burst: 2,
        key_rate_per_sec: 2,
        key_rate_burst: 2,
        ..Config::for_tests()
    }
}

/// Calls `attempt` until it answers 429; returns that answer and how many
/// calls succeeded first.
async fn until_429<F, Fut>(mut attempt: F) -> (usize, Value, http::HeaderMap)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (u16, Value, http::HeaderMap)>,
{
    for n in 0..MAX_ATTEMPTS {
        let (status, body, headers) = attempt().await;
        if status == 429 {
            return (n, body, headers);
        }
        assert!((200..300).contains(&status), "attempt {n}: {status} {body}");
    }
    panic!("no 429 after {MAX_ATTEMPTS} requests");
}

fn retry_after_header(headers: &http::HeaderMap) -> u64 {
    headers
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in delay-seconds")
}

#[tokio::test]
async fn oauth_token_is_limited_per_ip_with_slow_down() {
    let s = common::start_with(tiny()).await;
    let (_, key) = s.account("oauth-limit@example.com").await;
    let (id, secret) = s.confidential_app(&key, &["keys.read"]).await;
    let (passed, body, headers) = until_429(|| {
        s.form(
            "/oauth/token",
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
    })
    .await;
    assert!(passed >= 1, "the burst lets the first requests through");
    assert_eq!(body["error"], "slow_down", "{body}");
    assert!(body["error_description"].is_string());
    assert!(
        body.get("code").is_none(),
        "RFC 6749 shape, not a problem: {body}"
    );
    let after = retry_after_header(&headers);
    assert!(after >= 1);
    assert_eq!(body["retryAfter"], after, "{body}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.contains_key("x-request-id"));

    // The limiter applies before the handler: a bad request is limited too,
    // and so are the other OAuth endpoints sharing the IP.
    let (status, body, _) = s
        .form("/oauth/introspect", Some((&id, &secret)), &[("token", "x")])
        .await;
    assert_eq!((status, body["error"].as_str()), (429, Some("slow_down")));

    // Waiting as told is enough.
    tokio::time::sleep(Duration::from_secs(after)).await;
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200, "after Retry-After: {body}");
}

#[tokio::test]
async fn auth_exchange_is_limited_per_ip_as_a_problem() {
    let s = common::start_with(tiny()).await;
    let (_, key) = s.account("auth-limit@example.com").await;
    let (passed, body, headers) = until_429(|| {
        s.call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(json!({"apiKey": key})),
        )
    })
    .await;
    assert!(passed >= 1);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json"));
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert_eq!(body["status"], 429);
    assert_eq!(
        body["requestId"],
        headers["x-request-id"].to_str().unwrap(),
        "{body}"
    );
    let after = retry_after_header(&headers);
    assert!(after >= 1);
    assert_eq!(body["retryAfter"], after, "{body}");
}

#[tokio::test]
async fn management_api_is_limited_per_key() {
    let s = common::start_with(tiny()).await;
    let (_, busy) = s.account("busy@example.com").await;
    let (_, quiet) = s.account("quiet@example.com").await;
    let (passed, body, headers) =
        until_429(|| s.call("GET", "/v1/api-keys", Some(&busy), None)).await;
    assert!(passed >= 1);
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json"));
    assert_eq!(body["requestId"], headers["x-request-id"].to_str().unwrap());
    let after = retry_after_header(&headers);
    assert!(after >= 1);
    assert_eq!(body["retryAfter"], after);
    // Per key, not per IP or global: another key from the same client is fine.
    let (status, body, _) = s.call("GET", "/v1/api-keys", Some(&quiet), None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn sdk_core_surfaces_rate_limits_with_retry_after() {
    let s = common::start_with(tiny()).await;
    let (_, key) = s.account("sdk-limit@example.com").await;
    let (id, secret) = s.confidential_app(&key, &["keys.read"]).await;
    let runtime = Runtime::native().with_retry(RetryPolicy::NONE);
    let client = OAuthClient::discover(
        &s.base,
        &id,
        ClientAuth::Basic(secret.clone().into()),
        runtime,
    )
    .await
    .unwrap();

    let mut outcome = None;
    for _ in 0..MAX_ATTEMPTS {
        if let Err(e) = client.client_credentials(&[]).await {
            outcome = Some(e);
            break;
        }
    }
    let e = outcome.expect("client_credentials was never limited");
    match &e {
        Error::RateLimited {
            status: 429,
            code,
            retry_after: Some(after),
            request_id: Some(_),
        } => {
            assert_eq!(code, "slow_down");
            assert!(*after >= Duration::from_secs(1), "{after:?}");
        }
        other => panic!("want RateLimited with retry_after, got {other:?}"),
    }
    assert_eq!(e.retry_after().map(|d| d.as_secs() >= 1), Some(true));

    // The seed exchange endpoint shares the IP quota; its problem body maps
    // to the same typed error.
    let e = client
        .exchange_api_key(&key.clone().into(), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::RateLimited { code, retry_after: Some(_), .. } if code == "rate_limited"),
        "{e:?}"
    );

    // With the default policy the client waits as told and succeeds.
    let patient = OAuthClient::discover(
        &s.base,
        &id,
        ClientAuth::Basic(secret.into()),
        Runtime::native(),
    )
    .await
    .unwrap();
    let t = patient.client_credentials(&[]).await;
    assert!(t.is_ok(), "{t:?}");
}
