//! Credential formats and hashing. Every secret the server hands out is
//! random, shown once, and stored only as its SHA-256 (high-entropy secrets
//! need no slow hash); comparisons are constant-time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// API key prefix for live keys.
pub const LIVE_PREFIX: &str = "sgl_live_";
/// API key prefix for test-mode keys.
pub const TEST_PREFIX: &str = "sgl_test_";
/// Refresh token prefix.
pub const REFRESH_PREFIX: &str = "sgl_rt_";
/// Client secret prefix.
pub const CLIENT_SECRET_PREFIX: &str = "sgl_cs_";

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY_BODY_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;

/// `n` random base62 characters (rejection sampling: no modulo bias).
pub fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut buf = [0u8; 64];
        getrandom::getrandom(&mut buf).expect("the operating system's random source failed");
        for b in buf {
            // 248 = 62 * 4: values above are discarded.
            if b < 248 && out.len() < n {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// A random id with a type prefix (`usr_`, `app_`, `key_`, ...).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", random_base62(20))
}

/// A random id whose leading characters encode the current time, so ids
/// created one after another sort together. For high-volume rows with a
/// unique index on the id (audit entries): random ids would land on random
/// index pages, and the index would stop fitting SQLite's page cache as the
/// table grows. Twelve random characters (71 bits) keep ids unguessable
/// within one millisecond.
pub fn new_sortable_id(prefix: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut time = [0u8; 8];
    let mut rest = millis;
    for slot in time.iter_mut().rev() {
        *slot = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let time = std::str::from_utf8(&time).expect("base62 is ASCII");
    format!("{prefix}{time}{}", random_base62(12))
}

/// SHA-256 of a secret, the only form in which it is stored.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Constant-time equality of two hashes or secrets.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn checksum(body: &str) -> String {
    let crc = crc32fast::hash(body.as_bytes());
    format!("{:0>width$}", base62::encode(crc), width = CHECKSUM_LEN)
}

/// A new API key: prefix, 32 base62 characters, 6-character CRC32 checksum.
pub fn new_api_key(test_mode: bool) -> String {
    let prefix = if test_mode { TEST_PREFIX } else { LIVE_PREFIX };
    let body = format!("{prefix}{}", random_base62(KEY_BODY_LEN));
    let sum = checksum(&body);
    format!("{body}{sum}")
}

/// Whether `key` has the API key shape and a valid checksum, so typos and
/// garbage are refused without a database lookup.
pub fn is_well_formed_api_key(key: &str) -> bool {
    let Some(rest) = key
        .strip_prefix(LIVE_PREFIX)
        .or_else(|| key.strip_prefix(TEST_PREFIX))
    else {
        return false;
    };
    if rest.len() != KEY_BODY_LEN + CHECKSUM_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return false;
    }
    let (body, sum) = key.split_at(key.len() - CHECKSUM_LEN);
    ct_eq(checksum(body).as_bytes(), sum.as_bytes())
}

/// A new opaque secret with a prefix (refresh tokens, client secrets, codes).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", random_base62(43))
}

/// The per-app pairwise subject of a user: apps cannot correlate users.
pub fn pairwise_sub(server_secret: &[u8], app_id: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(server_secret).expect("HMAC takes any key length");
    mac.update(app_id.as_bytes());
    mac.update(b"\0");
    mac.update(user_id.as_bytes());
    format!(
        "pw_{}",
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..18])
    )
}

/// The masked form lists show: prefix and last 4.
pub fn mask(prefix: &str, last4: &str) -> String {
    format!("{prefix}…{last4}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_ids_sort_by_creation_time() {
        let first = new_sortable_id("aud_");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_sortable_id("aud_");
        assert!(first < second, "{first} !< {second}");
        assert_eq!(first.len(), "aud_".len() + 20);
        assert_ne!(first[12..], second[12..]);
        assert!(first[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn api_keys_carry_a_checksum() {
        let k = new_api_key(false);
        assert!(k.starts_with(LIVE_PREFIX));
        assert_eq!(k.len(), LIVE_PREFIX.len() + 38);
        assert!(is_well_formed_api_key(&k));
        let mut typo = k.clone().into_bytes();
        let i = LIVE_PREFIX.len() + 3;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        assert!(!is_well_formed_api_key(&String::from_utf8(typo).unwrap()));
        assert!(!is_well_formed_api_key("sgl_live_short"));
        assert!(!is_well_formed_api_key("Bearer xyz"));
        assert!(is_well_formed_api_key(&new_api_key(true)));
    }

    #[test]
    fn pairwise_subjects_differ_per_app_and_are_stable() {
        let s = b"server-secret";
        assert_eq!(
            pairwise_sub(s, "app_a", "u1"),
            pairwise_sub(s, "app_a", "u1")
        );
        assert_ne!(
            pairwise_sub(s, "app_a", "u1"),
            pairwise_sub(s, "app_b", "u1")
        );
        assert_ne!(
            pairwise_sub(s, "app_a", "u1"),
            pairwise_sub(s, "app_a", "u2")
        );
    }

    #[test]
    fn random_base62_is_alphanumeric_and_unique() {
        let a = random_base62(40);
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, random_base62(40));
    }
}
