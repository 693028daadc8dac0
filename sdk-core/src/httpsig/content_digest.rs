//! RFC 9530 `Content-Digest`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sfv::ListEntry;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::{malformed, parse_dictionary, SignatureError};

/// The RFC 9530 `Content-Digest` value of `body`: `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Checks `body` against a `Content-Digest` value.
///
/// `sha-256` and `sha-512` are checked (in constant time) and every one
/// present must match; other algorithms are ignored, and a value naming only
/// unknown algorithms is [`SignatureError::UnsupportedDigest`].
pub fn verify_content_digest(header: &str, body: &[u8]) -> Result<(), SignatureError> {
    let dict = parse_dictionary(header, "Content-Digest")?;
    let mut checked = false;
    for (alg, entry) in &dict {
        let expected = match alg.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        let received = match entry {
            ListEntry::Item(item) => item.bare_item.as_byte_sequence(),
            ListEntry::InnerList(_) => None,
        }
        .ok_or_else(|| {
            malformed(format!(
                "Content-Digest {} must be a byte sequence",
                alg.as_str()
            ))
        })?;
        if !bool::from(expected.as_slice().ct_eq(received)) {
            return Err(SignatureError::DigestMismatch);
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(SignatureError::UnsupportedDigest)
    }
}
