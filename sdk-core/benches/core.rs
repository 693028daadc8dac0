//! Criterion benchmarks of the hot paths. The webhook target: verify costs at
//! most 1.3x a raw HMAC-SHA256 of the same body (`webhook/*` vs `raw_hmac/*`).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use sigil::httpsig::{self, SignParams, SigningKey, VerifyOptions};
use sigil::jws::{self, Jwk, Jwks};
use sigil::Webhook;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_700_000_000;

fn webhook(c: &mut Criterion) {
    let w = Webhook::new(&[SECRET]).unwrap();
    let key = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &SECRET["whsec_".len()..],
    )
    .unwrap();
    let mut group = c.benchmark_group("webhook_vs_hmac");
    for size in [1024usize, 64 * 1024] {
        let body = vec![b'x'; size];
        let sig = w.sign("msg_2Lh9KRb0pzN4LePd3XiA0Q", NOW, &body);
        let headers = [
            ("webhook-id", "msg_2Lh9KRb0pzN4LePd3XiA0Q".to_owned()),
            ("webhook-timestamp", NOW.to_string()),
            ("webhook-signature", sig),
        ];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("raw_hmac", size), &body, |b, body| {
            b.iter(|| {
                let mut m = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
                m.update(black_box(body));
                black_box(m.finalize().into_bytes())
            })
        });
        group.bench_with_input(
            BenchmarkId::new("webhook_verify", size),
            &body,
            |b, body| {
                b.iter(|| {
                    w.verify_at(headers.as_slice(), black_box(body), NOW)
                        .unwrap()
                        .timestamp
                })
            },
        );
    }
    group.finish();
}

fn pkce(c: &mut Criterion) {
    c.bench_function("pkce_generate", |b| b.iter(|| black_box(sigil::pkce())));
}

fn jws_verify(c: &mut Criterion) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let jwks = Jwks {
        keys: vec![Jwk::from_verifying_key(&key.verifying_key(), "k1")],
    };
    let token = jws::sign(
        &key,
        "k1",
        "at+jwt",
        &serde_json::json!({"iss":"https://as","sub":"u","aud":"api","scope":"a b c",
            "exp": NOW + 600, "iat": NOW, "jti": "j", "client_id": "c"}),
    );
    let opts = jws::VerifyOptions {
        audience: Some("api".into()),
        required_scopes: vec!["b".into()],
        ..Default::default()
    };
    c.bench_function("jws_eddsa_verify", |b| {
        b.iter(|| jws::verify(black_box(&token), &jwks, &opts, NOW).unwrap())
    });

    // 100 distinct tokens: one by one, then as one batch.
    let tokens: Vec<String> = (0..100)
        .map(|i| {
            jws::sign(
                &key,
                "k1",
                "at+jwt",
                &serde_json::json!({"iss":"https://as","sub":"u","aud":"api","scope":"a b c",
                    "exp": NOW + 600, "iat": NOW, "jti": format!("j{i}"), "client_id": "c"}),
            )
        })
        .collect();
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let mut group = c.benchmark_group("jws_eddsa_verify_100");
    group.throughput(Throughput::Elements(100));
    group.bench_function("one_by_one", |b| {
        b.iter(|| {
            for t in &refs {
                jws::verify(black_box(t), &jwks, &opts, NOW).unwrap();
            }
        })
    });
    group.bench_function("batch", |b| {
        b.iter(|| {
            let results = jws::verify_batch(black_box(&refs), &jwks, &opts, NOW);
            assert!(results.iter().all(Result::is_ok));
        })
    });
    group.finish();
}

fn http_signature(c: &mut Criterion) {
    let key = SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[9; 32]));
    let verifying = key.verifying_key();
    let params = SignParams {
        nonce: Some("n-1".into()),
        expires: Some(NOW + 60),
        ..SignParams::new(
            "agent_1",
            ["@method", "@target-uri", "content-digest", "content-type"],
            NOW,
        )
    };
    let opts = VerifyOptions::default();
    c.bench_function("rfc9421_ed25519_sign_verify", |b| {
        b.iter(|| {
            let mut req = http::Request::post("https://sigil.example/v1/tokens")
                .header("content-type", "application/json")
                .body(br#"{"agent_id":"agent_1","scope":["a"]}"#.to_vec())
                .unwrap();
            httpsig::sign_request(&mut req, &key, &params).unwrap();
            httpsig::verify_request(&req, |_, _| Ok(verifying.clone()), &opts, NOW).unwrap()
        })
    });
}

criterion_group!(benches, webhook, pkce, jws_verify, http_signature);
criterion_main!(benches);
