//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` headers, HMAC-SHA256 over `id.timestamp.body`.
//!
//! Verification runs on the raw body bytes only (a re-serialized JSON body
//! would not match), accepts several secrets at once for rotation, checks the
//! timestamp in both directions, and compares in constant time. Each secret's
//! HMAC key schedule is computed once at construction, so verifying costs
//! about one HMAC of the body.

use std::fmt;
use std::time::Duration;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use sigil_webhook_mac::{any_matches, Key};

use crate::transport::HeaderLookup;

/// Default timestamp tolerance, each way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
/// The secret prefix of Standard Webhooks.
pub const SECRET_PREFIX: &str = "whsec_";
/// The headers [`Webhook::verify`] reads: each Standard Webhooks name, and
/// the `svix-` name it falls back to when the first is absent. Bindings
/// that read headers from a host object read only these.
pub const HEADERS: [(&str, &str); 3] = [
    ("webhook-id", "svix-id"),
    ("webhook-timestamp", "svix-timestamp"),
    ("webhook-signature", "svix-signature"),
];

/// The values of [`HEADERS`], in its order, each already read under its name
/// or its fallback (`None` when both are absent): what a binding that reads
/// headers on the host's side hands [`Webhook::verify_values`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderValues<'a>(pub [Option<&'a str>; HEADERS.len()]);

impl<'a> HeaderValues<'a> {
    /// Each of [`HEADERS`] from `headers`, under its name or its fallback.
    pub fn read<H: HeaderLookup + ?Sized>(headers: &'a H) -> Self {
        Self(
            HEADERS
                .map(|(name, fallback)| headers.header(name).or_else(|| headers.header(fallback))),
        )
    }

    /// The values from their bytes, as a binding reads byte-string headers
    /// (Node's Latin-1 strings, the browser module's buffer). A value that is
    /// not UTF-8 cannot be what was signed: it is `InvalidHeader`.
    pub fn from_bytes(values: [Option<&'a [u8]>; HEADERS.len()]) -> Result<Self, WebhookError> {
        let mut out = [None; HEADERS.len()];
        for ((slot, value), (name, _)) in out.iter_mut().zip(values).zip(HEADERS) {
            if let Some(bytes) = value {
                let text =
                    std::str::from_utf8(bytes).map_err(|_| WebhookError::InvalidHeader(name))?;
                *slot = Some(text);
            }
        }
        Ok(Self(out))
    }
}

/// Caps on attacker-controlled header sizes.
const MAX_SIGNATURE_HEADER: usize = 8 * 1024;
const MAX_ID_LEN: usize = 1024;

/// Base64 that accepts secrets with or without `=` padding.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required header is absent.
    #[error("missing webhook header `{0}`")]
    MissingHeader(&'static str),
    /// A header is present but malformed.
    #[error("malformed webhook header `{0}`")]
    InvalidHeader(&'static str),
    /// The timestamp is further than the tolerance from now, either way.
    #[error("webhook timestamp is outside the tolerance window")]
    TimestampOutOfTolerance,
    /// No `v1` signature matched any secret.
    #[error("no webhook signature matched")]
    InvalidSignature,
    /// A configured secret is not `whsec_` + base64.
    #[error("invalid webhook secret: {0}")]
    InvalidSecret(&'static str),
    /// The verified body is not the JSON event expected.
    #[error("webhook payload is not a valid event: {0}")]
    InvalidPayload(String),
}

impl WebhookError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingHeader(_) => "missing_header",
            WebhookError::InvalidHeader(_) => "invalid_header",
            WebhookError::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
            WebhookError::InvalidSignature => "invalid_signature",
            WebhookError::InvalidSecret(_) => "invalid_secret",
            WebhookError::InvalidPayload(_) => "invalid_payload",
        }
    }
}

/// A verifier (and signer) holding one or more secrets.
///
/// Not `Clone`: it holds key material; share it behind an `Arc`.
pub struct Webhook {
    keys: Vec<Key>,
    tolerance: Duration,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("secrets", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

/// A message whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedWebhook<'a> {
    /// `webhook-id`: stable across retries, use it to deduplicate.
    pub id: &'a str,
    /// `webhook-timestamp`, in seconds.
    pub timestamp: i64,
    /// The verified raw body.
    pub body: &'a [u8],
}

/// The Standard Webhooks event envelope: `{type, timestamp, data}`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct WebhookEvent {
    /// Event type, e.g. `token.issued`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339 time the event happened.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Event-specific data.
    #[serde(default)]
    pub data: serde_json::Value,
}

impl VerifiedWebhook<'_> {
    /// The body as any JSON value.
    pub fn json(&self) -> Result<serde_json::Value, WebhookError> {
        serde_json::from_slice(self.body).map_err(|e| WebhookError::InvalidPayload(e.to_string()))
    }

    /// The body as a typed Standard Webhooks event.
    pub fn event(&self) -> Result<WebhookEvent, WebhookError> {
        crate::json::from_slice(self.body).map_err(|e| WebhookError::InvalidPayload(e.to_string()))
    }
}

impl Webhook {
    /// A verifier accepting a signature from any of `secrets`
    /// (`whsec_` + base64, or bare base64).
    pub fn new<S: AsRef<str>>(secrets: &[S]) -> Result<Self, WebhookError> {
        if secrets.is_empty() {
            return Err(WebhookError::InvalidSecret(
                "at least one secret is required",
            ));
        }
        let keys = secrets
            .iter()
            .map(|s| {
                let key = decode_secret(s.as_ref())?;
                Key::new(&key).map_err(|_| WebhookError::InvalidSecret("unusable key"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            keys,
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// Sets the timestamp tolerance (each way).
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies against the system clock.
    pub fn verify<'a, H: HeaderLookup + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
    ) -> Result<VerifiedWebhook<'a>, WebhookError> {
        self.verify_values(&HeaderValues::read(headers), body, None)
    }

    /// Verifies as of `now` (UNIX seconds), or the system clock when `None`:
    /// the choice every binding's optional `now` argument makes.
    pub fn verify_as_of<'a, H: HeaderLookup + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
        now: Option<i64>,
    ) -> Result<VerifiedWebhook<'a>, WebhookError> {
        self.verify_values(&HeaderValues::read(headers), body, now)
    }

    /// Verifies as if the time were `now` (UNIX seconds).
    pub fn verify_at<'a, H: HeaderLookup + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
        now: i64,
    ) -> Result<VerifiedWebhook<'a>, WebhookError> {
        self.verify_values(&HeaderValues::read(headers), body, Some(now))
    }

    /// Verifies the values of [`HEADERS`] a binding read on the host's side,
    /// as of `now` (UNIX seconds) or the system clock when `None`. Every
    /// other verify reads its headers and comes here: the one copy of the
    /// checks, whatever the header type.
    pub fn verify_values<'a>(
        &self,
        values: &HeaderValues<'a>,
        body: &'a [u8],
        now: Option<i64>,
    ) -> Result<VerifiedWebhook<'a>, WebhookError> {
        let missing = |i: usize| WebhookError::MissingHeader(HEADERS[i].0);
        let [id, ts_text, signatures] = values.0;
        let id = id.ok_or(missing(0))?;
        let ts_text = ts_text.ok_or(missing(1))?;
        let signatures = signatures.ok_or(missing(2))?;
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Err(WebhookError::InvalidHeader("webhook-id"));
        }
        let timestamp = parse_timestamp(ts_text)?;
        if signatures.len() > MAX_SIGNATURE_HEADER {
            return Err(WebhookError::InvalidHeader("webhook-signature"));
        }
        let now = now.unwrap_or_else(|| crate::transport::system_now().as_secs() as i64);
        if now.abs_diff(timestamp) > self.tolerance.as_secs() {
            return Err(WebhookError::TimestampOutOfTolerance);
        }
        if any_matches(&self.keys, id, ts_text, body, signatures) {
            Ok(VerifiedWebhook {
                id,
                timestamp,
                body,
            })
        } else {
            Err(WebhookError::InvalidSignature)
        }
    }

    /// The `webhook-signature` value for a message: one `v1,` signature per
    /// secret, space-separated, so receivers on either side of a rotation
    /// accept it.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        self.keys
            .iter()
            .map(|k| k.signature(id, &ts, body))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A fresh `whsec_` secret of 24 random bytes.
pub fn generate_secret() -> String {
    format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(crate::random::bytes::<24>())
    )
}

fn decode_secret(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = LENIENT_B64
        .decode(b64)
        .map_err(|_| WebhookError::InvalidSecret("not base64"))?;
    if key.is_empty() {
        return Err(WebhookError::InvalidSecret("empty key"));
    }
    Ok(key)
}

fn parse_timestamp(text: &str) -> Result<i64, WebhookError> {
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookError::InvalidHeader("webhook-timestamp"));
    }
    text.parse()
        .map_err(|_| WebhookError::InvalidHeader("webhook-timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn headers(sig: &str) -> Vec<(&'static str, String)> {
        vec![
            ("webhook-id", "msg_1".into()),
            ("webhook-timestamp", "1000".into()),
            ("webhook-signature", sig.into()),
        ]
    }

    #[test]
    fn header_values_from_bytes_must_be_utf8_and_a_bad_one_is_named() {
        let v = HeaderValues::from_bytes([Some(b"msg_\xc3\xa9".as_slice()), None, Some(b"v1,x")])
            .unwrap();
        assert_eq!(v.0, [Some("msg_\u{e9}"), None, Some("v1,x")]);
        for (i, name) in HEADERS.iter().map(|(n, _)| *n).enumerate() {
            let mut values = [Some(b"ok".as_slice()); 3];
            values[i] = Some(b"msg_\xe9");
            assert_eq!(
                HeaderValues::from_bytes(values).unwrap_err(),
                WebhookError::InvalidHeader(name)
            );
        }
    }

    #[test]
    fn header_values_are_read_by_name_or_fallback_and_a_missing_one_is_named() {
        let w = Webhook::new(&[SECRET]).unwrap();
        let sig = w.sign("msg_1", 1_000, b"{}");
        let values = HeaderValues([Some("msg_1"), Some("1000"), Some(sig.as_str())]);
        let verified = w.verify_values(&values, b"{}", Some(1_000)).unwrap();
        assert_eq!((verified.id, verified.timestamp), ("msg_1", 1_000));
        let missing = HeaderValues([Some("msg_1"), None, Some(sig.as_str())]);
        assert!(matches!(
            w.verify_values(&missing, b"{}", Some(1_000)),
            Err(WebhookError::MissingHeader("webhook-timestamp"))
        ));
        // Without `now`, the system clock: a 1970 timestamp is out of tolerance.
        assert!(matches!(
            w.verify_values(&values, b"{}", None),
            Err(WebhookError::TimestampOutOfTolerance)
        ));
        // Read from headers: each name, else its `svix-` fallback.
        let svix = [
            ("svix-id", "msg_1"),
            ("webhook-timestamp", "1000"),
            ("svix-signature", sig.as_str()),
        ];
        assert_eq!(HeaderValues::read(svix.as_slice()).0, values.0);
    }

    #[test]
    fn sign_then_verify_round_trips_and_rotation_accepts_either_secret() {
        let old = Webhook::new(&[SECRET]).unwrap();
        let fresh = generate_secret();
        let both = Webhook::new(&[fresh.as_str(), SECRET]).unwrap();
        let sig = old.sign("msg_1", 1000, b"{}");
        both.verify_at(headers(&sig).as_slice(), b"{}", 1000)
            .unwrap();
        let sig_both = both.sign("msg_1", 1000, b"{}");
        assert_eq!(sig_both.split(' ').count(), 2);
        old.verify_at(headers(&sig_both).as_slice(), b"{}", 1000)
            .unwrap();
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        let w = Webhook::new(&[SECRET]).unwrap();
        let mut h = headers("v1,xx");
        h[1].1 = "12a".into();
        assert_eq!(
            w.verify_at(h.as_slice(), b"", 1000).unwrap_err(),
            WebhookError::InvalidHeader("webhook-timestamp")
        );
        h[1].1 = "1000".into();
        h[0].1 = String::new();
        assert_eq!(
            w.verify_at(h.as_slice(), b"", 1000).unwrap_err(),
            WebhookError::InvalidHeader("webhook-id")
        );
        let huge = "v1,a ".repeat(5000);
        assert_eq!(
            w.verify_at(headers(&huge).as_slice(), b"", 1000)
                .unwrap_err(),
            WebhookError::InvalidHeader("webhook-signature")
        );
    }

    #[test]
    fn svix_header_names_are_accepted() {
        let w = Webhook::new(&[SECRET]).unwrap();
        let sig = w.sign("msg_1", 1000, b"x");
        let h = vec![
            ("svix-id", "msg_1".to_string()),
            ("svix-timestamp", "1000".into()),
            ("svix-signature", sig),
        ];
        w.verify_at(h.as_slice(), b"x", 1000).unwrap();
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(Webhook::new::<&str>(&[]).is_err());
        assert_eq!(
            Webhook::new(&["whsec_!!!"]).unwrap_err().code(),
            "invalid_secret"
        );
        assert!(Webhook::new(&["whsec_"]).is_err());
    }

    #[test]
    fn typed_event_out() {
        let w = Webhook::new(&[SECRET]).unwrap();
        let body =
            br#"{"type":"token.issued","timestamp":"2026-01-01T00:00:00Z","data":{"jti":"x"}}"#;
        let sig = w.sign("msg_1", 1000, body);
        let h = headers(&sig);
        let v = w.verify_at(h.as_slice(), body, 1000).unwrap();
        let ev = v.event().unwrap();
        assert_eq!(ev.event_type, "token.issued");
        assert_eq!(ev.data["jti"], "x");
        let sig = w.sign("msg_1", 1000, b"not json");
        let h = headers(&sig);
        let v = w.verify_at(h.as_slice(), b"not json", 1000).unwrap();
        assert_eq!(v.event().unwrap_err().code(), "invalid_payload");
    }
}
