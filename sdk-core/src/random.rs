//! Cryptographic randomness from the OS (`crypto.getRandomValues` on wasm32).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The OS RNG failing leaves no safe fallback: we must not hand out
    // predictable verifiers or states.
    getrandom::getrandom(&mut out).expect("the operating system's random source failed");
    out
}

/// A base64url (unpadded) string of 32 random bytes: 256 bits, 43 characters.
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<32>())
}

/// A uniformly random fraction in `[0, 1)`, for retry jitter.
pub fn unit_fraction() -> f64 {
    (u64::from_le_bytes(bytes::<8>()) >> 11) as f64 / (1u64 << 53) as f64
}
