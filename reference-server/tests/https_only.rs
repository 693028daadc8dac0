//! HTTPS only (SearchAF: "HTTP requests will be rejected"): the binary
//! refuses a plain-http issuer on a non-loopback bind outside dev and test
//! mode; HSTS goes out when the issuer is https; and a request a trusted
//! proxy marks `X-Forwarded-Proto: http` is refused with 403
//! `https_required` (from anyone else the header means nothing).

mod common;

use std::process::Command;

fn serve(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sigil-server"))
        .arg("serve")
        .args(["--database", "sqlite::memory:"])
        .args(args)
        .env_remove("SIGIL_DEV")
        .env_remove("SIGIL_TEST_MODE")
        .output()
        .unwrap()
}

#[test]
fn a_plain_http_issuer_off_loopback_does_not_start() {
    let out = serve(&["--bind", "0.0.0.0:0", "--issuer", "http://sigil.example"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plain http"), "{stderr}");
    // Not the default issuer on a public bind either.
    let out = serve(&["--bind", "0.0.0.0:0"]);
    assert!(!out.status.success());
}

async fn healthz(base: &str, proto: Option<&str>) -> (u16, serde_json::Value, http::HeaderMap) {
    let mut req = http::Request::get(format!("{base}/healthz"));
    if let Some(p) = proto {
        req = req.header("x-forwarded-proto", p);
    }
    common::send(req.body(Vec::new()).unwrap()).await
}

#[tokio::test]
async fn hsts_on_https_issuers_and_plain_http_from_a_trusted_proxy_is_refused() {
    let mut config = sigil_server::Config::for_tests();
    config.issuer = Some("https://sigil.example".into());
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let s = common::start_with(config).await;
    let (status, _, headers) = healthz(&s.base, Some("https")).await;
    assert_eq!(status, 200);
    assert!(headers["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    let (status, body, headers) = healthz(&s.base, Some("http")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("https_required")),
        "{body}"
    );
    assert!(body["requestId"].is_string());
    assert!(headers.contains_key("strict-transport-security"));

    // No trusted proxy: the header is anyone's, and ignored; no HSTS on http.
    let s = common::start().await;
    let (status, _, headers) = healthz(&s.base, Some("http")).await;
    assert_eq!(status, 200);
    assert!(!headers.contains_key("strict-transport-security"));
}
