//! PKCE (RFC 7636), S256 only: `plain` offers no protection against a stolen
//! code, so the SDK cannot produce it.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// The only code challenge method.
pub const S256: &str = "S256";

/// A code verifier: 43–128 characters of `[A-Za-z0-9-._~]`.
///
/// Not `Clone`: a verifier belongs to exactly one pending authorization.
#[derive(PartialEq, Eq)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// A fresh verifier from 32 random bytes (43 characters).
    pub fn generate() -> Self {
        Self(crate::random::token())
    }

    /// Validates a verifier produced elsewhere.
    pub fn new(verifier: impl Into<String>) -> Result<Self> {
        let verifier = verifier.into();
        validate_verifier(&verifier)?;
        Ok(Self(verifier))
    }

    /// The verifier, for the token request.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `BASE64URL(SHA256(verifier))`.
    pub fn challenge(&self) -> String {
        challenge_for(&self.0)
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

impl Drop for PkceVerifier {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl serde::Serialize for PkceVerifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PkceVerifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PkceVerifier::new(s).map_err(serde::de::Error::custom)
    }
}

/// A verifier with its S256 challenge.
#[derive(Debug)]
pub struct Pkce {
    /// Kept secret until the token request.
    pub verifier: PkceVerifier,
    /// Sent on the authorization request.
    pub challenge: String,
}

impl Pkce {
    /// Always `S256`.
    pub fn method(&self) -> &'static str {
        S256
    }
}

/// A fresh verifier and its S256 challenge.
pub fn pkce() -> Pkce {
    let verifier = PkceVerifier::generate();
    let challenge = verifier.challenge();
    Pkce {
        verifier,
        challenge,
    }
}

/// The S256 challenge of `verifier`, validating it first.
pub fn challenge(verifier: &str) -> Result<String> {
    validate_verifier(verifier)?;
    Ok(challenge_for(verifier))
}

fn challenge_for(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43–128 unreserved characters.
pub fn validate_verifier(verifier: &str) -> Result<()> {
    let len = verifier.len();
    if !(43..=128).contains(&len) {
        return Err(Error::InvalidInput(format!(
            "PKCE verifier must be 43-128 characters, got {len}"
        )));
    }
    if let Some(bad) = verifier
        .bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')))
    {
        return Err(Error::InvalidInput(format!(
            "PKCE verifier contains a reserved character (byte 0x{bad:02x})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_verifier_is_43_unreserved_chars_and_unique() {
        let a = pkce();
        let b = pkce();
        assert_eq!(a.verifier.expose().len(), 43);
        validate_verifier(a.verifier.expose()).unwrap();
        assert_ne!(a.verifier.expose(), b.verifier.expose());
        assert_eq!(a.challenge, challenge(a.verifier.expose()).unwrap());
        assert_eq!(a.method(), "S256");
    }

    #[test]
    fn rejects_short_long_and_reserved_verifiers() {
        assert!(PkceVerifier::new("a".repeat(42)).is_err());
        assert!(PkceVerifier::new("a".repeat(129)).is_err());
        assert!(PkceVerifier::new("a".repeat(43)).is_ok());
        assert!(PkceVerifier::new("a".repeat(128)).is_ok());
        let err = PkceVerifier::new(format!("{}+", "a".repeat(42))).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(challenge(&format!("{} ", "a".repeat(50))).is_err());
    }

    #[test]
    fn verifier_debug_is_redacted() {
        let p = pkce();
        assert!(!format!("{p:?}").contains(p.verifier.expose()));
    }
}
