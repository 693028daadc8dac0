//! Hostile and broken input on every body-taking endpoint: malformed JSON,
//! non-UTF-8 forms, wrong types, missing and unknown fields, oversize bodies,
//! unsupported media types, unknown grants and bad credentials. Every answer
//! must be a 4xx (never a 5xx) in the endpoint's error shape: RFC 6749
//! `{error, error_description}` on `/oauth/*`, RFC 9457 problem+json with
//! `code` and `requestId` elsewhere, and `X-Request-Id` on every response.
//!
//! Table-driven: each test builds a list of cases for one endpoint group and
//! reports every mismatch at once.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::HeaderValue;
use serde_json::{json, Value};
use sigil_server::services::federation::ProviderConfig;
use sigil_server::{crypto, tokens, AppState, Config};

const LIMIT: usize = sigil_server::body::MAX_BODY_BYTES;

// ---------------------------------------------------------------------------
// The table machinery.

#[derive(Debug, Clone)]
enum Expect {
    /// An RFC 6749 error: status and `error`.
    OAuth(u16, &'static str),
    /// An RFC 9457 problem: status and `code`.
    Problem(u16, &'static str),
    /// A problem whose `code` may be any of these.
    ProblemOneOf(u16, &'static [&'static str]),
    /// Accepted, optionally with the JSON value at a pointer.
    Ok(u16, Option<(&'static str, Value)>),
}

#[derive(Debug)]
struct Case {
    name: String,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Vec<u8>,
    expect: Expect,
}

impl Case {
    fn new(name: impl Into<String>, method: &'static str, path: &str, expect: Expect) -> Self {
        Case {
            name: name.into(),
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            expect,
        }
    }
    fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers
            .push(("content-type", HeaderValue::from_str(content_type).unwrap()));
        self.body = body.into();
        self
    }
    fn json(self, body: impl Into<Vec<u8>>) -> Self {
        self.body("application/json", body)
    }
    fn json_value(self, v: Value) -> Self {
        self.json(v.to_string())
    }
    fn form(self, body: impl Into<Vec<u8>>) -> Self {
        self.body("application/x-www-form-urlencoded", body)
    }
    /// A body with no `Content-Type` at all.
    fn untyped(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    fn header(mut self, name: &'static str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name, HeaderValue::from_bytes(value.as_ref()).unwrap()));
        self
    }
    fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }
    fn basic(self, id: &str, secret: &str) -> Self {
        self.header("authorization", common::basic_auth(id, secret))
    }
}

async fn exchange(base: &str, c: &Case) -> (u16, http::HeaderMap, Vec<u8>) {
    let mut b = http::Request::builder()
        .method(c.method)
        .uri(format!("{base}{}", c.path));
    for (name, value) in &c.headers {
        b = b.header(*name, value.clone());
    }
    let res = sigil::Runtime::native()
        .with_retry(sigil::RetryPolicy::NONE)
        .transport
        .send(b.body(c.body.clone()).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{}: transport error {e}", c.name));
    (
        res.status().as_u16(),
        res.headers().clone(),
        res.body().to_vec(),
    )
}

fn check(
    expect: &Expect,
    status: u16,
    headers: &http::HeaderMap,
    raw: &[u8],
) -> Result<(), String> {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or("no X-Request-Id header")?;
    if status >= 500 {
        return Err(format!("server error {status}"));
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let body: Value = serde_json::from_slice(raw).map_err(|_| "body is not JSON".to_owned())?;
    let want_status = match expect {
        Expect::OAuth(s, _)
        | Expect::Problem(s, _)
        | Expect::ProblemOneOf(s, _)
        | Expect::Ok(s, _) => *s,
    };
    if status != want_status {
        return Err(format!("status {status}, want {want_status}"));
    }
    match expect {
        Expect::OAuth(_, code) => {
            if !content_type.starts_with("application/json") {
                return Err(format!(
                    "content-type `{content_type}`, want application/json"
                ));
            }
            if body["error"] != *code {
                return Err(format!("error {}, want {code}", body["error"]));
            }
            if !body["error_description"].is_string() {
                return Err("no error_description".into());
            }
            if body.get("code").is_some() || body.get("type").is_some() {
                return Err("an RFC 6749 body mixed with problem members".into());
            }
            if headers.get("cache-control").is_none_or(|v| v != "no-store") {
                return Err("no Cache-Control: no-store".into());
            }
            if status == 401 && !headers.contains_key("www-authenticate") {
                return Err("401 without WWW-Authenticate".into());
            }
        }
        Expect::Problem(_, _) | Expect::ProblemOneOf(_, _) => {
            if !content_type.starts_with("application/problem+json") {
                return Err(format!(
                    "content-type `{content_type}`, want application/problem+json"
                ));
            }
            let codes: &[&str] = match expect {
                Expect::Problem(_, c) => std::slice::from_ref(c),
                Expect::ProblemOneOf(_, cs) => cs,
                _ => unreachable!(),
            };
            if !codes.iter().any(|c| body["code"] == *c) {
                return Err(format!("code {}, want {codes:?}", body["code"]));
            }
            if body["requestId"] != request_id {
                return Err(format!(
                    "requestId {} differs from X-Request-Id {request_id}",
                    body["requestId"]
                ));
            }
            if body["status"] != status || !body["title"].is_string() || !body["detail"].is_string()
            {
                return Err("problem lacks status/title/detail".into());
            }
            if status == 401
                && !headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("Bearer"))
            {
                return Err("401 without a Bearer WWW-Authenticate challenge".into());
            }
        }
        Expect::Ok(_, want) => {
            if let Some((pointer, value)) = want {
                if body.pointer(pointer) != Some(value) {
                    return Err(format!(
                        "{pointer} is {:?}, want {value}",
                        body.pointer(pointer)
                    ));
                }
            }
        }
    }
    Ok(())
}

async fn run(base: &str, cases: Vec<Case>) {
    let total = cases.len();
    let mut failures = Vec::new();
    for c in &cases {
        let (status, headers, raw) = exchange(base, c).await;
        if let Err(why) = check(&c.expect, status, &headers, &raw) {
            let shown: String = String::from_utf8_lossy(&raw).chars().take(300).collect();
            failures.push(format!(
                "- {} ({} {}): {why}\n    got {status} {shown}",
                c.name, c.method, c.path
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Fixtures: an account, keys, apps and tokens to be broken in various ways.

struct Fx {
    s: common::TestServer,
    /// `full` key.
    key: String,
    /// `read` key.
    read_key: String,
    key_id: String,
    client_id: String,
    secret: String,
    public_id: String,
    app_id: String,
    /// A valid access token (client credentials of `client_id`).
    access: String,
    kid: String,
}

async fn fixture(email: &str) -> Fx {
    fixture_with(email, Config::for_tests()).await
}

async fn fixture_with(email: &str, config: Config) -> Fx {
    let s = common::start_with(config).await;
    let (_, key) = s.account(email).await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(&key),
            Some(json!({"name": "reader", "preset": "read"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let read_key = body["data"]["key"].as_str().unwrap().to_owned();
    let key_id = body["data"]["id"].as_str().unwrap().to_owned();
    let (client_id, secret) = s
        .confidential_app(&key, &["keys.read", "keys.write", "apps.read"])
        .await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/apps",
            Some(&key),
            Some(
                json!({"name": "spa", "redirectUris": ["https://spa.example/cb"], "public": true}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let public_id = body["data"]["clientId"].as_str().unwrap().to_owned();
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((&client_id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let kid = sigil::jws::decode_header(&access).unwrap().kid.unwrap();
    Fx {
        app_id: client_id.clone(),
        s,
        key,
        read_key,
        key_id,
        client_id,
        secret,
        public_id,
        access,
        kid,
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Credentials that must never authenticate, by name.
async fn bad_tokens(fx: &Fx) -> Vec<(&'static str, String)> {
    let at = &fx.access;
    let (signing_input, signature) = at.rsplit_once('.').unwrap();
    let payload = signing_input.split_once('.').unwrap().1;
    let mut flipped = signature.as_bytes().to_vec();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    let flipped = format!("{signing_input}.{}", String::from_utf8(flipped).unwrap());

    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let server_keys = fx.s.state.keys.current();
    // Re-signed variants get their own `jti`, so revoking one of them can
    // never revoke the fixture's token.
    let claims = {
        let mut c = claims;
        c["jti"] = json!(crypto::new_id("at_forged_"));
        c
    };
    let resign = |typ: &str, patch: Value| {
        let mut c = claims.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        server_keys.sign(typ, &c)
    };
    let now = fx.s.state.clock.now();
    let expired = resign("at+jwt", json!({"iat": now - 7200, "exp": now - 3600}));
    let wrong_typ = resign("JWT", json!({}));
    let wrong_iss = resign("at+jwt", json!({"iss": "https://evil.example"}));
    let no_exp = {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove("exp");
        server_keys.sign("at+jwt", &c)
    };

    // The same claims signed by another server's key (same issuer).
    let mut other_config = Config::for_tests();
    other_config.bind = fx.s.state.config.bind;
    let other = AppState::new(other_config).await.unwrap();
    let scopes: Vec<String> = vec!["keys.read".into(), "keys.write".into()];
    let account = claims["acct"].as_str().unwrap().to_owned();
    let foreign = tokens::access_token(
        &other,
        &tokens::Grant {
            sub: &fx.client_id,
            client_id: &fx.client_id,
            scopes: &scopes,
            session_type: "app",
            sid: "sid_x",
            account: Some(&account),
            user: None,
        },
    )
    .token;

    let alg_none = format!(
        "{}.{payload}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": fx.kid}))
    );
    let alg_none_unsigned = format!(
        "{}.{payload}",
        b64(&json!({"alg": "none", "typ": "at+jwt"}))
    );
    let alg_hs256 = format!(
        "{}.{payload}.{signature}",
        b64(&json!({"alg": "HS256", "typ": "at+jwt", "kid": fx.kid}))
    );
    let unknown_kid = format!(
        "{}.{payload}.{signature}",
        b64(&json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "kid_nope"}))
    );

    let mut bad_checksum = fx.read_key.clone().into_bytes();
    let i = 12;
    bad_checksum[i] = if bad_checksum[i] == b'a' { b'b' } else { b'a' };
    let bad_checksum = String::from_utf8(bad_checksum).unwrap();

    vec![
        ("garbage", "garbage".into()),
        ("three junk segments", "aaa.bbb.ccc".into()),
        ("truncated JWS", at[..at.len() - 8].to_owned()),
        ("JWS without signature segment", signing_input.to_owned()),
        ("JWS with a flipped signature byte", flipped),
        ("alg none JWS", alg_none),
        ("alg none JWS without the last dot", alg_none_unsigned),
        ("alg HS256 JWS", alg_hs256),
        ("JWS with an unknown kid", unknown_kid),
        ("expired JWS", expired),
        ("JWS with typ JWT", wrong_typ),
        ("JWS from another issuer", wrong_iss),
        ("JWS without exp", no_exp),
        ("JWS signed by another server's key", foreign),
        ("API key with a bad checksum", bad_checksum),
        ("unknown well-formed API key", crypto::new_api_key(true)),
        ("bare API key prefix", "sgl_live_".into()),
        ("very long token", "A".repeat(8000)),
    ]
}

/// The bearer and API-key header variants that must be refused with 401.
async fn auth_cases(fx: &Fx, method: &'static str, path: &str, body: &Value) -> Vec<Case> {
    let body = body.to_string();
    let mut cases = Vec::new();
    for (name, token) in bad_tokens(fx).await {
        cases.push(
            Case::new(
                format!("bearer {name}"),
                method,
                path,
                Expect::Problem(401, "invalid_token"),
            )
            .bearer(&token)
            .json(body.clone()),
        );
    }
    // A revoked key.
    let (status, body_v, _) =
        fx.s.call(
            "POST",
            "/v1/api-keys",
            Some(&fx.key),
            Some(json!({"name": "doomed"})),
        )
        .await;
    assert_eq!(status, 201);
    let doomed = body_v["data"]["key"].as_str().unwrap().to_owned();
    let doomed_id = body_v["data"]["id"].as_str().unwrap();
    let (status, _, _) =
        fx.s.call(
            "POST",
            &format!("/v1/api-keys/{doomed_id}/revoke"),
            Some(&fx.key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    cases.push(
        Case::new(
            "revoked API key",
            method,
            path,
            Expect::Problem(401, "invalid_token"),
        )
        .bearer(&doomed)
        .json(body.clone()),
    );
    let header_cases: Vec<(&str, &'static str, Vec<u8>, Expect)> = vec![
        (
            "empty bearer",
            "authorization",
            b"Bearer ".to_vec(),
            Expect::Problem(401, "invalid_token"),
        ),
        (
            "bare Bearer",
            "authorization",
            b"Bearer".to_vec(),
            Expect::Problem(401, "invalid_token"),
        ),
        (
            "whitespace bearer",
            "authorization",
            b"Bearer    ".to_vec(),
            Expect::Problem(401, "invalid_token"),
        ),
        (
            "Basic scheme",
            "authorization",
            common::basic_auth(&fx.client_id, &fx.secret).into_bytes(),
            Expect::Problem(401, "invalid_token"),
        ),
        (
            "Token scheme",
            "authorization",
            format!("Token {}", fx.key).into_bytes(),
            Expect::Problem(401, "invalid_token"),
        ),
        (
            "non-ASCII bearer",
            "authorization",
            b"Bearer \xff\xfe".to_vec(),
            Expect::ProblemOneOf(401, &["invalid_token", "missing_credentials"]),
        ),
        (
            "X-API-Key garbage",
            "x-api-key",
            b"garbage".to_vec(),
            Expect::Problem(401, "invalid_token"),
        ),
        (
            "X-API-Key revoked",
            "x-api-key",
            doomed.clone().into_bytes(),
            Expect::Problem(401, "invalid_token"),
        ),
        (
            "empty X-API-Key",
            "x-api-key",
            Vec::new(),
            Expect::Problem(401, "missing_credentials"),
        ),
    ];
    for (name, header, value, expect) in header_cases {
        cases.push(
            Case::new(name, method, path, expect)
                .header(header, value)
                .json(body.clone()),
        );
    }
    cases.push(
        Case::new(
            "no credentials",
            method,
            path,
            Expect::Problem(401, "missing_credentials"),
        )
        .json(body.clone()),
    );
    cases
}

/// Body problems shared by every problem+json endpoint. `auth` is applied to
/// each case; `valid` is a well-formed body for the endpoint.
fn problem_body_cases(
    method: &'static str,
    path: &str,
    auth: Option<&str>,
    valid: &Value,
) -> Vec<Case> {
    let with = |c: Case| match auth {
        Some(a) => c.bearer(a),
        None => c,
    };
    let v = |code| Expect::Problem(422, code);
    let mut unknown = valid.clone();
    unknown["surprise"] = json!({"nested": [1, 2]});
    let valid_text = valid.to_string();
    let pad = |total: usize| {
        // `{"…": "xxx…"}` of exactly `total` bytes, with a valid body
        // otherwise: the size alone decides.
        let mut v = valid.clone();
        v["pad"] = json!("");
        let base = v.to_string().len();
        v["pad"] = json!("x".repeat(total - base));
        v.to_string()
    };
    let deep = "[".repeat(LIMIT - 10);
    vec![
        with(Case::new(
            "malformed JSON",
            method,
            path,
            Expect::Problem(400, "invalid_json"),
        ))
        .json(&valid_text[..valid_text.len() - 1]),
        with(Case::new(
            "JSON with trailing garbage",
            method,
            path,
            Expect::Problem(400, "invalid_json"),
        ))
        .json(format!("{valid_text} x")),
        with(Case::new(
            "JSON with a BOM",
            method,
            path,
            Expect::Problem(400, "invalid_json"),
        ))
        .json([b"\xEF\xBB\xBF".as_slice(), valid_text.as_bytes()].concat()),
        with(Case::new(
            "JSON not UTF-8",
            method,
            path,
            Expect::Problem(400, "invalid_json"),
        ))
        .json(b"{\"\xff\xfe\": \"x\"}".to_vec()),
        with(Case::new(
            "empty JSON body",
            method,
            path,
            Expect::Problem(400, "invalid_json"),
        ))
        .json(""),
        // Refused at the first `[` (a struct is not a sequence of these),
        // before any recursion.
        with(Case::new(
            "deeply nested JSON",
            method,
            path,
            v("validation_failed"),
        ))
        .json(deep),
        with(Case::new("JSON null", method, path, v("validation_failed"))).json("null"),
        with(Case::new(
            "JSON number",
            method,
            path,
            v("validation_failed"),
        ))
        .json("42"),
        with(Case::new(
            "JSON string",
            method,
            path,
            v("validation_failed"),
        ))
        .json("\"x\""),
        // serde would fill a struct from an array positionally.
        with(Case::new(
            "empty JSON array",
            method,
            path,
            v("validation_failed"),
        ))
        .json("[]"),
        with(Case::new(
            "the valid body's values as an array",
            method,
            path,
            v("validation_failed"),
        ))
        .json(
            Value::Array(
                valid
                    .as_object()
                    .map_or_else(Vec::new, |o| o.values().cloned().collect()),
            )
            .to_string(),
        ),
        with(Case::new(
            "unknown field",
            method,
            path,
            v("validation_failed"),
        ))
        .json_value(unknown),
        with(Case::new(
            "form not UTF-8",
            method,
            path,
            Expect::Problem(400, "invalid_json"),
        ))
        .form(b"name=\xff\xfe&x=\xc3\x28".to_vec()),
        with(Case::new(
            "oversize JSON",
            method,
            path,
            Expect::Problem(413, "payload_too_large"),
        ))
        .json(pad(LIMIT + 1)),
        with(Case::new(
            "oversize form",
            method,
            path,
            Expect::Problem(413, "payload_too_large"),
        ))
        .form(format!("name={}", "x".repeat(LIMIT))),
        with(Case::new(
            "1 MiB body",
            method,
            path,
            Expect::Problem(413, "payload_too_large"),
        ))
        .json(pad(1 << 20)),
        with(Case::new(
            "text/plain",
            method,
            path,
            Expect::Problem(415, "unsupported_media_type"),
        ))
        .body("text/plain", valid_text.clone()),
        with(Case::new(
            "application/xml",
            method,
            path,
            Expect::Problem(415, "unsupported_media_type"),
        ))
        .body("application/xml", "<name>x</name>"),
        with(Case::new(
            "multipart",
            method,
            path,
            Expect::Problem(415, "unsupported_media_type"),
        ))
        .body(
            "multipart/form-data; boundary=x",
            "--x\r\n\r\nname\r\n--x--",
        ),
        with(Case::new(
            "no content type",
            method,
            path,
            Expect::Problem(415, "unsupported_media_type"),
        ))
        .untyped(valid_text.clone()),
        // The limit is inclusive: a body of exactly the limit is parsed.
        with(Case::new(
            "body of exactly the limit",
            method,
            path,
            v("validation_failed"),
        ))
        .json(pad(LIMIT)),
    ]
}

/// Body problems shared by the OAuth endpoints (RFC 6749 errors).
fn oauth_body_cases(path: &str, basic: Option<(&str, &str)>) -> Vec<Case> {
    let with = |c: Case| match basic {
        Some((id, secret)) => c.basic(id, secret),
        None => c,
    };
    let bad = || Expect::OAuth(400, "invalid_request");
    // Unknown members are skipped, recursively: the parser's depth limit
    // must hold.
    let deep = format!("{{\"surprise\": {}", "[".repeat(LIMIT - 20));
    vec![
        with(Case::new("malformed JSON", "POST", path, bad())).json("{\"token\": "),
        with(Case::new("JSON with trailing garbage", "POST", path, bad())).json("{} x"),
        with(Case::new("JSON not UTF-8", "POST", path, bad()))
            .json(b"{\"token\": \"\xff\"}".to_vec()),
        with(Case::new("empty JSON body", "POST", path, bad())).json(""),
        with(Case::new("deeply nested JSON", "POST", path, bad())).json(deep),
        with(Case::new("JSON array", "POST", path, bad())).json("[1, 2]"),
        with(Case::new("JSON null", "POST", path, bad())).json("null"),
        with(Case::new("JSON number", "POST", path, bad())).json("42"),
        with(Case::new("form not UTF-8", "POST", path, bad()))
            .form(b"grant_type=client_credentials&token=\xff\xfe".to_vec()),
        with(Case::new("repeated form parameter", "POST", path, bad()))
            .form("grant_type=client_credentials&grant_type=refresh_token&token=a&token=b"),
        with(Case::new(
            "oversize form",
            "POST",
            path,
            Expect::OAuth(413, "invalid_request"),
        ))
        .form(format!("token=x&pad={}", "x".repeat(LIMIT))),
        with(Case::new(
            "oversize JSON",
            "POST",
            path,
            Expect::OAuth(413, "invalid_request"),
        ))
        .json(format!(
            "{{\"token\":\"x\",\"pad\":\"{}\"}}",
            "x".repeat(LIMIT)
        )),
        with(Case::new(
            "text/plain",
            "POST",
            path,
            Expect::OAuth(415, "invalid_request"),
        ))
        .body("text/plain", "grant_type=client_credentials&token=x"),
        with(Case::new(
            "multipart",
            "POST",
            path,
            Expect::OAuth(415, "invalid_request"),
        ))
        .body("multipart/form-data; boundary=x", "--x\r\n\r\nx\r\n--x--"),
        with(Case::new(
            "no content type",
            "POST",
            path,
            Expect::OAuth(415, "invalid_request"),
        ))
        .untyped("grant_type=client_credentials&token=x"),
    ]
}

/// Client-authentication failures on an OAuth endpoint; `form` is an
/// otherwise valid body.
fn client_auth_cases(fx: &Fx, path: &str, form: &str) -> Vec<Case> {
    let unauthorized = || Expect::OAuth(401, "invalid_client");
    let c = |name: &str| Case::new(name, "POST", path, unauthorized());
    vec![
        c("wrong client secret")
            .basic(&fx.client_id, "sgl_cs_wrong")
            .form(form),
        c("unknown client").basic("app_nope", &fx.secret).form(form),
        c("secret of another client type")
            .basic(&fx.public_id, &fx.secret)
            .form(form),
        c("wrong client_secret_post").form(format!(
            "{form}&client_id={}&client_secret=nope",
            fx.client_id
        )),
        c("bearer instead of client auth")
            .bearer(&fx.access)
            .form(form),
        c("empty bearer")
            .header("authorization", "Bearer ")
            .form(form),
        c("Basic not base64")
            .header("authorization", "Basic !!!not-base64!!!")
            .form(form),
        c("Basic without a colon")
            .header(
                "authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode("nocolon")
                ),
            )
            .form(form),
        c("Basic not UTF-8")
            .header(
                "authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(b"\xff\xfe:\xff")
                ),
            )
            .form(form),
        c("empty Basic")
            .header("authorization", "Basic ")
            .form(form),
        c("truncated JWS as the secret")
            .basic(&fx.client_id, &fx.access[..20])
            .form(form),
        Case::new(
            "Basic and client_secret_post at once",
            "POST",
            path,
            Expect::OAuth(400, "invalid_request"),
        )
        .basic(&fx.client_id, &fx.secret)
        .form(format!("{form}&client_secret={}", fx.secret)),
        Case::new(
            "Basic and a different body client_id",
            "POST",
            path,
            Expect::OAuth(400, "invalid_request"),
        )
        .basic(&fx.client_id, &fx.secret)
        .form(format!("{form}&client_id=app_other")),
    ]
}

// ---------------------------------------------------------------------------
// The groups.

#[tokio::test]
async fn oauth_token_bad_input() {
    let fx = fixture("token@example.com").await;
    let p = "/oauth/token";
    let (id, secret) = (fx.client_id.as_str(), fx.secret.as_str());
    let mut cases = oauth_body_cases(p, Some((id, secret)));
    cases.extend(client_auth_cases(&fx, p, "grant_type=client_credentials"));
    let bad = || Expect::OAuth(400, "invalid_request");
    let unsupported = || Expect::OAuth(400, "unsupported_grant_type");
    let ok = || Expect::Ok(200, Some(("/token_type", json!("Bearer"))));
    cases.extend([
        // Wrong types.
        Case::new("number for grant_type", "POST", p, bad()).basic(id, secret).json("{\"grant_type\": 5}"),
        Case::new("object for grant_type", "POST", p, bad())
            .basic(id, secret)
            .json("{\"grant_type\": {\"a\": 1}}"),
        Case::new("array for scope", "POST", p, bad())
            .basic(id, secret)
            .json("{\"grant_type\": \"client_credentials\", \"scope\": [\"keys.read\"]}"),
        // Missing fields.
        Case::new("empty form", "POST", p, bad()).basic(id, secret).form(""),
        Case::new("empty JSON object", "POST", p, bad()).basic(id, secret).json("{}"),
        Case::new("client_credentials without client auth", "POST", p, Expect::OAuth(401, "invalid_client"))
            .form("grant_type=client_credentials"),
        Case::new("refresh_token without refresh_token", "POST", p, bad())
            .basic(id, secret)
            .form("grant_type=refresh_token"),
        Case::new("token exchange without subject_token", "POST", p, bad())
            .form(format!("grant_type={}", urlencode(sigil_server::oauth::token::TOKEN_EXCHANGE))),
        Case::new("token exchange without subject_token_type", "POST", p, bad()).form(format!(
            "grant_type={}&subject_token={}",
            urlencode(sigil_server::oauth::token::TOKEN_EXCHANGE),
            fx.key
        )),
        Case::new("token exchange with a foreign subject_token_type", "POST", p, bad()).form(format!(
            "grant_type={}&subject_token={}&subject_token_type=urn:ietf:params:oauth:token-type:jwt",
            urlencode(sigil_server::oauth::token::TOKEN_EXCHANGE),
            fx.key
        )),
        // Unknown grants.
        Case::new("authorization_code without code", "POST", p, bad())
            .basic(id, secret)
            .form("grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=x"),
        Case::new("authorization_code with a made-up code", "POST", p, Expect::OAuth(400, "invalid_grant"))
            .basic(id, secret)
            .form(format!(
                "grant_type=authorization_code&code={}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier={}",
                crypto::random_base62(43),
                crypto::random_base62(43)
            )),
        Case::new("array for code", "POST", p, bad())
            .basic(id, secret)
            .json("{\"grant_type\": \"authorization_code\", \"code\": [\"x\"]}"),
        Case::new("grant_type password", "POST", p, unsupported()).basic(id, secret).form("grant_type=password"),
        Case::new("grant_type implicit", "POST", p, unsupported()).basic(id, secret).form("grant_type=implicit"),
        Case::new("grant_type urn", "POST", p, unsupported())
            .basic(id, secret)
            .form("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer"),
        Case::new("empty grant_type", "POST", p, unsupported()).basic(id, secret).form("grant_type="),
        Case::new("huge grant_type", "POST", p, unsupported())
            .basic(id, secret)
            .form(format!("grant_type={}", "g".repeat(10_000))),
        Case::new("grant_type with control characters", "POST", p, unsupported())
            .basic(id, secret)
            .form("grant_type=client%00credentials%0d%0a"),
        // Scopes.
        Case::new("unknown scope", "POST", p, Expect::OAuth(400, "invalid_scope"))
            .basic(id, secret)
            .form("grant_type=client_credentials&scope=root"),
        Case::new("scope beyond the client's", "POST", p, Expect::OAuth(400, "invalid_scope"))
            .basic(id, secret)
            .form("grant_type=client_credentials&scope=account.write"),
        Case::new("public client and client_credentials", "POST", p, Expect::OAuth(400, "unauthorized_client"))
            .form(format!("grant_type=client_credentials&client_id={}", fx.public_id)),
        // Unknown parameters are ignored (RFC 6749 §3.2).
        Case::new("unknown form parameter", "POST", p, ok())
            .basic(id, secret)
            .form("grant_type=client_credentials&surprise=1&token_type_hint=x"),
        Case::new("unknown JSON member", "POST", p, ok())
            .basic(id, secret)
            .json("{\"grant_type\": \"client_credentials\", \"surprise\": {\"nested\": [1]}}"),
        Case::new("form body of exactly the limit", "POST", p, ok()).basic(id, secret).form({
            let head = "grant_type=client_credentials&pad=";
            format!("{head}{}", "x".repeat(LIMIT - head.len()))
        }),
    ]);
    // Bad subject tokens in the RFC 8693 exchange are invalid grants.
    for (name, token) in bad_tokens(&fx).await {
        cases.push(
            Case::new(
                format!("subject_token: {name}"),
                "POST",
                p,
                Expect::OAuth(400, "invalid_grant"),
            )
            .basic(id, secret)
            .form(format!(
                "grant_type={}&subject_token={}&subject_token_type={}",
                urlencode(sigil_server::oauth::token::TOKEN_EXCHANGE),
                urlencode(&token),
                urlencode(sigil_server::oauth::token::API_KEY_TOKEN_TYPE)
            )),
        );
    }
    for (name, token) in bad_tokens(&fx).await {
        cases.push(
            Case::new(
                format!("refresh_token: {name}"),
                "POST",
                p,
                Expect::OAuth(400, "invalid_grant"),
            )
            .basic(id, secret)
            .form(format!(
                "grant_type=refresh_token&refresh_token={}",
                urlencode(&token)
            )),
        );
    }
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn oauth_introspect_bad_input() {
    let fx = fixture("introspect@example.com").await;
    let p = "/oauth/introspect";
    let (id, secret) = (fx.client_id.as_str(), fx.secret.as_str());
    let mut cases = oauth_body_cases(p, Some((id, secret)));
    let form = format!("token={}", fx.access);
    cases.extend(client_auth_cases(&fx, p, &form));
    let bad = || Expect::OAuth(400, "invalid_request");
    let inactive = || Expect::Ok(200, Some(("/active", json!(false))));
    cases.extend([
        Case::new("number for token", "POST", p, bad())
            .basic(id, secret)
            .json("{\"token\": 5}"),
        Case::new("object for token", "POST", p, bad())
            .basic(id, secret)
            .json("{\"token\": {\"a\": 1}}"),
        Case::new("array for token", "POST", p, bad())
            .basic(id, secret)
            .json("{\"token\": [\"x\"]}"),
        Case::new("missing token", "POST", p, bad())
            .basic(id, secret)
            .form(""),
        Case::new(
            "missing client auth",
            "POST",
            p,
            Expect::OAuth(401, "invalid_client"),
        )
        .form(form.clone()),
        Case::new(
            "public client",
            "POST",
            p,
            Expect::OAuth(401, "invalid_client"),
        )
        .form(format!("{form}&client_id={}", fx.public_id)),
        Case::new(
            "unknown parameters are ignored",
            "POST",
            p,
            Expect::Ok(200, Some(("/active", json!(true)))),
        )
        .basic(id, secret)
        .form(format!("{form}&token_type_hint=banana&surprise=1")),
        Case::new("empty token", "POST", p, inactive())
            .basic(id, secret)
            .form("token="),
    ]);
    for (name, token) in bad_tokens(&fx).await {
        cases.push(
            Case::new(format!("token: {name}"), "POST", p, inactive())
                .basic(id, secret)
                .form(format!("token={}", urlencode(&token))),
        );
    }
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn oauth_revoke_bad_input() {
    let fx = fixture("revoke@example.com").await;
    let p = "/oauth/revoke";
    let (id, secret) = (fx.client_id.as_str(), fx.secret.as_str());
    let mut cases = oauth_body_cases(p, Some((id, secret)));
    // A throwaway token, so the valid-body cases below revoke nothing the
    // other cases rely on.
    let (_, body, _) =
        fx.s.form(
            "/oauth/token",
            Some((id, secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let form = format!("token={}", body["access_token"].as_str().unwrap());
    cases.extend(client_auth_cases(&fx, p, &form));
    let bad = || Expect::OAuth(400, "invalid_request");
    let ok = || Expect::Ok(200, None);
    cases.extend([
        Case::new("number for token", "POST", p, bad())
            .basic(id, secret)
            .json("{\"token\": 5}"),
        Case::new("array for token", "POST", p, bad())
            .basic(id, secret)
            .json("{\"token\": [\"x\"]}"),
        Case::new("missing token", "POST", p, bad())
            .basic(id, secret)
            .form("token_type_hint=access_token"),
        Case::new(
            "missing client auth",
            "POST",
            p,
            Expect::OAuth(401, "invalid_client"),
        )
        .form(form.clone()),
        Case::new("unknown parameters are ignored", "POST", p, ok())
            .basic(id, secret)
            .form(format!("{form}&token_type_hint=banana&surprise=1")),
    ]);
    // RFC 7009 §2.2: unknown and invalid tokens are a 200.
    for (name, token) in bad_tokens(&fx).await {
        cases.push(
            Case::new(format!("token: {name}"), "POST", p, ok())
                .basic(id, secret)
                .form(format!("token={}", urlencode(&token))),
        );
    }
    run(&fx.s.base, cases).await;
    // None of that revoked the fixture's own token.
    let (status, body, _) =
        fx.s.form(
            "/oauth/introspect",
            Some((id, secret)),
            &[("token", &fx.access)],
        )
        .await;
    assert_eq!((status, &body["active"]), (200, &json!(true)));
}

#[tokio::test]
async fn auth_token_exchange_bad_input() {
    let fx = fixture("exchange@example.com").await;
    let p = "/auth/token/exchange";
    let valid = json!({"apiKey": fx.read_key});
    let mut cases = problem_body_cases("POST", p, None, &valid);
    let v = || Expect::Problem(422, "validation_failed");
    let k = &fx.read_key;
    cases.extend([
        Case::new("empty JSON object", "POST", p, v()).json("{}"),
        Case::new("number for apiKey", "POST", p, v()).json_value(json!({"apiKey": 5})),
        Case::new("null apiKey", "POST", p, v()).json_value(json!({"apiKey": null})),
        Case::new("array for apiKey", "POST", p, v()).json_value(json!({"apiKey": [k]})),
        Case::new("string for scopes", "POST", p, v())
            .json_value(json!({"apiKey": k, "scopes": "keys.read"})),
        Case::new("object for scopes", "POST", p, v())
            .json_value(json!({"apiKey": k, "scopes": {"a": 1}})),
        Case::new("snake_case api_key", "POST", p, v()).json_value(json!({"api_key": k})),
        Case::new("form without apiKey", "POST", p, v()).form("scopes=keys.read"),
        Case::new(
            "unknown scope",
            "POST",
            p,
            Expect::Problem(400, "invalid_scope"),
        )
        .json_value(json!({"apiKey": k, "scopes": ["root"]})),
        Case::new(
            "scope beyond the key's",
            "POST",
            p,
            Expect::Problem(400, "invalid_scope"),
        )
        .json_value(json!({"apiKey": k, "scopes": ["keys.write"]})),
        Case::new(
            "empty apiKey",
            "POST",
            p,
            Expect::Problem(401, "invalid_token"),
        )
        .json_value(json!({"apiKey": ""})),
        Case::new(
            "valid",
            "POST",
            p,
            Expect::Ok(200, Some(("/data/tokenType", json!("Bearer")))),
        )
        .json_value(valid.clone()),
        Case::new("valid as a form", "POST", p, Expect::Ok(200, None)).form(format!("apiKey={k}")),
    ]);
    for (name, token) in bad_tokens(&fx).await {
        cases.push(
            Case::new(
                format!("apiKey: {name}"),
                "POST",
                p,
                Expect::Problem(401, "invalid_token"),
            )
            .json_value(json!({"apiKey": token})),
        );
    }
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn auth_client_token_bad_input() {
    let fx = fixture("clienttoken@example.com").await;
    let p = "/auth/client-token";
    let (id, secret) = (fx.client_id.as_str(), fx.secret.as_str());
    let valid = json!({"client_id": id, "client_secret": secret});
    let mut cases = problem_body_cases("POST", p, None, &valid);
    let v = || Expect::Problem(422, "validation_failed");
    let unauthorized = || Expect::Problem(401, "invalid_client");
    cases.extend([
        Case::new("empty JSON object", "POST", p, v()).json("{}"),
        Case::new("number for client_id", "POST", p, v())
            .json_value(json!({"client_id": 5, "client_secret": secret})),
        Case::new("object for client_secret", "POST", p, v())
            .json_value(json!({"client_id": id, "client_secret": {"a": 1}})),
        Case::new("string for scopes", "POST", p, v())
            .json_value(json!({"client_id": id, "client_secret": secret, "scopes": "keys.read"})),
        Case::new("object for scopes", "POST", p, v())
            .json_value(json!({"client_id": id, "client_secret": secret, "scopes": {"a": 1}})),
        Case::new("missing client_secret", "POST", p, v()).json_value(json!({"client_id": id})),
        Case::new("camelCase clientId", "POST", p, v())
            .json_value(json!({"clientId": id, "clientSecret": secret})),
        Case::new("wrong secret", "POST", p, unauthorized())
            .json_value(json!({"client_id": id, "client_secret": "sgl_cs_x"})),
        Case::new("empty secret", "POST", p, unauthorized())
            .json_value(json!({"client_id": id, "client_secret": ""})),
        Case::new("unknown client", "POST", p, unauthorized())
            .json_value(json!({"client_id": "app_nope", "client_secret": secret})),
        Case::new("public client with a secret", "POST", p, unauthorized())
            .json_value(json!({"client_id": fx.public_id, "client_secret": secret})),
        Case::new("API key as the secret", "POST", p, unauthorized())
            .json_value(json!({"client_id": id, "client_secret": fx.key})),
        Case::new(
            "unknown scope",
            "POST",
            p,
            Expect::Problem(400, "invalid_scope"),
        )
        .json_value(json!({"client_id": id, "client_secret": secret, "scopes": ["root"]})),
        Case::new(
            "valid",
            "POST",
            p,
            Expect::Ok(200, Some(("/data/tokenType", json!("Bearer")))),
        )
        .json_value(valid.clone()),
    ]);
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn auth_introspect_bad_input() {
    let fx = fixture("authintrospect@example.com").await;
    let p = "/auth/introspect";
    let valid = json!({"token": fx.access});
    let mut cases = problem_body_cases("POST", p, Some(&fx.key), &valid);
    cases.extend(auth_cases(&fx, "POST", p, &valid).await);
    let v = || Expect::Problem(422, "validation_failed");
    let inactive = || Expect::Ok(200, Some(("/data/active", json!(false))));
    cases.extend([
        Case::new("empty JSON object", "POST", p, v())
            .bearer(&fx.key)
            .json("{}"),
        Case::new("number for token", "POST", p, v())
            .bearer(&fx.key)
            .json_value(json!({"token": 5})),
        Case::new("array for token", "POST", p, v())
            .bearer(&fx.key)
            .json_value(json!({"token": ["x"]})),
        Case::new("token_type_hint is not a field here", "POST", p, v())
            .bearer(&fx.key)
            .json_value(json!({"token": fx.access, "token_type_hint": "access_token"})),
        Case::new(
            "valid",
            "POST",
            p,
            Expect::Ok(200, Some(("/data/active", json!(true)))),
        )
        .bearer(&fx.key)
        .json_value(valid.clone()),
        Case::new("empty token", "POST", p, inactive())
            .bearer(&fx.key)
            .json_value(json!({"token": ""})),
    ]);
    for (name, token) in bad_tokens(&fx).await {
        cases.push(
            Case::new(format!("token: {name}"), "POST", p, inactive())
                .bearer(&fx.key)
                .json_value(json!({"token": token})),
        );
    }
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn auth_refresh_bad_input() {
    let fx = fixture("authrefresh@example.com").await;
    let p = "/auth/refresh";
    let (id, secret) = (fx.client_id.as_str(), fx.secret.as_str());
    let rt = format!("{}{}", crypto::REFRESH_PREFIX, crypto::random_base62(43));
    let valid = json!({"refresh_token": rt, "client_id": id, "client_secret": secret});
    let mut cases = problem_body_cases("POST", p, None, &valid);
    let v = || Expect::Problem(422, "validation_failed");
    cases.extend([
        Case::new("empty JSON object", "POST", p, v()).json("{}"),
        Case::new("number for refresh_token", "POST", p, v())
            .json_value(json!({"refresh_token": 5, "client_id": id, "client_secret": secret})),
        Case::new("object for client_id", "POST", p, v())
            .json_value(json!({"refresh_token": rt, "client_id": {"a": 1}})),
        Case::new("array for client_secret", "POST", p, v())
            .json_value(json!({"refresh_token": rt, "client_id": id, "client_secret": [secret]})),
        Case::new("missing refresh_token", "POST", p, v())
            .json_value(json!({"client_id": id, "client_secret": secret})),
        Case::new("missing client_id", "POST", p, v()).json_value(json!({"refresh_token": rt})),
        Case::new("camelCase refreshToken", "POST", p, v())
            .json_value(json!({"refreshToken": rt, "client_id": id, "client_secret": secret})),
        Case::new(
            "wrong client secret",
            "POST",
            p,
            Expect::Problem(401, "invalid_client"),
        )
        .json_value(json!({"refresh_token": rt, "client_id": id, "client_secret": "nope"})),
        Case::new(
            "confidential client without its secret",
            "POST",
            p,
            Expect::Problem(401, "invalid_client"),
        )
        .json_value(json!({"refresh_token": rt, "client_id": id})),
        Case::new(
            "unknown client",
            "POST",
            p,
            Expect::Problem(401, "invalid_client"),
        )
        .json_value(json!({"refresh_token": rt, "client_id": "app_nope"})),
        Case::new(
            "unknown refresh token",
            "POST",
            p,
            Expect::Problem(400, "invalid_grant"),
        )
        .json_value(valid.clone()),
        Case::new(
            "empty refresh token",
            "POST",
            p,
            Expect::Problem(400, "invalid_grant"),
        )
        .json_value(json!({"refresh_token": "", "client_id": id, "client_secret": secret})),
    ]);
    for (name, token) in bad_tokens(&fx).await {
        cases.push(
            Case::new(
                format!("refresh_token: {name}"),
                "POST",
                p,
                Expect::Problem(400, "invalid_grant"),
            )
            .json_value(json!({"refresh_token": token, "client_id": id, "client_secret": secret})),
        );
    }
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn v1_api_keys_create_bad_input() {
    let fx = fixture("keyscreate@example.com").await;
    let p = "/v1/api-keys";
    let valid = json!({"name": "ok", "preset": "read"});
    let mut cases = problem_body_cases("POST", p, Some(&fx.key), &valid);
    cases.extend(auth_cases(&fx, "POST", p, &valid).await);
    let v = || Expect::Problem(422, "validation_failed");
    let k = fx.key.as_str();
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "POST", p, expect)
            .bearer(k)
            .json_value(body)
    };
    cases.extend([
        c("empty JSON object", v(), json!({})),
        c("number for name", v(), json!({"name": 5})),
        c("array for name", v(), json!({"name": ["a"]})),
        c(
            "string for scopes",
            v(),
            json!({"name": "x", "scopes": "keys.read"}),
        ),
        c(
            "object for scopes",
            v(),
            json!({"name": "x", "scopes": {"keys.read": true}}),
        ),
        c(
            "numbers in scopes",
            v(),
            json!({"name": "x", "scopes": [1, 2]}),
        ),
        c(
            "string for expiresInDays",
            v(),
            json!({"name": "x", "expiresInDays": "30"}),
        ),
        c(
            "negative expiresInDays",
            v(),
            json!({"name": "x", "expiresInDays": -1}),
        ),
        c(
            "fractional expiresInDays",
            v(),
            json!({"name": "x", "expiresInDays": 1.5}),
        ),
        c(
            "huge expiresInDays",
            v(),
            json!({"name": "x", "expiresInDays": 99_999_999_999u64}),
        ),
        c(
            "zero expiresInDays",
            v(),
            json!({"name": "x", "expiresInDays": 0}),
        ),
        c(
            "expiresInDays over 3650",
            v(),
            json!({"name": "x", "expiresInDays": 3651}),
        ),
        c(
            "boolean for preset",
            v(),
            json!({"name": "x", "preset": true}),
        ),
        c(
            "unknown preset",
            v(),
            json!({"name": "x", "preset": "admin"}),
        ),
        c(
            "unknown scope",
            v(),
            json!({"name": "x", "scopes": ["root"]}),
        ),
        c(
            "scopes and preset",
            v(),
            json!({"name": "x", "scopes": ["keys.read"], "preset": "read"}),
        ),
        c("missing name", v(), json!({"preset": "read"})),
        c("empty name", v(), json!({"name": "", "preset": "read"})),
        c("blank name", v(), json!({"name": "   "})),
        c(
            "name over 100 characters",
            v(),
            json!({"name": "n".repeat(101)}),
        ),
        c(
            "snake_case expires_in_days",
            v(),
            json!({"name": "x", "expires_in_days": 30}),
        ),
        c(
            "client-chosen key",
            v(),
            json!({"name": "x", "key": "sgl_live_chosen"}),
        ),
        c(
            "unknown appId",
            Expect::Problem(404, "not_found"),
            json!({"name": "x", "appId": "app_nope"}),
        ),
        c("number for appId", v(), json!({"name": "x", "appId": 7})),
    ]);
    for (name, ips) in bad_allowlists() {
        cases.push(c(
            &format!("allowedIps: {name}"),
            v(),
            json!({"name": "x", "allowedIps": ips}),
        ));
    }
    cases.extend([
        c(
            "null allowedIps is no list",
            Expect::Ok(201, Some(("/data/allowedIps", Value::Null))),
            json!({"name": "x", "allowedIps": null}),
        ),
        c(
            "allowedIps with a host address and IPv6",
            Expect::Ok(
                201,
                Some((
                    "/data/allowedIps",
                    json!(["203.0.113.7/32", "2001:db8::/32"]),
                )),
            ),
            json!({"name": "x", "allowedIps": ["203.0.113.7", "2001:db8::/32"]}),
        ),
        c(
            "snake_case allowed_ips",
            v(),
            json!({"name": "x", "allowed_ips": ["10.0.0.0/8"]}),
        ),
        c(
            "valid",
            Expect::Ok(201, Some(("/data/status", json!("active")))),
            valid.clone(),
        ),
        Case::new(
            "read key cannot create keys",
            "POST",
            p,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.read_key)
        .json_value(valid.clone()),
    ]);
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn v1_api_keys_patch_bad_input() {
    let fx = fixture("keyspatch@example.com").await;
    let p = format!("/v1/api-keys/{}", fx.key_id);
    let p = p.as_str();
    let valid = json!({"name": "renamed"});
    let mut cases = problem_body_cases("PATCH", p, Some(&fx.key), &valid);
    cases.extend(auth_cases(&fx, "PATCH", p, &valid).await);
    let v = || Expect::Problem(422, "validation_failed");
    let k = fx.key.as_str();
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "PATCH", p, expect)
            .bearer(k)
            .json_value(body)
    };
    cases.extend([
        c("empty JSON object", v(), json!({})),
        c("number for name", v(), json!({"name": 5})),
        c("object for name", v(), json!({"name": {"a": 1}})),
        c("null name", v(), json!({"name": null})),
        c("empty name", v(), json!({"name": ""})),
        c(
            "name over 100 characters",
            v(),
            json!({"name": "é".repeat(101)}),
        ),
        c(
            "scopes cannot be patched",
            v(),
            json!({"name": "x", "scopes": ["account.write"]}),
        ),
        c(
            "status cannot be patched",
            v(),
            json!({"name": "x", "status": "active"}),
        ),
    ]);
    for (name, ips) in bad_allowlists() {
        cases.push(c(
            &format!("allowedIps: {name}"),
            v(),
            json!({"allowedIps": ips}),
        ));
        cases.push(c(
            &format!("a good name with allowedIps: {name}"),
            v(),
            json!({"name": "never-applied", "allowedIps": ips}),
        ));
    }
    cases.extend([
        c(
            "snake_case allowed_ips",
            v(),
            json!({"allowed_ips": ["10.0.0.0/8"]}),
        ),
        c(
            "camelCase AllowedIps",
            v(),
            json!({"AllowedIps": ["10.0.0.0/8"]}),
        ),
        // As on PATCH /v1/apps/{id}: null is "unchanged", and the body is
        // not empty because allowedIps is there.
        c(
            "null name with allowedIps leaves the name",
            Expect::Ok(200, Some(("/data/name", json!("reader")))),
            json!({"name": null, "allowedIps": ["127.0.0.0/8"]}),
        ),
        // The refused bodies above changed nothing: the name is the
        // fixture's until the valid case.
        Case::new(
            "nothing applied by a refused body",
            "GET",
            p,
            Expect::Ok(200, Some(("/data/name", json!("reader")))),
        )
        .bearer(k),
        // Loopback stays inside, so the read key's own cases below still
        // reach the scope check.
        c(
            "allowedIps set",
            Expect::Ok(
                200,
                Some(("/data/allowedIps", json!(["127.0.0.0/8", "::1/128"]))),
            ),
            json!({"allowedIps": ["127.0.0.0/8", "::1"]}),
        ),
        c(
            "allowedIps lifted with null",
            Expect::Ok(200, Some(("/data/allowedIps", Value::Null))),
            json!({"allowedIps": null}),
        ),
        c(
            "valid",
            Expect::Ok(200, Some(("/data/name", json!("renamed")))),
            valid.clone(),
        ),
        Case::new(
            "unknown key id",
            "PATCH",
            "/v1/api-keys/key_nope",
            Expect::Problem(404, "not_found"),
        )
        .bearer(k)
        .json_value(valid.clone()),
        Case::new(
            "percent-encoded id",
            "PATCH",
            "/v1/api-keys/%2e%2e%2fapps",
            Expect::Problem(404, "not_found"),
        )
        .bearer(k)
        .json_value(valid.clone()),
        Case::new(
            "non-UTF-8 id",
            "PATCH",
            "/v1/api-keys/%FF%FE",
            Expect::ProblemOneOf(400, &["invalid_request", "invalid_path"]),
        )
        .bearer(k)
        .json_value(valid.clone()),
        Case::new(
            "read key cannot rename",
            "PATCH",
            p,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.read_key)
        .json_value(valid.clone()),
    ]);
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn v1_apps_create_bad_input() {
    let fx = fixture("appscreate@example.com").await;
    let p = "/v1/apps";
    let valid = json!({"name": "ok", "redirectUris": ["https://ok.example/cb"]});
    let mut cases = problem_body_cases("POST", p, Some(&fx.key), &valid);
    cases.extend(auth_cases(&fx, "POST", p, &valid).await);
    let v = || Expect::Problem(422, "validation_failed");
    let k = fx.key.as_str();
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "POST", p, expect)
            .bearer(k)
            .json_value(body)
    };
    let cb = json!(["https://ok.example/cb"]);
    let many: Vec<String> = (0..21)
        .map(|i| format!("https://ok.example/cb{i}"))
        .collect();
    cases.extend([
        c("empty JSON object", v(), json!({})),
        c(
            "number for name",
            v(),
            json!({"name": 5, "redirectUris": cb}),
        ),
        c(
            "object for redirectUris",
            v(),
            json!({"name": "x", "redirectUris": {"a": "https://ok.example"}}),
        ),
        c(
            "string for redirectUris",
            v(),
            json!({"name": "x", "redirectUris": "https://ok.example/cb"}),
        ),
        c(
            "numbers in redirectUris",
            v(),
            json!({"name": "x", "redirectUris": [5]}),
        ),
        c(
            "string for public",
            v(),
            json!({"name": "x", "redirectUris": cb, "public": "yes"}),
        ),
        c(
            "object for allowedOrigins",
            v(),
            json!({"name": "x", "redirectUris": cb, "allowedOrigins": {}}),
        ),
        c(
            "string for scopes",
            v(),
            json!({"name": "x", "redirectUris": cb, "scopes": "keys.read"}),
        ),
        c("missing redirectUris", v(), json!({"name": "x"})),
        c("missing name", v(), json!({"redirectUris": cb})),
        c("blank name", v(), json!({"name": " ", "redirectUris": cb})),
        c(
            "client-chosen secret",
            v(),
            json!({"name": "x", "redirectUris": cb, "clientSecret": "sgl_cs_mine"}),
        ),
        c(
            "client-chosen id",
            v(),
            json!({"name": "x", "redirectUris": cb, "id": "app_mine"}),
        ),
        c(
            "http redirect off loopback",
            v(),
            json!({"name": "x", "redirectUris": ["http://evil.example/cb"]}),
        ),
        c(
            "javascript: redirect",
            v(),
            json!({"name": "x", "redirectUris": ["javascript:alert(1)"]}),
        ),
        c(
            "relative redirect",
            v(),
            json!({"name": "x", "redirectUris": ["/cb"]}),
        ),
        c(
            "redirect with a fragment",
            v(),
            json!({"name": "x", "redirectUris": ["https://ok.example/cb#x"]}),
        ),
        c(
            "21 redirect URIs",
            v(),
            json!({"name": "x", "redirectUris": many}),
        ),
        c(
            "origin with a path",
            v(),
            json!({"name": "x", "redirectUris": cb, "allowedOrigins": ["https://ok.example/path"]}),
        ),
        c(
            "unknown scope",
            v(),
            json!({"name": "x", "redirectUris": cb, "scopes": ["root"]}),
        ),
        c(
            "valid",
            Expect::Ok(201, Some(("/data/public", json!(false)))),
            valid.clone(),
        ),
        Case::new(
            "read key cannot create apps",
            "POST",
            p,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.read_key)
        .json_value(valid.clone()),
    ]);
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn v1_apps_patch_bad_input() {
    let fx = fixture("appspatch@example.com").await;
    let p = format!("/v1/apps/{}", fx.app_id);
    let p = p.as_str();
    let valid = json!({"name": "renamed"});
    let mut cases = problem_body_cases("PATCH", p, Some(&fx.key), &valid);
    cases.extend(auth_cases(&fx, "PATCH", p, &valid).await);
    let v = || Expect::Problem(422, "validation_failed");
    let k = fx.key.as_str();
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "PATCH", p, expect)
            .bearer(k)
            .json_value(body)
    };
    cases.extend([
        c(
            "empty JSON object changes nothing",
            Expect::Ok(200, Some(("/data/public", json!(false)))),
            json!({}),
        ),
        c("number for name", v(), json!({"name": 5})),
        c(
            "object for redirectUris",
            v(),
            json!({"redirectUris": {"a": 1}}),
        ),
        c("string for scopes", v(), json!({"scopes": "keys.read"})),
        c(
            "array of arrays for allowedOrigins",
            v(),
            json!({"allowedOrigins": [["https://a.example"]]}),
        ),
        c("public cannot be patched", v(), json!({"public": true})),
        c(
            "secret cannot be patched",
            v(),
            json!({"clientSecret": "sgl_cs_mine"}),
        ),
        c("empty name", v(), json!({"name": ""})),
        c(
            "ftp redirect",
            v(),
            json!({"redirectUris": ["ftp://ok.example/cb"]}),
        ),
        c("unknown scope", v(), json!({"scopes": ["root"]})),
        c(
            "valid",
            Expect::Ok(200, Some(("/data/name", json!("renamed")))),
            valid.clone(),
        ),
        Case::new(
            "unknown app",
            "PATCH",
            "/v1/apps/app_nope",
            Expect::Problem(404, "not_found"),
        )
        .bearer(k)
        .json_value(valid.clone()),
        Case::new(
            "read key cannot update apps",
            "PATCH",
            p,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.read_key)
        .json_value(valid.clone()),
    ]);
    run(&fx.s.base, cases).await;
}

/// A server with one upstream provider, `acme`, that is never reached:
/// every case below is refused before Sigil would talk to it.
async fn provider_fixture(email: &str) -> Fx {
    let mut config = Config::for_tests();
    config.oidc_providers = vec![ProviderConfig::parse_flag(
        "name=acme,issuer=http://127.0.0.1:9/never,client_id=sigil,client_secret=s",
    )
    .unwrap()];
    fixture_with(email, config).await
}

#[tokio::test]
async fn provider_login_bad_input() {
    let fx = provider_fixture("providerlogin@example.com").await;
    let app = urlencode(&fx.public_id);
    let cb = urlencode("https://spa.example/cb");
    let login = |query: &str| format!("/auth/oauth/acme/login?{query}");
    let v = || Expect::Problem(422, "validation_failed");
    let g = |name: &str, path: String, expect: Expect| Case::new(name, "GET", &path, expect);
    let mut cases = vec![
        g(
            "unknown provider",
            format!("/auth/oauth/nope/login?client_id={app}&redirect_uri={cb}"),
            Expect::Problem(404, "unknown_provider"),
        ),
        g(
            "provider name of 5000 characters",
            format!(
                "/auth/oauth/{}/login?client_id={app}&redirect_uri={cb}",
                "a".repeat(5000)
            ),
            Expect::Problem(404, "unknown_provider"),
        ),
        g(
            "percent-encoded traversal as the provider",
            format!("/auth/oauth/%2e%2e%2facme/login?client_id={app}&redirect_uri={cb}"),
            Expect::Problem(404, "unknown_provider"),
        ),
        g(
            "non-UTF-8 provider",
            format!("/auth/oauth/%FF%FE/login?client_id={app}&redirect_uri={cb}"),
            Expect::ProblemOneOf(400, &["invalid_request", "invalid_path"]),
        ),
        g("no query at all", "/auth/oauth/acme/login".into(), v()),
        g(
            "missing client_id",
            login(&format!("redirect_uri={cb}")),
            v(),
        ),
        g(
            "missing redirect_uri",
            login(&format!("client_id={app}")),
            v(),
        ),
        g(
            "empty client_id",
            login(&format!("client_id=&redirect_uri={cb}")),
            v(),
        ),
        g(
            "repeated client_id",
            login(&format!(
                "client_id={app}&client_id={app}&redirect_uri={cb}"
            )),
            v(),
        ),
        g(
            "repeated redirect_uri",
            login(&format!(
                "client_id={app}&redirect_uri={cb}&redirect_uri={}",
                urlencode("https://evil.example/cb")
            )),
            v(),
        ),
        g(
            "unknown client_id",
            login(&format!("client_id=app_nope&redirect_uri={cb}")),
            Expect::Problem(400, "invalid_client"),
        ),
        g(
            "client_id of 5000 characters",
            login(&format!("client_id={}&redirect_uri={cb}", "a".repeat(5000))),
            Expect::Problem(400, "invalid_client"),
        ),
        g(
            "non-UTF-8 client_id",
            login(&format!("client_id=%FF%FE&redirect_uri={cb}")),
            Expect::Problem(400, "invalid_client"),
        ),
    ];
    // An open redirect is a defect: none of these may be sent a browser.
    for (name, uri) in [
        ("another host", "https://evil.example/cb"),
        ("another path", "https://spa.example/other"),
        ("a longer path", "https://spa.example/cb/../../evil"),
        (
            "an added query",
            "https://spa.example/cb?next=https://evil.example",
        ),
        ("a fragment", "https://spa.example/cb#x"),
        ("a trailing slash", "https://spa.example/cb/"),
        ("plain http", "http://spa.example/cb"),
        ("userinfo", "https://spa.example@evil.example/cb"),
        ("a subdomain trick", "https://spa.example.evil.example/cb"),
        ("upper-case host", "https://SPA.example/cb"),
        ("a javascript: URI", "javascript:alert(1)"),
        ("a relative URI", "/cb"),
        ("not a URI", "not a uri"),
        (
            "5000 characters",
            &format!("https://spa.example/cb{}", "a".repeat(5000)),
        ),
    ] {
        cases.push(g(
            &format!("redirect_uri: {name}"),
            login(&format!("client_id={app}&redirect_uri={}", urlencode(uri))),
            Expect::Problem(400, "invalid_redirect_uri"),
        ));
    }
    cases.extend([
        g(
            "state over 512 characters",
            login(&format!(
                "client_id={app}&redirect_uri={cb}&state={}",
                "s".repeat(513)
            )),
            Expect::Problem(400, "invalid_request"),
        ),
        g(
            "repeated state",
            login(&format!(
                "client_id={app}&redirect_uri={cb}&state=a&state=b"
            )),
            v(),
        ),
        g(
            "unknown scope",
            login(&format!("client_id={app}&redirect_uri={cb}&scope=root")),
            Expect::Problem(400, "invalid_scope"),
        ),
        g(
            "malformed scope",
            login(&format!(
                "client_id={app}&redirect_uri={cb}&scope={}",
                urlencode("\"\u{1}")
            )),
            Expect::Problem(400, "invalid_scope"),
        ),
        g(
            "repeated scope",
            login(&format!(
                "client_id={app}&redirect_uri={cb}&scope=a&scope=b"
            )),
            v(),
        ),
    ]);

    // The callback: nothing is in flight, so every state is unknown.
    let callback = |query: &str| format!("/auth/oauth/acme/callback?{query}");
    let invalid_state = || Expect::Problem(400, "invalid_state");
    cases.extend([
        g(
            "callback without a query",
            "/auth/oauth/acme/callback".into(),
            v(),
        ),
        g("callback without state", callback("code=abc"), v()),
        g(
            "callback with an empty state",
            callback("state=&code=abc"),
            v(),
        ),
        g(
            "callback with the upstream's error but no state",
            callback("error=access_denied"),
            v(),
        ),
        g(
            "callback with a repeated state",
            callback("state=a&state=b&code=abc"),
            v(),
        ),
        g(
            "callback with a repeated code",
            callback("state=a&code=x&code=y"),
            v(),
        ),
        g(
            "callback with an unknown state",
            callback("state=nope&code=abc"),
            invalid_state(),
        ),
        g(
            "callback with an unknown state and an error",
            callback("state=nope&error=access_denied&error_description=no"),
            invalid_state(),
        ),
        g(
            "callback with a state of 5000 characters",
            callback(&format!("state={}&code=abc", "s".repeat(5000))),
            invalid_state(),
        ),
        g(
            "callback with a non-UTF-8 state",
            callback("state=%FF%FE&code=abc"),
            invalid_state(),
        ),
        g(
            "callback for an unknown provider",
            "/auth/oauth/nope/callback?state=nope&code=abc".into(),
            invalid_state(),
        ),
    ]);
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn provider_code_exchange_bad_input() {
    let fx = fixture("providerexchange@example.com").await;
    let p = "/auth/oauth/exchange";
    let code = format!("sgl_pc_{}", crypto::random_base62(43));
    let valid = json!({ "code": code });
    let mut cases = problem_body_cases("POST", p, None, &valid);
    let v = || Expect::Problem(422, "validation_failed");
    let grant = || Expect::Problem(400, "invalid_grant");
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "POST", p, expect).json_value(body)
    };
    cases.extend([
        c("empty JSON object", v(), json!({})),
        c("null code", v(), json!({"code": null})),
        c("number for code", v(), json!({"code": 5})),
        c("array for code", v(), json!({"code": [code]})),
        c("object for code", v(), json!({"code": {"code": code}})),
        c("Code, capitalised", v(), json!({"Code": code})),
        c(
            "code and a client_id",
            v(),
            json!({"code": code, "client_id": "app_1"}),
        ),
        c("unknown code", grant(), valid.clone()),
        c("empty code", grant(), json!({"code": ""})),
        c("bare prefix", grant(), json!({"code": "sgl_pc_"})),
        c(
            "an API key as the code",
            grant(),
            json!({"code": fx.read_key}),
        ),
        c(
            "an access token as the code",
            grant(),
            json!({"code": fx.access}),
        ),
        c(
            "code of 60000 characters",
            grant(),
            json!({"code": "c".repeat(60_000)}),
        ),
        c("NUL in the code", grant(), json!({"code": "sgl_pc_\u{0}x"})),
        // A bearer credential does not matter to the exchange.
        Case::new("unknown code with a key", "POST", p, grant())
            .bearer(&fx.key)
            .json_value(valid.clone()),
        Case::new(
            "GET",
            "GET",
            p,
            Expect::ProblemOneOf(405, &["method_not_allowed"]),
        ),
    ]);
    run(&fx.s.base, cases).await;
}

/// Allowlists every key endpoint refuses with 422 `validation_failed`.
fn bad_allowlists() -> Vec<(&'static str, Value)> {
    let many: Vec<String> = (0..101).map(|i| format!("10.0.{i}.0/24")).collect();
    // Far more than 100, still well inside the body limit.
    let lots: Vec<String> = (0..4000)
        .map(|i| format!("10.{}.{}.1", i / 250, i % 250))
        .collect();
    vec![
        ("a string, not a list", json!("10.0.0.0/8")),
        ("an object", json!({"10.0.0.0/8": true})),
        ("a number", json!(10)),
        ("an empty list", json!([])),
        ("a number in the list", json!([1])),
        ("null in the list", json!([null])),
        ("a list in the list", json!([["10.0.0.0/8"]])),
        ("prefix over 32", json!(["10.0.0.0/33"])),
        ("prefix over 128", json!(["2001:db8::/129"])),
        ("negative prefix", json!(["10.0.0.0/-1"])),
        ("empty prefix", json!(["10.0.0.0/"])),
        ("two prefixes", json!(["10.0.0.0/8/8"])),
        ("zero-padded prefix", json!(["10.0.0.0/08"])),
        ("octet over 255", json!(["10.0.0.256/24"])),
        ("three octets", json!(["10.0.0/24"])),
        ("leading zero octet", json!(["010.0.0.0/8"])),
        ("a hostname", json!(["example.com"])),
        ("an empty string", json!([""])),
        ("whitespace around", json!([" 10.0.0.0/8 "])),
        ("a URL", json!(["http://10.0.0.1/"])),
        ("an IPv6 zone", json!(["fe80::1%eth0"])),
        (
            "IPv6 with an embedded IPv4 part",
            json!(["::ffff:10.0.0.1"]),
        ),
        ("two double colons", json!(["2001::db8::1"])),
        ("a range", json!(["10.0.0.1-10.0.0.9"])),
        ("a wildcard", json!(["*"])),
        ("one good, one bad", json!(["10.0.0.0/8", "10.0.0.0/33"])),
        ("101 networks", json!(many)),
        ("4000 networks", json!(lots)),
    ]
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn v1_workspaces_bad_input() {
    let fx = fixture("workspaces@example.com").await;
    let (status, list, _) =
        fx.s.call("GET", "/v1/workspaces", Some(&fx.key), None)
            .await;
    assert_eq!(status, 200, "{list}");
    let ws = list["data"][0]["id"].as_str().unwrap().to_owned();
    let k = fx.key.as_str();
    let v = || Expect::Problem(422, "validation_failed");

    let create = json!({"name": "Team"});
    let mut cases = problem_body_cases("POST", "/v1/workspaces", Some(k), &create);
    cases.extend(auth_cases(&fx, "POST", "/v1/workspaces", &create).await);
    let rename_path = format!("/v1/workspaces/{ws}");
    let rename = json!({"name": "Renamed"});
    cases.extend(problem_body_cases("PATCH", &rename_path, Some(k), &rename));
    let members = format!("/v1/workspaces/{ws}/members");
    let add = json!({"email": "workspaces@example.com", "role": "member"});
    cases.extend(problem_body_cases("POST", &members, Some(k), &add));
    let member = format!("/v1/workspaces/{ws}/members/{ws}");
    cases.extend(problem_body_cases(
        "PATCH",
        &member,
        Some(k),
        &json!({"role": "admin"}),
    ));
    let c = |name: &str, method: &'static str, path: &str, expect: Expect, body: Value| {
        Case::new(name, method, path, expect)
            .bearer(k)
            .json_value(body)
    };
    cases.extend([
        c(
            "create: empty name",
            "POST",
            "/v1/workspaces",
            v(),
            json!({"name": ""}),
        ),
        c(
            "create: number name",
            "POST",
            "/v1/workspaces",
            v(),
            json!({"name": 5}),
        ),
        c(
            "create: a key is not a user",
            "POST",
            "/v1/workspaces",
            Expect::Problem(403, "user_required"),
            create.clone(),
        ),
        c("rename: no name", "PATCH", &rename_path, v(), json!({})),
        c(
            "rename: name over 100 characters",
            "PATCH",
            &rename_path,
            v(),
            json!({"name": "é".repeat(101)}),
        ),
        c(
            "rename: valid",
            "PATCH",
            &rename_path,
            Expect::Ok(200, Some(("/data/name", json!("Renamed")))),
            rename.clone(),
        ),
        c(
            "rename: another workspace",
            "PATCH",
            "/v1/workspaces/ws_nope",
            Expect::Problem(404, "workspace_not_found"),
            rename.clone(),
        ),
        c(
            "rename: non-UTF-8 id",
            "PATCH",
            "/v1/workspaces/%FF%FE",
            Expect::ProblemOneOf(400, &["invalid_request", "invalid_path"]),
            rename.clone(),
        ),
        c(
            "add: unknown role",
            "POST",
            &members,
            v(),
            json!({"email": "a@b.example", "role": "root"}),
        ),
        c(
            "add: no role",
            "POST",
            &members,
            v(),
            json!({"email": "a@b.example"}),
        ),
        c(
            "add: bad email",
            "POST",
            &members,
            v(),
            json!({"email": "nope", "role": "member"}),
        ),
        c(
            "add: a personal workspace",
            "POST",
            &members,
            Expect::Problem(409, "personal_workspace"),
            add.clone(),
        ),
        c(
            "add: an owner, by a key",
            "POST",
            &members,
            Expect::Problem(403, "owner_required"),
            json!({"email": "a@b.example", "role": "owner"}),
        ),
        c(
            "role: unknown",
            "PATCH",
            &member,
            v(),
            json!({"role": "god"}),
        ),
        c("role: null", "PATCH", &member, v(), json!({"role": null})),
        c(
            "role: unknown member",
            "PATCH",
            &format!("/v1/workspaces/{ws}/members/usr_nope"),
            Expect::Problem(404, "member_not_found"),
            json!({"role": "admin"}),
        ),
        c(
            "role: an owner, by a key",
            "PATCH",
            &member,
            Expect::Problem(403, "owner_required"),
            json!({"role": "admin"}),
        ),
        Case::new(
            "remove: unknown member",
            "DELETE",
            &format!("/v1/workspaces/{ws}/members/usr_nope"),
            Expect::Problem(404, "member_not_found"),
        )
        .bearer(k),
        Case::new(
            "a read key cannot add members",
            "POST",
            &members,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.read_key)
        .json_value(add.clone()),
        Case::new(
            "a workspace header the key is not in",
            "GET",
            "/v1/apps",
            Expect::Problem(404, "workspace_not_found"),
        )
        .bearer(k)
        .header("x-sigil-workspace", "ws_other"),
        Case::new(
            "an empty workspace header",
            "GET",
            "/v1/apps",
            Expect::Problem(400, "invalid_workspace"),
        )
        .bearer(k)
        .header("x-sigil-workspace", " "),
    ]);
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn app_reports_bad_input() {
    let fx = fixture("reports@example.com").await;
    let (app, secret) = fx.s.confidential_app(&fx.key, &["reports.write"]).await;
    let (status, body, _) =
        fx.s.form(
            "/oauth/token",
            Some((&app, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let p = "/app/v1/reports";
    let valid = json!({"userId": "pw_nobody", "reason": "spam"});
    let mut cases = problem_body_cases("POST", p, Some(&token), &valid);
    let v = || Expect::Problem(422, "validation_failed");
    let t = token.as_str();
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "POST", p, expect)
            .bearer(t)
            .json_value(body)
    };
    cases.extend([
        c("empty JSON object", v(), json!({})),
        c(
            "unknown reason",
            v(),
            json!({"userId": "pw_x", "reason": "rude"}),
        ),
        c(
            "number for userId",
            v(),
            json!({"userId": 5, "reason": "spam"}),
        ),
        c("empty userId", v(), json!({"userId": "", "reason": "spam"})),
        c(
            "201-character userId",
            v(),
            json!({"userId": "x".repeat(201), "reason": "spam"}),
        ),
        c(
            "1001-character details",
            v(),
            json!({"userId": "pw_x", "reason": "other", "details": "d".repeat(1001)}),
        ),
        c(
            "array for details",
            v(),
            json!({"userId": "pw_x", "reason": "other", "details": ["d"]}),
        ),
        c(
            "unknown user",
            Expect::Problem(404, "not_found"),
            valid.clone(),
        ),
        Case::new(
            "an API key is not an app token",
            "POST",
            p,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.key)
        .json_value(valid.clone()),
        Case::new(
            "no credentials",
            "POST",
            p,
            Expect::Problem(401, "missing_credentials"),
        )
        .json_value(valid.clone()),
    ]);
    run(&fx.s.base, cases).await;
}

/// The fixture account's user id.
async fn account_id(fx: &Fx) -> String {
    let (status, body, _) = fx.s.call("GET", "/v1/account", Some(&fx.key), None).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn v1_admin_moderation_bad_input() {
    let fx = fixture("moderated@example.com").await;
    let ops = fx.s.operator("ops-moderation@example.com").await;
    let user = account_id(&fx).await;
    let p = format!("/v1/admin/users/{user}/moderation");
    let valid = json!({"state": "warn", "reason": "first warning"});
    let mut cases = problem_body_cases("PUT", &p, Some(&ops), &valid);
    cases.extend(auth_cases(&fx, "PUT", &p, &valid).await);
    let v = || Expect::Problem(422, "validation_failed");
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "PUT", &p, expect)
            .bearer(&ops)
            .json_value(body)
    };
    cases.extend([
        c("empty JSON object", v(), json!({})),
        c("unknown state", v(), json!({"state": "banned"})),
        c("uppercase state", v(), json!({"state": "WARN"})),
        c(
            "number for reason",
            v(),
            json!({"state": "warn", "reason": 5}),
        ),
        c(
            "501-character reason",
            v(),
            json!({"state": "warn", "reason": "r".repeat(501)}),
        ),
        Case::new(
            "no such user",
            "PUT",
            "/v1/admin/users/usr_nobody/moderation",
            Expect::Problem(404, "not_found"),
        )
        .bearer(&ops)
        .json_value(valid.clone()),
        Case::new(
            "a full key is no operator",
            "PUT",
            &p,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.key)
        .json_value(valid.clone()),
        c(
            "valid",
            Expect::Ok(200, Some(("/data/moderation/state", json!("warn")))),
            valid.clone(),
        ),
    ]);
    run(&fx.s.base, cases).await;
}

#[tokio::test]
async fn v1_admin_plan_bad_input() {
    let fx = fixture("planned@example.com").await;
    let ops = fx.s.operator("ops-billing@example.com").await;
    let account = account_id(&fx).await;
    let p = format!("/v1/admin/accounts/{account}/plan");
    let valid = json!({"plan": "pro", "maxAgents": 5, "maxTokensPerMonth": 1000});
    let mut cases = problem_body_cases("PUT", &p, Some(&ops), &valid);
    cases.extend(auth_cases(&fx, "PUT", &p, &valid).await);
    let v = || Expect::Problem(422, "validation_failed");
    let c = |name: &str, expect: Expect, body: Value| {
        Case::new(name, "PUT", &p, expect)
            .bearer(&ops)
            .json_value(body)
    };
    let with = |member: &str, value: Value| {
        let mut b = valid.clone();
        b[member] = value;
        b
    };
    cases.extend([
        c("empty JSON object", v(), json!({})),
        c(
            "missing maxAgents",
            v(),
            json!({"plan": "pro", "maxTokensPerMonth": 1}),
        ),
        c("negative maxAgents", v(), with("maxAgents", json!(-1))),
        c("fractional maxAgents", v(), with("maxAgents", json!(1.5))),
        c("string for maxAgents", v(), with("maxAgents", json!("5"))),
        c(
            "maxAgents over the cap",
            v(),
            with("maxAgents", json!(1_000_001)),
        ),
        c(
            "maxTokensPerMonth over the cap",
            v(),
            with("maxTokensPerMonth", json!(1_000_000_001u64)),
        ),
        c(
            "huge maxTokensPerMonth",
            v(),
            with("maxTokensPerMonth", json!(u64::MAX)),
        ),
        c("uppercase plan", v(), with("plan", json!("Pro"))),
        c("empty plan", v(), with("plan", json!(""))),
        c(
            "41-character plan",
            v(),
            with("plan", json!("p".repeat(41))),
        ),
        c("plan with a newline", v(), with("plan", json!("pro\n"))),
        Case::new(
            "no such account",
            "PUT",
            "/v1/admin/accounts/usr_nobody/plan",
            Expect::Problem(404, "not_found"),
        )
        .bearer(&ops)
        .json_value(valid.clone()),
        Case::new(
            "a full key is no operator",
            "PUT",
            &p,
            Expect::Problem(403, "insufficient_scope"),
        )
        .bearer(&fx.key)
        .json_value(valid.clone()),
        c(
            "valid",
            Expect::Ok(200, Some(("/data/limits/agents", json!(5)))),
            valid.clone(),
        ),
    ]);
    run(&fx.s.base, cases).await;
}
