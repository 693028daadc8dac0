//! Webhook header parsing and verification on arbitrary header values.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let headers = [
        ("webhook-id", parts.next().unwrap_or("").to_owned()),
        ("webhook-timestamp", parts.next().unwrap_or("").to_owned()),
        ("webhook-signature", parts.next().unwrap_or("").to_owned()),
    ];
    let body = parts.next().unwrap_or("").as_bytes();
    let w = sigil::Webhook::new(&["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]).unwrap();
    let _ = w.verify_at(headers.as_slice(), body, 1_614_265_330);
});
