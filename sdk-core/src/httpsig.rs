//! RFC 9421 HTTP message signatures (being written).

/// Why signing or verifying failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature did not verify.
    #[error("invalid signature")]
    InvalidSignature,
}

impl SignatureError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        "invalid_signature"
    }
}
