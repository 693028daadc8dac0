//! The scenario catalog and the Rust SDK's implementation of it.

use std::path::Path;

use serde::Deserialize;
use sigil::{ClientAuth, OAuthClient, Retry, Runtime};

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

/// Runs every scenario listed for the Rust SDK; returns (passed, failed).
pub async fn run_rust(catalog: &Catalog, issuer: &str) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for s in catalog
        .scenarios
        .iter()
        .filter(|s| s.sdks.iter().any(|x| x == "rust"))
    {
        match run(&s.id, issuer).await {
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

async fn run(id: &str, issuer: &str) -> Result<(), String> {
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
        other => Err(format!("scenario `{other}` has no Rust implementation")),
    }
}
