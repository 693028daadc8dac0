//! The security rules of SYSTEM.md for the browser flow, each pinned so
//! that removing the rule fails a test: S256-only PKCE and no downgrade,
//! exact redirect matching, state and iss, single-use 60 s codes with
//! revocation on replay, refresh-token reuse (also concurrent), CSRF on
//! consent, no open redirect after sign-in, and the sign-in attempt limit.

mod browser;
mod common;

use browser::{authorize_url, hidden_fields, param, pkce, Browser};
use serde_json::{json, Value};
use sigil_server::crypto;
use sigil_server::store::AuthorizationCode;

const CB: &str = "https://app.example/cb";
const CB2: &str = "https://app.example/other";
const LOOPBACK: &str = "http://127.0.0.1/callback";

struct Fixture {
    s: common::TestServer,
    id: String,
    secret: String,
    b: Browser,
}

async fn setup() -> Fixture {
    let s = common::start().await;
    let (_, key) = s.account("owner@example.com").await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/apps",
            Some(&key),
            Some(json!({
                "name": "rules", "redirectUris": [CB, CB2, LOOPBACK],
                "scopes": ["identity.read", "profile.basic"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["clientId"].as_str().unwrap().to_owned();
    let secret = body["data"]["clientSecret"].as_str().unwrap().to_owned();
    let b = Browser::signed_in(&s, "user@example.com").await;
    Fixture { s, id, secret, b }
}

impl Fixture {
    fn issuer(&self) -> String {
        self.s.state.config.issuer()
    }

    /// A well-formed authorization URL for `redirect_uri` and `challenge`.
    fn url(&self, redirect_uri: &str, challenge: &str) -> String {
        authorize_url(
            &self.s.base,
            &[
                ("response_type", "code"),
                ("client_id", &self.id),
                ("redirect_uri", redirect_uri),
                ("state", "st-1"),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    }

    /// Approves and returns the code.
    async fn code(&self, redirect_uri: &str, challenge: &str) -> String {
        let back = self
            .b
            .decide(&self.url(redirect_uri, challenge), "approve")
            .await;
        param(&back, "code").unwrap()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let (status, body, _) = self
            .s
            .form("/oauth/token", Some((&self.id, &self.secret)), form)
            .await;
        (status, body)
    }

    async fn exchange(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> (u16, Value) {
        let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
        if let Some(r) = redirect_uri {
            form.push(("redirect_uri", r));
        }
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.token(&form).await
    }

    async fn refresh(&self, rt: &str) -> (u16, Value) {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
            .await
    }

    async fn active(&self, token: &str) -> bool {
        let (status, body, _) = self
            .s
            .form(
                "/oauth/introspect",
                Some((&self.id, &self.secret)),
                &[("token", token)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["active"].as_bool().unwrap()
    }
}

fn invalid_grant(res: &(u16, Value)) -> bool {
    res.0 == 400 && res.1["error"] == "invalid_grant"
}

#[tokio::test]
async fn authorize_accepts_only_s256_pkce() {
    let f = setup().await;
    let (verifier, challenge) = pkce();
    let base = |extra: &[(&str, &str)]| {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", f.id.as_str()),
            ("redirect_uri", CB),
            ("state", "st-1"),
        ];
        p.extend_from_slice(extra);
        authorize_url(&f.s.base, &p)
    };
    for (case, url) in [
        (
            "plain",
            base(&[
                ("code_challenge", &verifier),
                ("code_challenge_method", "plain"),
            ]),
        ),
        ("no method", base(&[("code_challenge", &challenge)])),
        ("no challenge", base(&[("code_challenge_method", "S256")])),
    ] {
        let res = f.b.get(&url).await;
        assert_eq!(res.status, 302, "{case}");
        let to = res.location.unwrap();
        assert!(to.starts_with(CB), "{case}: {to}");
        assert_eq!(
            param(&to, "error").as_deref(),
            Some("invalid_request"),
            "{case}"
        );
        assert_eq!(param(&to, "state").as_deref(), Some("st-1"), "{case}");
        assert_eq!(param(&to, "iss"), Some(f.issuer()), "{case}");
        assert!(param(&to, "code").is_none());
    }
    let ok = f.b.get(&f.url(CB, &challenge)).await;
    assert_eq!(ok.status, 302);
    assert!(ok.location.unwrap().starts_with("/oauth/consent?"));

    // The JSON form: consent metadata, or the same refusal as an OAuth error.
    let json_get = |url: String| {
        let req = http::Request::get(url)
            .header("accept", "application/json")
            .body(Vec::new())
            .unwrap();
        f.s.raw(req)
    };
    let (status, body, _) = json_get(base(&[
        ("code_challenge", &verifier),
        ("code_challenge_method", "plain"),
    ]))
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body, _) = json_get(f.url(CB, &challenge)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client"], json!({"id": f.id, "name": "rules"}));
    assert_eq!(body["scopes"], json!(["identity.read", "profile.basic"]));
    assert_eq!(body["redirect_uri"], CB);
    assert_eq!(body["state"], "st-1");
}

#[tokio::test]
async fn token_endpoint_refuses_pkce_downgrade_both_ways() {
    let f = setup().await;
    let (verifier, challenge) = pkce();
    let code = f.code(CB, &challenge).await;

    // Issued with a challenge: no verifier, or another one, is refused.
    assert!(invalid_grant(&f.exchange(&code, Some(CB), None).await));
    let (other, _) = pkce();
    assert!(invalid_grant(
        &f.exchange(&code, Some(CB), Some(&other)).await
    ));
    // `plain` semantics (challenge == verifier) do not pass either.
    let plain_code = f.code(CB, &"a".repeat(43)).await;
    assert!(invalid_grant(
        &f.exchange(&plain_code, Some(CB), Some(&"a".repeat(43)))
            .await
    ));

    // A code that carries no challenge: a verifier is a downgrade signal.
    let bare = crypto::new_secret("sgl_ac_");
    let user =
        f.s.state
            .store
            .user_by_email("user@example.com")
            .await
            .unwrap()
            .unwrap();
    f.s.state
        .store
        .insert_authorization_code(
            &crypto::hash(&bare),
            &AuthorizationCode {
                app_id: f.id.clone(),
                user_id: user.id,
                redirect_uri: CB.into(),
                code_challenge: None,
                scope: "identity.read".into(),
                expires_at: f.s.state.clock.now() + 60,
                used_at: None,
                issued: None,
            },
        )
        .await
        .unwrap();
    let res = f.exchange(&bare, Some(CB), Some(&verifier)).await;
    assert!(invalid_grant(&res), "{res:?}");
    assert!(res.1["error_description"]
        .as_str()
        .unwrap()
        .contains("without a code_challenge"));

    // The refusals did not come from anything else: the right verifier works.
    let (status, body) = f.exchange(&code, Some(CB), Some(&verifier)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn redirect_uris_match_exactly_except_loopback_ports() {
    let f = setup().await;
    let (verifier, challenge) = pkce();
    for bad in [
        "https://app.example/cb/",
        "https://app.example/cb?x=1",
        "https://app.example/c",
        "https://APP.example/cb",
        "https://evil.example/cb",
        "http://127.0.0.1:8080/elsewhere",
        "http://localhost:8080/callback",
    ] {
        let res = f.b.get(&f.url(bad, &challenge)).await;
        assert_eq!(res.status, 400, "{bad}");
        assert!(
            res.location.is_none(),
            "{bad}: never redirect to an unvalidated URI"
        );
        assert!(res.body.contains("not registered"), "{bad}");
    }

    // RFC 8252: any port on a registered loopback URI.
    let lo = "http://127.0.0.1:49152/callback";
    let back = f.b.decide(&f.url(lo, &challenge), "approve").await;
    assert!(back.starts_with(&format!("{lo}?code=")), "{back}");
    let lo_code = param(&back, "code").unwrap();
    // ...but the token request must repeat exactly the URI used.
    let other_port = "http://127.0.0.1:49153/callback";
    assert!(invalid_grant(
        &f.exchange(&lo_code, Some(other_port), Some(&verifier))
            .await
    ));
    assert_eq!(f.exchange(&lo_code, Some(lo), Some(&verifier)).await.0, 200);

    // Re-checked at the token endpoint: another registered URI, or none.
    let code = f.code(CB, &challenge).await;
    assert!(invalid_grant(
        &f.exchange(&code, Some(CB2), Some(&verifier)).await
    ));
    assert!(invalid_grant(
        &f.exchange(&code, None, Some(&verifier)).await
    ));
    assert_eq!(f.exchange(&code, Some(CB), Some(&verifier)).await.0, 200);
}

#[tokio::test]
async fn state_and_iss_come_back_on_every_redirect() {
    let f = setup().await;
    let (_, challenge) = pkce();
    let odd_state = "a b&c=d/é?#";
    let url = |scope: &str| {
        authorize_url(
            &f.s.base,
            &[
                ("response_type", "code"),
                ("client_id", &f.id),
                ("redirect_uri", CB),
                ("scope", scope),
                ("state", odd_state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    };
    let approved = f.b.decide(&url("identity.read"), "approve").await;
    let denied = f.b.decide(&url("identity.read"), "deny").await;
    let refused = f.b.get(&url("keys.write")).await.location.unwrap();
    for (to, error) in [
        (&approved, None),
        (&denied, Some("access_denied")),
        (&refused, Some("invalid_scope")),
    ] {
        assert_eq!(param(to, "state").as_deref(), Some(odd_state), "{to}");
        assert_eq!(param(to, "iss"), Some(f.issuer()), "{to}");
        assert_eq!(param(to, "error").as_deref(), error, "{to}");
    }
    assert!(param(&approved, "code").is_some());
}

#[tokio::test]
async fn codes_are_single_use_and_live_60_seconds() {
    let f = setup().await;
    let (verifier, challenge) = pkce();
    let code = f.code(CB, &challenge).await;
    f.s.state.clock.advance(59);
    assert_eq!(f.exchange(&code, Some(CB), Some(&verifier)).await.0, 200);
    assert!(invalid_grant(
        &f.exchange(&code, Some(CB), Some(&verifier)).await
    ));

    let late = f.code(CB, &challenge).await;
    f.s.state.clock.advance(61);
    let res = f.exchange(&late, Some(CB), Some(&verifier)).await;
    assert!(invalid_grant(&res), "{res:?}");
    assert!(res.1["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn a_replayed_code_revokes_what_it_issued() {
    let f = setup().await;
    let (verifier, challenge) = pkce();
    let code = f.code(CB, &challenge).await;
    let (status, tokens) = f.exchange(&code, Some(CB), Some(&verifier)).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert!(f.active(access).await && f.active(refresh).await);

    assert!(invalid_grant(
        &f.exchange(&code, Some(CB), Some(&verifier)).await
    ));
    assert!(!f.active(access).await, "the access token is denylisted");
    assert!(!f.active(refresh).await, "the refresh family is revoked");
    assert!(invalid_grant(&f.refresh(refresh).await));
    let (status, _, _) = f.s.call("GET", "/v1/api-keys", Some(access), None).await;
    assert_eq!(status, 401);
}

async fn fresh_refresh_token(f: &Fixture) -> String {
    let (verifier, challenge) = pkce();
    let code = f.code(CB, &challenge).await;
    let (status, tokens) = f.exchange(&code, Some(CB), Some(&verifier)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn refresh_token_reuse_revokes_the_family() {
    let f = setup().await;
    let rt1 = fresh_refresh_token(&f).await;
    let (status, body) = f.refresh(&rt1).await;
    assert_eq!(status, 200, "{body}");
    let rt2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert!(invalid_grant(&f.refresh(&rt1).await));
    assert!(
        invalid_grant(&f.refresh(&rt2).await),
        "the whole family is revoked"
    );
}

#[tokio::test]
async fn concurrent_refresh_has_one_winner_and_revokes_the_family() {
    let f = setup().await;
    let rt = fresh_refresh_token(&f).await;
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let req = http
            .post(format!("{}/oauth/token", f.s.base))
            .basic_auth(&f.id, Some(&f.secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
        tasks.push(tokio::spawn(async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            (status, serde_json::from_str::<Value>(&body).unwrap())
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => winners.push(body["refresh_token"].as_str().unwrap().to_owned()),
            400 => assert_eq!(body["error"], "invalid_grant"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one concurrent refresh wins");
    assert!(
        invalid_grant(&f.refresh(&winners[0]).await),
        "the reuse revoked the family, the winner's new token included"
    );
}

#[tokio::test]
async fn consent_post_needs_its_csrf_token() {
    let f = setup().await;
    let (_, challenge) = pkce();
    let url = f.url(CB, &challenge);
    let form = hidden_fields(&f.b.consent_page(&url).await.body);
    let with = |csrf: Option<&str>| {
        let mut out: Vec<(String, String)> =
            form.iter().filter(|(k, _)| k != "csrf").cloned().collect();
        if let Some(c) = csrf {
            out.push(("csrf".into(), c.into()));
        }
        out.push(("decision".into(), "approve".into()));
        out
    };
    let forbidden = |res: browser::Page| {
        assert_eq!(res.status, 403, "{}", res.body);
        assert!(res.location.is_none());
    };
    forbidden(f.b.post("/oauth/consent", &with(None)).await);
    forbidden(f.b.post("/oauth/consent", &with(Some("forged"))).await);
    // Another signed-in browser's token is not this session's.
    let other = Browser::signed_in(&f.s, "other@example.com").await;
    let theirs = hidden_fields(&other.consent_page(&url).await.body)
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .unwrap()
        .1;
    forbidden(f.b.post("/oauth/consent", &with(Some(&theirs))).await);
    // No session at all, even with a copied token.
    let mine = form.iter().find(|(k, _)| k == "csrf").unwrap().1.clone();
    forbidden(
        Browser::new(&f.s.base)
            .post("/oauth/consent", &with(Some(&mine)))
            .await,
    );

    let ok = f.b.post("/oauth/consent", &with(Some(&mine))).await;
    assert_eq!(ok.status, 302);
    assert!(ok.location.unwrap().starts_with(&format!("{CB}?code=")));
}

#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let s = common::start().await;
    let b = Browser::new(&s.base);
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http://127.0.0.1:1/x",
        "javascript:alert(1)",
    ] {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", evil)
            .finish();
        let res = b.get(&format!("/signin?{q}")).await;
        assert_eq!(res.status, 400, "{evil}");
        assert!(res.location.is_none(), "{evil}");
    }

    // A forged return_to in the verify form is refused too, with no session.
    let form_page = b.get("/signin?return_to=%2Foauth%2Fconsent%3Fx%3D1").await;
    let mut form = hidden_fields(&form_page.body);
    form.push(("email".into(), "eve@example.com".into()));
    let sent = b.post("/signin", &form).await;
    let verify_page = b.get(&sent.location.unwrap()).await;
    let code = browser::mailbox_code(&s, "eve@example.com").await;
    let fields = hidden_fields(&verify_page.body);
    let mut forged: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "return_to")
        .cloned()
        .collect();
    forged.push(("return_to".into(), "https://evil.example/".into()));
    forged.push(("code".into(), code.clone()));
    let res = b.post("/signin/verify", &forged).await;
    assert_eq!(res.status, 400);
    assert!(res.location.is_none());
    assert!(!res
        .set_cookies
        .iter()
        .any(|c| c.starts_with("sigil_session=")));

    // The same-origin path is where the browser goes.
    let mut good = fields;
    good.push(("code".into(), code));
    let res = b.post("/signin/verify", &good).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location.as_deref(), Some("/oauth/consent?x=1"));
}

/// Asks for a sign-in code through the form and reads it from the mailbox.
async fn request_code(s: &common::TestServer, email: &str) -> String {
    let b = Browser::new(&s.base);
    let mut form = hidden_fields(&b.get("/signin").await.body);
    form.push(("email".into(), email.into()));
    assert_eq!(b.post("/signin", &form).await.status, 303);
    browser::mailbox_code(s, email).await
}

#[tokio::test]
async fn sign_in_codes_allow_five_wrong_attempts() {
    let s = common::start().await;
    let exchange = |email: &'static str, code: String| {
        s.call(
            "POST",
            "/auth/exchange-code",
            None,
            Some(json!({"email": email, "code": code})),
        )
    };
    let wrong = |code: &str| {
        // Any other 8 digits.
        let n: u32 = code.parse().unwrap();
        format!("{:08}", (n + 1) % 100_000_000)
    };

    let code = request_code(&s, "four@example.com").await;
    for _ in 0..4 {
        assert_eq!(exchange("four@example.com", wrong(&code)).await.0, 400);
    }
    assert_eq!(exchange("four@example.com", code).await.0, 200);

    let code = request_code(&s, "five@example.com").await;
    for _ in 0..5 {
        assert_eq!(exchange("five@example.com", wrong(&code)).await.0, 400);
    }
    let (status, body, _) = exchange("five@example.com", code).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_code")));

    // The code also expires after 10 minutes.
    let code = request_code(&s, "late@example.com").await;
    s.state.clock.advance(601);
    assert_eq!(exchange("late@example.com", code).await.0, 400);
}
