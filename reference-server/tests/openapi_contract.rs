//! `/openapi.json` as a contract: what the SDK calls is documented, every
//! operation states its real bodies and every status it can answer, and the
//! document holds together (unique names, resolvable references, links to
//! real operations). `scripts/test-openapi.sh` then runs schemathesis against
//! a live server to check the server agrees with it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

/// The OAuth and discovery endpoints sdk-core sends to, as (method, path):
/// `ServerMetadata::sigil` and the two well-known documents in
/// `sdk-core/src/discovery.rs`. [`sdk_sources_call_exactly_these_operations`]
/// re-derives the list from that source, so a new endpoint fails this test
/// until it is listed (and documented). The typed API clients are one table,
/// `sigil::api::OPERATIONS`, read directly by [`sdk_operations`].
const OAUTH_OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/oauth/authorize"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/introspect"),
    ("POST", "/oauth/revoke"),
    ("POST", "/auth/token/exchange"),
];

/// Every operation sdk-core sends, as (method, path with `{}` for each
/// parameter).
fn sdk_operations() -> BTreeSet<(String, String)> {
    let api = sigil::api::OPERATIONS
        .iter()
        .map(|op| (op.method().to_string(), format!("/{}", op.path())));
    OAUTH_OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .chain(api)
        .collect()
}

async fn document() -> Value {
    let s = common::start().await;
    let (status, doc, headers) = s.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-request-id"));
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    doc
}

/// `(METHOD, path with {} for parameters)` -> the operation.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let params = regex::Regex::new(r"\{[^}]+\}").unwrap();
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let key = (
                method.to_uppercase(),
                params.replace_all(path, "{}").into_owned(),
            );
            assert!(out.insert(key, op).is_none(), "{method} {path} twice");
        }
    }
    out
}

#[tokio::test]
async fn every_operation_the_sdk_calls_is_documented_with_its_method_and_path() {
    let doc = document().await;
    let ops = operations(&doc);
    let missing: Vec<_> = sdk_operations()
        .into_iter()
        .filter(|key| !ops.contains_key(key))
        .collect();
    assert!(
        missing.is_empty(),
        "the SDK calls undocumented operations: {missing:?}"
    );
}

/// The other way round: every documented `/v1` and `/app/v1` operation has
/// a typed client in every SDK (they all read `sigil::api::OPERATIONS`), so
/// a new route fails here until the table has it.
#[tokio::test]
async fn every_documented_api_operation_has_an_sdk_client() {
    let doc = document().await;
    let sdk = sdk_operations();
    let uncovered: Vec<_> = operations(&doc)
        .into_keys()
        .filter(|(_, path)| path.starts_with("/v1/") || path.starts_with("/app/v1/"))
        .filter(|key| !sdk.contains(key))
        .collect();
    assert!(
        uncovered.is_empty(),
        "documented operations no SDK client calls: {uncovered:?}"
    );
}

/// What the SDK sends without a token (`requires_auth() == false`) is
/// public in the document, and what the document secures (no anonymous
/// alternative) the SDK sends with one. Public operations the SDK still
/// authenticates (token verification) are allowed: a token there does no
/// harm.
#[tokio::test]
async fn the_sdk_sends_a_token_wherever_the_document_requires_one() {
    let doc = document().await;
    let ops = operations(&doc);
    let mut wrong = Vec::new();
    for op in sigil::api::OPERATIONS {
        let key = (op.method().to_string(), format!("/{}", op.path()));
        let Some(documented) = ops.get(&key) else {
            continue; // every_operation_the_sdk_calls_is_documented_… says so
        };
        let required = documented["security"]
            .as_array()
            .is_some_and(|reqs| !reqs.is_empty() && reqs.iter().all(|r| r != &json!({})));
        if required && !op.requires_auth() {
            wrong.push(format!(
                "{} ({} {}) is sent without a token, but the document requires one",
                op.name, key.0, key.1
            ));
        }
        if !op.requires_auth() && documented.get("security").is_some() {
            wrong.push(format!(
                "{} ({} {}) is sent without a token, but the document lists security",
                op.name, key.0, key.1
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        sigil::api::OPERATIONS.iter().any(|op| !op.requires_auth()),
        "providerLogin.exchange is sent without a token"
    );
}

#[test]
fn sdk_sources_call_exactly_these_operations() {
    let discovery = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sdk-core/src/discovery.rs"
    ))
    .unwrap();
    let endpoint = regex::Regex::new(r#"\{base\}(/[A-Za-z0-9/._-]+)""#).unwrap();
    let listed: BTreeMap<&str, &str> = OAUTH_OPERATIONS.iter().map(|(m, p)| (*p, *m)).collect();
    let mut found = BTreeSet::new();
    for c in endpoint.captures_iter(&discovery) {
        let method = listed.get(&c[1]).unwrap_or(&"?");
        found.insert((method.to_string(), c[1].to_owned()));
    }
    for suffix in ["oauth-authorization-server", "openid-configuration"] {
        assert!(discovery.contains(suffix));
        found.insert(("GET".into(), format!("/.well-known/{suffix}")));
    }
    let expected: BTreeSet<(String, String)> = OAUTH_OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let unlisted: Vec<_> = found.difference(&expected).collect();
    let stale: Vec<_> = expected.difference(&found).collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "sdk-core calls {unlisted:?} not in OAUTH_OPERATIONS; listed but no longer called: {stale:?}"
    );
    assert!(sigil::api::OPERATIONS.len() >= 56);
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{reference} is not local"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The body schema of an operation's request (its one JSON or form type).
fn request_schema(op: &Value) -> Option<&str> {
    let content = op["requestBody"]["content"].as_object()?;
    let refs: BTreeSet<&str> = content
        .values()
        .filter_map(|c| c["schema"]["$ref"].as_str())
        .collect();
    assert!(
        refs.len() <= 1,
        "{}: several body schemas {refs:?}",
        op["operationId"]
    );
    refs.into_iter().next()
}

#[tokio::test]
async fn create_operations_have_their_own_request_body_schemas() {
    let doc = document().await;
    let ops = operations(&doc);
    // The app's webhooks are the same API as the account's (one
    // implementation, `webhooks::http`): the same body is right there.
    let same_api = [("createWebhook", "createAppWebhook")];
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    let creates = ops.values().filter(|op| {
        let id = op["operationId"].as_str().unwrap();
        id.starts_with("create") || id == "issueAgentToken"
    });
    for op in creates {
        let id = op["operationId"].as_str().unwrap();
        let schema = request_schema(op).unwrap_or_else(|| panic!("{id} takes no body"));
        if let Some(first) = owner.insert(schema, id) {
            assert!(
                same_api.contains(&(first, id)) || same_api.contains(&(id, first)),
                "{first} and {id} share the request body {schema}"
            );
        }
    }
    // What each create operation really takes (the bug this guards against:
    // one `CreateBody` with the webhook fields for all of them).
    for (op_id, schema, required) in [
        ("createAgent", "CreateAgent", &["name"][..]),
        ("createApiKey", "CreateApiKey", &["name"]),
        ("createApp", "CreateApp", &["name", "redirectUris"]),
        ("createPolicy", "CreatePolicy", &["name", "rules"]),
        ("createCapToken", "CreateCapToken", &["scopes"]),
        ("createDomain", "CreateDomain", &["domain"]),
        ("createWebhook", "CreateWebhook", &["url", "events"]),
        ("issueAgentToken", "IssueAgentToken", &["agent_id", "scope"]),
    ] {
        let op = ops.values().find(|o| o["operationId"] == op_id).unwrap();
        let reference = format!("#/components/schemas/{schema}");
        assert_eq!(request_schema(op), Some(reference.as_str()), "{op_id}");
        let body = resolve(&doc, &reference);
        let listed: Vec<&str> = body["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(listed, required, "{schema} required");
        for field in required {
            assert!(body["properties"][field].is_object(), "{schema}.{field}");
        }
        assert_eq!(body["additionalProperties"], false, "{schema}");
    }
}

#[tokio::test]
async fn every_status_has_its_body_and_every_reference_resolves() {
    let doc = document().await;
    let ops = operations(&doc);
    let mut ids = BTreeSet::new();
    for ((method, path), op) in &ops {
        let name = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no operationId"));
        assert!(ids.insert(id), "operationId {id} twice");
        let responses = op["responses"].as_object().unwrap();
        let secured = op["security"].as_array().is_some_and(|reqs| {
            reqs.iter().any(|r| {
                ["bearer", "api_key", "app_token"]
                    .iter()
                    .any(|s| r.get(s).is_some())
            })
        });
        if secured {
            for status in ["401", "403", "429"] {
                assert!(responses.contains_key(status), "{name}: no {status}");
            }
            assert!(
                responses["401"]["headers"]["WWW-Authenticate"].is_object(),
                "{name}"
            );
            assert!(
                responses["429"]["headers"]["Retry-After"].is_object(),
                "{name}"
            );
            assert!(responses.contains_key("500"), "{name}: no 500");
        }
        if op.get("requestBody").is_some() {
            assert_eq!(op["requestBody"]["required"], true, "{name}: body required");
            for status in ["400", "413"] {
                assert!(responses.contains_key(status), "{name}: no {status}");
            }
        }
        if path.contains("{}") && responses.keys().all(|s| !s.starts_with('4')) {
            panic!("{name}: no 4xx for an unknown id");
        }
        for (status, response) in responses {
            let response = match response["$ref"].as_str() {
                Some(r) => resolve(&doc, r),
                None => response,
            };
            let request_id = &response["headers"]["X-Request-Id"];
            let request_id = request_id["$ref"]
                .as_str()
                .map_or(request_id, |r| resolve(&doc, r));
            assert!(
                request_id["required"] == true,
                "{name} {status}: no X-Request-Id"
            );
            let content = response.get("content").and_then(Value::as_object);
            let no_body = status == "204" || status.starts_with('3');
            match content {
                None => assert!(no_body, "{name} {status}: no body documented"),
                Some(content) => {
                    assert!(!content.is_empty() && !no_body || status.starts_with('3'));
                    for (media, c) in content {
                        assert!(
                            c.get("schema").is_some(),
                            "{name} {status} {media}: no schema"
                        );
                        if status.starts_with('4') && media.contains("json") {
                            let schema = c["schema"]["$ref"].as_str().unwrap_or("");
                            assert!(
                                schema.ends_with("/Problem") || schema.ends_with("/OAuthError"),
                                "{name} {status}: error body {schema}"
                            );
                        }
                    }
                }
            }
        }
        // Problem bodies everywhere but /oauth/* (RFC 6749) and the HTML pages.
        if path.starts_with("/v1/") || path.starts_with("/app/v1/") {
            for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                let response = match response["$ref"].as_str() {
                    Some(r) => resolve(&doc, r),
                    None => response,
                };
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{name} {status}: not a problem"
                );
            }
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for reference in all {
        resolve(&doc, reference);
    }
    // Success bodies are named schemas, the `{data, meta}` envelope included.
    for op in ops.values() {
        for (status, response) in op["responses"].as_object().unwrap() {
            if let Some(schema) = response["content"]["application/json"]["schema"]["$ref"].as_str()
            {
                // RFC formats on /oauth and discovery, `{now}` on the test clock,
                // `/healthz` and this document.
                let plain = ["oauth", "test-mode", "operations"];
                if status.starts_with('2') && !plain.contains(&op["tags"][0].as_str().unwrap_or(""))
                {
                    let body = resolve(&doc, schema);
                    assert!(
                        body["properties"]["data"].is_object()
                            && body["properties"]["meta"].is_object(),
                        "{} {status}: {schema} is not an envelope",
                        op["operationId"]
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn links_lead_from_each_create_to_the_operations_on_its_id() {
    let doc = document().await;
    let ops = operations(&doc);
    let by_id: BTreeMap<&str, &Value> = ops
        .values()
        .map(|op| (op["operationId"].as_str().unwrap(), *op))
        .collect();
    let mut linked = BTreeSet::new();
    for op in ops.values() {
        for response in op["responses"].as_object().unwrap().values() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap();
                let target_op = by_id
                    .get(target)
                    .unwrap_or_else(|| panic!("link {name} to unknown {target}"));
                for param in link["parameters"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|p| p.0)
                {
                    let declared = target_op["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["name"] == param.as_str());
                    assert!(declared, "link {name}: {target} has no parameter {param}");
                }
                linked.insert(target);
            }
        }
    }
    for target in [
        "getAgent",
        "pauseAgent",
        "revokeAgent",
        "getApiKey",
        "updateApiKey",
        "revokeApiKey",
        "deleteApiKey",
        "getApp",
        "updateApp",
        "deleteApp",
        "getPolicy",
        "updatePolicy",
        "deletePolicy",
        "getDomain",
        "verifyDomain",
        "deleteDomain",
        "getWebhook",
        "deleteWebhook",
        "getAppWebhook",
        "deleteAppWebhook",
        "revokeAgentToken",
        "grantApproval",
    ] {
        assert!(linked.contains(target), "no link reaches {target}");
    }
}

#[tokio::test]
async fn empty_optional_query_parameters_are_absent() {
    let s = common::start().await;
    let (_, key) = s.account("empty-query@example.com").await;
    for path in [
        "/v1/agents?limit=&offset=&status=",
        "/v1/approvals?status=",
        "/v1/audit?type=&actor=&since=&until=&limit=&cursor=",
        "/v1/audit/export?format=&type=&actor=&since=&until=",
    ] {
        let (status, body, _) = s.call("GET", path, Some(&key), None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, body, _) = s
        .call("GET", "/v1/agents?status=nope", Some(&key), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
}

#[tokio::test]
async fn a_body_is_required_where_one_is_documented() {
    let s = common::start().await;
    let (_, key) = s.account("no-body@example.com").await;
    for (method, path) in [
        ("PATCH", "/v1/account"),
        ("POST", "/v1/agents"),
        ("POST", "/v1/tokens/verify"),
    ] {
        let (status, body, _) = s.call(method, path, Some(&key), None).await;
        assert_eq!(status, 400, "{method} {path}: {body}");
        assert!(
            body["code"].is_string() && body["requestId"].is_string(),
            "{body}"
        );
    }
}

/// Whether `value` has the shape `schema` documents: object members (known
/// ones only where `additionalProperties` is false, required ones present),
/// through `$ref`, `allOf`, `oneOf`/`anyOf` (some branch) and array items.
/// Shapes only: string patterns and enums are left to schemathesis.
fn shape_errors(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(r) = schema["$ref"].as_str() {
        return shape_errors(doc, resolve(doc, r), value, at);
    }
    let mut errors = Vec::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        errors.extend(shape_errors(doc, part, value, at));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[key].as_array() {
            if !branches
                .iter()
                .any(|b| shape_errors(doc, b, value, at).is_empty())
            {
                errors.push(format!("{at}: fits no branch of {key}"));
            }
        }
    }
    match value {
        Value::Object(members) => {
            let properties = schema["properties"].as_object();
            if let Some(properties) = properties {
                for (name, member) in members {
                    match properties.get(name) {
                        Some(s) => {
                            errors.extend(shape_errors(doc, s, member, &format!("{at}.{name}")))
                        }
                        None if schema["additionalProperties"] == false => {
                            errors.push(format!("{at}.{name}: not a documented member"))
                        }
                        None => {}
                    }
                }
            }
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                if !members.contains_key(name) {
                    errors.push(format!("{at}.{name}: required, not sent"));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                errors.extend(shape_errors(
                    doc,
                    &schema["items"],
                    item,
                    &format!("{at}[{i}]"),
                ));
            }
        }
        _ => {}
    }
    errors
}

#[tokio::test]
async fn sdk_request_bodies_have_the_documented_shape() {
    use sigil::api::{
        AppUpdate, Effect, NewAgent, NewApiKey, NewApp, NewMessage, NewPolicy, NewWebhook,
        PolicyUpdate, Rule, RuleLimit, RuleMatch, TimeOfDay, TokenRequest,
    };
    let doc = document().await;
    let some = |s: &str| Some(s.to_owned());
    let list = |s: &str| Some(vec![s.to_owned()]);
    let rules = vec![
        Rule {
            effect: Effect::Throttle,
            matcher: RuleMatch {
                agents: list("agt_1"),
                owners: list("usr_1"),
                scopes: list("messages.*"),
                target_services: list("billing"),
                time_of_day: Some(TimeOfDay {
                    start: "09:00".into(),
                    end: "17:00".into(),
                    tz: "UTC".into(),
                }),
            },
            limit: Some(RuleLimit {
                count: 5,
                window_secs: 60,
            }),
        },
        Rule {
            effect: Effect::Deny,
            matcher: RuleMatch::default(),
            limit: None,
        },
    ];
    // Every member set, so every member the SDK can send is checked.
    let bodies: Vec<(&str, Value)> = vec![
        (
            "CreateAgent",
            serde_json::to_value(NewAgent {
                name: "a".into(),
                description: some("d"),
            })
            .unwrap(),
        ),
        (
            "CreateApiKey",
            serde_json::to_value(NewApiKey {
                name: "k".into(),
                scopes: list("keys.read"),
                preset: None,
                expires_in_days: Some(30),
                app_id: some("app_1"),
                allowed_ips: Some(vec!["192.0.2.0/24".into()]),
            })
            .unwrap(),
        ),
        (
            "CreateApp",
            serde_json::to_value(NewApp {
                name: "a".into(),
                redirect_uris: vec!["https://a.example/cb".into()],
                allowed_origins: vec!["https://a.example".into()],
                public: true,
                scopes: list("identity.read"),
            })
            .unwrap(),
        ),
        (
            "UpdateApp",
            serde_json::to_value(AppUpdate {
                name: some("a"),
                redirect_uris: list("https://a.example/cb"),
                allowed_origins: list("https://a.example"),
                scopes: list("identity.read"),
            })
            .unwrap(),
        ),
        (
            "CreatePolicy",
            serde_json::to_value(NewPolicy {
                name: "p".into(),
                description: some("d"),
                priority: Some(5),
                rules: rules.clone(),
                is_active: Some(true),
            })
            .unwrap(),
        ),
        (
            "UpdatePolicy",
            serde_json::to_value(PolicyUpdate {
                name: some("p"),
                description: some("d"),
                priority: Some(5),
                rules: Some(rules),
                is_active: Some(false),
            })
            .unwrap(),
        ),
        (
            "IssueAgentToken",
            serde_json::to_value(TokenRequest {
                agent_id: "agt_1".into(),
                scope: vec!["messages.send".into()],
                ttl: Some(60),
                target_service: some("billing"),
                intent: some("send the invoice"),
            })
            .unwrap(),
        ),
        (
            "CreateWebhook",
            serde_json::to_value(NewWebhook {
                url: "https://hooks.example/in".into(),
                events: vec!["*".into()],
                description: some("d"),
            })
            .unwrap(),
        ),
        (
            "SendMessage",
            serde_json::to_value(NewMessage {
                to: "slug".into(),
                subject: some("s"),
                body: "b".into(),
            })
            .unwrap(),
        ),
    ];
    let mut errors = Vec::new();
    for (schema, body) in &bodies {
        let reference = json!({ "$ref": format!("#/components/schemas/{schema}") });
        errors.extend(shape_errors(&doc, &reference, body, schema));
    }
    assert!(
        errors.is_empty(),
        "the SDK sends what the document does not describe: {errors:#?}"
    );
    // The checker itself catches a wrong member.
    let wrong = json!({ "name": "a", "events": [] });
    let reference = json!({ "$ref": "#/components/schemas/CreateAgent" });
    assert_eq!(
        shape_errors(&doc, &reference, &wrong, "CreateAgent").len(),
        1
    );
}
