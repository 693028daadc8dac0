//! The audit log: security events land in a SHA-256 hash chain, in order,
//! scoped to the caller's account, filterable and paginated by cursor,
//! exportable as CSV and JSON, and `/v1/audit/verify` finds the first link
//! broken by editing or deleting a row directly in SQLite. Concurrent writes
//! share commits (group commit) without losing or reordering an event.

mod browser;
mod common;

use std::collections::HashSet;

use browser::{authorize_url, param, pkce, Browser};
use common::TestServer;
use serde_json::{json, Value};
use sigil_server::audit::Event;
use sigil_server::store::AuditFilter;
use sigil_server::Config;

const CB: &str = "https://app.example/cb";

/// Every entry of the caller's log (all pages), oldest first.
async fn entries(s: &TestServer, key: &str, filter: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/audit?limit=500{filter}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, body, _) = s.call("GET", &path, Some(key), None).await;
        assert_eq!(status, 200, "{body}");
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["meta"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn types(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

/// The raw body of an export.
async fn export(s: &TestServer, key: &str, query: &str) -> (u16, String, String) {
    let res = reqwest::Client::new()
        .get(format!("{}/v1/audit/export{query}", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, res.text().await.unwrap())
}

async fn verify(s: &TestServer, key: &str) -> Value {
    let (status, body, _) = s.call("GET", "/v1/audit/verify", Some(key), None).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

async fn create_key(s: &TestServer, key: &str, name: &str) -> Value {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(key),
            Some(json!({ "name": name, "preset": "read" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

/// Asserts that no secret appears anywhere in the caller's exported log.
async fn assert_no_secrets(s: &TestServer, key: &str, secrets: &[&str]) {
    let (status, _, json_export) = export(s, key, "?format=json").await;
    assert_eq!(status, 200);
    let (status, _, csv_export) = export(s, key, "?format=csv").await;
    assert_eq!(status, 200);
    for secret in secrets {
        assert!(secret.len() >= 8, "not a secret: {secret:?}");
        assert!(
            !json_export.contains(secret),
            "{secret} leaked into the audit log"
        );
        assert!(
            !csv_export.contains(secret),
            "{secret} leaked into the audit log"
        );
    }
}

#[tokio::test]
async fn management_actions_are_chained_in_order_without_secrets() {
    let s = common::start().await;
    let (_, key) = s.account("audit@example.com").await;

    let made = create_key(&s, &key, "ci").await;
    let kid = made["id"].as_str().unwrap();
    let secret_key = made["key"].as_str().unwrap().to_owned();
    let path = format!("/v1/api-keys/{kid}");
    assert_eq!(
        s.call("PATCH", &path, Some(&key), Some(json!({"name": "ci2"})))
            .await
            .0,
        200
    );
    assert_eq!(
        s.call("POST", &format!("{path}/revoke"), Some(&key), None)
            .await
            .0,
        200
    );
    assert_eq!(s.call("DELETE", &path, Some(&key), None).await.0, 204);

    let (app, client_secret) = s.confidential_app(&key, &["profile.basic"]).await;
    let app_path = format!("/v1/apps/{app}");
    let (status, body, _) = s
        .call(
            "PATCH",
            &app_path,
            Some(&key),
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = s
        .call("POST", &format!("{app_path}/secret"), Some(&key), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let rotated = body["data"]["clientSecret"].as_str().unwrap().to_owned();
    let (status, token, _) = s
        .form(
            "/oauth/token",
            Some((&app, &rotated)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200, "{token}");
    let access = token["access_token"].as_str().unwrap().to_owned();
    let (status, _, _) = s
        .form(
            "/oauth/revoke",
            Some((&app, &rotated)),
            &[("token", &access)],
        )
        .await;
    assert_eq!(status, 200);

    let (status, body, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(&key),
            Some(json!({"name": "bot"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let agent = body["data"]["id"].as_str().unwrap().to_owned();
    let agent_key = body["data"]["agentKey"].as_str().unwrap().to_owned();
    for action in ["pause", "resume", "revoke"] {
        let (status, body, _) = s
            .call(
                "POST",
                &format!("/v1/agents/{agent}/{action}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(s.call("DELETE", &app_path, Some(&key), None).await.0, 204);

    let log = entries(&s, &key, "").await;
    assert_eq!(
        types(&log),
        [
            "key.created",
            "key.renamed",
            "key.revoked",
            "key.deleted",
            "app.created",
            "app.updated",
            "app.secret_rotated",
            "token.issued",
            "token.revoked",
            "agent.created",
            "agent.paused",
            "agent.resumed",
            "agent.revoked",
            "app.deleted",
        ]
    );
    // Seqs increase and each entry links to the one before it.
    for pair in log.windows(2) {
        assert!(pair[0]["seq"].as_i64() < pair[1]["seq"].as_i64());
        assert_eq!(pair[1]["prevHash"], pair[0]["hash"]);
    }
    assert_eq!(log[0]["subject"], kid);
    assert_eq!(log[0]["data"]["prefix"], &secret_key[..12]);
    let issued = &log[7];
    assert_eq!(issued["data"]["grantType"], "client_credentials");
    assert_eq!(issued["data"]["clientId"], app.as_str());
    assert!(issued["data"]["jti"].as_str().unwrap().starts_with("at_"));
    assert_eq!(log[8]["data"]["jti"], issued["data"]["jti"]);
    // The key used was the bootstrap key; an app acted for the token.
    assert!(log[0]["actor"].as_str().unwrap().starts_with("key_"));
    assert_eq!(issued["actor"], app.as_str());
    assert_eq!(log[12]["data"], json!({"from": "active", "to": "revoked"}));

    assert_no_secrets(
        &s,
        &key,
        &[
            &secret_key,
            &client_secret,
            &rotated,
            &access,
            &agent_key,
            &key,
        ],
    )
    .await;
    assert_eq!(
        verify(&s, &key).await,
        json!({"valid": true, "entries": 14})
    );
}

#[tokio::test]
async fn sign_in_consent_and_code_exchange_are_audited_without_secrets() {
    let s = common::start().await;
    let (_, owner_key) = s.account("owner@example.com").await;
    let (app, client_secret) = s.confidential_app(&owner_key, &["identity.read"]).await;

    let b = Browser::signed_in(&s, "ada@example.com").await;
    let signin_code = browser::mailbox_code(&s, "ada@example.com").await;
    let (status, _, _) = s
        .call(
            "POST",
            "/auth/exchange-code",
            None,
            Some(json!({"email": "ada@example.com", "code": "00000000"})),
        )
        .await;
    assert_eq!(status, 400);

    let (verifier, challenge) = pkce();
    let url = |state: &str| {
        authorize_url(
            &s.base,
            &[
                ("response_type", "code"),
                ("client_id", &app),
                ("redirect_uri", CB),
                ("scope", "identity.read"),
                ("state", state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    };
    let back = b.decide(&url("one"), "approve").await;
    let code = param(&back, "code").unwrap();
    let (status, tokens, _) = s
        .form(
            "/oauth/token",
            Some((&app, &client_secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let back = b.decide(&url("two"), "deny").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));

    let (ada, ada_key) = s.account("ada@example.com").await;
    let log = entries(&s, &ada_key, "").await;
    assert_eq!(
        types(&log),
        [
            "signin.succeeded",
            "signin.failed",
            "consent.granted",
            "token.issued",
            "consent.denied",
        ]
    );
    assert_eq!(log[0]["actor"], ada.as_str());
    assert_eq!(log[1]["data"]["email"], "ada@example.com");
    assert_eq!(log[2]["subject"], app.as_str());
    assert_eq!(log[2]["data"]["scopes"], json!(["identity.read"]));
    assert_eq!(log[3]["data"]["grantType"], "authorization_code");
    assert_eq!(log[3]["data"]["refreshToken"], true);

    // The app owner's log shows only the app's creation.
    let owner_log = entries(&s, &owner_key, "").await;
    assert_eq!(types(&owner_log), ["app.created"]);

    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_no_secrets(
        &s,
        &ada_key,
        &[
            &signin_code,
            &code,
            &verifier,
            access,
            refresh,
            &client_secret,
        ],
    )
    .await;
}

#[tokio::test]
async fn filters_and_cursor_pages_have_no_gaps_or_duplicates() {
    let s = common::start().await;
    let (_, key) = s.account("pages@example.com").await;
    let (_, other) = s.account("other@example.com").await;
    // A second credential, so entries have two different actors.
    let (status, second, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(&key),
            Some(json!({"name": "second", "preset": "full"})),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let second_id = second["data"]["id"].as_str().unwrap().to_owned();
    let second_key = second["data"]["key"].as_str().unwrap().to_owned();
    for i in 0..23 {
        let by = if i % 3 == 0 { &second_key } else { &key };
        let made = create_key(&s, by, &format!("k{i}")).await;
        if i % 5 == 0 {
            let path = format!("/v1/api-keys/{}/revoke", made["id"].as_str().unwrap());
            assert_eq!(s.call("POST", &path, Some(&key), None).await.0, 200);
        }
    }
    create_key(&s, &other, "not yours").await;

    let all = entries(&s, &key, "").await;
    assert_eq!(all.len(), 1 + 23 + 5);
    let created = entries(&s, &key, "&type=key.created").await;
    assert_eq!(created.len(), 24);
    assert_eq!(entries(&s, &key, "&type=key.revoked").await.len(), 5);
    let by_second = entries(&s, &key, &format!("&actor={second_id}")).await;
    assert_eq!(by_second.len(), 8);
    assert!(by_second.iter().all(|e| e["actor"] == second_id.as_str()));
    assert_eq!(
        entries(&s, &other, "").await.len(),
        1,
        "accounts are separate"
    );

    // Pages of 5: every entry once, in order, and a null cursor at the end.
    let mut paged = Vec::new();
    let mut path = "/v1/audit?type=key.created&limit=5".to_owned();
    let mut pages = 0;
    loop {
        let (status, body, _) = s.call("GET", &path, Some(&key), None).await;
        assert_eq!(status, 200, "{body}");
        let page = body["data"].as_array().unwrap();
        assert!(page.len() <= 5);
        paged.extend(page.iter().map(|e| e["seq"].as_i64().unwrap()));
        pages += 1;
        match body["meta"]["nextCursor"].as_str() {
            Some(c) => path = format!("/v1/audit?type=key.created&limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let expected: Vec<i64> = created.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(paged, expected);
    assert_eq!(paged.iter().collect::<HashSet<_>>().len(), 24);

    // Time range, as RFC 3339 or UNIX seconds.
    let now = s.state.clock.now();
    assert_eq!(
        entries(&s, &key, "&since=2000-01-01T00:00:00Z").await.len(),
        all.len()
    );
    assert_eq!(
        entries(&s, &key, &format!("&since={}", now + 3600))
            .await
            .len(),
        0
    );
    assert_eq!(entries(&s, &key, "&until=946684800").await.len(), 0);
    assert_eq!(
        entries(&s, &key, &format!("&since={}&until={}", now - 60, now + 60))
            .await
            .len(),
        all.len()
    );
    // `since` after `until` is an empty range, and an empty parameter is an
    // absent one (as /openapi.json says).
    assert_eq!(entries(&s, &key, "&since=200&until=100").await.len(), 0);
    assert_eq!(
        entries(&s, &key, "&type=&actor=&since=").await.len(),
        all.len()
    );

    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "until=2026-01-01%2000:00:00Z",
        "cursor=bm90LWEtY3Vyc29y",
        "cursor=!!",
        "colour=blue",
    ] {
        let (status, body, _) = s
            .call("GET", &format!("/v1/audit?{bad}"), Some(&key), None)
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["code"], "validation_failed", "{bad}");
    }
}

/// A minimal RFC 4180 reader: rows of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "unterminated last row");
    rows
}

#[tokio::test]
async fn export_streams_csv_and_json() {
    let s = common::start().await;
    let (_, key) = s.account("export@example.com").await;
    let tricky = "Ops, \"prod\"";
    create_key(&s, &key, tricky).await;
    for i in 0..3 {
        create_key(&s, &key, &format!("plain{i}")).await;
    }
    let listed = entries(&s, &key, "").await;
    assert_eq!(listed.len(), 4);

    let (status, content_type, csv) = export(&s, &key, "?format=csv").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert!(csv.starts_with("seq,id,ts,type,actor,subject,data,prev_hash,hash\r\n"));
    // The name's quotes are doubled inside a quoted field.
    assert!(csv.contains(r#"\""prod\"""#), "{csv}");
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 1 + listed.len());
    assert_eq!(
        rows[0],
        [
            "seq",
            "id",
            "ts",
            "type",
            "actor",
            "subject",
            "data",
            "prev_hash",
            "hash"
        ]
    );
    for (row, entry) in rows[1..].iter().zip(&listed) {
        assert_eq!(row.len(), 9, "{row:?}");
        assert_eq!(row[0], entry["seq"].to_string());
        assert_eq!(row[2], entry["ts"].as_str().unwrap());
        assert_eq!(row[3], "key.created");
        let data: Value = serde_json::from_str(&row[6]).unwrap();
        assert_eq!(data, entry["data"]);
        assert_eq!(row[8], entry["hash"].as_str().unwrap());
    }
    assert_eq!(
        serde_json::from_str::<Value>(&rows[1][6]).unwrap()["name"],
        tricky
    );

    let (status, content_type, body) = export(&s, &key, "?format=json&type=key.created").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    let exported: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(exported, Value::from(listed.clone()));
    let (_, _, body) = export(&s, &key, "?format=json&type=nothing.here").await;
    assert_eq!(body, "[]");
    let (_, _, body) = export(&s, &key, "?format=csv&type=nothing.here").await;
    assert_eq!(parse_csv(&body).len(), 1, "header only");

    for bad in [
        "?format=xml",
        "?format=csv&since=soon",
        "?format=csv&limit=5",
    ] {
        let (status, _, body) = export(&s, &key, bad).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
}

/// A server on a database of its own, plus a direct connection to it.
async fn file_backed(tag: &str) -> (common::TempDir, TestServer, sqlx::AnyPool) {
    let dir = common::TempDir::new(tag);
    let db = dir.database_url();
    let s = common::start_with(Config {
        database: db.clone(),
        ..Config::for_tests()
    })
    .await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    (dir, s, pool)
}

#[tokio::test]
async fn verify_catches_a_row_edited_in_the_database_at_that_row() {
    let (_dir, s, pool) = file_backed("audit-edit").await;
    let (_, key) = s.account("tamper@example.com").await;
    for i in 0..6 {
        create_key(&s, &key, &format!("k{i}")).await;
    }
    assert_eq!(verify(&s, &key).await, json!({"valid": true, "entries": 6}));

    let done = sqlx::query("UPDATE audit_log SET data = $1 WHERE seq = 4")
        .bind(r#"{"name":"forged"}"#)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    let verdict = verify(&s, &key).await;
    assert_eq!(verdict["valid"], false, "{verdict}");
    assert_eq!(verdict["broken_at"], 4, "{verdict}");
    assert!(verdict["reason"].as_str().unwrap().contains("hash"));

    // Re-hashing the edited row moves the break to the next link.
    let mut edited = s
        .state
        .store
        .audit_entries(&AuditFilter::default(), 3, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (edited.seq, edited.data.as_str()),
        (4, r#"{"name":"forged"}"#)
    );
    edited.hash = String::new();
    let rehashed = sigil_server::audit::entry_hash(&edited);
    sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = 4")
        .bind(rehashed)
        .execute(&pool)
        .await
        .unwrap();
    let verdict = verify(&s, &key).await;
    assert_eq!(verdict["broken_at"], 5, "{verdict}");
    assert!(verdict["reason"].as_str().unwrap().contains("prev_hash"));
}

#[tokio::test]
async fn verify_catches_a_deleted_middle_row() {
    let (_dir, s, pool) = file_backed("audit-delete").await;
    let (_, key) = s.account("delete@example.com").await;
    for i in 0..5 {
        create_key(&s, &key, &format!("k{i}")).await;
    }
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    let verdict = verify(&s, &key).await;
    assert_eq!(verdict["valid"], false, "{verdict}");
    assert_eq!(verdict["broken_at"], 4, "{verdict}");
}

#[tokio::test]
async fn two_hundred_concurrent_actions_all_land_in_a_valid_chain() {
    let s = common::start().await;
    let (_, key) = s.account("busy@example.com").await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let http = s.http();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let (status, body, _) = http
                .call(
                    "POST",
                    "/v1/api-keys",
                    Some(&key),
                    Some(json!({"name": format!("c{i}"), "preset": "read"})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            body["data"]["id"].as_str().unwrap().to_owned()
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    let log = entries(&s, &key, "&type=key.created").await;
    assert_eq!(log.len(), 200);
    let seqs: HashSet<i64> = log.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs.len(), 200, "distinct seqs");
    let subjects: HashSet<String> = log
        .iter()
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects, ids, "one entry per created key");
    assert_eq!(
        verify(&s, &key).await,
        json!({"valid": true, "entries": 200})
    );
}

#[tokio::test]
async fn the_audit_endpoints_require_audit_read() {
    let s = common::start().await;
    let (_, key) = s.account("scoped@example.com").await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(&key),
            Some(json!({"name": "narrow", "scopes": ["keys.read"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let narrow = body["data"]["key"].as_str().unwrap().to_owned();
    for path in [
        "/v1/audit",
        "/v1/audit/export?format=csv",
        "/v1/audit/verify",
    ] {
        let (status, body, _) = s.call("GET", path, Some(&narrow), None).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["code"], "insufficient_scope", "{path}");
        let (status, _, _) = s.call("GET", path, None, None).await;
        assert_eq!(status, 401, "{path}");
        let (status, _, _) = s.call("GET", path, Some(&key), None).await;
        assert_eq!(status, 200, "{path}");
    }
}

/// Group commit against one awaited commit per event, on a real file with
/// `synchronous = FULL`. Prints the figures; asserts only correctness (timed
/// assertions flake).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_group_commit_against_sequential_records() {
    let (_dir, s, _pool) = file_backed("audit-bench").await;
    let (user, key) = s.account("bench@example.com").await;
    const N: usize = 2000;
    let event = |i: usize| {
        Event::new("bench.event")
            .account(&user)
            .actor(&user)
            .data(json!({ "i": i }))
    };

    let started = std::time::Instant::now();
    let mut tasks = Vec::with_capacity(N);
    for i in 0..N {
        let audit = s.state.audit.clone();
        let e = event(i);
        tasks.push(tokio::spawn(async move { audit.record(e).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let concurrent = started.elapsed();

    let started = std::time::Instant::now();
    for i in 0..N {
        s.state.audit.record(event(N + i)).await.unwrap();
    }
    let sequential = started.elapsed();

    eprintln!(
        "audit bench: {N} concurrent record() calls took {concurrent:?} ({:.0}/s); \
         {N} sequential awaited records took {sequential:?} ({:.0}/s)",
        N as f64 / concurrent.as_secs_f64(),
        N as f64 / sequential.as_secs_f64(),
    );
    assert_eq!(
        verify(&s, &key).await,
        json!({"valid": true, "entries": 2 * N})
    );
}
