//! The scenario catalog and the Rust SDK's implementation of it.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use sigil::jws::VerifyOptions;
use sigil::{ClientAuth, JwksCache, MemoryStorage, OAuthClient, Renewal, Retry, Runtime, Session};

/// `scenarios.json`.
#[derive(Debug, Deserialize)]
pub struct Catalog {
    scenarios: Vec<Scenario>,
}

#[derive(Debug, Deserialize)]
struct Scenario {
    id: String,
    sdks: Vec<String>,
}

impl Catalog {
    /// Reads the catalog file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}

/// Known values from the fixtures file.
struct Known {
    full_key: String,
    app_id: String,
    app_secret: String,
}

impl Known {
    fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let f: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let s = |v: &Value| v.as_str().map(str::to_owned).ok_or("fixture value missing");
        Ok(Self {
            full_key: s(&f["apiKeys"][0]["key"])?,
            app_id: s(&f["apps"][0]["id"])?,
            app_secret: s(&f["apps"][0]["secret"])?,
        })
    }
}

/// Runs every scenario listed for the Rust SDK; returns (passed, failed).
pub async fn run_rust(catalog: &Catalog, issuer: &str, fixtures: &Path) -> (usize, usize) {
    let known = match Known::load(fixtures) {
        Ok(k) => k,
        Err(e) => {
            println!("FAIL rust fixtures: {e}");
            return (0, 1);
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for s in catalog
        .scenarios
        .iter()
        .filter(|s| s.sdks.iter().any(|x| x == "rust"))
    {
        match run(&s.id, issuer, &known).await {
            Ok(()) => {
                passed += 1;
                println!("ok   rust {}", s.id);
            }
            Err(e) => {
                failed += 1;
                println!("FAIL rust {}: {e}", s.id);
            }
        }
    }
    (passed, failed)
}

fn check(cond: bool, what: &str) -> Result<(), String> {
    cond.then_some(()).ok_or_else(|| what.to_owned())
}

async fn get(issuer: &str, path: &str) -> Result<sigil::HttpResponse, String> {
    let req = http::Request::get(format!("{issuer}{path}"))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    Runtime::native()
        .send(req, Retry::Never)
        .await
        .map_err(|e| e.to_string())
}

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn client(issuer: &str, id: &str, auth: ClientAuth) -> Result<OAuthClient, String> {
    OAuthClient::discover(issuer, id, auth, Runtime::native())
        .await
        .map_err(fail)
}

fn key_session(c: OAuthClient, key: &str) -> Session {
    Session::new(
        c,
        Arc::new(MemoryStorage::default()),
        Renewal::ApiKey {
            key: key.into(),
            scopes: vec![],
        },
    )
}

fn get_req(url: String) -> Result<sigil::HttpRequest, String> {
    http::Request::get(url).body(Vec::new()).map_err(fail)
}

async fn run(id: &str, issuer: &str, known: &Known) -> Result<(), String> {
    match id {
        "server.healthz" => {
            let res = get(issuer, "/healthz").await?;
            check(res.status() == 200, "healthz status")?;
            check(res.headers().contains_key("x-request-id"), "x-request-id")
        }
        "discovery.rfc8414" => {
            let c =
                OAuthClient::discover(issuer, "conformance", ClientAuth::None, Runtime::native())
                    .await
                    .map_err(|e| e.to_string())?;
            let md = c.metadata();
            check(md.issuer == issuer, "issuer")?;
            check(md.supports_s256(), "S256")?;
            check(
                md.authorization_response_iss_parameter_supported,
                "iss param",
            )
        }
        "discovery.openid-configuration" => {
            let res = get(issuer, "/.well-known/openid-configuration").await?;
            let md: sigil::ServerMetadata =
                serde_json::from_slice(res.body()).map_err(|e| e.to_string())?;
            check(md.issuer == issuer, "issuer")
        }
        "errors.unknown-route" => {
            let res = get(issuer, "/no-such-route").await?;
            let err = sigil::error_body::from_response(&res, sigil::transport::system_now());
            check(err.status() == Some(404), "404")?;
            check(err.code() == "not_found", "code")?;
            check(err.request_id().is_some(), "request id")
        }
        "keys.exchange" => {
            let c = client(issuer, "conformance", ClientAuth::None).await?;
            let t = c
                .exchange_api_key(&known.full_key.as_str().into(), &[])
                .await
                .map_err(fail)?;
            let res = get(issuer, "/v1/api-keys").await?;
            check(res.status() == 401, "unauthenticated call refused")?;
            let s = key_session(c, &known.full_key);
            let res = s
                .request(get_req(format!("{issuer}/v1/api-keys"))?)
                .await
                .map_err(fail)?;
            check(res.status() == 200, "key session lists keys")?;
            check(t.expires_at.is_some(), "expiry")
        }
        "keys.lifecycle" => {
            let s = key_session(
                client(issuer, "conformance", ClientAuth::None).await?,
                &known.full_key,
            );
            let create = http::Request::post(format!("{issuer}/v1/api-keys"))
                .header("content-type", "application/json")
                .body(br#"{"name":"conformance","preset":"read","expiresInDays":1}"#.to_vec())
                .map_err(fail)?;
            let created: Value =
                serde_json::from_slice(s.request(create).await.map_err(fail)?.body())
                    .map_err(fail)?;
            let secret = created["data"]["key"].as_str().ok_or("secret shown once")?;
            let kid = created["data"]["id"].as_str().ok_or("id")?;
            let listed: Value = serde_json::from_slice(
                s.request(get_req(format!("{issuer}/v1/api-keys"))?)
                    .await
                    .map_err(fail)?
                    .body(),
            )
            .map_err(fail)?;
            let text = listed.to_string();
            check(!text.contains(secret), "lists are masked")?;
            check(text.contains(&secret[..12]), "lists show the prefix")?;
            let revoke = http::Request::post(format!("{issuer}/v1/api-keys/{kid}/revoke"))
                .body(Vec::new())
                .map_err(fail)?;
            s.request(revoke).await.map_err(fail)?;
            let c = client(issuer, "conformance", ClientAuth::None).await?;
            match c.exchange_api_key(&secret.into(), &[]).await {
                Err(e) if e.code() == "invalid_token" && e.status() == Some(401) => Ok(()),
                other => Err(format!("revoked key: {other:?}")),
            }
        }
        "oauth.client-credentials" => {
            let c = client(
                issuer,
                &known.app_id,
                ClientAuth::Basic(known.app_secret.as_str().into()),
            )
            .await?;
            let t = c
                .client_credentials(&["keys.read".into()])
                .await
                .map_err(fail)?;
            check(t.scope.as_deref() == Some("keys.read"), "narrowed scope")?;
            match c.client_credentials(&["account.write".into()]).await {
                Err(sigil::Error::OAuth { code, .. }) if code == "invalid_scope" => Ok(()),
                other => Err(format!("over-broad scope: {other:?}")),
            }
        }
        "oauth.introspect-revoke" => {
            let c = client(
                issuer,
                &known.app_id,
                ClientAuth::Basic(known.app_secret.as_str().into()),
            )
            .await?;
            let t = c.client_credentials(&[]).await.map_err(fail)?;
            let token = t.access_token.expose();
            check(
                c.introspect(token, None).await.map_err(fail)?.active,
                "active",
            )?;
            c.revoke(token, Some("access_token")).await.map_err(fail)?;
            check(
                !c.introspect(token, None).await.map_err(fail)?.active,
                "inactive",
            )
        }
        "offline.jwks-verify" => {
            let c = client(issuer, "conformance", ClientAuth::None).await?;
            let t = c
                .exchange_api_key(&known.full_key.as_str().into(), &[])
                .await
                .map_err(fail)?;
            let jwks_uri = c.metadata().jwks_uri.clone().ok_or("jwks_uri")?;
            let cache = JwksCache::new(jwks_uri, Runtime::native());
            let opts = VerifyOptions {
                issuer: Some(issuer.to_owned()),
                audience: Some(issuer.to_owned()),
                required_scopes: vec!["keys.read".into()],
                ..VerifyOptions::default()
            };
            let v = cache
                .verify(t.access_token.expose(), &opts)
                .await
                .map_err(fail)?;
            check(v.claims.jti.is_some(), "jti")
        }
        "test-mode.clock" => {
            let c = client(issuer, "conformance", ClientAuth::None).await?;
            let t = c
                .exchange_api_key(&known.full_key.as_str().into(), &[])
                .await
                .map_err(fail)?;
            let advance = http::Request::post(format!("{issuer}/_test/clock"))
                .header("content-type", "application/json")
                .body(br#"{"advance": 601}"#.to_vec())
                .map_err(fail)?;
            Runtime::native()
                .send(advance, Retry::Never)
                .await
                .map_err(fail)?;
            let call = http::Request::get(format!("{issuer}/v1/api-keys"))
                .header(
                    "authorization",
                    format!("Bearer {}", t.access_token.expose()),
                )
                .body(Vec::new())
                .map_err(fail)?;
            let res = Runtime::native()
                .send(call, Retry::Never)
                .await
                .map_err(fail)?;
            // Put the clock back for any scenario after this one.
            let back = http::Request::post(format!("{issuer}/_test/clock"))
                .header("content-type", "application/json")
                .body(br#"{"advance": -601}"#.to_vec())
                .map_err(fail)?;
            Runtime::native()
                .send(back, Retry::Never)
                .await
                .map_err(fail)?;
            check(res.status() == 401, "expired token refused")
        }
        other => Err(format!("scenario `{other}` has no Rust implementation")),
    }
}
