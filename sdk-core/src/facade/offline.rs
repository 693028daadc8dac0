//! The stateless hot paths bindings call without a client: token
//! verification against a JWKS they hold, and RFC 9421 signing and
//! verification. Inputs are strings and bytes; only the small option structs
//! go through serde, once per object, never per call.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::types::RequestInit;
use crate::error::{Error, Result};
use crate::httpsig::{self, SignParams, SignatureError, SigningKey, VerifyingKey};
use crate::jws::{self, Claims, Jwks};

/// Offline verification against one key set, parsed once.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    jwks: Jwks,
    options: jws::VerifyOptions,
}

impl TokenVerifier {
    /// A verifier for `jwks` (the JSON of a JWKS document) with `options`.
    pub fn new(jwks: &[u8], options: &super::VerifyTokenOptions) -> Result<Self> {
        let jwks =
            crate::json::from_slice(jwks).map_err(|e| Error::InvalidInput(format!("JWKS: {e}")))?;
        Ok(Self {
            jwks,
            options: options.to_core(None),
        })
    }

    /// Verifies `token` at `now` (UNIX seconds), or by the system clock
    /// when `None`: the choice every binding's optional `now` makes.
    pub fn verify(&self, token: &str, now: Option<i64>) -> Result<Claims> {
        Ok(jws::verify(
            token,
            &self.jwks,
            &self.options,
            now.unwrap_or_else(unix_now),
        )?
        .claims)
    }
}

/// The system clock in UNIX seconds: what `now: None` means here.
fn unix_now() -> i64 {
    crate::transport::system_now().as_secs() as i64
}

/// The RFC 9421 algorithms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Ed25519 with an agent key (`sgl_ask_…`) or a base64url seed.
    #[default]
    Ed25519,
    /// HMAC-SHA-256 over a shared secret.
    HmacSha256,
}

/// How to sign a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignOptions {
    /// The `keyid` parameter (an agent's id for Sigil).
    pub key_id: String,
    /// The agent key (`sgl_ask_…`), a base64url Ed25519 seed, or the HMAC secret.
    pub key: crate::secret::Secret,
    /// `ed25519` (default) or `hmac-sha256`.
    #[serde(default)]
    pub alg: Algorithm,
    /// Covered components; default `@method`, `@target-uri`, and
    /// `content-digest` when there is a body.
    #[serde(default)]
    pub components: Option<Vec<String>>,
    /// `created`, UNIX seconds (default: now).
    #[serde(default)]
    pub created: Option<i64>,
    /// `expires`, seconds after `created`.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// `nonce`; a random one when absent (Sigil refuses replays).
    #[serde(default)]
    pub nonce: Option<String>,
    /// `tag`.
    #[serde(default)]
    pub tag: Option<String>,
}

/// Signs `request`: returns the headers to add (`Content-Digest` when
/// covered, `Signature-Input`, `Signature`).
pub fn sign_request(
    request: &RequestInit,
    options: &SignOptions,
    now: Option<i64>,
) -> Result<Vec<(String, String)>> {
    let key = match options.alg {
        Algorithm::Ed25519 => ed25519_key(options.key.expose())?,
        Algorithm::HmacSha256 => SigningKey::HmacSha256(options.key.expose().as_bytes().to_vec()),
    };
    let components = options.components.clone().unwrap_or_else(|| {
        let mut c = vec!["@method".to_owned(), "@target-uri".to_owned()];
        if !request.body.is_empty() {
            c.push("content-digest".into());
        }
        c
    });
    let created = options
        .created
        .unwrap_or_else(|| now.unwrap_or_else(unix_now));
    let mut params = SignParams::new(options.key_id.clone(), components, created);
    params.expires = options.expires_in.map(|e| created.saturating_add(e));
    params.nonce = Some(options.nonce.clone().unwrap_or_else(crate::random::token));
    params.tag = options.tag.clone();
    let mut req = build_request(request.clone())?;
    let before: Vec<_> = req.headers().keys().cloned().collect();
    httpsig::sign_request(&mut req, &key, &params)?;
    Ok(req
        .headers()
        .iter()
        .filter(|(name, _)| {
            !before.contains(name) || *name == "signature" || *name == "signature-input"
        })
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect())
}

/// A key that may verify signatures, by `keyid`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyKey {
    /// `ed25519` (default) or `hmac-sha256`.
    #[serde(default)]
    pub alg: Algorithm,
    /// The Ed25519 public key (base64url), or the HMAC secret.
    pub key: crate::secret::Secret,
}

/// How to verify a signed request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequestOptions {
    /// The keys, by `keyid`.
    pub keys: BTreeMap<String, VerifyKey>,
    /// Components the signature must cover.
    #[serde(default)]
    pub required_components: Vec<String>,
    /// Oldest acceptable `created`, in seconds (default 300).
    #[serde(default)]
    pub max_age_seconds: Option<u64>,
    /// Refuse signatures without a `nonce`.
    #[serde(default)]
    pub require_nonce: bool,
    /// The signature label to check (default: the first).
    #[serde(default)]
    pub label: Option<String>,
}

/// What a verified signature said.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedRequest {
    /// The label checked.
    pub label: String,
    /// `keyid`.
    pub key_id: Option<String>,
    /// `created`.
    pub created: Option<i64>,
    /// `expires`.
    pub expires: Option<i64>,
    /// `nonce`; replay protection is the caller's (store it until `expires`).
    pub nonce: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// The covered components.
    pub components: Vec<String>,
}

/// Verifies the RFC 9421 signature of `request` (and its `Content-Digest`).
pub fn verify_request(
    request: &RequestInit,
    options: &VerifyRequestOptions,
    now: Option<i64>,
) -> Result<VerifiedRequest> {
    let req = build_request(request.clone())?;
    let defaults = httpsig::VerifyOptions::default();
    let opts = httpsig::VerifyOptions {
        label: options.label.clone(),
        required_components: options.required_components.clone(),
        max_age_secs: options.max_age_seconds.or(defaults.max_age_secs),
        require_nonce: options.require_nonce,
        ..defaults
    };
    let key_for = |keyid: Option<&str>, _alg: Option<&str>| {
        let id = keyid.ok_or(SignatureError::MissingParameter("keyid"))?;
        let key = options
            .keys
            .get(id)
            .ok_or_else(|| SignatureError::UnknownKey(id.to_owned()))?;
        match key.alg {
            Algorithm::HmacSha256 => Ok(VerifyingKey::HmacSha256(
                key.key.expose().as_bytes().to_vec(),
            )),
            Algorithm::Ed25519 => {
                let bytes = URL_SAFE_NO_PAD
                    .decode(key.key.expose().trim_end_matches('='))
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        SignatureError::InvalidKey("not a base64url Ed25519 key".into())
                    })?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(VerifyingKey::Ed25519)
                    .map_err(|_| SignatureError::InvalidKey("not an Ed25519 point".into()))
            }
        }
    };
    let v = httpsig::verify_request(&req, key_for, &opts, now.unwrap_or_else(unix_now))?;
    Ok(VerifiedRequest {
        label: v.label,
        key_id: v.keyid,
        created: v.created,
        expires: v.expires,
        nonce: v.nonce,
        tag: v.tag,
        components: v.components,
    })
}

/// An Ed25519 signing key from an agent key (`sgl_ask_` + base64url seed)
/// or a bare base64url seed.
pub fn ed25519_key(text: &str) -> Result<SigningKey> {
    let seed = text.strip_prefix("sgl_ask_").unwrap_or(text);
    let bytes = URL_SAFE_NO_PAD
        .decode(seed.trim_end_matches('='))
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            Error::InvalidInput("key must be an agent key or a base64url Ed25519 seed".into())
        })?;
    Ok(SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
        &bytes,
    )))
}

/// An `http::Request` from a binding's request parts.
pub(super) fn build_request(init: RequestInit) -> Result<crate::HttpRequest> {
    let method = if init.method.is_empty() {
        "GET"
    } else {
        &init.method
    };
    let mut builder = http::Request::builder()
        .method(
            http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| Error::InvalidInput(format!("method `{method}`")))?,
        )
        .uri(init.url.as_str());
    for (name, value) in &init.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(init.body)
        .map_err(|e| Error::InvalidInput(format!("request: {e}")))
}
