//! Compact JWS parsing and verification on arbitrary tokens.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigil::jws::{self, Jwk, Jwks, TokenType, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    // RFC 8032 TEST 1 public key.
    let key = ed25519_dalek::VerifyingKey::from_bytes(&[
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07,
        0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07,
        0x51, 0x1a,
    ])
    .unwrap();
    let jwks = Jwks {
        keys: vec![Jwk::from_verifying_key(&key, "k1")],
    };
    let _ = jws::decode_header(&token);
    let opts = VerifyOptions {
        token_type: TokenType::Any,
        ..VerifyOptions::default()
    };
    let _ = jws::verify(&token, &jwks, &opts, 1_700_000_000);
});
