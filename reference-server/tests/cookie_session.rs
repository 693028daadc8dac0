//! The first-party session cookie on `/v1`: with no bearer token it acts as
//! the signed-in user with all scopes, and a cross-site page cannot use it.

mod common;

use serde_json::{json, Value};
use sigil_server::crypto;

async fn call(
    s: &common::TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.base));
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    let bytes = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            serde_json::to_vec(&v).unwrap()
        }
        None => Vec::new(),
    };
    let (status, body, _) = common::send(b.body(bytes).unwrap()).await;
    (status, body)
}

#[tokio::test]
async fn session_cookie_acts_as_the_user_and_refuses_cross_site_use() {
    let s = common::start().await;
    let (user, key) = s.account("carol@example.com").await;
    let value = "sgl_session_cookie_value_for_the_test";
    let expires = s.state.clock.now() + 3600;
    s.state
        .store
        .insert_browser_session(&crypto::hash(value), &user, expires)
        .await
        .unwrap();
    let cookie = format!("sigil_session={value}");
    let own = s.base.clone();

    // Reads: the user, with all scopes, in its personal workspace.
    let (status, res) = call(&s, "GET", "/v1/account", &[("cookie", &cookie)], None).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"]["email"], "carol@example.com");
    let (status, res) = call(&s, "GET", "/v1/api-keys", &[("cookie", &cookie)], None).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"].as_array().unwrap().len(), 1);

    // A change from this server's own page: allowed.
    let app = json!({ "name": "from the console", "redirectUris": ["https://c.example/cb"] });
    let headers = [("cookie", cookie.as_str()), ("origin", own.as_str())];
    let (status, res) = call(&s, "POST", "/v1/apps", &headers, Some(app.clone())).await;
    assert_eq!(status, 201, "{res}");

    // The same change from another site, or with no Origin: refused.
    let cross = [
        ("cookie", cookie.as_str()),
        ("origin", "https://evil.example"),
    ];
    let (status, res) = call(&s, "POST", "/v1/apps", &cross, Some(app.clone())).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("cross_site_request")),
        "{res}"
    );
    let bare = [("cookie", cookie.as_str())];
    let (status, res) = call(&s, "POST", "/v1/apps", &bare, Some(app)).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("cross_site_request")),
        "{res}"
    );
    let (status, res) = call(&s, "DELETE", "/v1/api-keys/key_x", &cross, None).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("cross_site_request")),
        "{res}"
    );
    // A cross-site read too (the browser says where the request came from).
    let fetch = [
        ("cookie", cookie.as_str()),
        ("sec-fetch-site", "cross-site"),
    ];
    let (status, res) = call(&s, "GET", "/v1/account", &fetch, None).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("cross_site_request")),
        "{res}"
    );
    let (_, apps) = call(&s, "GET", "/v1/apps", &[("cookie", &cookie)], None).await;
    assert_eq!(apps["data"].as_array().unwrap().len(), 1, "{apps}");

    // An unknown cookie is no credential; a bearer credential wins over it.
    let stale = [("cookie", "sigil_session=unknown")];
    let (status, res) = call(&s, "GET", "/v1/account", &stale, None).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (401, Some("missing_credentials")),
        "{res}"
    );
    let bearer = format!("Bearer {key}");
    let both = [
        ("cookie", "sigil_session=unknown"),
        ("authorization", bearer.as_str()),
    ];
    let (status, _) = call(&s, "GET", "/v1/account", &both, None).await;
    assert_eq!(status, 200);

    // Expired sessions stop working.
    s.state.clock.advance(3601);
    let (status, _) = call(&s, "GET", "/v1/account", &[("cookie", &cookie)], None).await;
    assert_eq!(status, 401);
}
