//! The secret-handling rules: secrets print redacted under `Debug`, and the
//! types holding one-transaction or signing material are not `Clone`.

use static_assertions::assert_not_impl_any;

use sigil::authorize::{authorization_url, AuthorizationRequest, PendingAuthorization};
use sigil::httpsig::SigningKey;
use sigil::{JwksCache, PkceVerifier, Secret, ServerMetadata, TokenSet, Webhook};

assert_not_impl_any!(PkceVerifier: Clone);
assert_not_impl_any!(PendingAuthorization: Clone);
assert_not_impl_any!(Webhook: Clone);
assert_not_impl_any!(SigningKey: Clone);
assert_not_impl_any!(JwksCache: Clone);

const LONG: &str = "sgl_live_4QzY8nRk2VtLp0aXcW7eHs9JmB3dFgK1uOiN";

#[test]
fn debug_output_never_contains_a_full_secret() {
    let tokens = TokenSet::from_json(
        format!(r#"{{"access_token":"{LONG}","refresh_token":"sgl_rt_{LONG}","expires_in":60}}"#)
            .as_bytes(),
        std::time::Duration::ZERO,
    )
    .unwrap();
    let (_, pending) = authorization_url(
        &ServerMetadata::sigil("https://as.example"),
        "app",
        &AuthorizationRequest {
            redirect_uri: "https://app.example/cb".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let webhook = Webhook::new(&["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]).unwrap();
    let hmac = SigningKey::HmacSha256(b"a-shared-secret-of-some-length".to_vec());
    let ed = SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7; 32]));

    let printed = format!(
        "{:?} {:?} {:?} {:?} {:?} {:?}",
        Secret::new(LONG),
        tokens,
        pending,
        webhook,
        hmac,
        ed
    );
    assert!(!printed.contains(LONG), "{printed}");
    assert!(
        !printed.contains(&LONG[12..]),
        "only a 12-char prefix may show"
    );
    assert!(!printed.contains(pending.verifier.expose()));
    assert!(!printed.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert!(!printed.contains("a-shared-secret"));
    assert!(
        printed.contains(&LONG[..12]),
        "the prefix identifies the key"
    );
}
