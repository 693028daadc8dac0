//! The one typed error family every binding maps from.
//!
//! Each variant answers three questions a caller has to tell apart: is this a
//! protocol answer (`OAuth`, `Api`, `RateLimited`), a network failure
//! (`Transport`), or a local verification failure (webhook, token, signature)?
//! [`Error::code`] gives the stable snake_case code bindings expose.

use std::time::Duration;

use crate::httpsig::SignatureError;
use crate::jws::TokenError;
use crate::transport::TransportError;
use crate::webhook::WebhookError;

/// Result alias for the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure the SDK surfaces.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An RFC 6749 error from an OAuth endpoint or an authorization callback
    /// (`invalid_grant`, `access_denied`, ...).
    #[error("OAuth error `{code}`{}", fmt_description(.description))]
    OAuth {
        /// The RFC 6749 `error` code.
        code: String,
        /// `error_description`, when the server sent one.
        description: Option<String>,
        /// `error_uri`, when the server sent one.
        uri: Option<String>,
        /// HTTP status; `None` for errors delivered on the redirect.
        status: Option<u16>,
        /// The server's `X-Request-Id`, when present.
        request_id: Option<String>,
    },
    /// A non-OAuth API error (RFC 9457 or one of the seed shapes).
    #[error("API error {status} `{code}`: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// snake_case error code (`insufficient_scope`, `not_found`, ...).
        code: String,
        /// Human-readable message.
        message: String,
        /// The server's request id, from the body or `X-Request-Id`.
        request_id: Option<String>,
        /// How long the server asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// HTTP 429 after the retry budget was spent (or when retrying is not allowed).
    #[error("rate limited (HTTP {status}){}", fmt_retry(.retry_after))]
    RateLimited {
        /// HTTP status (429).
        status: u16,
        /// Error code from the body, `rate_limited` when absent.
        code: String,
        /// The server's request id.
        request_id: Option<String>,
        /// The server's `Retry-After`, when it gave one.
        retry_after: Option<Duration>,
    },
    /// The request never produced an HTTP response.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The callback's `state` does not match the pending transaction.
    #[error("authorization callback `state` does not match the pending request")]
    StateMismatch,
    /// The callback's `iss` (RFC 9207) is missing or names another issuer.
    #[error("authorization callback issuer mismatch: expected `{expected}`, got {}", .actual.as_deref().unwrap_or("none"))]
    IssuerMismatch {
        /// The issuer we talk to.
        expected: String,
        /// What the callback carried.
        actual: Option<String>,
    },
    /// The callback URL or a server response could not be understood.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// The caller passed something the SDK cannot use.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// There is no token set, or it ended (logout, failed refresh).
    #[error("not authenticated: {0}")]
    NotAuthenticated(&'static str),
    /// The stored session can no longer be renewed: the server refused its
    /// refresh token (expired, revoked, or reused and so its family
    /// revoked), and the tokens were dropped. The user must sign in again;
    /// the server's refusal is inside (its code, status and request id are
    /// this error's).
    #[error("login required: the session ended ({0})")]
    LoginRequired(Box<Error>),
    /// A session storage backend failed, or held a value that is not a
    /// token set (the value is discarded, so the next call starts clean).
    #[error("session storage failed: {0}")]
    Storage(String),
    /// The caller cancelled the call (an `AbortSignal`, a dropped task).
    #[error("the call was aborted")]
    Aborted,
    /// Webhook verification failed.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// Offline token verification failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// RFC 9421 signing or verification failed.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

fn fmt_description(d: &Option<String>) -> String {
    d.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
}

fn fmt_retry(r: &Option<Duration>) -> String {
    r.map(|r| format!(", retry after {}s", r.as_secs()))
        .unwrap_or_default()
}

impl Error {
    /// Stable snake_case code, the same in every binding.
    pub fn code(&self) -> &str {
        match self {
            Error::OAuth { code, .. }
            | Error::Api { code, .. }
            | Error::RateLimited { code, .. } => code,
            Error::Transport(e) => e.code(),
            Error::StateMismatch => "state_mismatch",
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::InvalidResponse(_) => "invalid_response",
            Error::InvalidInput(_) => "invalid_input",
            Error::NotAuthenticated(_) => "not_authenticated",
            Error::Storage(_) => "storage_error",
            Error::Aborted => "aborted",
            Error::Webhook(e) => e.code(),
            Error::Token(e) => e.code(),
            Error::Signature(e) => e.code(),
            Error::LoginRequired(cause) => cause.code(),
        }
    }

    /// HTTP status, when the error came from an HTTP response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::OAuth { status, .. } => *status,
            Error::Api { status, .. } | Error::RateLimited { status, .. } => Some(*status),
            Error::LoginRequired(cause) => cause.status(),
            _ => None,
        }
    }

    /// The server's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::OAuth { request_id, .. }
            | Error::Api { request_id, .. }
            | Error::RateLimited { request_id, .. } => request_id.as_deref(),
            Error::LoginRequired(cause) => cause.request_id(),
            _ => None,
        }
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } | Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Which family the error belongs to; bindings pick their subclass from it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::OAuth { .. } => ErrorKind::OAuth,
            Error::Api { .. } => ErrorKind::Api,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Transport(_) => ErrorKind::Transport,
            Error::StateMismatch | Error::IssuerMismatch { .. } => ErrorKind::Callback,
            Error::InvalidResponse(_) => ErrorKind::InvalidResponse,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::NotAuthenticated(_) | Error::LoginRequired(_) => ErrorKind::Session,
            Error::Storage(_) => ErrorKind::Storage,
            Error::Aborted => ErrorKind::Aborted,
            Error::Webhook(_) => ErrorKind::Webhook,
            Error::Token(TokenError::Expired { .. }) => ErrorKind::TokenExpired,
            Error::Token(_) => ErrorKind::Token,
            Error::Signature(_) => ErrorKind::Signature,
        }
    }
}

/// Coarse error families, one per binding-side error class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// [`Error::OAuth`].
    OAuth,
    /// [`Error::Api`].
    Api,
    /// [`Error::RateLimited`].
    RateLimited,
    /// [`Error::Transport`].
    Transport,
    /// State or issuer mismatch on the callback.
    Callback,
    /// A response the SDK could not parse.
    InvalidResponse,
    /// Bad caller input.
    InvalidInput,
    /// No usable session.
    Session,
    /// The session storage failed or held garbage.
    Storage,
    /// The caller cancelled.
    Aborted,
    /// Webhook verification.
    Webhook,
    /// An expired token.
    TokenExpired,
    /// Any other token verification failure.
    Token,
    /// RFC 9421 failure.
    Signature,
}

impl ErrorKind {
    /// The error class every binding raises for this kind (JS `Error`
    /// subclass, Python exception), so the languages agree on one hierarchy.
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::OAuth => "OAuthError",
            ErrorKind::Api => "ApiError",
            ErrorKind::RateLimited => "RateLimitError",
            ErrorKind::Transport => "TransportError",
            ErrorKind::Webhook => "WebhookVerificationError",
            ErrorKind::Token => "TokenError",
            ErrorKind::TokenExpired => "TokenExpiredError",
            ErrorKind::Signature => "SignatureError",
            ErrorKind::InvalidInput => "InvalidInputError",
            ErrorKind::Session => "LoginRequiredError",
            ErrorKind::Storage => "StorageError",
            ErrorKind::Aborted => "AbortError",
            ErrorKind::Callback | ErrorKind::InvalidResponse => "SigilError",
        }
    }
}

/// Everything a binding puts on its error object, computed once here so every
/// language carries the same fields with the same values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInfo {
    /// The binding-side class ([`ErrorKind::class_name`]).
    pub class: &'static str,
    /// [`Error::code`].
    pub code: String,
    /// The display message.
    pub message: String,
    /// [`Error::status`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// [`Error::request_id`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// [`Error::retry_after`], in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    /// The RFC 6749 `error` of an OAuth error (the same as `code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The RFC 6749 `error_description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl Error {
    /// The fields every binding's error object carries.
    pub fn info(&self) -> ErrorInfo {
        let (error, error_description) = match self {
            Error::OAuth {
                code, description, ..
            } => (Some(code.clone()), description.clone()),
            Error::LoginRequired(cause) => {
                // The refusal's code, status and request id; the RFC 6749
                // fields belong to OAuthError.
                return ErrorInfo {
                    class: self.kind().class_name(),
                    message: self.to_string(),
                    error: None,
                    error_description: None,
                    ..cause.info()
                };
            }
            _ => (None, None),
        };
        ErrorInfo {
            class: self.kind().class_name(),
            code: self.code().to_owned(),
            message: self.to_string(),
            status: self.status(),
            request_id: self.request_id().map(str::to_owned),
            retry_after: self.retry_after().map(|d| d.as_secs_f64()),
            error,
            error_description,
        }
    }
}
