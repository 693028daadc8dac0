//! Offline verification of Sigil's EdDSA JWS tokens: access tokens (`typ: at+jwt`,
//! RFC 9068) and agent tokens (`typ: agent+jwt`). Resource servers and SDKs check
//! tokens against the JWKS locally instead of calling introspection on every request;
//! the caller passes the current time so the checks are deterministic and run anywhere.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Longest compact token accepted, so hostile input cannot make us decode megabytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Leeway applied by [`VerifyOptions::default`] to absorb clock skew between hosts.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;

/// The only JWS algorithm Sigil issues; anything else is refused before a key is touched.
const ALG: &str = "EdDSA";

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS we can parse, so nothing in it can be trusted.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header names an algorithm other than EdDSA; refusing it early rules out
    /// `none` and HMAC key-confusion attacks.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The `typ` header is not the expected kind, so one kind of token cannot be
    /// replayed as another.
    #[error("expected token type {expected}, got {actual:?}")]
    UnexpectedType {
        /// What the verifier was configured to accept.
        expected: String,
        /// The token's `typ` header, if it had one.
        actual: Option<String>,
    },
    /// No key in the key set matches the token's `kid`; a caller holding a cached
    /// JWKS should refresh it once and retry.
    #[error("no verification key for kid {0:?}")]
    UnknownKey(Option<String>),
    /// The signature does not verify under the selected key: forged or altered.
    #[error("invalid token signature")]
    InvalidSignature,
    /// The token has expired.
    #[error("token expired at {exp}")]
    Expired {
        /// `exp` claim.
        exp: i64,
    },
    /// The token's `nbf` is still ahead of now, beyond the leeway.
    #[error("token not valid before {nbf}")]
    NotYetValid {
        /// `nbf` claim.
        nbf: i64,
    },
    /// The token claims to be issued later than now plus leeway, which points at a
    /// broken issuer clock or a forged timestamp.
    #[error("token issued in the future at {iat}")]
    IssuedInFuture {
        /// `iat` claim.
        iat: i64,
    },
    /// The `iss` claim is not the configured issuer.
    #[error("token issuer does not match")]
    IssuerMismatch,
    /// The `aud` claim does not name this service, so the token was meant for another.
    #[error("token audience does not match")]
    AudienceMismatch,
    /// The token is genuine but does not grant every scope the caller requires.
    #[error("insufficient scope, missing: {}", .missing.join(" "))]
    InsufficientScope {
        /// Required scopes the token lacks, in the order they were required.
        missing: Vec<String>,
    },
    /// A claim the checks depend on is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// A JWK cannot be used as an Ed25519 signature verification key.
    #[error("invalid key: {0}")]
    InvalidKey(String),
}

impl TokenError {
    /// Stable snake_case code, so bindings and logs can match without parsing messages.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "malformed_token",
            TokenError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            TokenError::UnexpectedType { .. } => "invalid_token_type",
            TokenError::UnknownKey(_) => "unknown_key",
            TokenError::InvalidSignature => "invalid_signature",
            TokenError::Expired { .. } => "token_expired",
            TokenError::NotYetValid { .. } => "token_not_yet_valid",
            TokenError::IssuedInFuture { .. } => "token_issued_in_future",
            TokenError::IssuerMismatch => "invalid_issuer",
            TokenError::AudienceMismatch => "invalid_audience",
            TokenError::InsufficientScope { .. } => "insufficient_scope",
            TokenError::MissingClaim(_) => "missing_claim",
            TokenError::InvalidKey(_) => "invalid_key",
        }
    }
}

fn malformed(reason: impl Into<String>) -> TokenError {
    TokenError::Malformed(reason.into())
}

/// One public key from a JWKS document, as published at `/.well-known/jwks.json`.
///
/// `crv` and `x` default to empty so a key set that also carries foreign key types
/// (RSA, EC) still parses; such keys are refused by [`Jwk::verifying_key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type; Sigil keys are `OKP`.
    pub kty: String,
    /// Curve; Sigil keys are `Ed25519`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub crv: String,
    /// Public key bytes, base64url without padding.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    /// Key id that tokens name in their header, so keys can rotate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Algorithm the key is restricted to, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (`sig`), when published.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// Publishes an Ed25519 key the way the server's JWKS endpoint does.
    pub fn from_verifying_key(key: &VerifyingKey, kid: &str) -> Jwk {
        Jwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: URL_SAFE_NO_PAD.encode(key.as_bytes()),
            kid: Some(kid.to_owned()),
            alg: Some(ALG.to_owned()),
            use_: Some("sig".to_owned()),
        }
    }

    /// Turns the JWK into a key fit for EdDSA verification, refusing anything that is
    /// not a well-formed, non-weak Ed25519 signing key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, TokenError> {
        if self.kty != "OKP" {
            return Err(TokenError::InvalidKey(format!(
                "kty {:?} is not OKP",
                self.kty
            )));
        }
        if self.crv != "Ed25519" {
            return Err(TokenError::InvalidKey(format!(
                "crv {:?} is not Ed25519",
                self.crv
            )));
        }
        // RFC 9864 names the same algorithm "Ed25519"; both mean EdDSA over Ed25519.
        if let Some(alg) = self.alg.as_deref().filter(|a| *a != ALG && *a != "Ed25519") {
            return Err(TokenError::InvalidKey(format!("alg {alg:?} is not EdDSA")));
        }
        if let Some(use_) = self.use_.as_deref().filter(|u| *u != "sig") {
            return Err(TokenError::InvalidKey(format!("use {use_:?} is not sig")));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.x)
            .map_err(|_| TokenError::InvalidKey("x is not unpadded base64url".to_owned()))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            TokenError::InvalidKey(format!("x is {} bytes, expected 32", b.len()))
        })?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| TokenError::InvalidKey("x is not an Ed25519 point".to_owned()))?;
        if key.is_weak() {
            return Err(TokenError::InvalidKey(
                "x is a small-order point".to_owned(),
            ));
        }
        Ok(key)
    }
}

/// A JWKS document: the current signing key plus the previous one during rotation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// Published keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Picks the key a token names. A token without `kid` is only matched when the
    /// set is unambiguous (exactly one key), so rotation can never pick the wrong key.
    pub fn find(&self, kid: Option<&str>) -> Option<&Jwk> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None => match self.keys.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        }
    }
}

/// The JOSE header fields Sigil relies on; exposed so a JWKS cache can read `kid`
/// before deciding whether to refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsHeader {
    /// Signature algorithm; must be `EdDSA` to verify.
    pub alg: String,
    /// Token type (`at+jwt`, `agent+jwt`), which keeps token kinds apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Key id used to select the JWKS key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// Header as parsed off the wire; `crit` is tracked only to refuse it.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// True whenever the field appears at all, even as `null`.
fn present<'de, D: Deserializer<'de>>(de: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(de).map(|_| true)
}

/// Reads a token's header without verifying anything, e.g. to look up `kid`. The
/// whole token must still be structurally valid; a `crit` header is refused because
/// no extension is understood.
pub fn decode_header(token: &str) -> Result<JwsHeader, TokenError> {
    Compact::parse(token).map(|c| c.header)
}

/// Which token kind a verifier accepts, matched against the `typ` header.
///
/// Matching follows RFC 7515 §4.1.9 (and RFC 9068 §4): case-insensitive, with an
/// optional `application/` prefix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenType {
    /// OAuth access tokens, `at+jwt`.
    #[default]
    Access,
    /// Agent tokens, `agent+jwt`.
    Agent,
    /// Either Sigil token kind (still never an untyped or ID token).
    Any,
}

impl TokenType {
    /// Whether a token with this `typ` header is acceptable.
    pub fn accepts(self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else {
            return false;
        };
        let subtype = match typ.split_at_checked(12) {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
            _ => typ,
        };
        match self {
            TokenType::Access => subtype.eq_ignore_ascii_case("at+jwt"),
            TokenType::Agent => subtype.eq_ignore_ascii_case("agent+jwt"),
            TokenType::Any => {
                TokenType::Access.accepts(Some(subtype)) || TokenType::Agent.accepts(Some(subtype))
            }
        }
    }

    fn expected(self) -> &'static str {
        match self {
            TokenType::Access => "at+jwt",
            TokenType::Agent => "agent+jwt",
            TokenType::Any => "at+jwt or agent+jwt",
        }
    }
}

/// How `scope` was written in JSON, kept so claims serialize back the way they came.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScopeForm {
    /// RFC 6749 space-separated string, as in access tokens.
    #[default]
    SpaceSeparated,
    /// JSON array of strings, as in agent tokens.
    Array,
}

/// Claims of an access or agent token. `aud` and `scope` accept both JSON shapes so
/// callers never branch on token kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawClaims", into = "RawClaims")]
pub struct Claims {
    /// Issuer.
    pub iss: Option<String>,
    /// Subject (user or app id).
    pub sub: Option<String>,
    /// Audiences; a JSON string becomes a one-element list.
    pub aud: Vec<String>,
    /// Expiry, unix seconds.
    pub exp: Option<i64>,
    /// Not-before, unix seconds.
    pub nbf: Option<i64>,
    /// Issued-at, unix seconds.
    pub iat: Option<i64>,
    /// Token id, the key of the revocation denylist.
    pub jti: Option<String>,
    /// OAuth client the token was issued to.
    pub client_id: Option<String>,
    /// Session the token belongs to.
    pub sid: Option<String>,
    /// `user`, `app` or `agent`.
    pub session_type: Option<String>,
    /// Agent the token was minted for (agent tokens).
    pub agent_id: Option<String>,
    /// Declared purpose of an agent token.
    pub intent: Option<String>,
    /// Granted scopes, whichever JSON shape they came in.
    pub scope: Vec<String>,
    /// Shape `scope` is serialized back to.
    pub scope_form: ScopeForm,
    /// Claims Sigil does not model, kept for the application.
    pub extra: Map<String, Value>,
}

impl Claims {
    /// Whether the token grants `scope`, for per-route authorization after verification.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }
}

/// A JSON string or array of strings (`aud`, `scope`).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Wire form of [`Claims`].
#[derive(Serialize, Deserialize)]
struct RawClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    intent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<OneOrMany>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<RawClaims> for Claims {
    fn from(raw: RawClaims) -> Claims {
        let aud = match raw.aud {
            None => Vec::new(),
            Some(OneOrMany::One(aud)) => vec![aud],
            Some(OneOrMany::Many(aud)) => aud,
        };
        let (scope, scope_form) = match raw.scope {
            None => (Vec::new(), ScopeForm::SpaceSeparated),
            Some(OneOrMany::One(s)) => (
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                ScopeForm::SpaceSeparated,
            ),
            Some(OneOrMany::Many(scopes)) => (scopes, ScopeForm::Array),
        };
        Claims {
            iss: raw.iss,
            sub: raw.sub,
            aud,
            exp: raw.exp,
            nbf: raw.nbf,
            iat: raw.iat,
            jti: raw.jti,
            client_id: raw.client_id,
            sid: raw.sid,
            session_type: raw.session_type,
            agent_id: raw.agent_id,
            intent: raw.intent,
            scope,
            scope_form,
            extra: raw.extra,
        }
    }
}

impl From<Claims> for RawClaims {
    fn from(c: Claims) -> RawClaims {
        let aud = match <[String; 1]>::try_from(c.aud) {
            Ok([one]) => Some(OneOrMany::One(one)),
            Err(aud) if aud.is_empty() => None,
            Err(aud) => Some(OneOrMany::Many(aud)),
        };
        let scope = match c.scope_form {
            ScopeForm::Array => Some(OneOrMany::Many(c.scope)),
            ScopeForm::SpaceSeparated if c.scope.is_empty() => None,
            ScopeForm::SpaceSeparated => Some(OneOrMany::One(c.scope.join(" "))),
        };
        RawClaims {
            iss: c.iss,
            sub: c.sub,
            aud,
            exp: c.exp,
            nbf: c.nbf,
            iat: c.iat,
            jti: c.jti,
            client_id: c.client_id,
            sid: c.sid,
            session_type: c.session_type,
            agent_id: c.agent_id,
            intent: c.intent,
            scope,
            extra: c.extra,
        }
    }
}

/// What a token must satisfy besides a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Required `iss`; unchecked when `None`.
    pub issuer: Option<String>,
    /// This service's identifier, which `aud` must contain; unchecked when `None`.
    pub audience: Option<String>,
    /// Scopes the token must all grant.
    pub required_scopes: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_secs: u64,
    /// Token kind accepted (defaults to access tokens).
    pub token_type: TokenType,
    /// Refuse tokens without `exp`; only turn off for deliberately non-expiring tokens.
    pub require_exp: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            issuer: None,
            audience: None,
            required_scopes: Vec::new(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            token_type: TokenType::Access,
            require_exp: true,
        }
    }
}

/// A token whose signature and claims passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// Its header.
    pub header: JwsHeader,
    /// Its claims.
    pub claims: Claims,
}

impl VerifiedToken {
    /// Re-runs every check that depends on the options or the time (type,
    /// expiry, issuer, audience, scopes), so a cached verified token is never
    /// trusted beyond what a fresh verification would allow.
    pub fn check(&self, opts: &VerifyOptions, now: i64) -> Result<(), TokenError> {
        if !opts.token_type.accepts(self.header.typ.as_deref()) {
            return Err(TokenError::UnexpectedType {
                expected: opts.token_type.expected().to_owned(),
                actual: self.header.typ.clone(),
            });
        }
        check_claims(&self.claims, opts, now)
    }
}

/// Verifies a token against a key set, selecting the key by `kid`.
///
/// Checks run cheapest and most fundamental first: structure, algorithm, `typ`,
/// key, signature, then claims, so unauthenticated JSON claims are never parsed.
pub fn verify(
    token: &str,
    jwks: &Jwks,
    opts: &VerifyOptions,
    now: i64,
) -> Result<VerifiedToken, TokenError> {
    let (compact, key) = Compact::with_key(token, jwks, opts)?;
    compact.verify(&key, opts, now)
}

/// Same as [`verify`] with an already-selected key, for hot paths that hold the
/// issuer's own key and skip JWKS lookup (the header `kid` is then ignored).
pub fn verify_with_key(
    token: &str,
    key: &VerifyingKey,
    opts: &VerifyOptions,
    now: i64,
) -> Result<VerifiedToken, TokenError> {
    let compact = Compact::parse(token)?;
    compact.check_header(opts.token_type)?;
    compact.verify(key, opts, now)
}

/// Verifies many tokens against one key set; the results are in input order
/// and equal what [`verify`] gives for each token.
///
/// The signatures of every token that is well formed and names a known key
/// are checked together with Ed25519 batch verification (one multiscalar
/// multiplication instead of one per token, about twice as fast at 100
/// tokens). Only when that batch fails is each of them checked alone, which
/// names the bad ones. A batch accepts only signatures that satisfy the
/// same cofactorless equation [`verify`] checks (with overwhelming
/// probability), and small-order `R` values, which `verify_strict` refuses,
/// are refused before batching.
pub fn verify_batch(
    tokens: &[&str],
    jwks: &Jwks,
    opts: &VerifyOptions,
    now: i64,
) -> Vec<Result<VerifiedToken, TokenError>> {
    let staged: Vec<Result<Staged<'_>, TokenError>> = tokens
        .iter()
        .map(|token| {
            let (compact, key) = Compact::with_key(token, jwks, opts)?;
            let signature = compact.signature()?;
            if has_small_order_r(&signature) {
                return Err(TokenError::InvalidSignature);
            }
            Ok(Staged {
                compact,
                key,
                signature,
            })
        })
        .collect();
    let ready: Vec<&Staged<'_>> = staged.iter().filter_map(|s| s.as_ref().ok()).collect();
    let batch_holds = ready.len() > 1 && {
        let messages: Vec<&[u8]> = ready
            .iter()
            .map(|s| s.compact.signing_input.as_bytes())
            .collect();
        let signatures: Vec<Signature> = ready.iter().map(|s| s.signature).collect();
        let keys: Vec<VerifyingKey> = ready.iter().map(|s| s.key).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    };
    staged
        .into_iter()
        .map(|staged| {
            let Staged {
                compact,
                key,
                signature,
            } = staged?;
            if !batch_holds {
                compact.check_signature(&key, &signature)?;
            }
            compact.into_verified(opts, now)
        })
        .collect()
}

/// A token ready for its signature check.
struct Staged<'a> {
    compact: Compact<'a>,
    key: VerifyingKey,
    signature: Signature,
}

/// Whether the signature's `R` is a small-order point (or not a point),
/// which `verify_strict` refuses and batch verification would not notice.
fn has_small_order_r(signature: &Signature) -> bool {
    curve25519_dalek::edwards::CompressedEdwardsY(signature.r_bytes().to_owned())
        .decompress()
        .is_none_or(|r| r.is_small_order())
}

/// Mints a compact EdDSA JWS, for issuers and for tests of verifiers.
pub fn sign(key: &SigningKey, kid: &str, typ: &str, claims: &Value) -> String {
    let header = serde_json::json!({ "alg": ALG, "typ": typ, "kid": kid });
    let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
    token
}

/// A structurally valid compact JWS whose signature is not yet checked.
struct Compact<'a> {
    header: JwsHeader,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    fn parse(token: &'a str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed(format!("longer than {MAX_TOKEN_LEN} bytes")));
        }
        let three_segments = || malformed("expected three dot-separated segments");
        let (signing_input, signature) = token.rsplit_once('.').ok_or_else(three_segments)?;
        let (header, payload) = signing_input.split_once('.').ok_or_else(three_segments)?;
        if payload.contains('.') {
            return Err(three_segments());
        }
        let raw: RawHeader = json_object(&base64url(header, "header")?, "header")?;
        if raw.crit {
            return Err(malformed("crit header parameter is not supported"));
        }
        Ok(Compact {
            header: JwsHeader {
                alg: raw.alg,
                typ: raw.typ,
                kid: raw.kid,
            },
            signing_input,
            payload: base64url(payload, "payload")?,
            signature: base64url(signature, "signature")?,
        })
    }

    /// Parses `token`, checks its header and selects its key by `kid`.
    fn with_key(
        token: &'a str,
        jwks: &Jwks,
        opts: &VerifyOptions,
    ) -> Result<(Self, VerifyingKey), TokenError> {
        let compact = Compact::parse(token)?;
        compact.check_header(opts.token_type)?;
        let kid = compact.header.kid.as_deref();
        let key = jwks
            .find(kid)
            .ok_or_else(|| TokenError::UnknownKey(kid.map(str::to_owned)))?
            .verifying_key()?;
        Ok((compact, key))
    }

    fn check_header(&self, token_type: TokenType) -> Result<(), TokenError> {
        if self.header.alg != ALG {
            return Err(TokenError::UnsupportedAlgorithm(self.header.alg.clone()));
        }
        if !token_type.accepts(self.header.typ.as_deref()) {
            return Err(TokenError::UnexpectedType {
                expected: token_type.expected().to_owned(),
                actual: self.header.typ.clone(),
            });
        }
        Ok(())
    }

    fn verify(
        self,
        key: &VerifyingKey,
        opts: &VerifyOptions,
        now: i64,
    ) -> Result<VerifiedToken, TokenError> {
        self.check_signature(key, &self.signature()?)?;
        self.into_verified(opts, now)
    }

    fn signature(&self) -> Result<Signature, TokenError> {
        Signature::from_slice(&self.signature).map_err(|_| malformed("signature is not 64 bytes"))
    }

    fn check_signature(&self, key: &VerifyingKey, signature: &Signature) -> Result<(), TokenError> {
        key.verify_strict(self.signing_input.as_bytes(), signature)
            .map_err(|_| TokenError::InvalidSignature)
    }

    /// Parses and checks the claims; only once the signature holds.
    fn into_verified(self, opts: &VerifyOptions, now: i64) -> Result<VerifiedToken, TokenError> {
        let claims: Claims = json_object(&self.payload, "claims")?;
        check_claims(&claims, opts, now)?;
        Ok(VerifiedToken {
            header: self.header,
            claims,
        })
    }
}

/// Strict base64url: no padding, no whitespace, no non-canonical trailing bits.
fn base64url(segment: &str, what: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| malformed(format!("{what} is not unpadded base64url")))
}

/// Parses a JSON object. serde would also build a struct from a JSON array, which a
/// JOSE header or claims set may not be, hence the explicit first-byte check.
fn json_object<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, TokenError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(malformed(format!("{what} is not a JSON object")));
    }
    // Straight from the bytes, not through `crate::json`: a `Value` keeps the
    // last of duplicate members, and a duplicated claim must be refused.
    serde_json::from_slice(bytes).map_err(|e| malformed(format!("{what}: {e}")))
}

fn check_claims(claims: &Claims, opts: &VerifyOptions, now: i64) -> Result<(), TokenError> {
    let leeway = i64::try_from(opts.leeway_secs).unwrap_or(i64::MAX);
    match claims.exp {
        Some(exp) if now > exp.saturating_add(leeway) => return Err(TokenError::Expired { exp }),
        None if opts.require_exp => return Err(TokenError::MissingClaim("exp")),
        _ => {}
    }
    if let Some(nbf) = claims.nbf.filter(|nbf| now.saturating_add(leeway) < *nbf) {
        return Err(TokenError::NotYetValid { nbf });
    }
    if let Some(iat) = claims.iat.filter(|iat| *iat > now.saturating_add(leeway)) {
        return Err(TokenError::IssuedInFuture { iat });
    }
    if let Some(issuer) = &opts.issuer {
        match &claims.iss {
            None => return Err(TokenError::MissingClaim("iss")),
            Some(iss) if iss != issuer => return Err(TokenError::IssuerMismatch),
            Some(_) => {}
        }
    }
    if let Some(audience) = &opts.audience {
        if claims.aud.is_empty() {
            return Err(TokenError::MissingClaim("aud"));
        }
        if !claims.aud.iter().any(|a| a == audience) {
            return Err(TokenError::AudienceMismatch);
        }
    }
    let missing: Vec<String> = opts
        .required_scopes
        .iter()
        .filter(|s| !claims.has_scope(s))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(TokenError::InsufficientScope { missing });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;
    const ISS: &str = "https://auth.sigil.test";
    const AUD: &str = "https://api.sigil.test";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn jwks() -> Jwks {
        Jwks {
            keys: vec![
                Jwk::from_verifying_key(&key(1).verifying_key(), "k1"),
                Jwk::from_verifying_key(&key(2).verifying_key(), "k2"),
            ],
        }
    }

    fn opts() -> VerifyOptions {
        VerifyOptions {
            issuer: Some(ISS.to_owned()),
            audience: Some(AUD.to_owned()),
            ..VerifyOptions::default()
        }
    }

    fn access_claims() -> Value {
        json!({
            "iss": ISS, "sub": "usr_1", "aud": AUD, "client_id": "cli_1",
            "scope": "read write", "exp": NOW + 600, "iat": NOW, "jti": "jti_1",
            "sid": "ses_1", "session_type": "user", "tenant": "acme",
        })
    }

    fn agent_claims() -> Value {
        json!({
            "iss": ISS, "agent_id": "agt_1", "aud": AUD, "intent": "send report",
            "scope": ["tools:run", "mail:send"], "exp": NOW + 300, "iat": NOW,
        })
    }

    fn with(mut claims: Value, field: &str, value: Value) -> Value {
        claims[field] = value;
        claims
    }

    fn without(mut claims: Value, field: &str) -> Value {
        if let Some(map) = claims.as_object_mut() {
            map.remove(field);
        }
        claims
    }

    fn access(claims: &Value) -> String {
        sign(&key(1), "k1", "at+jwt", claims)
    }

    fn agent(claims: &Value) -> String {
        sign(&key(1), "k1", "agent+jwt", claims)
    }

    fn check(token: &str) -> Result<VerifiedToken, TokenError> {
        verify(token, &jwks(), &opts(), NOW)
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    /// Signs an arbitrary header correctly, so only the header can cause a refusal.
    fn signed_with_header(header: &str) -> String {
        let input = format!("{}.{}", b64(header), b64(&access_claims().to_string()));
        let sig = key(1).sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// Replaces the character at `idx` with a different base64url character.
    fn flip(token: &str, idx: usize) -> String {
        let mut bytes = token.as_bytes().to_vec();
        bytes[idx] = if bytes[idx] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).expect("ascii")
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn valid_access_token_verifies() {
        let v = check(&access(&access_claims())).expect("valid");
        assert_eq!(v.header.alg, "EdDSA");
        assert_eq!(v.header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(v.header.kid.as_deref(), Some("k1"));
        assert_eq!(v.claims.sub.as_deref(), Some("usr_1"));
        assert_eq!(v.claims.aud, vec![AUD.to_owned()]);
        assert_eq!(v.claims.client_id.as_deref(), Some("cli_1"));
        assert_eq!(v.claims.sid.as_deref(), Some("ses_1"));
        assert_eq!(v.claims.session_type.as_deref(), Some("user"));
        assert_eq!(v.claims.jti.as_deref(), Some("jti_1"));
        assert_eq!(v.claims.exp, Some(NOW + 600));
        assert_eq!(v.claims.extra.get("tenant"), Some(&json!("acme")));
    }

    #[test]
    fn two_segments_are_malformed() {
        let token = access(&access_claims());
        let two = token.rsplit_once('.').expect("dot").0;
        assert!(matches!(check(two), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn four_segments_are_malformed() {
        let token = format!("{}.", access(&access_claims()));
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
        let valid = access(&access_claims());
        let (h, rest) = valid.split_once('.').expect("dot");
        let token = format!("{h}.{h}.{rest}");
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn bad_base64_is_malformed() {
        let token = access(&access_claims());
        let (h, rest) = token.split_once('.').expect("dot");
        for bad in [
            format!("{h}!.{rest}"),
            format!("{h}=.{rest}"),
            format!("{h}+.{rest}"),
        ] {
            assert!(
                matches!(check(&bad), Err(TokenError::Malformed(_))),
                "{bad}"
            );
        }
        let padded = format!("{token}==");
        assert!(matches!(check(&padded), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn non_json_header_is_malformed() {
        let token = signed_with_header("not json");
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn json_array_header_is_malformed() {
        let token = signed_with_header(r#"["EdDSA","at+jwt","k1"]"#);
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn oversize_token_is_malformed() {
        let padding = "x".repeat(MAX_TOKEN_LEN);
        let token = access(&with(access_claims(), "padding", json!(padding)));
        assert!(token.len() > MAX_TOKEN_LEN);
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn short_signature_is_malformed() {
        let token = access(&access_claims());
        let input = token.rsplit_once('.').expect("dot").0;
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode([7u8; 63]));
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn alg_none_is_refused() {
        let header = r#"{"alg":"none","typ":"at+jwt","kid":"k1"}"#;
        let unsigned = format!("{}.{}.", b64(header), b64(&access_claims().to_string()));
        let err = check(&unsigned).expect_err("none");
        assert_eq!(err, TokenError::UnsupportedAlgorithm("none".to_owned()));
        let signed = signed_with_header(header);
        assert_eq!(check(&signed).expect_err("none"), err);
    }

    #[test]
    fn alg_hs256_and_case_variants_are_refused() {
        for alg in ["HS256", "eddsa", "Ed25519", "ES256"] {
            let token =
                signed_with_header(&format!(r#"{{"alg":"{alg}","typ":"at+jwt","kid":"k1"}}"#));
            assert_eq!(
                check(&token),
                Err(TokenError::UnsupportedAlgorithm(alg.to_owned()))
            );
        }
    }

    #[test]
    fn crit_header_is_refused() {
        let token =
            signed_with_header(r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1","crit":["exp"]}"#);
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
        let null_crit =
            signed_with_header(r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1","crit":null}"#);
        assert!(matches!(check(&null_crit), Err(TokenError::Malformed(_))));
        assert!(matches!(
            decode_header(&token),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn access_verifier_refuses_agent_token() {
        let err = check(&agent(&agent_claims())).expect_err("agent as access");
        assert_eq!(
            err,
            TokenError::UnexpectedType {
                expected: "at+jwt".to_owned(),
                actual: Some("agent+jwt".to_owned())
            }
        );
    }

    #[test]
    fn agent_verifier_refuses_access_token() {
        let o = VerifyOptions {
            token_type: TokenType::Agent,
            ..opts()
        };
        let err = verify(&access(&access_claims()), &jwks(), &o, NOW).expect_err("access as agent");
        assert_eq!(
            err,
            TokenError::UnexpectedType {
                expected: "agent+jwt".to_owned(),
                actual: Some("at+jwt".to_owned())
            }
        );
    }

    #[test]
    fn missing_or_generic_typ_is_refused() {
        let untyped = signed_with_header(r#"{"alg":"EdDSA","kid":"k1"}"#);
        assert!(matches!(
            check(&untyped),
            Err(TokenError::UnexpectedType { actual: None, .. })
        ));
        let any = VerifyOptions {
            token_type: TokenType::Any,
            ..opts()
        };
        let jwt = sign(&key(1), "k1", "JWT", &access_claims());
        assert!(matches!(
            verify(&jwt, &jwks(), &any, NOW),
            Err(TokenError::UnexpectedType { .. })
        ));
    }

    #[test]
    fn media_type_typ_forms_are_accepted() {
        for typ in ["application/at+jwt", "AT+JWT", "Application/At+Jwt"] {
            let token = sign(&key(1), "k1", typ, &access_claims());
            assert!(check(&token).is_ok(), "{typ}");
        }
        assert!(!TokenType::Access.accepts(Some("application/agent+jwt")));
        assert!(TokenType::Agent.accepts(Some("application/agent+jwt")));
        assert!(!TokenType::Access.accepts(Some("xapplication/at+jwt")));
        assert!(!TokenType::Access.accepts(Some("é")));
    }

    #[test]
    fn any_type_accepts_both_kinds() {
        let any = VerifyOptions {
            token_type: TokenType::Any,
            ..opts()
        };
        assert!(verify(&access(&access_claims()), &jwks(), &any, NOW).is_ok());
        assert!(verify(&agent(&agent_claims()), &jwks(), &any, NOW).is_ok());
    }

    #[test]
    fn unknown_kid_is_refused() {
        let token = sign(&key(3), "k3", "at+jwt", &access_claims());
        assert_eq!(
            check(&token),
            Err(TokenError::UnknownKey(Some("k3".to_owned())))
        );
    }

    #[test]
    fn missing_kid_needs_a_single_key_set() {
        let token = signed_with_header(r#"{"alg":"EdDSA","typ":"at+jwt"}"#);
        assert_eq!(check(&token), Err(TokenError::UnknownKey(None)));
        let single = Jwks {
            keys: vec![jwks().keys[0].clone()],
        };
        assert!(verify(&token, &single, &opts(), NOW).is_ok());
    }

    #[test]
    fn jwks_with_multiple_keys_picks_by_kid() {
        let by_k1 = sign(&key(1), "k1", "at+jwt", &access_claims());
        let by_k2 = sign(&key(2), "k2", "at+jwt", &access_claims());
        assert!(check(&by_k1).is_ok());
        assert!(check(&by_k2).is_ok());
        let mislabelled = sign(&key(2), "k1", "at+jwt", &access_claims());
        assert_eq!(check(&mislabelled), Err(TokenError::InvalidSignature));
        assert_eq!(jwks().find(Some("k2")), Some(&jwks().keys[1]));
        assert_eq!(jwks().find(None), None);
    }

    #[test]
    fn tampered_payload_is_refused() {
        let token = access(&access_claims());
        let (h, rest) = token.split_once('.').expect("dot");
        let sig = rest.rsplit_once('.').expect("dot").1;
        let forged = with(access_claims(), "scope", json!("read write admin"));
        let token = format!("{h}.{}.{sig}", b64(&forged.to_string()));
        assert_eq!(check(&token), Err(TokenError::InvalidSignature));
    }

    #[test]
    fn tampered_signature_is_refused() {
        let token = access(&access_claims());
        let sig_start = token.rfind('.').expect("dot") + 1;
        let token = flip(&token, sig_start + 10);
        assert_eq!(check(&token), Err(TokenError::InvalidSignature));
    }

    #[test]
    fn expired_token_is_refused() {
        let token = access(&with(access_claims(), "exp", json!(NOW - 3600)));
        assert_eq!(check(&token), Err(TokenError::Expired { exp: NOW - 3600 }));
    }

    #[test]
    fn expiry_leeway_boundary() {
        let at_edge = access(&with(access_claims(), "exp", json!(NOW - 30)));
        assert!(check(&at_edge).is_ok());
        let past_edge = access(&with(access_claims(), "exp", json!(NOW - 31)));
        assert_eq!(
            check(&past_edge),
            Err(TokenError::Expired { exp: NOW - 31 })
        );
        let strict = VerifyOptions {
            leeway_secs: 0,
            ..opts()
        };
        assert!(matches!(
            verify(&at_edge, &jwks(), &strict, NOW),
            Err(TokenError::Expired { .. })
        ));
    }

    #[test]
    fn missing_exp_is_refused_unless_allowed() {
        let token = access(&without(access_claims(), "exp"));
        assert_eq!(check(&token), Err(TokenError::MissingClaim("exp")));
        let lax = VerifyOptions {
            require_exp: false,
            ..opts()
        };
        assert!(verify(&token, &jwks(), &lax, NOW).is_ok());
    }

    #[test]
    fn nbf_in_future_is_refused() {
        let token = access(&with(access_claims(), "nbf", json!(NOW + 31)));
        assert_eq!(
            check(&token),
            Err(TokenError::NotYetValid { nbf: NOW + 31 })
        );
        let within = access(&with(access_claims(), "nbf", json!(NOW + 30)));
        assert!(check(&within).is_ok());
    }

    #[test]
    fn iat_in_future_is_refused() {
        let token = access(&with(access_claims(), "iat", json!(NOW + 31)));
        assert_eq!(
            check(&token),
            Err(TokenError::IssuedInFuture { iat: NOW + 31 })
        );
        let within = access(&with(access_claims(), "iat", json!(NOW + 30)));
        assert!(check(&within).is_ok());
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let claims = json!({ "exp": i64::MAX, "nbf": i64::MIN, "iat": i64::MIN });
        let o = VerifyOptions {
            leeway_secs: u64::MAX,
            ..VerifyOptions::default()
        };
        for now in [i64::MIN, 0, i64::MAX] {
            assert!(verify(&access(&claims), &jwks(), &o, now).is_ok());
        }
        let expired = access(&json!({ "exp": i64::MIN }));
        let strict = VerifyOptions {
            leeway_secs: 0,
            ..VerifyOptions::default()
        };
        assert_eq!(
            verify(&expired, &jwks(), &strict, i64::MAX),
            Err(TokenError::Expired { exp: i64::MIN })
        );
    }

    #[test]
    fn issuer_mismatch_is_refused() {
        let token = access(&with(access_claims(), "iss", json!("https://evil.test")));
        assert_eq!(check(&token), Err(TokenError::IssuerMismatch));
        let token = access(&without(access_claims(), "iss"));
        assert_eq!(check(&token), Err(TokenError::MissingClaim("iss")));
    }

    #[test]
    fn audience_mismatch_string_is_refused() {
        let token = access(&with(access_claims(), "aud", json!("https://other.test")));
        assert_eq!(check(&token), Err(TokenError::AudienceMismatch));
        let token = access(&without(access_claims(), "aud"));
        assert_eq!(check(&token), Err(TokenError::MissingClaim("aud")));
    }

    #[test]
    fn audience_array_is_searched() {
        let other = access(&with(
            access_claims(),
            "aud",
            json!(["https://a.test", "https://b.test"]),
        ));
        assert_eq!(check(&other), Err(TokenError::AudienceMismatch));
        let ours = access(&with(
            access_claims(),
            "aud",
            json!(["https://a.test", AUD]),
        ));
        let v = check(&ours).expect("aud contains ours");
        assert_eq!(
            v.claims.aud,
            vec!["https://a.test".to_owned(), AUD.to_owned()]
        );
    }

    #[test]
    fn missing_scopes_are_listed() {
        let o = VerifyOptions {
            required_scopes: vec!["read".into(), "admin".into(), "billing".into()],
            ..opts()
        };
        let err = verify(&access(&access_claims()), &jwks(), &o, NOW).expect_err("scope");
        assert_eq!(
            err,
            TokenError::InsufficientScope {
                missing: vec!["admin".to_owned(), "billing".to_owned()]
            }
        );
        assert_eq!(
            err.to_string(),
            "insufficient scope, missing: admin billing"
        );
    }

    #[test]
    fn scope_string_is_split_on_spaces() {
        let token = access(&with(access_claims(), "scope", json!(" read  write ")));
        let o = VerifyOptions {
            required_scopes: vec!["read".into(), "write".into()],
            ..opts()
        };
        let v = verify(&token, &jwks(), &o, NOW).expect("scopes");
        assert_eq!(v.claims.scope, vec!["read".to_owned(), "write".to_owned()]);
        assert_eq!(v.claims.scope_form, ScopeForm::SpaceSeparated);
        assert!(v.claims.has_scope("write"));
        assert!(!v.claims.has_scope("read write"));
    }

    #[test]
    fn agent_token_with_scope_array_verifies() {
        let o = VerifyOptions {
            token_type: TokenType::Agent,
            required_scopes: vec!["mail:send".into()],
            ..opts()
        };
        let v = verify(&agent(&agent_claims()), &jwks(), &o, NOW).expect("agent");
        assert_eq!(
            v.claims.scope,
            vec!["tools:run".to_owned(), "mail:send".to_owned()]
        );
        assert_eq!(v.claims.scope_form, ScopeForm::Array);
        assert_eq!(v.claims.agent_id.as_deref(), Some("agt_1"));
        assert_eq!(v.claims.intent.as_deref(), Some("send report"));
        let o = VerifyOptions {
            required_scopes: vec!["mail:delete".into()],
            ..o
        };
        assert_eq!(
            verify(&agent(&agent_claims()), &jwks(), &o, NOW),
            Err(TokenError::InsufficientScope {
                missing: vec!["mail:delete".to_owned()]
            })
        );
    }

    #[test]
    fn claims_round_trip_in_both_scope_forms() {
        for original in [access_claims(), agent_claims()] {
            let claims: Claims = serde_json::from_value(original.clone()).expect("claims");
            assert_eq!(serde_json::to_value(&claims).expect("serialize"), original);
        }
    }

    #[test]
    fn wrongly_typed_or_duplicate_claims_are_malformed() {
        let token = access(&with(access_claims(), "exp", json!("soon")));
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
        let token = access(&with(access_claims(), "scope", json!(42)));
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
        let header = r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1"}"#;
        let payload = format!(
            r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"exp":{}}}"#,
            NOW - 999,
            NOW + 600
        );
        let input = format!("{}.{}", b64(header), b64(&payload));
        let sig = key(1).sign(input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
        assert!(matches!(check(&token), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn verify_with_key_skips_jwks() {
        let token = sign(&key(1), "not-in-any-jwks", "at+jwt", &access_claims());
        assert!(verify_with_key(&token, &key(1).verifying_key(), &opts(), NOW).is_ok());
        assert_eq!(
            verify_with_key(&token, &key(2).verifying_key(), &opts(), NOW),
            Err(TokenError::InvalidSignature)
        );
        let none = signed_with_header(r#"{"alg":"none","typ":"at+jwt"}"#);
        assert!(matches!(
            verify_with_key(&none, &key(1).verifying_key(), &opts(), NOW),
            Err(TokenError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn decode_header_reads_sign_output() {
        let header = decode_header(&sign(&key(1), "k9", "agent+jwt", &json!({}))).expect("header");
        assert_eq!(
            header,
            JwsHeader {
                alg: "EdDSA".to_owned(),
                typ: Some("agent+jwt".to_owned()),
                kid: Some("k9".to_owned())
            }
        );
        assert!(matches!(
            decode_header("a.b"),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn jwk_round_trips_through_json() {
        let vk = key(1).verifying_key();
        let jwk = Jwk::from_verifying_key(&vk, "k1");
        let json = serde_json::to_value(&jwk).expect("serialize");
        assert_eq!(
            json,
            json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(vk.as_bytes()),
                    "kid": "k1", "alg": "EdDSA", "use": "sig" })
        );
        let back: Jwk = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back.verifying_key(), Ok(vk));
    }

    #[test]
    fn jwk_refuses_unusable_keys() {
        let good = Jwk::from_verifying_key(&key(1).verifying_key(), "k1");
        let cases = [
            Jwk {
                kty: "EC".into(),
                ..good.clone()
            },
            Jwk {
                crv: "X25519".into(),
                ..good.clone()
            },
            Jwk {
                alg: Some("RS256".into()),
                ..good.clone()
            },
            Jwk {
                use_: Some("enc".into()),
                ..good.clone()
            },
            Jwk {
                x: URL_SAFE_NO_PAD.encode([1u8; 31]),
                ..good.clone()
            },
            Jwk {
                x: "not base64!".into(),
                ..good.clone()
            },
            // The identity point: decodes, but is small-order.
            Jwk {
                x: URL_SAFE_NO_PAD.encode({
                    let mut b = [0u8; 32];
                    b[0] = 1;
                    b
                }),
                ..good.clone()
            },
        ];
        for jwk in cases {
            assert!(
                matches!(jwk.verifying_key(), Err(TokenError::InvalidKey(_))),
                "{jwk:?}"
            );
        }
        let token = access(&access_claims());
        let bad_set = Jwks {
            keys: vec![Jwk {
                crv: "X25519".into(),
                ..good
            }],
        };
        assert!(matches!(
            verify(&token, &bad_set, &opts(), NOW),
            Err(TokenError::InvalidKey(_))
        ));
    }

    #[test]
    fn jwks_with_foreign_keys_still_parses() {
        let ours = Jwk::from_verifying_key(&key(1).verifying_key(), "k1");
        let doc = json!({ "keys": [
            { "kty": "RSA", "kid": "rsa1", "n": "AQAB", "e": "AQAB", "alg": "RS256" },
            ours,
        ]});
        let set: Jwks = serde_json::from_value(doc).expect("jwks");
        assert!(verify(&access(&access_claims()), &set, &opts(), NOW).is_ok());
        assert!(matches!(
            set.find(Some("rsa1")).map(Jwk::verifying_key),
            Some(Err(TokenError::InvalidKey(_)))
        ));
    }

    #[test]
    fn hostile_inputs_never_panic() {
        let token = access(&access_claims());
        let mut inputs: Vec<String> = (0..token.len())
            .filter(|i| token.is_char_boundary(*i))
            .map(|i| token[..i].to_owned())
            .collect();
        inputs.extend(
            [
                "",
                ".",
                "..",
                "...",
                "é.é.é",
                "e30.e30.",
                "e30.e30.e30",
                "\0.\0.\0",
            ]
            .map(str::to_owned),
        );
        for input in &inputs {
            assert!(check(input).is_err(), "{input:?}");
            // A prefix ending after the second dot is structurally complete, so only
            // the absence of a panic matters here.
            let _ = decode_header(input);
        }
    }

    #[test]
    fn rfc8032_test1_vector() {
        let secret: [u8; 32] =
            hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .try_into()
                .expect("32 bytes");
        let public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let expected = hex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        let signing = SigningKey::from_bytes(&secret);
        assert_eq!(
            signing.verifying_key().as_bytes().as_slice(),
            public.as_slice()
        );
        let signature = signing.sign(b"");
        assert_eq!(signature.to_bytes().as_slice(), expected.as_slice());
        let jwk = Jwk::from_verifying_key(&signing.verifying_key(), "rfc8032");
        let vk = jwk.verifying_key().expect("key");
        assert!(vk.verify_strict(b"", &signature).is_ok());
    }

    #[test]
    fn error_codes_are_stable() {
        let cases = [
            (TokenError::Malformed(String::new()), "malformed_token"),
            (
                TokenError::UnsupportedAlgorithm(String::new()),
                "unsupported_algorithm",
            ),
            (
                TokenError::UnexpectedType {
                    expected: String::new(),
                    actual: None,
                },
                "invalid_token_type",
            ),
            (TokenError::UnknownKey(None), "unknown_key"),
            (TokenError::InvalidSignature, "invalid_signature"),
            (TokenError::Expired { exp: 0 }, "token_expired"),
            (TokenError::NotYetValid { nbf: 0 }, "token_not_yet_valid"),
            (
                TokenError::IssuedInFuture { iat: 0 },
                "token_issued_in_future",
            ),
            (TokenError::IssuerMismatch, "invalid_issuer"),
            (TokenError::AudienceMismatch, "invalid_audience"),
            (
                TokenError::InsufficientScope { missing: vec![] },
                "insufficient_scope",
            ),
            (TokenError::MissingClaim("exp"), "missing_claim"),
            (TokenError::InvalidKey(String::new()), "invalid_key"),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code, "{err:?}");
        }
    }

    #[test]
    fn check_revalidates_a_cached_token() {
        let claims = json!({"iss": ISS, "aud": AUD, "exp": NOW + 60, "scope": "a"});
        let token = sign(&key(1), "k1", "at+jwt", &claims);
        let verified = verify(&token, &jwks(), &VerifyOptions::default(), NOW).unwrap();
        verified.check(&VerifyOptions::default(), NOW).unwrap();
        let later = verified
            .check(&VerifyOptions::default(), NOW + 120)
            .unwrap_err();
        assert_eq!(later.code(), "token_expired");
        let other_issuer = VerifyOptions {
            issuer: Some("https://other".into()),
            ..Default::default()
        };
        assert_eq!(
            verified.check(&other_issuer, NOW).unwrap_err().code(),
            "invalid_issuer"
        );
        let agent = VerifyOptions {
            token_type: TokenType::Agent,
            ..Default::default()
        };
        assert_eq!(
            verified.check(&agent, NOW).unwrap_err().code(),
            "invalid_token_type"
        );
        let scoped = VerifyOptions {
            required_scopes: vec!["b".into()],
            ..Default::default()
        };
        assert_eq!(
            verified.check(&scoped, NOW).unwrap_err().code(),
            "insufficient_scope"
        );
    }

    #[test]
    fn batch_results_equal_one_by_one_results_in_order() {
        let valid: Vec<String> = (0..5)
            .map(|i| access(&with(access_claims(), "jti", json!(format!("jti_{i}")))))
            .chain([sign(&key(2), "k2", "at+jwt", &access_claims())])
            .collect();
        let mut tampered = access(&access_claims());
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let mixed: Vec<String> = vec![
            valid[0].clone(),
            access(&with(access_claims(), "exp", json!(NOW - 3600))),
            "not.a.token".to_owned(),
            sign(&key(3), "k9", "at+jwt", &access_claims()),
            sign(&key(3), "k1", "at+jwt", &access_claims()),
            tampered,
            agent(&agent_claims()),
            valid[5].clone(),
        ];
        for tokens in [&valid, &mixed] {
            let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
            let batch = verify_batch(&refs, &jwks(), &opts(), NOW);
            let single: Vec<_> = refs.iter().map(|t| check(t)).collect();
            assert_eq!(batch, single);
        }
        let refs: Vec<&str> = valid.iter().map(String::as_str).collect();
        assert!(verify_batch(&refs, &jwks(), &opts(), NOW)
            .iter()
            .all(Result::is_ok));
        let refs: Vec<&str> = mixed.iter().map(String::as_str).collect();
        let oks = verify_batch(&refs, &jwks(), &opts(), NOW)
            .iter()
            .filter(|r| r.is_ok())
            .count();
        assert_eq!(oks, 2, "only the two valid tokens of the mixed batch pass");
    }

    #[test]
    fn batch_refuses_a_small_order_r() {
        let good = access(&access_claims());
        let (input, _) = good.rsplit_once('.').unwrap();
        // R = the identity point (small order), s = 0.
        let mut raw = [0u8; 64];
        raw[0] = 1;
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw));
        let tokens = [good.as_str(), forged.as_str()];
        let results = verify_batch(&tokens, &jwks(), &opts(), NOW);
        assert!(results[0].is_ok());
        assert_eq!(results[1], Err(TokenError::InvalidSignature));
        assert_eq!(check(&forged), Err(TokenError::InvalidSignature));
    }

    #[test]
    fn empty_and_single_batches() {
        assert!(verify_batch(&[], &jwks(), &opts(), NOW).is_empty());
        let one = access(&access_claims());
        assert_eq!(
            verify_batch(&[one.as_str()], &jwks(), &opts(), NOW),
            vec![check(&one)]
        );
    }
}
