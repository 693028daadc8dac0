//! Domains: adding one returns the TXT record to publish; verifying looks it
//! up through the configured resolver, here a small DNS server on loopback
//! (a UDP responder built from hickory-proto's message types) that serves
//! whatever TXT records the test publishes.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use serde_json::{json, Value};
use sigil_server::Config;

/// TXT records by lower-case FQDN; a name with no entry is NXDOMAIN, an
/// empty entry exists without TXT records.
type Zone = Arc<Mutex<HashMap<String, Vec<String>>>>;

/// Answers TXT queries from `zone` on a loopback UDP port.
async fn dns_server(zone: Zone) -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut response = Message::response(request.metadata.id, OpCode::Query);
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.metadata.authoritative = true;
            for query in &request.queries {
                response.add_query(query.clone());
                let name = query.name.to_lowercase().to_ascii();
                let zone = zone.lock().unwrap();
                match zone.get(&name) {
                    None => response.metadata.response_code = ResponseCode::NXDomain,
                    Some(values) if query.query_type == RecordType::TXT => {
                        for v in values {
                            response.add_answer(Record::from_rdata(
                                query.name.clone(),
                                60,
                                RData::TXT(TXT::new(vec![v.clone()])),
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), peer).await;
        }
    });
    addr
}

async fn with_resolver(resolver: SocketAddr) -> common::TestServer {
    common::start_with(Config {
        dns_resolver: Some(resolver),
        ..Config::for_tests()
    })
    .await
}

async fn add(s: &common::TestServer, key: &str, domain: &str) -> (u16, Value) {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/domains",
            Some(key),
            Some(json!({ "domain": domain })),
        )
        .await;
    (status, body)
}

async fn verify(s: &common::TestServer, key: &str, id: &str) -> (u16, Value) {
    let (status, body, _) = s
        .call("POST", &format!("/v1/domains/{id}/verify"), Some(key), None)
        .await;
    (status, body)
}

#[tokio::test]
async fn a_published_txt_record_verifies_the_domain() {
    let zone = Zone::default();
    let s = with_resolver(dns_server(zone.clone()).await).await;
    let (_, key) = s.account("domains@example.com").await;

    let (status, body) = add(&s, &key, "Example.COM.").await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    assert_eq!(data["domain"], "example.com");
    assert_eq!(data["status"], "pending");
    assert_eq!(data["record"]["type"], "TXT");
    assert_eq!(data["record"]["name"], "_sigil-challenge.example.com");
    let value = data["record"]["value"].as_str().unwrap().to_owned();
    assert!(value.starts_with("sigil-verification="), "{value}");
    assert!(value.len() > "sigil-verification=".len() + 20);
    let id = data["id"].as_str().unwrap().to_owned();

    // Not published yet: NXDOMAIN is a failed verification, not a fault.
    let (status, body) = verify(&s, &key, &id).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "verification_failed");
    assert_eq!(body["found"], json!([]));
    assert_eq!(body["expected"], value);

    zone.lock().unwrap().insert(
        "_sigil-challenge.example.com.".into(),
        vec!["v=spf1 -all".into(), value.clone()],
    );
    let (status, body) = verify(&s, &key, &id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "verified");
    assert!(body["data"]["verifiedAt"].is_string());

    // Read, list, and verified stays verified.
    let (status, body, _) = s
        .call("GET", &format!("/v1/domains/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["status"], "verified");
    let (status, body, _) = s.call("GET", "/v1/domains", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(verify(&s, &key, &id).await.0, 200);

    // The audit chain saw it.
    let (_, audit, _) = s
        .call("GET", "/v1/audit?type=domain.verified", Some(&key), None)
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    // Delete.
    let (status, _, _) = s
        .call("DELETE", &format!("/v1/domains/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = s
        .call("GET", &format!("/v1/domains/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_wrong_value_or_no_txt_record_fails_with_what_was_found() {
    let zone = Zone::default();
    let s = with_resolver(dns_server(zone.clone()).await).await;
    let (_, key) = s.account("wrong@example.com").await;
    let (_, body) = add(&s, &key, "wrong.example").await;
    let id = body["data"]["id"].as_str().unwrap().to_owned();

    zone.lock().unwrap().insert(
        "_sigil-challenge.wrong.example.".into(),
        vec!["sigil-verification=someone-else".into()],
    );
    let (status, body) = verify(&s, &key, &id).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "verification_failed");
    assert_eq!(body["found"], json!(["sigil-verification=someone-else"]));

    // The name exists but holds no TXT record.
    zone.lock()
        .unwrap()
        .insert("_sigil-challenge.wrong.example.".into(), vec![]);
    let (status, body) = verify(&s, &key, &id).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["found"], json!([]));

    let (_, body, _) = s
        .call("GET", &format!("/v1/domains/{id}"), Some(&key), None)
        .await;
    assert_eq!(body["data"]["status"], "pending");
}

#[tokio::test]
async fn an_unreachable_resolver_is_a_502_never_a_500() {
    // A port nothing listens on.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = with_resolver(closed).await;
    let (_, key) = s.account("nodns@example.com").await;
    let (_, body) = add(&s, &key, "example.org").await;
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = verify(&s, &key, &id).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "dns_unavailable");
}

#[tokio::test]
async fn bad_input_duplicates_scopes_and_other_accounts() {
    let zone = Zone::default();
    let s = with_resolver(dns_server(zone).await).await;
    let (user, key) = s.account("input@example.com").await;
    for bad in [
        "",
        "localhost",
        "127.0.0.1",
        "-bad.example",
        "bad-.example",
        "a..b",
        "under_score.example",
        "spaces in.example",
        "xn--ü.example",
        &format!("{}.example", "a".repeat(64)),
        &format!("{}example", "a.".repeat(127)),
    ] {
        let (status, body) = add(&s, &key, bad).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
        assert_eq!(body["code"], "validation_failed", "{body}");
    }
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/domains",
            Some(&key),
            Some(json!({ "domain": 7 })),
        )
        .await;
    assert_eq!(status / 100, 4);

    assert_eq!(add(&s, &key, "dup.example").await.0, 201);
    let (status, body) = add(&s, &key, "DUP.example.").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "domain_exists");

    // Another account sees none of it.
    let (_, other) = s.account("input-other@example.com").await;
    let (_, body, _) = s.call("GET", "/v1/domains", Some(&other), None).await;
    assert_eq!(body["data"], json!([]));
    let (_, mine, _) = s.call("GET", "/v1/domains", Some(&key), None).await;
    let id = mine["data"][0]["id"].as_str().unwrap();
    assert_eq!(verify(&s, &other, id).await.0, 404);

    // A read-only key may list but not add or verify.
    let (_, read_only) = sigil_server::v1::api_keys::issue(
        &s.state,
        &user,
        "ro".into(),
        vec!["account.read".into()],
        None,
        None,
    )
    .await
    .unwrap();
    let (status, _, _) = s.call("GET", "/v1/domains", Some(&read_only), None).await;
    assert_eq!(status, 200);
    assert_eq!(add(&s, &read_only, "ro.example").await.0, 403);
    assert_eq!(verify(&s, &read_only, id).await.0, 403);
    let (status, _, _) = s.call("GET", "/v1/domains", None, None).await;
    assert_eq!(status, 401);
    let (status, _) = verify(&s, &key, "dom_missing").await;
    assert_eq!(status, 404);
}
