//! Every published vector in `tests/vectors/standards.json`, run through
//! sdk-core's public API (RFC 7636, Standard Webhooks, RFC 9421 B.2.5/B.2.6)
//! and through the primitives the core is built on (RFC 4231, RFC 8032).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, Verifier};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sigil::httpsig::{self, SignParams, SigningKey, VerifyOptions};
use sigil::Webhook;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/standards.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn rfc7636_pkce() {
    let v = &vectors()["pkce_rfc7636"];
    let octets: Vec<u8> = v["verifier_octets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_u64().unwrap() as u8)
        .collect();
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&octets);
    assert_eq!(verifier, v["code_verifier"].as_str().unwrap());
    let challenge = sigil::pkce::challenge(&verifier).unwrap();
    assert_eq!(challenge, v["code_challenge"].as_str().unwrap());
    assert_eq!(v["method"], sigil::pkce::S256);
}

#[test]
fn standard_webhooks() {
    let cases = vectors()["standard_webhooks"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 9);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let mut w = Webhook::new(&[c["secret"].as_str().unwrap()]).unwrap();
        if let Some(t) = c["tolerance_seconds"].as_u64() {
            w = w.with_tolerance(std::time::Duration::from_secs(t));
        }
        let mut headers = vec![
            ("webhook-id", c["id"].as_str().unwrap().to_owned()),
            ("webhook-timestamp", c["timestamp"].to_string()),
        ];
        if let Some(sig) = c["signature"].as_str() {
            headers.push(("webhook-signature", sig.to_owned()));
        }
        let body = c["body"].as_str().unwrap().as_bytes();
        let result = w.verify_at(headers.as_slice(), body, c["now"].as_i64().unwrap());
        if c["valid"].as_bool().unwrap() {
            let ok = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(ok.id, c["id"].as_str().unwrap());
        } else {
            let err = result.expect_err(name);
            assert_eq!(err.code(), c["error"].as_str().unwrap(), "{name}");
        }
    }
}

#[test]
fn standard_webhooks_sign_reproduces_the_spec_signature() {
    let c = &vectors()["standard_webhooks"][0];
    let w = Webhook::new(&[c["secret"].as_str().unwrap()]).unwrap();
    let sig = w.sign(
        c["id"].as_str().unwrap(),
        c["timestamp"].as_i64().unwrap(),
        c["body"].as_str().unwrap().as_bytes(),
    );
    assert_eq!(sig, c["signature"].as_str().unwrap());
}

#[test]
fn rfc4231_hmac_sha256() {
    for c in vectors()["hmac_sha256_rfc4231"].as_array().unwrap() {
        let key = match c["key_hex"].as_str() {
            Some(h) => hex(h),
            None => c["key_utf8"].as_str().unwrap().as_bytes().to_vec(),
        };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(c["data_utf8"].as_str().unwrap().as_bytes());
        assert_eq!(
            mac.finalize().into_bytes().to_vec(),
            hex(c["mac_hex"].as_str().unwrap())
        );
    }
}

#[test]
fn rfc8032_ed25519_test1() {
    let v = &vectors()["ed25519_rfc8032_test1"];
    let sk = ed25519_dalek::SigningKey::from_bytes(
        &hex(v["secret_key_hex"].as_str().unwrap())
            .try_into()
            .unwrap(),
    );
    assert_eq!(
        sk.verifying_key().to_bytes().to_vec(),
        hex(v["public_key_hex"].as_str().unwrap())
    );
    let msg = hex(v["message_hex"].as_str().unwrap());
    let sig = sk.sign(&msg);
    assert_eq!(
        sig.to_bytes().to_vec(),
        hex(v["signature_hex"].as_str().unwrap())
    );
    sk.verifying_key().verify(&msg, &sig).unwrap();
    // The same key through the core's JWK handling.
    let jwk = sigil::jws::Jwk::from_verifying_key(&sk.verifying_key(), "k");
    assert_eq!(jwk.verifying_key().unwrap(), sk.verifying_key());
}

fn rfc9421_request(v: &Value) -> http::Request<Vec<u8>> {
    let r = &v["request"];
    let mut b = http::Request::builder()
        .method(r["method"].as_str().unwrap())
        .uri(r["target"].as_str().unwrap());
    for (k, val) in r["headers"].as_object().unwrap() {
        b = b.header(k, val.as_str().unwrap());
    }
    b.body(r["body"].as_str().unwrap().as_bytes().to_vec())
        .unwrap()
}

#[test]
fn rfc9421_b25_and_b26_byte_for_byte() {
    let v = vectors()["http_message_signatures_rfc9421"].clone();
    for c in v["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let key = match c["alg"].as_str().unwrap() {
            "hmac-sha256" => SigningKey::HmacSha256(
                STANDARD
                    .decode(c["shared_secret_base64"].as_str().unwrap())
                    .unwrap(),
            ),
            _ => SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &hex(c["ed25519_seed_hex"].as_str().unwrap())
                    .try_into()
                    .unwrap(),
            )),
        };
        let input = c["signature_input"].as_str().unwrap();
        let (label, rest) = input.split_once('=').unwrap();
        let parsed = httpsig::parse_signature_input(input).unwrap();
        let components: Vec<String> = parsed[0].1.components.clone();
        let req = rfc9421_request(&v);
        let base = httpsig::signature_base(&req, &components, rest).unwrap();
        assert_eq!(base, c["signature_base"].as_str().unwrap(), "{name} base");
        let params = SignParams {
            label: label.into(),
            keyid: c["keyid"].as_str().unwrap().into(),
            components: components.clone(),
            created: parsed[0].1.created,
            ..SignParams::new("", Vec::<String>::new(), 0)
        };
        let headers = httpsig::sign(&req, &key, &params).unwrap();
        assert_eq!(headers.signature_input, input, "{name} Signature-Input");
        assert_eq!(
            headers.signature,
            c["signature"].as_str().unwrap(),
            "{name} Signature"
        );

        let mut signed = rfc9421_request(&v);
        signed
            .headers_mut()
            .insert("signature-input", input.parse().unwrap());
        signed.headers_mut().insert(
            "signature",
            c["signature"].as_str().unwrap().parse().unwrap(),
        );
        let opts = VerifyOptions {
            max_age_secs: None,
            ..VerifyOptions::default()
        };
        let verified = httpsig::verify_request(
            &signed,
            |_, _| Ok(key.verifying_key()),
            &opts,
            parsed[0].1.created.unwrap(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.keyid.as_deref(), c["keyid"].as_str());
    }
}
