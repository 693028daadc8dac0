//! RFC 9421 HTTP Message Signatures, with RFC 9530 `Content-Digest`.
//!
//! Why this exists: AI agents authenticate their token requests to Sigil by
//! signing the HTTP request with their Ed25519 agent key, and services may
//! sign calls to each other with a shared HMAC secret. A signature only
//! verifies when signer and verifier build the *same bytes* (the signature
//! base) from the request each of them sees, so this module implements the
//! canonicalisation rules of RFC 9421 exactly, and covers the body through the
//! `Content-Digest` field of RFC 9530.
//!
//! Design points:
//! - Algorithms: `ed25519` (verified with `verify_strict`) and `hmac-sha256`
//!   (compared in constant time).
//! - The `Signature-Input` and `Signature` dictionaries are parsed and
//!   serialized with `sfv` (RFC 8941 structured fields). A verifier rebuilds
//!   the `@signature-params` line by re-serializing the *received* inner list,
//!   as RFC 9421 §2.3 requires, never by echoing the raw header text.
//! - Derived components supported for requests: `@method`, `@target-uri`,
//!   `@authority`, `@scheme`, `@request-target`, `@path`, `@query` and
//!   `@query-param;name="…"`. Anything else (`@status`, unknown names, and the
//!   component parameters `;sf`, `;bs`, `;key`, `;req`, `;tr`) is rejected with
//!   [`SignatureError::UnsupportedComponent`] rather than silently signed in a
//!   way a peer would compute differently.
//! - When the request URI is not absolute, the authority comes from the `Host`
//!   field and the scheme is taken to be `https`; a verifier behind a plain
//!   HTTP listener should set an absolute URI on the request first.
//! - Time is always passed in explicitly (unix seconds); this module never
//!   reads a clock, so tests and the server's test clock drive it.
//! - Nothing here panics on input: every parse step returns an error.

mod components;
mod content_digest;
#[cfg(test)]
mod tests;

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use hmac::{Hmac, Mac};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use sfv::{
    key_ref, BareItem, DictSerializer, Dictionary, InnerList, KeyRef, ListEntry, ListSerializer,
    Parameters, Parser, Version,
};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use components::signature_base;
use components::{build_base, check_duplicates, field_value, parse_components, Component, Covered};
pub use content_digest::{content_digest, verify_content_digest};

/// Longest `Signature-Input`, `Signature` or `Content-Digest` value accepted.
const MAX_FIELD_LEN: usize = 8 * 1024;
const SIGNATURE_INPUT: &str = "signature-input";
const SIGNATURE: &str = "signature";
const CONTENT_DIGEST: &str = "content-digest";
const ALG_ED25519: &str = "ed25519";
const ALG_HMAC_SHA256: &str = "hmac-sha256";

const P_CREATED: &KeyRef = key_ref("created");
const P_EXPIRES: &KeyRef = key_ref("expires");
const P_NONCE: &KeyRef = key_ref("nonce");
const P_ALG: &KeyRef = key_ref("alg");
const P_KEYID: &KeyRef = key_ref("keyid");
const P_TAG: &KeyRef = key_ref("tag");

/// Why signing or verifying a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A header, parameter or component identifier is not well formed.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// The request carries no (matching) `Signature-Input`/`Signature` pair.
    #[error("the request has no matching signature")]
    MissingSignature,
    /// A covered component is absent from the request.
    #[error("covered component missing from the request: {0}")]
    MissingComponent(String),
    /// A component the verifier requires is not covered by the signature.
    #[error("required component not covered by the signature: {0}")]
    ComponentNotCovered(String),
    /// A component or component parameter this implementation does not support.
    #[error("unsupported component: {0}")]
    UnsupportedComponent(String),
    /// The `alg` parameter is unknown or does not match the key.
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// No key is known for the `keyid` (returned by key lookups).
    #[error("unknown key: {0}")]
    UnknownKey(String),
    /// The key cannot be used (for example an empty HMAC secret).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The signature does not verify over the signature base.
    #[error("invalid signature")]
    InvalidSignature,
    /// The `expires` time has passed.
    #[error("signature expired")]
    Expired,
    /// The `created` time is in the future beyond the leeway.
    #[error("signature created in the future")]
    CreatedInFuture,
    /// The signature is older than the allowed maximum age.
    #[error("signature too old")]
    TooOld,
    /// A signature parameter the verifier requires is absent.
    #[error("missing signature parameter: {0}")]
    MissingParameter(&'static str),
    /// The body does not match its `Content-Digest`.
    #[error("content digest mismatch")]
    DigestMismatch,
    /// `Content-Digest` names no algorithm this implementation supports.
    #[error("no supported content digest algorithm")]
    UnsupportedDigest,
}

impl SignatureError {
    /// Stable snake_case code, used by the bindings and the server.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_signature",
            Self::MissingSignature => "missing_signature",
            Self::MissingComponent(_) => "missing_component",
            Self::ComponentNotCovered(_) => "component_not_covered",
            Self::UnsupportedComponent(_) => "unsupported_component",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::UnknownKey(_) => "unknown_key",
            Self::InvalidKey(_) => "invalid_key",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "signature_expired",
            Self::CreatedInFuture => "signature_created_in_future",
            Self::TooOld => "signature_too_old",
            Self::MissingParameter(_) => "missing_parameter",
            Self::DigestMismatch => "digest_mismatch",
            Self::UnsupportedDigest => "unsupported_digest",
        }
    }
}

fn malformed(msg: impl Into<String>) -> SignatureError {
    SignatureError::Malformed(msg.into())
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

/// A key that signs requests.
pub enum SigningKey {
    /// Ed25519 (RFC 9421 §3.3.6), algorithm name `ed25519`.
    Ed25519(ed25519_dalek::SigningKey),
    /// HMAC-SHA-256 over a shared secret (RFC 9421 §3.3.3), `hmac-sha256`.
    HmacSha256(Vec<u8>),
}

impl SigningKey {
    /// The RFC 9421 algorithm name: `ed25519` or `hmac-sha256`.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => ALG_ED25519,
            Self::HmacSha256(_) => ALG_HMAC_SHA256,
        }
    }

    /// The key that verifies this key's signatures.
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            Self::Ed25519(key) => VerifyingKey::Ed25519(key.verifying_key()),
            Self::HmacSha256(secret) => VerifyingKey::HmacSha256(secret.clone()),
        }
    }

    fn sign_base(&self, base: &[u8]) -> Result<Vec<u8>, SignatureError> {
        match self {
            Self::Ed25519(key) => Ok(key.sign(base).to_bytes().to_vec()),
            Self::HmacSha256(secret) => Ok(hmac_sha256(secret, base)?.to_vec()),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ed25519(_) => f.write_str("SigningKey::Ed25519(<redacted>)"),
            Self::HmacSha256(_) => f.write_str("SigningKey::HmacSha256(<redacted>)"),
        }
    }
}

/// A key that verifies request signatures.
#[derive(Clone)]
pub enum VerifyingKey {
    /// Ed25519 public key.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// HMAC-SHA-256 shared secret.
    HmacSha256(Vec<u8>),
}

impl VerifyingKey {
    /// The RFC 9421 algorithm name: `ed25519` or `hmac-sha256`.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => ALG_ED25519,
            Self::HmacSha256(_) => ALG_HMAC_SHA256,
        }
    }

    fn verify(&self, base: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        match self {
            Self::Ed25519(key) => {
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::InvalidSignature)?;
                key.verify_strict(base, &signature)
                    .map_err(|_| SignatureError::InvalidSignature)
            }
            Self::HmacSha256(secret) => {
                let expected = hmac_sha256(secret, base)?;
                if bool::from(expected.as_slice().ct_eq(signature)) {
                    Ok(())
                } else {
                    Err(SignatureError::InvalidSignature)
                }
            }
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A public key is not secret; showing it helps debugging key lookup.
            Self::Ed25519(key) => write!(
                f,
                "VerifyingKey::Ed25519({})",
                URL_SAFE_NO_PAD.encode(key.as_bytes())
            ),
            Self::HmacSha256(_) => f.write_str("VerifyingKey::HmacSha256(<redacted>)"),
        }
    }
}

fn hmac_sha256(secret: &[u8], message: &[u8]) -> Result<[u8; 32], SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::InvalidKey("empty HMAC secret".into()));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|_| SignatureError::InvalidKey("unusable HMAC secret".into()))?;
    mac.update(message);
    Ok(mac.finalize().into_bytes().into())
}

// ---------------------------------------------------------------------------
// Signature-Input
// ---------------------------------------------------------------------------

/// One parsed member of a `Signature-Input` field.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureInput {
    /// Covered components in the caller's form, in order.
    pub components: Vec<String>,
    /// `created` (unix seconds).
    pub created: Option<i64>,
    /// `expires` (unix seconds).
    pub expires: Option<i64>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `alg`.
    pub alg: Option<String>,
    /// `keyid`.
    pub keyid: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// The `@signature-params` value re-serialized from the parsed inner list.
    pub signature_params: String,
    covered: Vec<Covered>,
}

impl SignatureInput {
    fn from_entry(entry: &ListEntry) -> Result<Self, SignatureError> {
        let ListEntry::InnerList(list) = entry else {
            return Err(malformed("Signature-Input members must be inner lists"));
        };
        let covered = list
            .items
            .iter()
            .map(|item| Covered::from_item(item.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        check_duplicates(&covered)?;
        let mut input = Self {
            components: covered.iter().map(Covered::display).collect(),
            created: None,
            expires: None,
            nonce: None,
            alg: None,
            keyid: None,
            tag: None,
            signature_params: serialize_inner_list(list),
            covered,
        };
        for (key, value) in &list.params {
            let key = key.as_str();
            let as_int = || {
                value
                    .as_integer()
                    .map(i64::from)
                    .ok_or_else(|| malformed(format!("`{key}` must be an integer")))
            };
            let as_string = || {
                value
                    .as_string()
                    .map(|s| s.as_str().to_owned())
                    .ok_or_else(|| malformed(format!("`{key}` must be a string")))
            };
            match key {
                "created" => input.created = Some(as_int()?),
                "expires" => input.expires = Some(as_int()?),
                "nonce" => input.nonce = Some(as_string()?),
                "alg" => input.alg = Some(as_string()?),
                "keyid" => input.keyid = Some(as_string()?),
                "tag" => input.tag = Some(as_string()?),
                // Unknown parameters are covered by the signature through the
                // re-serialized `@signature-params` line; nothing else to do.
                _ => {}
            }
        }
        Ok(input)
    }
}

fn serialize_inner_list(list: &InnerList) -> String {
    let mut ser = ListSerializer::new();
    {
        let mut inner = ser.inner_list();
        inner.items(&list.items);
        let _ = inner.finish().parameters(&list.params);
    }
    // A list with one member always serializes to `Some`.
    ser.finish().unwrap_or_default()
}

fn parse_dictionary(value: &str, field: &str) -> Result<Dictionary, SignatureError> {
    if value.len() > MAX_FIELD_LEN {
        return Err(malformed(format!("{field} is too long")));
    }
    let dict: Dictionary = Parser::new(value)
        .with_version(Version::Rfc8941)
        .parse_dictionary()
        .map_err(|e| malformed(format!("{field}: {e}")))?;
    if dict.is_empty() {
        return Err(malformed(format!("{field} is empty")));
    }
    Ok(dict)
}

/// Parses a `Signature-Input` field value into `(label, input)` pairs, in order.
///
/// Every member must be valid; [`verify_request`] itself only validates the
/// member it verifies, so other signers' members cannot break it.
pub fn parse_signature_input(
    header: &str,
) -> Result<Vec<(String, SignatureInput)>, SignatureError> {
    parse_dictionary(header, "Signature-Input")?
        .iter()
        .map(|(label, entry)| {
            Ok((
                label.as_str().to_owned(),
                SignatureInput::from_entry(entry)?,
            ))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

/// What to sign and which signature parameters to emit.
///
/// Parameters are emitted in the order created, expires, nonce, alg, keyid,
/// tag (RFC 9421 B.2.5/B.2.6 use `;created=…;keyid="…"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignParams {
    /// Dictionary label (an sf key), default `sig1`.
    pub label: String,
    /// `keyid`; omitted when empty.
    pub keyid: String,
    /// Covered components, e.g. `@method`, `@query-param;name="Pet"`, `content-digest`.
    pub components: Vec<String>,
    /// `created` (unix seconds).
    pub created: Option<i64>,
    /// `expires` (unix seconds).
    pub expires: Option<i64>,
    /// `nonce`, for the verifier's replay detection.
    pub nonce: Option<String>,
    /// `tag`, naming the application profile.
    pub tag: Option<String>,
    /// Emit `alg` with the key's algorithm name.
    pub include_alg: bool,
}

impl Default for SignParams {
    fn default() -> Self {
        Self {
            label: "sig1".into(),
            keyid: String::new(),
            components: Vec::new(),
            created: None,
            expires: None,
            nonce: None,
            tag: None,
            include_alg: false,
        }
    }
}

impl SignParams {
    /// Parameters for `keyid` covering `components`, created at `now`.
    pub fn new<I, S>(keyid: impl Into<String>, components: I, now: i64) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            keyid: keyid.into(),
            components: components.into_iter().map(Into::into).collect(),
            created: Some(now),
            ..Self::default()
        }
    }
}

/// The two header values a signature adds to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `Signature-Input` value, e.g. `sig1=("@method");created=1;keyid="k"`.
    pub signature_input: String,
    /// `Signature` value, e.g. `sig1=:base64:`.
    pub signature: String,
}

fn sf_integer(value: i64, name: &str) -> Result<BareItem, SignatureError> {
    sfv::Integer::try_from(value)
        .map(BareItem::Integer)
        .map_err(|_| malformed(format!("`{name}` is out of range")))
}

fn sf_string(value: &str, name: &str) -> Result<BareItem, SignatureError> {
    sfv::String::from_string(value.to_owned())
        .map(BareItem::String)
        .map_err(|_| malformed(format!("`{name}` must be printable ASCII")))
}

/// Signs `req` without changing it and returns the header values.
///
/// Every covered component must already be present; use [`sign_request`] to
/// have `Content-Digest` added first.
pub fn sign(
    req: &http::Request<Vec<u8>>,
    key: &SigningKey,
    params: &SignParams,
) -> Result<SignatureHeaders, SignatureError> {
    let label = KeyRef::from_str(&params.label)
        .map_err(|_| malformed(format!("invalid signature label {:?}", params.label)))?;
    let covered = parse_components(&params.components)?;

    let mut sig_params = Parameters::new();
    if let Some(created) = params.created {
        sig_params.insert(P_CREATED.to_owned(), sf_integer(created, "created")?);
    }
    if let Some(expires) = params.expires {
        sig_params.insert(P_EXPIRES.to_owned(), sf_integer(expires, "expires")?);
    }
    if let Some(nonce) = &params.nonce {
        sig_params.insert(P_NONCE.to_owned(), sf_string(nonce, "nonce")?);
    }
    if params.include_alg {
        sig_params.insert(P_ALG.to_owned(), sf_string(key.alg(), "alg")?);
    }
    if !params.keyid.is_empty() {
        sig_params.insert(P_KEYID.to_owned(), sf_string(&params.keyid, "keyid")?);
    }
    if let Some(tag) = &params.tag {
        sig_params.insert(P_TAG.to_owned(), sf_string(tag, "tag")?);
    }

    let list = InnerList::with_params(covered.iter().map(|c| c.item.clone()).collect(), sig_params);
    let base = build_base(req, &covered, &serialize_inner_list(&list))?;
    let signature = key.sign_base(base.as_bytes())?;

    let mut input = DictSerializer::new();
    input.members([(label, &ListEntry::InnerList(list))]);
    let mut output = DictSerializer::new();
    let _ = output.bare_item(label, signature.as_slice());
    Ok(SignatureHeaders {
        signature_input: input.finish().unwrap_or_default(),
        signature: output.finish().unwrap_or_default(),
    })
}

/// Signs `req` in place: adds `Content-Digest: sha-256=:…:` when
/// `content-digest` is covered and absent, then appends `Signature-Input` and
/// `Signature` (signatures under other labels are kept).
pub fn sign_request(
    req: &mut http::Request<Vec<u8>>,
    key: &SigningKey,
    params: &SignParams,
) -> Result<(), SignatureError> {
    let digest_covered = parse_components(&params.components)?
        .iter()
        .any(|c| c.kind == Component::Field(CONTENT_DIGEST.into()));
    if digest_covered && !req.headers().contains_key(CONTENT_DIGEST) {
        let value = HeaderValue::from_str(&content_digest(req.body()))
            .map_err(|_| malformed("invalid Content-Digest value"))?;
        req.headers_mut()
            .insert(HeaderName::from_static(CONTENT_DIGEST), value);
    }
    let headers = sign(req, key, params)?;
    for (name, value) in [
        (SIGNATURE_INPUT, headers.signature_input),
        (SIGNATURE, headers.signature),
    ] {
        let value =
            HeaderValue::try_from(value).map_err(|_| malformed("invalid signature header"))?;
        req.headers_mut()
            .append(HeaderName::from_static(name), value);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------

/// Verifier policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Label to verify; `None` takes the first `Signature-Input` member.
    pub label: Option<String>,
    /// Components that must be covered, in the caller's form.
    pub required_components: Vec<String>,
    /// Maximum age from `created`; default 300 s. Needs `created` when set.
    pub max_age_secs: Option<u64>,
    /// Clock skew tolerated on every time check; default 30 s.
    pub leeway_secs: u64,
    /// Require `created`; default true.
    pub require_created: bool,
    /// Require `expires`; default false.
    pub require_expires: bool,
    /// Require `nonce`; default false.
    pub require_nonce: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            label: None,
            required_components: Vec::new(),
            max_age_secs: Some(300),
            leeway_secs: 30,
            require_created: true,
            require_expires: false,
            require_nonce: false,
        }
    }
}

/// A signature that verified, with the parameters the server still needs
/// (`keyid` to attribute the request, `nonce` for replay detection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Dictionary label of the verified signature.
    pub label: String,
    /// `keyid`.
    pub keyid: Option<String>,
    /// `alg`.
    pub alg: Option<String>,
    /// `created` (unix seconds).
    pub created: Option<i64>,
    /// `expires` (unix seconds).
    pub expires: Option<i64>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// Covered components in the caller's form, in order.
    pub components: Vec<String>,
}

/// All lines of a field joined with `", "`, or `None` when absent.
fn combined_field(headers: &HeaderMap, name: &str) -> Result<Option<String>, SignatureError> {
    let mut joined: Option<String> = None;
    for value in headers.get_all(name) {
        let value = value
            .to_str()
            .map_err(|_| malformed(format!("{name} is not ASCII")))?;
        match joined.as_mut() {
            Some(joined) => {
                joined.push_str(", ");
                joined.push_str(value);
            }
            None => joined = Some(value.to_owned()),
        }
    }
    Ok(joined)
}

fn check_times(
    input: &SignatureInput,
    opts: &VerifyOptions,
    now: i64,
) -> Result<(), SignatureError> {
    let now = i128::from(now);
    let leeway = i128::from(opts.leeway_secs);
    match input.created.map(i128::from) {
        Some(created) => {
            if created > now + leeway {
                return Err(SignatureError::CreatedInFuture);
            }
            if let Some(max_age) = opts.max_age_secs {
                if now - created > i128::from(max_age) + leeway {
                    return Err(SignatureError::TooOld);
                }
            }
        }
        None if opts.require_created || opts.max_age_secs.is_some() => {
            return Err(SignatureError::MissingParameter("created"));
        }
        None => {}
    }
    match input.expires.map(i128::from) {
        Some(expires) if now >= expires + leeway => Err(SignatureError::Expired),
        None if opts.require_expires => Err(SignatureError::MissingParameter("expires")),
        _ => Ok(()),
    }
}

/// Verifies the signature of `req` selected by `opts.label` at time `now`.
///
/// `key_for` receives the `keyid` and `alg` parameters and returns the key
/// (or [`SignatureError::UnknownKey`]). Then the `alg` parameter is checked
/// against the key, the signature is checked over the rebuilt base, then
/// time limits, required parameters and components, and finally the body
/// against `Content-Digest` when that field is covered.
pub fn verify_request<F>(
    req: &http::Request<Vec<u8>>,
    key_for: F,
    opts: &VerifyOptions,
    now: i64,
) -> Result<VerifiedSignature, SignatureError>
where
    F: FnOnce(Option<&str>, Option<&str>) -> Result<VerifyingKey, SignatureError>,
{
    let input_field =
        combined_field(req.headers(), SIGNATURE_INPUT)?.ok_or(SignatureError::MissingSignature)?;
    let signature_field =
        combined_field(req.headers(), SIGNATURE)?.ok_or(SignatureError::MissingSignature)?;

    let inputs = parse_dictionary(&input_field, "Signature-Input")?;
    let (label, entry) = match &opts.label {
        Some(label) => inputs.get_key_value(label.as_str()),
        None => inputs.first(),
    }
    .ok_or(SignatureError::MissingSignature)?;
    let input = SignatureInput::from_entry(entry)?;

    let signatures = parse_dictionary(&signature_field, "Signature")?;
    let signature = match signatures.get(label.as_str()) {
        None => return Err(SignatureError::MissingSignature),
        Some(ListEntry::Item(item)) => item.bare_item.as_byte_sequence(),
        Some(ListEntry::InnerList(_)) => None,
    }
    .ok_or_else(|| malformed("Signature members must be byte sequences"))?;

    if let Some(alg) = &input.alg {
        if alg != ALG_ED25519 && alg != ALG_HMAC_SHA256 {
            return Err(SignatureError::UnsupportedAlgorithm(alg.clone()));
        }
    }
    let key = key_for(input.keyid.as_deref(), input.alg.as_deref())?;
    if let Some(alg) = &input.alg {
        if alg != key.alg() {
            return Err(SignatureError::UnsupportedAlgorithm(format!(
                "{alg} (the key is {})",
                key.alg()
            )));
        }
    }

    let base = build_base(req, &input.covered, &input.signature_params)?;
    key.verify(base.as_bytes(), signature)?;

    check_times(&input, opts, now)?;
    if opts.require_nonce && input.nonce.is_none() {
        return Err(SignatureError::MissingParameter("nonce"));
    }
    for required in &opts.required_components {
        let required = Covered::parse_user(required)?;
        if !input.covered.iter().any(|c| c.kind == required.kind) {
            return Err(SignatureError::ComponentNotCovered(required.display()));
        }
    }
    if input
        .covered
        .iter()
        .any(|c| c.kind == Component::Field(CONTENT_DIGEST.into()))
    {
        verify_content_digest(&field_value(req.headers(), CONTENT_DIGEST)?, req.body())?;
    }

    Ok(VerifiedSignature {
        label: label.as_str().to_owned(),
        keyid: input.keyid,
        alg: input.alg,
        created: input.created,
        expires: input.expires,
        nonce: input.nonce,
        tag: input.tag,
        components: input.components,
    })
}
