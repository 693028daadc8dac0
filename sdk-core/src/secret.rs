//! A string secret that never prints in full.
//!
//! Written by hand rather than with `secrecy` because SYSTEM.md allows the
//! 12-character prefix in logs (it identifies `sgl_live_…` keys) and `secrecy`
//! only prints `[REDACTED]`.

use std::fmt;

use zeroize::Zeroize;

/// How many leading characters of a secret may reach a log.
pub const LOG_PREFIX_LEN: usize = 12;

/// An owned secret string: zeroized on drop, redacted under `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for putting on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The part that may be logged: the first 12 characters of long
    /// secrets, nothing of short ones (a 16-character secret would be mostly
    /// revealed by its prefix).
    pub fn log_prefix(&self) -> &str {
        log_prefix(&self.0)
    }
}

/// The loggable prefix of any secret string (see [`Secret::log_prefix`]).
pub fn log_prefix(secret: &str) -> &str {
    if secret.len() < 2 * LOG_PREFIX_LEN {
        return "";
    }
    let end = secret
        .char_indices()
        .nth(LOG_PREFIX_LEN)
        .map_or(secret.len(), |(i, _)| i);
    &secret[..end]
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(\"{}…\")", self.log_prefix())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_the_prefix_of_long_secrets() {
        let s = Secret::new("sgl_live_0123456789abcdefghijklmnop");
        let printed = format!("{s:?}");
        assert_eq!(printed, "Secret(\"sgl_live_012…\")");
        assert!(!printed.contains("3456789abc"));
    }

    #[test]
    fn debug_hides_short_secrets_entirely() {
        let printed = format!("{:?}", Secret::new("hunter2-hunter2"));
        assert!(!printed.contains("hunter"), "{printed}");
    }
}
