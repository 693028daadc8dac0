//! EdDSA JWS access and agent tokens (being written).

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token has expired.
    #[error("token expired at {exp}")]
    Expired {
        /// `exp` claim.
        exp: i64,
    },
}

impl TokenError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Expired { .. } => "token_expired",
        }
    }
}
