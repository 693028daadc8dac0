//! Authorization callback parsing on arbitrary URLs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigil::authorize::{authorization_url, parse_callback, AuthorizationRequest};
use sigil::ServerMetadata;

fuzz_target!(|data: &[u8]| {
    let url = String::from_utf8_lossy(data);
    let md = ServerMetadata::sigil("https://as.example");
    let (_, pending) = authorization_url(
        &md,
        "app",
        &AuthorizationRequest {
            redirect_uri: "https://app.example/cb".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let _ = parse_callback(&url, &pending, true);
    let _ = parse_callback(&url, &pending, false);
});
