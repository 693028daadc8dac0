//! Tests: RFC 9421 B.2.5/B.2.6 byte for byte, round trips, every rejection path.

use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha512};

use super::*;

const VECTORS_JSON: &str = include_str!("../../../tests/vectors/standards.json");

// RFC 9421 B.2.5 / B.2.6, copied byte for byte from the shared vectors
// (`vectors_match_the_shared_file` checks the copy).
const TARGET: &str = "https://example.com/foo?param=Value&Pet=dog";
const DATE: &str = "Tue, 20 Apr 2021 02:07:55 GMT";
const BODY: &str = "{\"hello\": \"world\"}";
const CREATED: i64 = 1_618_884_473;
const B25_SECRET: &str =
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==";
const B25_INPUT: &str = "sig-b25=(\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\"";
const B25_BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@authority\": example.com\n\"content-type\": application/json\n\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\"";
const B25_SIGNATURE: &str = "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:";
const B26_SEED_HEX: &str = "9f8362f87a484a954e6e740c5b4c0e84229139a20aa8ab56ff66586f6a7d29c5";
const B26_PUBLIC_X: &str = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs";
const B26_INPUT: &str = "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
const B26_BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
const B26_SIGNATURE: &str = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";

fn json_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn vector_request() -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method("POST")
        .uri(TARGET)
        .header("host", "example.com")
        .header("date", DATE)
        .header("content-type", "application/json")
        .header("content-length", "18")
        .body(BODY.as_bytes().to_vec())
        .unwrap()
}

fn b25_key() -> SigningKey {
    SigningKey::HmacSha256(STANDARD.decode(B25_SECRET).unwrap())
}

fn b26_key() -> SigningKey {
    let seed: Vec<u8> = (0..B26_SEED_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&B26_SEED_HEX[i..i + 2], 16).unwrap())
        .collect();
    SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
        &seed.try_into().unwrap(),
    ))
}

fn params(label: &str, keyid: &str, components: &[&str]) -> SignParams {
    SignParams {
        label: label.into(),
        ..SignParams::new(keyid, components.iter().copied(), CREATED)
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn with_headers(
    mut req: http::Request<Vec<u8>>,
    headers: &SignatureHeaders,
) -> http::Request<Vec<u8>> {
    let h = req.headers_mut();
    h.insert("signature-input", headers.signature_input.parse().unwrap());
    h.insert("signature", headers.signature.parse().unwrap());
    req
}

fn ed_key() -> SigningKey {
    SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]))
}

/// Signs a request covering everything, body included.
fn signed_request(opts: impl FnOnce(&mut SignParams)) -> http::Request<Vec<u8>> {
    let mut req = vector_request();
    let mut p = params(
        "sig1",
        "agent-1",
        &[
            "@method",
            "@target-uri",
            "@authority",
            "content-type",
            "content-digest",
        ],
    );
    opts(&mut p);
    sign_request(&mut req, &ed_key(), &p).unwrap();
    req
}

fn verify_with(
    req: &http::Request<Vec<u8>>,
    key: VerifyingKey,
    opts: &VerifyOptions,
    now: i64,
) -> Result<VerifiedSignature, SignatureError> {
    verify_request(req, move |_, _| Ok(key), opts, now)
}

fn verify_ed(req: &http::Request<Vec<u8>>, now: i64) -> Result<VerifiedSignature, SignatureError> {
    verify_with(
        req,
        ed_key().verifying_key(),
        &VerifyOptions::default(),
        now,
    )
}

#[test]
fn vectors_match_the_shared_file() {
    for constant in [
        TARGET,
        DATE,
        B25_SECRET,
        B25_INPUT,
        B25_BASE,
        B25_SIGNATURE,
        B26_SEED_HEX,
        B26_PUBLIC_X,
        B26_INPUT,
        B26_BASE,
        B26_SIGNATURE,
        BODY,
    ] {
        let escaped = json_escape(constant);
        assert!(VECTORS_JSON.contains(&escaped), "not in vectors: {escaped}");
    }
}

#[test]
fn rfc9421_b25_hmac_sha256_byte_for_byte() {
    let req = vector_request();
    let p = params(
        "sig-b25",
        "test-shared-secret",
        &["date", "@authority", "content-type"],
    );
    let params_value = B25_INPUT.strip_prefix("sig-b25=").unwrap();
    assert_eq!(
        signature_base(&req, &p.components, params_value).unwrap(),
        B25_BASE
    );

    let headers = sign(&req, &b25_key(), &p).unwrap();
    assert_eq!(headers.signature_input, B25_INPUT);
    assert_eq!(headers.signature, B25_SIGNATURE);

    let req = with_headers(req, &headers);
    let verified = verify_with(
        &req,
        b25_key().verifying_key(),
        &VerifyOptions::default(),
        CREATED,
    )
    .unwrap();
    assert_eq!(verified.label, "sig-b25");
    assert_eq!(verified.keyid.as_deref(), Some("test-shared-secret"));
    assert_eq!(
        verified.components,
        strings(&["date", "@authority", "content-type"])
    );
    assert_eq!(verified.created, Some(CREATED));
}

#[test]
fn rfc9421_b26_ed25519_byte_for_byte() {
    let key = b26_key();
    let VerifyingKey::Ed25519(public) = key.verifying_key() else {
        panic!("not ed25519");
    };
    assert_eq!(URL_SAFE_NO_PAD.encode(public.as_bytes()), B26_PUBLIC_X);

    let req = vector_request();
    let components = [
        "date",
        "@method",
        "@path",
        "@authority",
        "content-type",
        "content-length",
    ];
    let p = params("sig-b26", "test-key-ed25519", &components);
    let params_value = B26_INPUT.strip_prefix("sig-b26=").unwrap();
    assert_eq!(
        signature_base(&req, &p.components, params_value).unwrap(),
        B26_BASE
    );

    let headers = sign(&req, &key, &p).unwrap();
    assert_eq!(headers.signature_input, B26_INPUT);
    assert_eq!(headers.signature, B26_SIGNATURE);

    // Verify from the vector's header text, not from our own output.
    let req = with_headers(
        req,
        &SignatureHeaders {
            signature_input: B26_INPUT.into(),
            signature: B26_SIGNATURE.into(),
        },
    );
    let verified = verify_with(
        &req,
        VerifyingKey::Ed25519(public),
        &VerifyOptions {
            label: Some("sig-b26".into()),
            ..VerifyOptions::default()
        },
        CREATED + 10,
    )
    .unwrap();
    assert_eq!(verified.keyid.as_deref(), Some("test-key-ed25519"));
    assert_eq!(verified.components, strings(&components));
}

#[test]
fn round_trip_with_all_parameters() {
    let key = ed_key();
    let mut req = vector_request();
    let p = SignParams {
        label: "agent".into(),
        keyid: "agent-1".into(),
        components: strings(&[
            "@method",
            "@target-uri",
            "@authority",
            "@scheme",
            "@request-target",
            "@path",
            "@query",
            "@query-param;name=\"Pet\"",
            "Content-Type",
            "content-digest",
        ]),
        created: Some(CREATED),
        expires: Some(CREATED + 60),
        nonce: Some("n-123".into()),
        tag: Some("sigil-agent".into()),
        include_alg: true,
    };
    sign_request(&mut req, &key, &p).unwrap();
    assert_eq!(
        req.headers()["content-digest"],
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    );
    assert_eq!(
        req.headers()["signature-input"],
        "agent=(\"@method\" \"@target-uri\" \"@authority\" \"@scheme\" \"@request-target\" \
         \"@path\" \"@query\" \"@query-param\";name=\"Pet\" \"content-type\" \"content-digest\")\
         ;created=1618884473;expires=1618884533;nonce=\"n-123\";alg=\"ed25519\";keyid=\"agent-1\"\
         ;tag=\"sigil-agent\""
    );
    let opts = VerifyOptions {
        require_expires: true,
        require_nonce: true,
        required_components: strings(&["@method", "@target-uri", "content-digest"]),
        ..VerifyOptions::default()
    };
    let mut seen = None;
    let verified = verify_request(
        &req,
        |keyid, alg| {
            seen = Some((keyid.map(str::to_owned), alg.map(str::to_owned)));
            Ok(key.verifying_key())
        },
        &opts,
        CREATED + 5,
    )
    .unwrap();
    assert_eq!(seen, Some((Some("agent-1".into()), Some("ed25519".into()))));
    assert_eq!(
        verified,
        VerifiedSignature {
            label: "agent".into(),
            keyid: Some("agent-1".into()),
            alg: Some("ed25519".into()),
            created: Some(CREATED),
            expires: Some(CREATED + 60),
            nonce: Some("n-123".into()),
            tag: Some("sigil-agent".into()),
            components: strings(&[
                "@method",
                "@target-uri",
                "@authority",
                "@scheme",
                "@request-target",
                "@path",
                "@query",
                "@query-param;name=\"Pet\"",
                "content-type",
                "content-digest",
            ]),
        }
    );
}

#[test]
fn derived_component_values() {
    let req = http::Request::builder()
        .method("GET")
        .uri("https://EXAMPLE.com:443/p/a%2Fth?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something&empty=")
        .header("x-list", "  a,b ")
        .header("x-list", "\tc ")
        .header("x-empty", "")
        .body(Vec::new())
        .unwrap();
    let base = signature_base(
        &req,
        &strings(&[
            "@method",
            "@target-uri",
            "@authority",
            "@scheme",
            "@request-target",
            "@path",
            "@query-param;name=\"var\"",
            "@query-param;name=\"bar\"",
            "@query-param;name=\"fa%C3%A7ade%22%3A%20\"",
            "@query-param;name=\"empty\"",
            "x-list",
            "x-empty",
        ]),
        "()",
    )
    .unwrap();
    let query = "var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something&empty=";
    let expected = format!(
        "\"@method\": GET\n\
         \"@target-uri\": https://example.com/p/a%2Fth?{query}\n\
         \"@authority\": example.com\n\
         \"@scheme\": https\n\
         \"@request-target\": /p/a%2Fth?{query}\n\
         \"@path\": /p/a%2Fth\n\
         \"@query-param\";name=\"var\": this%20is%20a%20big%0Amultiline%20value\n\
         \"@query-param\";name=\"bar\": with%20plus%20whitespace\n\
         \"@query-param\";name=\"fa%C3%A7ade%22%3A%20\": something\n\
         \"@query-param\";name=\"empty\": \n\
         \"x-list\": a,b, c\n\
         \"x-empty\": \n\
         \"@signature-params\": ()"
    );
    assert_eq!(base, expected);
}

#[test]
fn origin_form_uses_host_and_defaults() {
    let req = http::Request::builder()
        .method("GET")
        .uri("/")
        .header("host", "Api.Example.com:8443")
        .body(Vec::new())
        .unwrap();
    let base = signature_base(
        &req,
        &strings(&["@authority", "@target-uri", "@path", "@query"]),
        "()",
    )
    .unwrap();
    assert_eq!(
        base,
        "\"@authority\": api.example.com:8443\n\
         \"@target-uri\": https://api.example.com:8443/\n\
         \"@path\": /\n\
         \"@query\": ?\n\
         \"@signature-params\": ()"
    );
    let http_default = http::Request::builder()
        .uri("http://example.com:80")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        signature_base(&http_default, &strings(&["@authority", "@path"]), "()").unwrap(),
        "\"@authority\": example.com\n\"@path\": /\n\"@signature-params\": ()"
    );
    let ipv6 = http::Request::builder()
        .uri("/x")
        .header("host", "[::1]:8080")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        signature_base(&ipv6, &strings(&["@authority"]), "()").unwrap(),
        "\"@authority\": [::1]:8080\n\"@signature-params\": ()"
    );
    let two_hosts = http::Request::builder()
        .uri("/x")
        .header("host", "a.example")
        .header("host", "b.example")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        signature_base(&two_hosts, &strings(&["@authority"]), "()")
            .unwrap_err()
            .code(),
        "malformed_signature"
    );
    let no_host = http::Request::builder().uri("/x").body(Vec::new()).unwrap();
    assert_eq!(
        signature_base(&no_host, &strings(&["@authority"]), "()"),
        Err(SignatureError::MissingComponent("@authority".into()))
    );
}

#[test]
fn component_errors() {
    let req = vector_request();
    let base = |components: &[&str]| signature_base(&req, &strings(components), "()");
    assert_eq!(
        base(&["x-missing"]),
        Err(SignatureError::MissingComponent("x-missing".into()))
    );
    assert_eq!(
        base(&["@query-param;name=\"nope\""]),
        Err(SignatureError::MissingComponent(
            "@query-param;name=\"nope\"".into()
        ))
    );
    for unsupported in [
        "content-type;sf",
        "content-type;bs",
        "content-type;key=\"a\"",
        "@method;req",
        "content-type;tr",
        "@status",
        "@signature-params",
        "@unknown",
        "@path;name=\"x\"",
    ] {
        assert_eq!(
            base(&[unsupported]).unwrap_err().code(),
            "unsupported_component",
            "{unsupported}"
        );
    }
    for malformed in ["", "a b", "@query-param", "date;", "\"date", "x\"y"] {
        assert_eq!(
            base(&[malformed]).unwrap_err().code(),
            "malformed_signature",
            "{malformed:?}"
        );
    }
    assert_eq!(
        base(&["date", "Date"]).unwrap_err().code(),
        "malformed_signature"
    );
    let repeated = http::Request::builder()
        .uri("https://example.com/?a=1&a=2")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        signature_base(&repeated, &strings(&["@query-param;name=\"a\""]), "()")
            .unwrap_err()
            .code(),
        "unsupported_component"
    );
    let non_ascii = http::Request::builder()
        .uri("https://example.com/")
        .header("x-bin", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap())
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        signature_base(&non_ascii, &strings(&["x-bin"]), "()")
            .unwrap_err()
            .code(),
        "unsupported_component"
    );
    assert_eq!(
        signature_base(&req, &strings(&["date"]), "()\n\"x\": y")
            .unwrap_err()
            .code(),
        "malformed_signature"
    );
}

#[test]
fn duplicate_components_in_received_input_are_malformed() {
    let req = with_headers(
        vector_request(),
        &SignatureHeaders {
            signature_input: "sig1=(\"date\" \"date\");created=1618884473".into(),
            signature: "sig1=:AAAA:".into(),
        },
    );
    assert_eq!(
        verify_ed(&req, CREATED).unwrap_err().code(),
        "malformed_signature"
    );
}

#[test]
fn tampered_body_is_a_digest_mismatch() {
    let mut req = signed_request(|_| {});
    assert!(verify_ed(&req, CREATED).is_ok());
    req.body_mut().push(b' ');
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::DigestMismatch)
    );
}

#[test]
fn changed_header_or_method_is_an_invalid_signature() {
    let mut req = signed_request(|_| {});
    req.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::InvalidSignature)
    );

    let mut req = signed_request(|_| {});
    *req.method_mut() = http::Method::PUT;
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::InvalidSignature)
    );

    let mut req = signed_request(|_| {});
    *req.uri_mut() = "https://example.com/foo?param=Value&Pet=cat"
        .parse()
        .unwrap();
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::InvalidSignature)
    );

    // A changed signature parameter changes the base too.
    let mut req = signed_request(|_| {});
    let input = req.headers()["signature-input"]
        .to_str()
        .unwrap()
        .to_owned();
    let forged = input.replace("created=1618884473", "created=1618884474");
    assert_ne!(forged, input);
    req.headers_mut()
        .insert("signature-input", forged.parse().unwrap());
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::InvalidSignature)
    );
}

#[test]
fn wrong_key_or_algorithm_is_rejected() {
    let req = signed_request(|_| {});
    let other = SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]));
    let opts = VerifyOptions::default();
    assert_eq!(
        verify_with(&req, other.verifying_key(), &opts, CREATED),
        Err(SignatureError::InvalidSignature)
    );
    // No alg parameter: an HMAC key over the same base just fails to verify.
    assert_eq!(
        verify_with(&req, VerifyingKey::HmacSha256(vec![1; 32]), &opts, CREATED),
        Err(SignatureError::InvalidSignature)
    );
    // alg="ed25519" with an HMAC key.
    let req = signed_request(|p| p.include_alg = true);
    assert_eq!(
        verify_with(&req, VerifyingKey::HmacSha256(vec![1; 32]), &opts, CREATED)
            .unwrap_err()
            .code(),
        "unsupported_algorithm"
    );
    // Unknown alg never reaches the key lookup.
    let req = with_headers(
        vector_request(),
        &SignatureHeaders {
            signature_input: "sig1=(\"date\");created=1618884473;alg=\"rsa-pss-sha512\"".into(),
            signature: "sig1=:AAAA:".into(),
        },
    );
    let result = verify_request(
        &req,
        |_, _| -> Result<VerifyingKey, SignatureError> { panic!("key lookup") },
        &opts,
        CREATED,
    );
    assert_eq!(
        result,
        Err(SignatureError::UnsupportedAlgorithm(
            "rsa-pss-sha512".into()
        ))
    );
    // The lookup's own error is returned as is.
    let req = signed_request(|_| {});
    assert_eq!(
        verify_request(
            &req,
            |keyid, _| Err(SignatureError::UnknownKey(keyid.unwrap_or("").into())),
            &opts,
            CREATED
        ),
        Err(SignatureError::UnknownKey("agent-1".into()))
    );
    // Empty HMAC secrets are refused on both sides.
    assert_eq!(
        sign(
            &vector_request(),
            &SigningKey::HmacSha256(Vec::new()),
            &params("s", "k", &["date"])
        )
        .unwrap_err()
        .code(),
        "invalid_key"
    );
    let hmac_req = {
        let mut r = vector_request();
        sign_request(
            &mut r,
            &SigningKey::HmacSha256(vec![1; 32]),
            &params("sig1", "k", &["date"]),
        )
        .unwrap();
        r
    };
    assert_eq!(
        verify_with(
            &hmac_req,
            VerifyingKey::HmacSha256(Vec::new()),
            &opts,
            CREATED
        )
        .unwrap_err()
        .code(),
        "invalid_key"
    );
    assert!(verify_with(
        &hmac_req,
        VerifyingKey::HmacSha256(vec![1; 32]),
        &opts,
        CREATED
    )
    .is_ok());
    assert_eq!(
        verify_with(
            &hmac_req,
            VerifyingKey::HmacSha256(vec![2; 32]),
            &opts,
            CREATED
        ),
        Err(SignatureError::InvalidSignature)
    );
}

#[test]
fn time_checks() {
    let opts = VerifyOptions {
        leeway_secs: 5,
        max_age_secs: Some(100),
        ..VerifyOptions::default()
    };
    let key = ed_key().verifying_key();
    let req = signed_request(|p| p.expires = Some(CREATED + 50));
    assert!(verify_with(&req, key.clone(), &opts, CREATED + 54).is_ok());
    assert_eq!(
        verify_with(&req, key.clone(), &opts, CREATED + 55),
        Err(SignatureError::Expired)
    );
    assert!(verify_with(&req, key.clone(), &opts, CREATED - 5).is_ok());
    assert_eq!(
        verify_with(&req, key.clone(), &opts, CREATED - 6),
        Err(SignatureError::CreatedInFuture)
    );

    let req = signed_request(|_| {});
    assert!(verify_with(&req, key.clone(), &opts, CREATED + 105).is_ok());
    assert_eq!(
        verify_with(&req, key.clone(), &opts, CREATED + 106),
        Err(SignatureError::TooOld)
    );
    let no_max_age = VerifyOptions {
        max_age_secs: None,
        ..opts.clone()
    };
    assert!(verify_with(&req, key.clone(), &no_max_age, CREATED + 10_000).is_ok());
    let needs_expires = VerifyOptions {
        require_expires: true,
        ..opts.clone()
    };
    assert_eq!(
        verify_with(&req, key.clone(), &needs_expires, CREATED),
        Err(SignatureError::MissingParameter("expires"))
    );
    let needs_nonce = VerifyOptions {
        require_nonce: true,
        ..opts.clone()
    };
    assert_eq!(
        verify_with(&req, key.clone(), &needs_nonce, CREATED),
        Err(SignatureError::MissingParameter("nonce"))
    );

    let uncreated = signed_request(|p| p.created = None);
    assert_eq!(
        verify_with(&uncreated, key.clone(), &no_max_age, CREATED),
        Err(SignatureError::MissingParameter("created"))
    );
    let lax = VerifyOptions {
        require_created: false,
        ..no_max_age
    };
    assert!(verify_with(&uncreated, key.clone(), &lax, CREATED).is_ok());
    let lax_but_max_age = VerifyOptions {
        max_age_secs: Some(10),
        ..lax
    };
    assert_eq!(
        verify_with(&uncreated, key, &lax_but_max_age, CREATED),
        Err(SignatureError::MissingParameter("created"))
    );
}

#[test]
fn required_components_must_be_covered() {
    let req = signed_request(|_| {});
    let opts = VerifyOptions {
        required_components: strings(&["@method", "Content-Type", "@path"]),
        ..VerifyOptions::default()
    };
    assert_eq!(
        verify_with(&req, ed_key().verifying_key(), &opts, CREATED),
        Err(SignatureError::ComponentNotCovered("@path".into()))
    );
    let opts = VerifyOptions {
        required_components: strings(&["@method", "Content-Type", "content-digest"]),
        ..VerifyOptions::default()
    };
    assert!(verify_with(&req, ed_key().verifying_key(), &opts, CREATED).is_ok());
}

#[test]
fn missing_signature_and_unknown_label() {
    let signed = signed_request(|_| {});
    let mut req = signed.clone();
    req.headers_mut().remove("signature");
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::MissingSignature)
    );
    let mut req = signed.clone();
    req.headers_mut().remove("signature-input");
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::MissingSignature)
    );
    assert_eq!(
        verify_ed(&vector_request(), CREATED),
        Err(SignatureError::MissingSignature)
    );

    let opts = VerifyOptions {
        label: Some("other".into()),
        ..VerifyOptions::default()
    };
    assert_eq!(
        verify_with(&signed, ed_key().verifying_key(), &opts, CREATED),
        Err(SignatureError::MissingSignature)
    );
    // Input present, signature under another label only.
    let mut req = signed;
    req.headers_mut()
        .insert("signature", "other=:AAAA:".parse().unwrap());
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::MissingSignature)
    );
}

#[test]
fn second_signature_is_selected_by_label() {
    let mut req = vector_request();
    sign_request(&mut req, &b25_key(), &params("first", "hmac", &["date"])).unwrap();
    sign_request(
        &mut req,
        &ed_key(),
        &params("second", "ed", &["@method", "date"]),
    )
    .unwrap();
    assert_eq!(req.headers().get_all("signature").iter().count(), 2);
    let opts = VerifyOptions {
        label: Some("second".into()),
        ..VerifyOptions::default()
    };
    let verified = verify_with(&req, ed_key().verifying_key(), &opts, CREATED).unwrap();
    assert_eq!(verified.label, "second");
    let first = verify_with(
        &req,
        b25_key().verifying_key(),
        &VerifyOptions::default(),
        CREATED,
    )
    .unwrap();
    assert_eq!(first.label, "first");
    assert_eq!(
        parse_signature_input(req.headers()["signature-input"].to_str().unwrap())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn malformed_signature_input_is_rejected() {
    let huge = format!("sig1=({})", "\"date\" ".repeat(2000));
    let cases: Vec<&str> = vec![
        "",
        "   ",
        "sig1=(\"date\"",
        "sig1=(\"date\" \"@method\"",
        "sig1=\"date\"",
        "sig1=(date)",
        "sig1=(1 2)",
        "sig1=(\"date\");created=\"yesterday\"",
        "sig1=(\"date\");created=1.5",
        "sig1=(\"date\");keyid=abc",
        "sig1=(\"date\");nonce=:AAAA:",
        "sig1=(\"date\");created",
        "sig1=(\"Date\")",
        "sig1=(\"date\";sf=)",
        "SIG1=(\"date\")",
        "sig1=(\"date\"),",
        "sig1=(\"\\x\")",
        "=(\"date\")",
        "sig1=(\"date\")junk",
        "sig1=(\"date\" \"date\")",
        "sig1=(\"@query-param\")",
        "sig1=(\"@query-param\";name=1)",
        "sig1=();created=99999999999999999999",
        &huge,
    ];
    for case in cases {
        let err = parse_signature_input(case).unwrap_err();
        assert_eq!(err.code(), "malformed_signature", "{case:?} -> {err:?}");
    }
    for unsupported in [
        "sig1=(\"@status\")",
        "sig1=(\"date\";bs)",
        "sig1=(\"@method\";req)",
    ] {
        assert_eq!(
            parse_signature_input(unsupported).unwrap_err().code(),
            "unsupported_component"
        );
    }
    // Valid, with an unknown parameter kept in the re-serialization.
    let parsed = parse_signature_input(
        "sig1=( \"date\"  \"@query-param\";name=\"Pet\" );created=01;x=?0, b=()",
    )
    .unwrap();
    assert_eq!(parsed.len(), 2);
    let (label, input) = &parsed[0];
    assert_eq!(label, "sig1");
    assert_eq!(
        input.components,
        strings(&["date", "@query-param;name=\"Pet\""])
    );
    assert_eq!(input.created, Some(1));
    assert_eq!(
        input.signature_params,
        "(\"date\" \"@query-param\";name=\"Pet\");created=1;x=?0"
    );
    assert_eq!(parsed[1].1.signature_params, "()");
}

#[test]
fn sign_rejects_bad_parameters() {
    let req = vector_request();
    let key = ed_key();
    let mut p = params("Bad Label", "k", &["date"]);
    assert_eq!(
        sign(&req, &key, &p).unwrap_err().code(),
        "malformed_signature"
    );
    p.label = "sig1".into();
    p.nonce = Some("line\nbreak".into());
    assert_eq!(
        sign(&req, &key, &p).unwrap_err().code(),
        "malformed_signature"
    );
    p.nonce = None;
    p.created = Some(i64::MAX);
    assert_eq!(
        sign(&req, &key, &p).unwrap_err().code(),
        "malformed_signature"
    );
    p.created = Some(CREATED);
    p.keyid = "caf\u{e9}".into();
    assert_eq!(
        sign(&req, &key, &p).unwrap_err().code(),
        "malformed_signature"
    );
    // Plain sign() does not add Content-Digest.
    let p = params("sig1", "k", &["content-digest"]);
    assert_eq!(
        sign(&req, &key, &p),
        Err(SignatureError::MissingComponent("content-digest".into()))
    );
    // An existing Content-Digest is kept, not recomputed.
    let mut req = vector_request();
    req.headers_mut()
        .insert("content-digest", HeaderValue::from_static("sha-512=:AAAA:"));
    sign_request(&mut req, &key, &p).unwrap();
    assert_eq!(req.headers()["content-digest"], "sha-512=:AAAA:");
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::DigestMismatch)
    );
}

#[test]
fn content_digest_algorithms() {
    let body = BODY.as_bytes();
    assert_eq!(
        content_digest(body),
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    );
    assert_eq!(verify_content_digest(&content_digest(body), body), Ok(()));
    let sha512 = format!("sha-512=:{}:", STANDARD.encode(Sha512::digest(body)));
    assert_eq!(
        sha512,
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    );
    assert_eq!(verify_content_digest(&sha512, body), Ok(()));
    assert_eq!(
        verify_content_digest(&format!("md5=:AAAA:, {sha512}"), body),
        Ok(())
    );
    assert_eq!(
        verify_content_digest(&sha512, b"other"),
        Err(SignatureError::DigestMismatch)
    );
    assert_eq!(
        verify_content_digest(&format!("{}, sha-512=:AAAA:", content_digest(body)), body),
        Err(SignatureError::DigestMismatch)
    );
    assert_eq!(
        verify_content_digest("md5=:AAAA:, unixsum=:AAAA:", body),
        Err(SignatureError::UnsupportedDigest)
    );
    for bad in [
        "",
        "sha-256",
        "sha-256=abc",
        "sha-256=:not base64:",
        "sha-256=(:AAAA:)",
        "=:AAAA:",
    ] {
        assert_eq!(
            verify_content_digest(bad, body).unwrap_err().code(),
            "malformed_signature",
            "{bad:?}"
        );
    }
}

#[test]
fn sha512_content_digest_verifies_through_a_signature() {
    let mut req = vector_request();
    let digest = format!(
        "sha-512=:{}:",
        STANDARD.encode(Sha512::digest(BODY.as_bytes()))
    );
    req.headers_mut()
        .insert("content-digest", digest.parse().unwrap());
    sign_request(
        &mut req,
        &ed_key(),
        &params("sig1", "k", &["content-digest"]),
    )
    .unwrap();
    assert!(verify_ed(&req, CREATED).is_ok());
    req.body_mut().clear();
    assert_eq!(
        verify_ed(&req, CREATED),
        Err(SignatureError::DigestMismatch)
    );
}

#[test]
fn keys_are_redacted_in_debug() {
    let secret = SigningKey::HmacSha256(b"hunter2-secret".to_vec());
    let text = format!("{secret:?} {:?}", secret.verifying_key());
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("104, 117"), "{text}");
    let ed = ed_key();
    let text = format!("{ed:?}");
    assert!(text.contains("<redacted>"), "{text}");
    assert_eq!(ed.alg(), "ed25519");
    assert_eq!(secret.alg(), "hmac-sha256");
    assert_eq!(secret.verifying_key().alg(), "hmac-sha256");
}

#[test]
fn error_codes_are_stable() {
    let cases = [
        (
            SignatureError::Malformed(String::new()),
            "malformed_signature",
        ),
        (SignatureError::MissingSignature, "missing_signature"),
        (
            SignatureError::MissingComponent(String::new()),
            "missing_component",
        ),
        (
            SignatureError::ComponentNotCovered(String::new()),
            "component_not_covered",
        ),
        (
            SignatureError::UnsupportedComponent(String::new()),
            "unsupported_component",
        ),
        (
            SignatureError::UnsupportedAlgorithm(String::new()),
            "unsupported_algorithm",
        ),
        (SignatureError::UnknownKey(String::new()), "unknown_key"),
        (SignatureError::InvalidKey(String::new()), "invalid_key"),
        (SignatureError::InvalidSignature, "invalid_signature"),
        (SignatureError::Expired, "signature_expired"),
        (
            SignatureError::CreatedInFuture,
            "signature_created_in_future",
        ),
        (SignatureError::TooOld, "signature_too_old"),
        (
            SignatureError::MissingParameter("created"),
            "missing_parameter",
        ),
        (SignatureError::DigestMismatch, "digest_mismatch"),
        (SignatureError::UnsupportedDigest, "unsupported_digest"),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code);
    }
}

#[test]
fn pseudo_random_inputs_never_panic() {
    const ALPHABET: &[u8] = b"sig1=(\"@method\" \"date\" \"@query-param\";name=created=123;keyid=\
        alg\"ed25519\":AAAA+/=:,;?0*-_.()\\ \t@%&";
    let mut state: u64 = 0x5151_6e1c_0ffe_e123;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let key = ed_key().verifying_key();
    let mut parsed_ok = 0;
    for round in 0..2000 {
        let mut bytes: Vec<u8> = if round % 2 == 0 {
            // Mutate a valid input: 0-3 random byte edits.
            let mut bytes = [B25_INPUT, B26_INPUT][next() % 2].as_bytes().to_vec();
            for _ in 0..next() % 4 {
                let at = next() % (bytes.len() + 1);
                let byte = ALPHABET[next() % ALPHABET.len()];
                match next() % 3 {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, byte),
                }
            }
            bytes
        } else {
            (0..next() % 80)
                .map(|_| ALPHABET[next() % ALPHABET.len()])
                .collect()
        };
        if next() % 8 == 0 {
            let at = next() % (bytes.len() + 1);
            bytes.insert(at, (next() % 256) as u8);
        }
        let text = String::from_utf8_lossy(&bytes);
        if parse_signature_input(&text).is_ok() {
            parsed_ok += 1;
        }
        let _ = verify_content_digest(&text, b"body");

        let mut req = vector_request();
        let value = HeaderValue::from_bytes(&bytes)
            .unwrap_or_else(|_| HeaderValue::from_static("sig1=(\"date\")"));
        req.headers_mut().insert("signature-input", value.clone());
        let signature = if round % 3 == 0 {
            value
        } else {
            HeaderValue::from_static("sig-b25=:AAAA:, sig-b26=:AAAA:, sig1=:AAAA:")
        };
        req.headers_mut().insert("signature", signature);
        let key = key.clone();
        assert!(verify_request(
            &req,
            move |_, _| Ok(key),
            &VerifyOptions::default(),
            CREATED
        )
        .is_err());
    }
    // The generator must reach the success path now and then.
    assert!(parsed_ok > 0);
}
