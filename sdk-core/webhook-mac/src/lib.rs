//! The Standard Webhooks MAC: HMAC-SHA256 over `{id}.{timestamp}.{body}`,
//! sent as `v1,<base64>` entries of the space-separated `webhook-signature`
//! header. `sigil::Webhook` adds the headers, the timestamp window and the
//! secrets' format around it.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
pub use hmac::digest::InvalidLength;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The only signature version that counts.
pub const VERSION: &str = "v1";

/// One secret's HMAC key schedule, computed once, so a MAC costs about one
/// hash of the message.
///
/// Not `Clone`, and its `Debug` shows nothing: it is key material.
pub struct Key(Hmac<Sha256>);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// The key schedule of a decoded secret.
    pub fn new(secret: &[u8]) -> Result<Self, InvalidLength> {
        <Hmac<Sha256> as Mac>::new_from_slice(secret).map(Self)
    }

    /// The MAC of `{id}.{timestamp}.{body}`.
    pub fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        let mut m = self.0.clone();
        // `{id}.{ts}.` in one update when it is short, as it nearly always is:
        // each update is a pass through the block buffer.
        let mut prefix = [0u8; 128];
        let (i, t) = (id.len(), timestamp.len());
        if i + t + 2 <= prefix.len() {
            prefix[..i].copy_from_slice(id.as_bytes());
            prefix[i] = b'.';
            prefix[i + 1..i + 1 + t].copy_from_slice(timestamp.as_bytes());
            prefix[i + 1 + t] = b'.';
            m.update(&prefix[..i + t + 2]);
        } else {
            for part in [id.as_bytes(), b".", timestamp.as_bytes(), b"."] {
                m.update(part);
            }
        }
        m.update(body);
        m.finalize().into_bytes().into()
    }

    /// The `v1,<base64>` signature entry of a message.
    pub fn signature(&self, id: &str, timestamp: &str, body: &[u8]) -> String {
        format!(
            "{VERSION},{}",
            STANDARD.encode(self.mac(id, timestamp, body))
        )
    }
}

/// Whether any `v1` entry of `header` is the MAC of the message under any of
/// `keys`. Every key meets every entry, with no early exit, and nothing is
/// allocated (a hot path).
pub fn any_matches(keys: &[Key], id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let mut matched = subtle::Choice::from(0);
    for key in keys {
        let expected = key.mac(id, timestamp, body);
        for candidate in header.split(' ').filter_map(decode_v1) {
            // The bytes' differences folded branch-free, then one
            // constant-time test: `[u8]::ct_eq` takes an optimisation barrier
            // per byte.
            let diff = expected
                .iter()
                .zip(&candidate)
                .fold(0u8, |d, (a, b)| d | (a ^ b));
            matched |= diff.ct_eq(&0);
        }
    }
    matched.into()
}

/// Decodes one `v1,<base64>` entry; other versions and malformed entries are
/// skipped, never errors, so one bad entry cannot hide a good one.
fn decode_v1(entry: &str) -> Option<[u8; 32]> {
    let sig = entry.strip_prefix(VERSION)?.strip_prefix(',')?;
    let mut out = [0u8; 32];
    // A 32-byte MAC is 44 base64 characters; anything else cannot match.
    if sig.len() != 44 {
        return None;
    }
    match STANDARD.decode_slice(sig, &mut out) {
        Ok(32) => Some(out),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn one_update(id: &str, ts: &str, body: &[u8]) -> [u8; 32] {
        let mut whole = <Hmac<Sha256> as Mac>::new_from_slice(SECRET).unwrap();
        whole.update(format!("{id}.{ts}.").as_bytes());
        whole.update(body);
        whole.finalize().into_bytes().into()
    }

    #[test]
    fn the_mac_covers_id_timestamp_and_body_whether_or_not_the_prefix_fits_one_update() {
        let key = Key::new(SECRET).unwrap();
        let body = b"{\"a\":1}";
        // `{id}.{ts}.` of 126 to 129 bytes, around the 128-byte buffer, and
        // a 1 KB id.
        for id_len in (111..=114).chain([1024]) {
            let id = "m".repeat(id_len);
            let ts = "1700000000000";
            assert_eq!(
                key.mac(&id, ts, body),
                one_update(&id, ts, body),
                "id of {id_len} bytes"
            );
        }
    }

    #[test]
    fn any_entry_under_any_key_matches_and_nothing_else_does() {
        let key = |secret: &[u8]| Key::new(secret).unwrap();
        let (id, ts, body) = ("msg_1", "1700000000", b"{}".as_slice());
        let good = key(SECRET).signature(id, ts, body);
        assert!(good.starts_with("v1,") && good.len() == 47);
        let b64 = &good[3..];
        let flipped = format!(
            "{}{}",
            if b64.starts_with('A') { 'B' } else { 'A' },
            &b64[1..]
        );
        // Another version, malformed entries, a wrong MAC, another key's MAC.
        let others = format!(
            "v2,{b64} v1,bad v1,{} v1,{flipped} v1 {}",
            &b64[..43],
            key(b"another secret").signature(id, ts, body)
        );
        assert!(!any_matches(&[key(SECRET)], id, ts, body, &others));
        let both = [key(b"another secret"), key(SECRET)];
        assert!(any_matches(
            &both,
            id,
            ts,
            body,
            &format!("{others} {good}")
        ));
        for (id, ts, body) in [
            ("msg_2", ts, body),
            (id, "1700000001", body),
            (id, ts, b"{} ".as_slice()),
        ] {
            assert!(!any_matches(&both, id, ts, body, &good), "{id} {ts}");
        }
    }
}
