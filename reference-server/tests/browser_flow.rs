//! The authorization-code flow as a user lives it: HTML sign-in with an
//! emailed code, the consent page, and the redirect back, with sdk-core on
//! the app's side checking state, iss and PKCE and then refreshing,
//! introspecting and revoking. Plus the first-party `/auth/exchange-code`.

mod browser;
mod common;

use browser::{mailbox_code, Browser};
use serde_json::json;
use sigil::{AuthorizationRequest, ClientAuth, Error, OAuthClient, Runtime};
use sigil_server::Config;

const CALLBACK: &str = "https://app.example/cb";

async fn app_client(s: &common::TestServer) -> (OAuthClient, String) {
    let (_, key) = s.account("owner@example.com").await;
    let (id, secret) = s
        .confidential_app(&key, &["identity.read", "profile.basic"])
        .await;
    let c = OAuthClient::discover(
        &s.base,
        &id,
        ClientAuth::Basic(secret.into()),
        Runtime::native(),
    )
    .await
    .unwrap();
    (c, id)
}

fn request(scopes: &[&str]) -> AuthorizationRequest {
    AuthorizationRequest {
        redirect_uri: CALLBACK.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        extra: vec![],
    }
}

#[tokio::test]
async fn code_flow_through_the_pages_then_refresh_introspect_revoke_with_sdk_core() {
    let s = common::start().await;
    let (client, id) = app_client(&s).await;
    let (url, pending) = client
        .authorization_url(&request(&["identity.read"]))
        .unwrap();

    // Not signed in: authorize → consent → sign-in, which returns to consent.
    let b = Browser::new(&s.base);
    let to_consent = b.get(&url).await;
    assert_eq!(to_consent.status, 302);
    let consent_path = to_consent.location.unwrap();
    let to_signin = b.get(&consent_path).await;
    assert_eq!(to_signin.status, 302);
    let signin_path = to_signin.location.unwrap();
    assert!(
        signin_path.starts_with("/signin?return_to="),
        "{signin_path}"
    );
    let signed_in = b.sign_in_from(&s, &signin_path, "Ada@Example.com").await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.location.as_deref(), Some(consent_path.as_str()));
    let cookie = signed_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("sigil_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "http issuer: {cookie}");

    // The consent page names the app and describes each scope.
    let page = b.get(&consent_path).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("backend wants to access"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("Recognise you with an ID that is unique to this app"));
    assert!(page.body.contains("ada@example.com"));
    let back = b.decide(&url, "approve").await;
    assert!(back.starts_with(&format!("{CALLBACK}?code=")), "{back}");

    let tokens = client.handle_callback(&back, pending).await.unwrap();
    assert_eq!(tokens.scope.as_deref(), Some("identity.read"));
    let access = tokens.access_token.expose().to_owned();
    let refresh = tokens.refresh_token.clone().unwrap();

    let i = client.introspect(&access, None).await.unwrap();
    assert!(i.active);
    assert_eq!(i.client_id.as_deref(), Some(id.as_str()));
    assert_eq!(i.extra["session_type"], "user");
    let sub = i.sub.clone().unwrap();
    assert!(sub.starts_with("pw_"), "pairwise subject, got {sub}");

    // Refresh rotates: the new pair works, the old refresh token is spent.
    let renewed = client.refresh(&refresh, &[]).await.unwrap();
    let renewed_rt = renewed.refresh_token.clone().unwrap();
    assert_ne!(renewed_rt.expose(), refresh.expose());
    let i = client
        .introspect(renewed.access_token.expose(), None)
        .await
        .unwrap();
    assert!(i.active);
    assert_eq!(i.sub.as_deref(), Some(sub.as_str()), "same pairwise sub");
    assert!(
        !client
            .introspect(refresh.expose(), None)
            .await
            .unwrap()
            .active
    );

    // Revocation: the access token and the refresh family.
    client
        .revoke(renewed.access_token.expose(), None)
        .await
        .unwrap();
    assert!(
        !client
            .introspect(renewed.access_token.expose(), None)
            .await
            .unwrap()
            .active
    );
    client.revoke(renewed_rt.expose(), None).await.unwrap();
    assert!(
        !client
            .introspect(renewed_rt.expose(), None)
            .await
            .unwrap()
            .active
    );
    let e = client.refresh(&renewed_rt, &[]).await.unwrap_err();
    assert_eq!(e.code(), "invalid_grant");
}

#[tokio::test]
async fn deny_comes_back_as_access_denied_through_sdk_core() {
    let s = common::start().await;
    let (client, _) = app_client(&s).await;
    let b = Browser::signed_in(&s, "bob@example.com").await;
    let (url, pending) = client.authorization_url(&request(&[])).unwrap();
    let back = b.decide(&url, "deny").await;
    let e = client.handle_callback(&back, pending).await.unwrap_err();
    assert!(
        matches!(&e, Error::OAuth { code, status: None, .. } if code == "access_denied"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_public_loopback_client_completes_the_flow() {
    let s = common::start().await;
    let (_, key) = s.account("owner@example.com").await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/apps",
            Some(&key),
            Some(json!({"name": "cli", "public": true, "redirectUris": ["http://127.0.0.1/callback"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["clientId"].as_str().unwrap();
    let client = OAuthClient::discover(&s.base, id, ClientAuth::None, Runtime::native())
        .await
        .unwrap();
    let req = AuthorizationRequest {
        redirect_uri: "http://127.0.0.1:53682/callback".into(),
        scopes: vec![],
        extra: vec![],
    };
    let (url, pending) = client.authorization_url(&req).unwrap();
    let b = Browser::signed_in(&s, "cli-user@example.com").await;
    let back = b.decide(&url, "approve").await;
    assert!(
        back.starts_with("http://127.0.0.1:53682/callback?code="),
        "{back}"
    );
    let tokens = client.handle_callback(&back, pending).await.unwrap();
    assert_eq!(tokens.scope.as_deref(), Some("profile.basic identity.read"));
    let renewed = client
        .refresh(tokens.refresh_token.as_ref().unwrap(), &[])
        .await
        .unwrap();
    assert!(renewed.refresh_token.is_some());
}

#[tokio::test]
async fn exchange_code_gives_a_first_party_session() {
    let s = common::start().await;
    let b = Browser::new(&s.base);
    let form_page = b.get("/signin").await;
    let mut form = browser::hidden_fields(&form_page.body);
    form.push(("email".into(), "cli@example.com".into()));
    assert_eq!(b.post("/signin", &form).await.status, 303);

    let (status, mail, _) = s.call("GET", "/dev/mailbox", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(mail["data"][0]["to"], "cli@example.com");
    assert!(mail["meta"]["requestId"].is_string());
    let code = mailbox_code(&s, "cli@example.com").await;
    assert!(code.len() >= 6 && code.bytes().all(|b| b.is_ascii_digit()));

    let exchange = |code: String| {
        s.call(
            "POST",
            "/auth/exchange-code",
            None,
            Some(json!({"email": "cli@example.com", "code": code})),
        )
    };
    let (status, body, _) = exchange("00000000".into()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_code")));
    let (status, body, _) = exchange(code.clone()).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["tokenType"], "Bearer");
    assert_eq!(data["expiresIn"], 600);
    assert_eq!(data["user"]["email"], "cli@example.com");
    assert!(data["user"]["id"].as_str().unwrap().starts_with("usr_"));

    // The user themself: the token manages their own account.
    let token = data["accessToken"].as_str().unwrap();
    let (status, _, _) = s.call("GET", "/v1/api-keys", Some(token), None).await;
    assert_eq!(status, 200);
    let (status, body, _) = exchange(code).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_code")),
        "single use"
    );
}

#[tokio::test]
async fn mailbox_and_exchange_code_are_404_outside_dev_and_test_mode() {
    let s = common::start_with(Config {
        test_mode: false,
        dev: false,
        ..Config::for_tests()
    })
    .await;
    let (status, body, _) = s.call("GET", "/dev/mailbox", None, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, _, _) = s
        .call(
            "POST",
            "/auth/exchange-code",
            None,
            Some(json!({"email": "a@example.com", "code": "12345678"})),
        )
        .await;
    assert_eq!(status, 404);

    let dev = common::start_with(Config {
        test_mode: false,
        dev: true,
        ..Config::for_tests()
    })
    .await;
    let (status, _, _) = dev.call("GET", "/dev/mailbox", None, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_issuer_is_https() {
    let s = common::start_with(Config {
        issuer: Some("https://sigil.example".into()),
        ..Config::for_tests()
    })
    .await;
    // A cookie jar would (rightly) not send Secure cookies over this test's
    // plain http, so carry the form cookie by hand.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = http.get(format!("{}/signin", s.base)).send().await.unwrap();
    let set = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("; Secure"), "{set}");
    let form_cookie = set.split(';').next().unwrap().to_owned();
    let html = first.text().await.unwrap();
    let post = |path: &'static str, mut form: Vec<(String, String)>, extra: (&str, String)| {
        form.push((extra.0.into(), extra.1));
        http.post(format!("{}{path}", s.base))
            .header("cookie", &form_cookie)
            .form(&form)
            .send()
    };
    let fields = browser::hidden_fields(&html);
    let sent = post(
        "/signin",
        fields.clone(),
        ("email", "sec@example.com".into()),
    )
    .await
    .unwrap();
    assert_eq!(sent.status(), 303);
    let mut fields = fields;
    fields.push(("email".into(), "sec@example.com".into()));
    let code = mailbox_code(&s, "sec@example.com").await;
    let done = post("/signin/verify", fields, ("code", code))
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let cookie = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("sigil_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "; Secure"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
}
