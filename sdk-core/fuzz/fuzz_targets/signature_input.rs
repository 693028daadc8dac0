//! RFC 9421 Signature-Input / Signature parsing and verification on
//! arbitrary header values.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigil::httpsig::{self, SigningKey, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = httpsig::parse_signature_input(&text);
    let (input, signature) = text.split_once('\n').unwrap_or((&text, ""));
    let mut req = http::Request::post("https://example.com/foo?param=Value&Pet=dog")
        .header("date", "Tue, 20 Apr 2021 02:07:55 GMT")
        .header("content-type", "application/json")
        .body(b"{\"hello\": \"world\"}".to_vec())
        .unwrap();
    let (Ok(i), Ok(s)) = (input.parse(), signature.parse()) else {
        return;
    };
    req.headers_mut().insert("signature-input", i);
    req.headers_mut().insert("signature", s);
    let key = SigningKey::HmacSha256(b"fuzz-shared-secret".to_vec()).verifying_key();
    let _ = httpsig::verify_request(
        &req,
        |_, _| Ok(key),
        &VerifyOptions::default(),
        1_618_884_473,
    );
});
