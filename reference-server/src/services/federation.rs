//! Provider login's upstream side: each configured OpenID Connect provider
//! (`--oidc-provider`, `--oidc-providers-file`), its discovery document and
//! JWKS (fetched on first use; the JWKS again when an `id_token` names an
//! unknown `kid`), the authorization request (PKCE S256, `nonce`, `state`),
//! and at the callback the code's redemption and the `id_token`'s
//! verification: signature against the JWKS, `iss`, `aud` (and `azp`),
//! `exp`, and `nonce`.
//!
//! Upstream `id_token`s are verified with `jsonwebtoken`, not with the
//! EdDSA-only `sigil::jws` that checks Sigil's own tokens: the providers
//! users bring (Google, Microsoft, Okta, node-oidc-provider by default) sign
//! RS256, and `jsonwebtoken` reads RSA, EC and OKP JWKs on the `ring` that
//! rustls already links.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use url::Url;

/// The scopes asked of an upstream unless configured otherwise.
const DEFAULT_SCOPE: &str = "openid email profile";
/// Clock skew tolerated on the upstream's `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 60;
/// Per-request timeout toward an upstream.
const TIMEOUT: Duration = Duration::from_secs(10);

fn default_scope() -> String {
    DEFAULT_SCOPE.to_owned()
}

/// One upstream provider, as configured.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderConfig {
    /// The `{provider}` of `/auth/oauth/{provider}/login`.
    pub name: String,
    /// Its issuer identifier (discovery is at
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// Sigil's client id there.
    pub client_id: String,
    /// Sigil's client secret there (`client_secret_basic`).
    pub client_secret: String,
    /// Scopes asked of it.
    #[serde(default = "default_scope")]
    pub scope: String,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scope", &self.scope)
            .finish()
    }
}

impl ProviderConfig {
    /// Parses `name=…,issuer=…,client_id=…,client_secret=…[,scope=…]`.
    pub fn parse_flag(value: &str) -> Result<Self, String> {
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for part in value.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not key=value"))?;
            if fields.insert(k.trim(), v.trim()).is_some() {
                return Err(format!("{k} given twice"));
            }
        }
        let mut take = |k: &str| {
            fields
                .remove(k)
                .map(str::to_owned)
                .ok_or_else(|| format!("{k}= is missing"))
        };
        let config = Self {
            name: take("name")?,
            issuer: take("issuer")?,
            client_id: take("client_id")?,
            client_secret: take("client_secret")?,
            scope: take("scope").unwrap_or_else(|_| default_scope()),
        };
        if let Some(k) = fields.keys().next() {
            return Err(format!("unknown field {k}"));
        }
        config.check()?;
        Ok(config)
    }

    /// A usable name (a path segment), an http(s) issuer, and `openid`.
    pub fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(format!(
                "provider name {:?}: 1-64 of A-Z a-z 0-9 - _",
                self.name
            ));
        }
        match Url::parse(&self.issuer) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => {}
            _ => {
                return Err(format!(
                    "provider {}: issuer must be an http(s) URL",
                    self.name
                ))
            }
        }
        if !self.scope.split_whitespace().any(|s| s == "openid") {
            return Err(format!("provider {}: scope must include openid", self.name));
        }
        Ok(())
    }
}

/// Why an upstream step failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream could not be reached or answered nonsense.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// It answered, but refused the code or sent an `id_token` that does
    /// not verify.
    #[error("the provider's answer was refused: {0}")]
    Rejected(String),
}

fn unavailable(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Unavailable(e.to_string())
}

fn rejected(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Rejected(e.to_string())
}

/// The parts of the discovery document login uses.
#[derive(Debug, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    jwks_uri: Url,
}

/// Who the upstream says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The upstream's issuer identifier.
    pub issuer: String,
    /// Its `sub`.
    pub subject: String,
    /// Its `email`, lowercased.
    pub email: Option<String>,
    /// Whether it says it verified that email.
    pub email_verified: bool,
}

/// The `id_token` claims read here (`iss`, `aud`, `exp` are checked by
/// `jsonwebtoken`'s validation).
#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    #[serde(default)]
    aud: serde_json::Value,
    azp: Option<String>,
    email: Option<String>,
    /// A boolean, or the string `"true"` some providers send.
    #[serde(default)]
    email_verified: serde_json::Value,
}

/// What a login needs to send the browser upstream and to check the
/// answer: a fresh `state`, `nonce` and PKCE verifier.
#[derive(Debug)]
pub struct LoginSecrets {
    /// Sent upstream; the callback finds the login by its hash.
    pub state: String,
    /// Must come back in the `id_token`.
    pub nonce: String,
    /// The PKCE verifier (its S256 challenge goes upstream).
    pub code_verifier: String,
}

impl LoginSecrets {
    /// Fresh random values.
    pub fn new() -> Self {
        Self {
            state: crate::core::crypto::random_base62(32),
            nonce: crate::core::crypto::random_base62(32),
            code_verifier: crate::core::crypto::random_base62(64),
        }
    }
}

impl Default for LoginSecrets {
    fn default() -> Self {
        Self::new()
    }
}

/// One upstream provider and what was fetched from it.
#[derive(Debug)]
pub struct Upstream {
    config: ProviderConfig,
    http: reqwest::Client,
    metadata: OnceCell<Metadata>,
    jwks: RwLock<Vec<Jwk>>,
}

impl Upstream {
    /// Its configured name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    async fn metadata(&self) -> Result<&Metadata, UpstreamError> {
        self.metadata
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                let doc: Metadata = self.get_json(&url).await?;
                // OpenID Connect Discovery §4.3: the document's issuer is the
                // configured one, exactly.
                if doc.issuer.trim_end_matches('/') != self.config.issuer.trim_end_matches('/') {
                    return Err(unavailable(format!(
                        "discovery names issuer {}, not {}",
                        doc.issuer, self.config.issuer
                    )));
                }
                Ok(doc)
            })
            .await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, UpstreamError> {
        let res = self.http.get(url).send().await.map_err(unavailable)?;
        if !res.status().is_success() {
            return Err(unavailable(format!("{url} answered {}", res.status())));
        }
        let bytes = res.bytes().await.map_err(unavailable)?;
        serde_json::from_slice(&bytes).map_err(|e| unavailable(format!("{url}: {e}")))
    }

    /// The upstream authorization URL for a login whose callback is
    /// `redirect_uri`.
    pub async fn authorization_url(
        &self,
        redirect_uri: &str,
        secrets: &LoginSecrets,
    ) -> Result<Url, UpstreamError> {
        let mut url = self.metadata().await?.authorization_endpoint.clone();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(secrets.code_verifier.as_bytes()));
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.config.scope)
            .append_pair("state", &secrets.state)
            .append_pair("nonce", &secrets.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }

    /// Redeems the callback's `code` and verifies the `id_token` it brings.
    pub async fn sign_in(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, UpstreamError> {
        let meta = self.metadata().await?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", code_verifier)
            .finish();
        let res = self
            .http
            .post(meta.token_endpoint.clone())
            .header("authorization", self.basic_auth())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form)
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(unavailable)?;
        if status.is_server_error() {
            return Err(unavailable(format!("token endpoint answered {status}")));
        }
        let body: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| unavailable(format!("token endpoint: {e}")))?;
        if !status.is_success() {
            return Err(rejected(format!(
                "token endpoint refused the code: {}",
                body["error"].as_str().unwrap_or("?")
            )));
        }
        let id_token = body["id_token"]
            .as_str()
            .ok_or_else(|| rejected("the token response has no id_token"))?;
        self.verify(id_token, nonce).await
    }

    /// RFC 6749 §2.3.1: both halves form-encoded, then Basic.
    fn basic_auth(&self) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!(
            "{}:{}",
            enc(&self.config.client_id),
            enc(&self.config.client_secret)
        );
        format!("Basic {}", STANDARD.encode(pair))
    }

    /// The JWK for `kid` (the only key when the token names none),
    /// refetching the set once when it is not known.
    async fn key(&self, kid: Option<&str>) -> Result<Jwk, UpstreamError> {
        let find = |keys: &[Jwk]| -> Option<Jwk> {
            match kid {
                Some(kid) => keys
                    .iter()
                    .find(|k| k.common.key_id.as_deref() == Some(kid))
                    .cloned(),
                None if keys.len() == 1 => keys.first().cloned(),
                None => None,
            }
        };
        if let Some(k) = find(&self.jwks.read().map_err(unavailable)?) {
            return Ok(k);
        }
        let meta = self.metadata().await?;
        let set: serde_json::Value = self.get_json(meta.jwks_uri.as_str()).await?;
        // Keys of a type `jsonwebtoken` does not read are skipped, not fatal.
        let keys: Vec<Jwk> = set["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| serde_json::from_value(k.clone()).ok())
            .collect();
        let found = find(&keys);
        *self.jwks.write().map_err(unavailable)? = keys;
        found.ok_or_else(|| rejected("no key of the provider's JWKS signed this id_token"))
    }

    async fn verify(&self, id_token: &str, nonce: &str) -> Result<Identity, UpstreamError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(rejected)?;
        // Asymmetric algorithms only: the client secret is never a key here.
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(rejected("HMAC-signed id_tokens are not accepted"));
        }
        let jwk = self.key(header.kid.as_deref()).await?;
        if let Some(alg) = jwk.common.key_algorithm {
            if format!("{alg:?}") != format!("{:?}", header.alg) {
                return Err(rejected("the id_token's alg is not its key's"));
            }
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(rejected)?;
        let issuer = self.metadata().await?.issuer.clone();
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(rejected)?
            .claims;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(rejected("the id_token's nonce is not this login's"));
        }
        // OpenID Connect Core §3.1.3.7: with several audiences, azp is us.
        if claims.aud.as_array().is_some_and(|a| a.len() > 1)
            && claims.azp.as_deref() != Some(self.config.client_id.as_str())
        {
            return Err(rejected("the id_token was issued to another party (azp)"));
        }
        let email_verified = match &claims.email_verified {
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::String(s) => s == "true",
            _ => false,
        };
        Ok(Identity {
            issuer,
            subject: claims.sub,
            email: claims.email.map(|e| e.trim().to_ascii_lowercase()),
            email_verified,
        })
    }
}

/// Every configured provider, by name.
#[derive(Debug, Default)]
pub struct Providers(HashMap<String, Upstream>);

impl Providers {
    /// The providers of `configs` (already checked), sharing one HTTP client.
    pub fn new(configs: &[ProviderConfig]) -> Self {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self(
            configs
                .iter()
                .map(|c| {
                    let upstream = Upstream {
                        config: c.clone(),
                        http: http.clone(),
                        metadata: OnceCell::new(),
                        jwks: RwLock::new(Vec::new()),
                    };
                    (c.name.clone(), upstream)
                })
                .collect(),
        )
    }

    /// The provider called `name`.
    pub fn get(&self, name: &str) -> Option<&Upstream> {
        self.0.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_flags_parse_and_are_checked() {
        let p = ProviderConfig::parse_flag(
            "name=corp,issuer=https://id.example,client_id=sigil,client_secret=s3cret",
        )
        .unwrap();
        assert_eq!(p.name, "corp");
        assert_eq!(p.scope, DEFAULT_SCOPE);
        assert!(!format!("{p:?}").contains("s3cret"));
        for bad in [
            "name=corp,issuer=https://id.example,client_id=sigil",
            "name=c/rp,issuer=https://id.example,client_id=a,client_secret=b",
            "name=corp,issuer=ftp://id.example,client_id=a,client_secret=b",
            "name=corp,issuer=https://id.example,client_id=a,client_secret=b,scope=email",
            "name=corp,issuer=https://id.example,client_id=a,client_secret=b,color=red",
        ] {
            assert!(ProviderConfig::parse_flag(bad).is_err(), "{bad}");
        }
    }
}
