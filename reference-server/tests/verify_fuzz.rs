//! Property test of `POST /v1/tokens/verify` and `/v1/tokens/verify/batch`:
//! thousands of random, truncated and mutated tokens (a deterministic LCG,
//! so a failure reproduces) never get a 5xx. A well-formed body always gets
//! 200 with `valid: false` unless the token is the real one, byte for byte;
//! a malformed body gets a 4xx with a code.

mod common;

use serde_json::{json, Value};

/// Knuth's MMIX linear congruential generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const ALPHABETS: [&str; 4] = [
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.",
    "..........=+/ \t\"\\",
    "aé€😀\u{0}\u{1f}\u{7f}.\u{fffd}",
];

fn random_token(rng: &mut Lcg) -> String {
    let alphabet: Vec<char> = rng.pick(&ALPHABETS).chars().collect();
    let len = match rng.below(4) {
        0 => rng.below(8),
        1 => rng.below(200),
        2 => rng.below(2000),
        _ => 300 + rng.below(300),
    };
    (0..len).map(|_| *rng.pick(&alphabet)).collect()
}

/// Every mutation of `token` the test tries.
fn mutations(token: &str, other: &str) -> Vec<String> {
    let chars: Vec<char> = token.chars().collect();
    let mut out = Vec::new();
    // Truncation at every length.
    for n in 0..chars.len() {
        out.push(chars[..n].iter().collect());
    }
    // Each 7-bit flip of each character (staying ASCII).
    for i in 0..chars.len() {
        for bit in 0..7 {
            let mut c = chars.clone();
            c[i] = char::from((c[i] as u8) ^ (1 << bit));
            out.push(c.into_iter().collect());
        }
    }
    // Swapped, repeated, dropped and foreign segments.
    let seg: Vec<&str> = token.split('.').collect();
    let theirs: Vec<&str> = other.split('.').collect();
    for order in [
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
        [0, 0, 2],
        [0, 1, 1],
    ] {
        out.push(order.map(|i| seg[i]).join("."));
    }
    out.push(format!("{}.{}", seg[0], seg[1]));
    out.push(format!("{}.{}.{}.{}", seg[0], seg[1], seg[2], seg[2]));
    out.push(format!("{}.{}.", seg[0], seg[1]));
    out.push(format!("{}.{}.{}", theirs[0], seg[1], seg[2]));
    out.push(format!("{}.{}.{}", seg[0], theirs[1], seg[2]));
    out.push(format!("{}.{}.{}", seg[0], seg[1], theirs[2]));
    out.push(format!("{token}="));
    out.push(format!(" {token}"));
    out.push(format!("Bearer {token}"));
    out.push(token.to_uppercase());
    out.push(token.replace('-', "+").replace('_', "/"));
    out
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn post(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let bytes = res.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(status < 500, "{path} answered {status}: {body}");
        (status, body)
    }

    /// One token through `/verify`: must be 200 and valid only if `real`.
    async fn verify_one(&self, token: &str, real: &str) {
        let body = serde_json::to_vec(&json!({ "token": token })).unwrap();
        let (status, body) = self.post("/v1/tokens/verify", body).await;
        assert_eq!(status, 200, "{token:?}: {body}");
        assert_eq!(body["data"]["valid"], token == real, "{token:?}: {body}");
        if token != real {
            assert!(body["data"]["reason"].is_string(), "{body}");
        }
    }

    /// Up to 100 tokens through `/verify/batch`: one result each, in order.
    async fn verify_batch(&self, tokens: &[String], real: &str) {
        let body = serde_json::to_vec(&json!({ "tokens": tokens })).unwrap();
        let (status, body) = self.post("/v1/tokens/verify/batch", body).await;
        assert_eq!(status, 200, "{body}");
        let results = body["data"]["results"].as_array().unwrap();
        assert_eq!(results.len(), tokens.len());
        for (token, result) in tokens.iter().zip(results) {
            assert_eq!(result["valid"], token == real, "{token:?}: {result}");
        }
    }
}

async fn setup() -> (common::TestServer, Client, String, String) {
    let s = common::start().await;
    let (_, key) = s.account("fuzz@example.com").await;
    let (status, agent, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(&key),
            Some(json!({ "name": "fuzz" })),
        )
        .await;
    assert_eq!(status, 201, "{agent}");
    let agent = agent["data"]["id"].as_str().unwrap().to_owned();
    let mut tokens = Vec::new();
    for intent in ["first", "second"] {
        let (status, body, _) = s
            .call(
                "POST",
                "/v1/tokens",
                Some(&key),
                Some(json!({ "agent_id": agent, "scope": ["agents.read"], "intent": intent })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        tokens.push(body["data"]["token"].as_str().unwrap().to_owned());
    }
    let client = Client {
        http: reqwest::Client::new(),
        base: s.base.clone(),
    };
    let other = tokens.pop().unwrap();
    let real = tokens.pop().unwrap();
    (s, client, real, other)
}

#[tokio::test]
async fn mutations_of_a_real_token_never_verify_and_never_fail() {
    let (_s, client, real, other) = setup().await;
    client.verify_one(&real, &real).await;
    let all = mutations(&real, &other);
    assert!(all.len() > 3000, "{}", all.len());
    // Truncations and segment games one by one; everything in batches.
    for m in all.iter().take(real.len()) {
        client.verify_one(m, &real).await;
    }
    for m in all.iter().skip(real.chars().count() * 8) {
        client.verify_one(m, &real).await;
    }
    for chunk in all.chunks(100) {
        client.verify_batch(chunk, &real).await;
    }
    // The real token inside a batch of mutants is still picked out.
    let mut mixed: Vec<String> = all.iter().take(99).cloned().collect();
    mixed.insert(42, real.clone());
    client.verify_batch(&mixed, &real).await;
}

#[tokio::test]
async fn random_tokens_never_verify_and_never_fail() {
    let (_s, client, real, _) = setup().await;
    let mut rng = Lcg(0x5161_1a7e);
    let mut batch = Vec::new();
    for _ in 0..2_000 {
        let token = random_token(&mut rng);
        client.verify_one(&token, &real).await;
        batch.push(token);
        if batch.len() == 1 + rng.below(100) {
            client.verify_batch(&batch, &real).await;
            batch.clear();
        }
    }
    // With required_scope, random too.
    for _ in 0..200 {
        let scope = random_token(&mut rng);
        let body = serde_json::to_vec(&json!({ "token": real, "required_scope": scope })).unwrap();
        let (status, body) = client.post("/v1/tokens/verify", body).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["valid"], false, "{scope:?}: {body}");
    }
}

#[tokio::test]
async fn malformed_bodies_are_4xx_with_a_code() {
    let (_s, client, real, _) = setup().await;
    let mut rng = Lcg(7);
    let good = serde_json::to_vec(&json!({ "token": real })).unwrap();
    let good_batch = serde_json::to_vec(&json!({ "tokens": [real, real] })).unwrap();
    let shapes: Vec<Value> = vec![
        json!({}),
        json!({ "token": 1 }),
        json!({ "token": null }),
        json!({ "token": [real] }),
        json!({ "token": real, "extra": true }),
        json!({ "token": real, "required_scope": 5 }),
        json!([real]),
        json!(real),
        json!({ "tokens": real }),
    ];
    for shape in &shapes {
        for path in ["/v1/tokens/verify", "/v1/tokens/verify/batch"] {
            let (status, body) = client.post(path, serde_json::to_vec(shape).unwrap()).await;
            assert_eq!(status, 422, "{path} {shape}: {body}");
            assert!(body["code"].is_string(), "{body}");
        }
    }
    for (path, bytes) in [
        ("/v1/tokens/verify", &good),
        ("/v1/tokens/verify/batch", &good_batch),
    ] {
        // Every truncation of a good body, then random byte damage.
        for n in 0..bytes.len() {
            let (status, body) = client.post(path, bytes[..n].to_vec()).await;
            assert!(
                matches!(status, 400 | 422),
                "{path} cut at {n}: {status} {body}"
            );
            assert!(body["code"].is_string(), "{body}");
        }
        for _ in 0..500 {
            let mut damaged = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(damaged.len());
                damaged[i] = rng.next() as u8;
            }
            let (status, body) = client.post(path, damaged).await;
            match status {
                200 => {
                    let results = body["data"]["results"]
                        .as_array()
                        .cloned()
                        .unwrap_or_else(|| vec![body["data"].clone()]);
                    assert!(!results.is_empty(), "{body}");
                }
                400 | 422 => assert!(body["code"].is_string(), "{body}"),
                other => panic!("{path}: {other} {body}"),
            }
        }
    }
    // 0 and 101 tokens.
    for n in [0, 101] {
        let tokens = vec![real.clone(); n];
        let (status, body) = client
            .post(
                "/v1/tokens/verify/batch",
                serde_json::to_vec(&json!({ "tokens": tokens })).unwrap(),
            )
            .await;
        assert_eq!(status, 422, "{body}");
    }
}
