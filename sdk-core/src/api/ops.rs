//! Every `/v1` and `/app/v1` call as data: name, method, path, what each
//! argument becomes (path segment, body, body member, query parameter,
//! header) and how the answer is read.
//!
//! One table serves both doors. The typed Rust methods in this module's
//! siblings pass their arguments through it and decode the answer into
//! their own types; bindings call [`call`] by name with JSON arguments and
//! get the server's JSON back without a typed decode. One generic send and
//! one argument check therefore serve every operation: the browser module
//! carries no per-operation code (it had 350 KB of it when each operation
//! was its own typed future).

use http::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{
    AccountUpdate, AgentQuery, ApiKeyUpdate, AuditFilter, AuditFormat, ModerationChange, NewAgent,
    NewApiKey, NewApp, NewCapToken, NewMessage, NewPolicy, NewReport, NewWebhook,
    NewWorkspaceMember, PlanChange, PolicyUpdate, TokenRequest,
};
use super::{AppUpdate, ApprovalStatus, Core, Envelope};
use crate::error::{Error, Result};

/// Validates one JSON value against a typed input (unknown members, wrong
/// types and missing fields are refused), naming the problem.
pub(crate) type Check = fn(&Value) -> std::result::Result<(), String>;

/// Turns a filter object into query parameters, through its typed form.
pub(crate) type Filter = fn(&Value) -> std::result::Result<Vec<(&'static str, String)>, String>;

/// One operation of the API.
#[derive(Debug)]
pub struct Operation {
    /// `resource.method`, as bindings name it (`"apiKeys.create"`).
    pub name: &'static str,
    method: Method,
    /// Segments; each `{}` takes the next [`Arg::Path`] argument.
    path: &'static str,
    args: &'static [Arg],
    answer: Answer,
    /// Whether the call carries the session's bearer token. `false` for
    /// the few public endpoints an app calls before it has a session (the
    /// provider-login exchange): those are sent without `Authorization`
    /// and without reading or renewing the session's tokens.
    auth: bool,
}

/// What one positional argument becomes.
#[derive(Debug)]
enum Arg {
    /// A required string, percent-encoded into the next `{}` of the path.
    Path,
    /// The whole JSON body, checked against its typed form when given.
    Body(Option<Check>),
    /// One member of a JSON body the call builds; left out when `null`.
    Field(&'static str, Kind),
    /// One query parameter; left out when `null`.
    Query(&'static str, Kind),
    /// An optional filter object whose members become query parameters.
    QueryObject(Filter),
    /// An optional header.
    Header(&'static str),
}

/// The accepted JSON for a [`Arg::Field`] or [`Arg::Query`].
#[derive(Debug)]
enum Kind {
    Str,
    OptStr,
    OptU32,
    /// A list of 1..=max strings.
    Strings(usize),
    /// A string (required or optional) that must read as a typed value.
    Typed(Check),
    OptTyped(Check),
}

/// How bindings receive the answer (the typed methods decode it themselves).
#[derive(Debug)]
enum Answer {
    /// `data` of the envelope.
    Data,
    /// No body (204): `null`.
    NoContent,
    /// One member of `data`.
    DataMember(&'static str),
    /// `{<items>: data, <meta>: meta.<meta>}`: a page and how to go on.
    Page {
        items: &'static str,
        meta: &'static str,
        absent: fn() -> Value,
    },
    /// `data` tagged `status: issued` (201) or `held_for_approval` (202).
    Issuance,
    /// The body as text (exports).
    Text,
    /// The whole JSON body, not enveloped.
    Whole,
}

fn check<T: DeserializeOwned>(value: &Value) -> std::result::Result<(), String> {
    T::deserialize(value).map(drop).map_err(|e| e.to_string())
}

/// The query parameters a typed filter sends.
pub(crate) trait QueryParams: DeserializeOwned {
    /// Set members only.
    fn params(&self) -> Vec<(&'static str, String)>;
}

fn filter<T: QueryParams>(
    value: &Value,
) -> std::result::Result<Vec<(&'static str, String)>, String> {
    T::deserialize(value)
        .map(|f| f.params())
        .map_err(|e| e.to_string())
}

/// The most tokens one batch verification takes (the server's limit).
pub(crate) const MAX_BATCH: usize = 100;

/// Declares each operation once, as a constant for the typed methods and
/// as a row of [`OPERATIONS`]. A row ending in `, no_auth` is sent without
/// the session's bearer token (see [`Operation::requires_auth`]).
macro_rules! operations {
    ($( $konst:ident = $name:literal $method:ident $path:literal [$($arg:expr),*] => $answer:expr $(, $no_auth:ident)?; )*) => {
        $(
            pub(crate) const $konst: Operation = Operation {
                name: $name,
                method: Method::$method,
                path: $path,
                args: &[$($arg),*],
                answer: $answer,
                auth: operations!(@auth $($no_auth)?),
            };
        )*
        /// Every operation, in the order of the API reference.
        pub const OPERATIONS: &[Operation] = &[$($konst),*];
    };
    (@auth) => { true };
    // Any other word after the answer is a compile error: no rule matches.
    (@auth no_auth) => { false };
}

use Answer::{Data, DataMember, Issuance, NoContent, Text, Whole};
use Arg::{Body, Field, Header, Path, Query, QueryObject};
use Kind::{OptStr, OptTyped, OptU32, Str, Strings, Typed};

fn no_more() -> Value {
    Value::Bool(false)
}

operations! {
    API_KEYS_CREATE = "apiKeys.create" POST "v1/api-keys" [Body(Some(check::<NewApiKey>))] => Data;
    API_KEYS_LIST = "apiKeys.list" GET "v1/api-keys" [] => Data;
    API_KEYS_GET = "apiKeys.get" GET "v1/api-keys/{}" [Path] => Data;
    API_KEYS_RENAME = "apiKeys.rename" PATCH "v1/api-keys/{}" [Path, Field("name", Str)] => Data;
    API_KEYS_UPDATE = "apiKeys.update" PATCH "v1/api-keys/{}" [Path, Body(Some(check::<ApiKeyUpdate>))] => Data;
    API_KEYS_REVOKE = "apiKeys.revoke" POST "v1/api-keys/{}/revoke" [Path] => Data;
    API_KEYS_DELETE = "apiKeys.delete" DELETE "v1/api-keys/{}" [Path] => NoContent;
    WORKSPACES_LIST = "workspaces.list" GET "v1/workspaces" [] => Data;
    WORKSPACES_CREATE = "workspaces.create" POST "v1/workspaces" [Field("name", Str)] => Data;
    WORKSPACES_GET = "workspaces.get" GET "v1/workspaces/{}" [Path] => Data;
    WORKSPACES_RENAME = "workspaces.rename" PATCH "v1/workspaces/{}" [Path, Field("name", Str)] => Data;
    WORKSPACES_MEMBERS = "workspaces.members" GET "v1/workspaces/{}/members" [Path] => Data;
    WORKSPACES_ADD_MEMBER = "workspaces.addMember" POST "v1/workspaces/{}/members"
        [Path, Body(Some(check::<NewWorkspaceMember>))] => Data;
    WORKSPACES_SET_ROLE = "workspaces.setRole" PATCH "v1/workspaces/{}/members/{}"
        [Path, Path, Field("role", Str)] => Data;
    WORKSPACES_REMOVE_MEMBER = "workspaces.removeMember" DELETE "v1/workspaces/{}/members/{}"
        [Path, Path] => NoContent;
    APPS_CREATE = "apps.create" POST "v1/apps" [Body(Some(check::<NewApp>))] => Data;
    APPS_LIST = "apps.list" GET "v1/apps" [] => Data;
    APPS_GET = "apps.get" GET "v1/apps/{}" [Path] => Data;
    APPS_UPDATE = "apps.update" PATCH "v1/apps/{}" [Path, Body(Some(check::<AppUpdate>))] => Data;
    APPS_ROTATE_SECRET = "apps.rotateSecret" POST "v1/apps/{}/secret" [Path] => Data;
    APPS_DELETE = "apps.delete" DELETE "v1/apps/{}" [Path] => NoContent;
    AGENTS_CREATE = "agents.create" POST "v1/agents" [Body(Some(check::<NewAgent>))] => Data;
    AGENTS_LIST = "agents.list" GET "v1/agents" [QueryObject(filter::<AgentQuery>)]
        => Answer::Page { items: "agents", meta: "hasMore", absent: no_more };
    AGENTS_GET = "agents.get" GET "v1/agents/{}" [Path] => Data;
    AGENTS_PAUSE = "agents.pause" POST "v1/agents/{}/pause" [Path] => Data;
    AGENTS_RESUME = "agents.resume" POST "v1/agents/{}/resume" [Path] => Data;
    AGENTS_REVOKE = "agents.revoke" POST "v1/agents/{}/revoke" [Path] => Data;
    TOKENS_ISSUE = "tokens.issue" POST "v1/tokens" [Body(Some(check::<TokenRequest>))] => Issuance;
    TOKENS_VERIFY = "tokens.verify" POST "v1/tokens/verify"
        [Field("token", Str), Field("required_scope", OptStr)] => Data;
    TOKENS_VERIFY_BATCH = "tokens.verifyBatch" POST "v1/tokens/verify/batch"
        [Field("tokens", Strings(MAX_BATCH)), Field("required_scope", OptStr)] => DataMember("results");
    TOKENS_REVOKE = "tokens.revoke" POST "v1/tokens/{}/revoke" [Path] => Data;
    POLICIES_CREATE = "policies.create" POST "v1/policies" [Body(Some(check::<NewPolicy>))] => Data;
    POLICIES_LIST = "policies.list" GET "v1/policies" [] => Data;
    POLICIES_GET = "policies.get" GET "v1/policies/{}" [Path] => Data;
    POLICIES_UPDATE = "policies.update" PATCH "v1/policies/{}"
        [Path, Body(Some(check::<PolicyUpdate>))] => Data;
    POLICIES_DELETE = "policies.delete" DELETE "v1/policies/{}" [Path] => NoContent;
    APPROVALS_LIST = "approvals.list" GET "v1/approvals"
        [Query("status", OptTyped(check::<ApprovalStatus>))] => Data;
    APPROVALS_GRANT = "approvals.grant" POST "v1/approvals/{}/grant" [Path] => Data;
    APPROVALS_REJECT = "approvals.reject" POST "v1/approvals/{}/reject" [Path] => Data;
    APPROVALS_COLLECT = "approvals.collect" POST "v1/approvals/{}/token" [Path] => Data;
    AUDIT_LIST = "audit.list" GET "v1/audit"
        [QueryObject(filter::<AuditFilter>), Query("limit", OptU32), Query("cursor", OptStr)]
        => Answer::Page { items: "entries", meta: "nextCursor", absent: Value::default };
    AUDIT_VERIFY = "audit.verify" GET "v1/audit/verify" [] => Data;
    AUDIT_EXPORT = "audit.export" GET "v1/audit/export"
        [Query("format", Typed(check::<AuditFormat>)), QueryObject(filter::<AuditFilter>)] => Text;
    WEBHOOKS_CREATE = "webhooks.create" POST "v1/webhooks" [Body(Some(check::<NewWebhook>))] => Data;
    WEBHOOKS_LIST = "webhooks.list" GET "v1/webhooks" [] => Data;
    WEBHOOKS_GET = "webhooks.get" GET "v1/webhooks/{}" [Path] => Data;
    WEBHOOKS_DELETE = "webhooks.delete" DELETE "v1/webhooks/{}" [Path] => NoContent;
    WEBHOOKS_ROTATE_SECRET = "webhooks.rotateSecret" POST "v1/webhooks/{}/rotate" [Path] => Data;
    WEBHOOKS_DELIVERIES = "webhooks.deliveries" GET "v1/webhooks/{}/deliveries"
        [Path, Query("limit", OptU32)] => Data;
    WEBHOOKS_REDELIVER = "webhooks.redeliver" POST "v1/webhooks/{}/deliveries/{}/redeliver"
        [Path, Path] => Data;
    DOMAINS_ADD = "domains.add" POST "v1/domains" [Field("domain", Str)] => Data;
    DOMAINS_LIST = "domains.list" GET "v1/domains" [] => Data;
    DOMAINS_GET = "domains.get" GET "v1/domains/{}" [Path] => Data;
    DOMAINS_VERIFY = "domains.verify" POST "v1/domains/{}/verify" [Path] => Data;
    DOMAINS_DELETE = "domains.delete" DELETE "v1/domains/{}" [Path] => NoContent;
    TRUST_MODEL = "trust.model" GET "trust-model" [] => Data;
    TRUST_MINE = "trust.mine" GET "v1/account/trust" [] => Data;
    TRUST_USER = "trust.user" GET "v1/admin/users/{}/trust" [Path] => Data;
    TRUST_SET_MODERATION = "trust.setModeration" PUT "v1/admin/users/{}/moderation"
        [Path, Body(Some(check::<ModerationChange>))] => Data;
    PLANS_MINE = "plans.mine" GET "v1/account/plan" [] => Data;
    PLANS_GET = "plans.get" GET "v1/admin/accounts/{}/plan" [Path] => Data;
    PLANS_SET = "plans.set" PUT "v1/admin/accounts/{}/plan" [Path, Body(Some(check::<PlanChange>))] => Data;
    ACCOUNT_GET = "account.get" GET "v1/account" [] => Data;
    ACCOUNT_UPDATE = "account.update" PATCH "v1/account" [Body(Some(check::<AccountUpdate>))] => Data;
    CAP_TOKENS_CREATE = "capTokens.create" POST "v1/cap-tokens" [Body(Some(check::<NewCapToken>))] => Data;
    APP_LOOKUP_IDENTITY = "app.lookupIdentity" POST "app/v1/identity/lookup" [Field("userId", Str)] => Data;
    APP_SEND_MESSAGE = "app.sendMessage" POST "app/v1/messages"
        [Body(Some(check::<NewMessage>)), Header("idempotency-key")] => Data;
    APP_AI_CHAT = "app.aiChat" POST "app/v1/ai/chat" [Body(None)] => Whole;
    APP_REPORT = "app.report" POST "app/v1/reports" [Body(Some(check::<NewReport>))] => Data;
    APP_WEBHOOKS_CREATE = "appWebhooks.create" POST "app/v1/webhooks" [Body(Some(check::<NewWebhook>))] => Data;
    APP_WEBHOOKS_LIST = "appWebhooks.list" GET "app/v1/webhooks" [] => Data;
    APP_WEBHOOKS_GET = "appWebhooks.get" GET "app/v1/webhooks/{}" [Path] => Data;
    APP_WEBHOOKS_DELETE = "appWebhooks.delete" DELETE "app/v1/webhooks/{}" [Path] => NoContent;
    APP_WEBHOOKS_ROTATE_SECRET = "appWebhooks.rotateSecret" POST "app/v1/webhooks/{}/rotate" [Path] => Data;
    APP_WEBHOOKS_DELIVERIES = "appWebhooks.deliveries" GET "app/v1/webhooks/{}/deliveries"
        [Path, Query("limit", OptU32)] => Data;
    APP_WEBHOOKS_REDELIVER = "appWebhooks.redeliver" POST "app/v1/webhooks/{}/deliveries/{}/redeliver"
        [Path, Path] => Data;
    PROVIDER_LOGIN_EXCHANGE = "providerLogin.exchange" POST "auth/oauth/exchange" [Field("code", Str)] => Data, no_auth;
}

/// One request, checked and assembled from an operation's arguments.
pub(super) struct Req {
    pub(super) method: Method,
    pub(super) path: Vec<String>,
    pub(super) query: Vec<(&'static str, String)>,
    pub(super) body: Option<Value>,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Operation {
    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Whether the call needs the session's access token. `false` for the
    /// public endpoints an app calls before it has a session (today only
    /// `providerLogin.exchange`).
    pub fn requires_auth(&self) -> bool {
        self.auth
    }

    /// The path below the base URL, with `{}` for each path argument
    /// (`v1/api-keys/{}/revoke`).
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Checks `args` (positional; missing trailing ones are `null`) and
    /// builds the request. Every refusal is an [`Error::InvalidInput`]
    /// naming the operation, before anything is sent.
    pub(super) fn request(&self, args: Vec<Value>) -> Result<Req> {
        let bad = |what: String| Error::InvalidInput(format!("{}: {what}", self.name));
        if args.len() > self.args.len() {
            return Err(bad(format!(
                "takes {} argument(s), got {}",
                self.args.len(),
                args.len()
            )));
        }
        let mut args = args.into_iter();
        let mut req = Req {
            method: self.method.clone(),
            path: Vec::new(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        };
        let mut segments = Vec::new();
        let mut fields = Map::new();
        for (i, spec) in self.args.iter().enumerate() {
            let value = args.next().unwrap_or(Value::Null);
            let nth = |what: &str| bad(format!("argument {} {what}", i + 1));
            match spec {
                Path => match value {
                    Value::String(s) if !s.is_empty() => segments.push(s),
                    _ => return Err(nth("must be a non-empty string")),
                },
                Body(check) => {
                    if let Some(check) = check {
                        check(&value).map_err(|e| nth(&e))?;
                    }
                    req.body = Some(value);
                }
                Field(name, kind) => {
                    kind.check(&value).map_err(|e| nth(&e))?;
                    if !value.is_null() {
                        fields.insert((*name).to_owned(), value);
                    }
                }
                Query(name, kind) => {
                    kind.check(&value).map_err(|e| nth(&e))?;
                    match value {
                        Value::Null => {}
                        Value::String(s) => req.query.push((name, s)),
                        other => req.query.push((name, other.to_string())),
                    }
                }
                QueryObject(_) if value.is_null() => {}
                QueryObject(filter) => req.query.extend(filter(&value).map_err(|e| nth(&e))?),
                Header(name) => match value {
                    Value::Null => {}
                    Value::String(s) => req.headers.push((name, s)),
                    _ => return Err(nth("must be a string")),
                },
            }
        }
        if !fields.is_empty() {
            req.body = Some(Value::Object(fields));
        }
        let mut segments = segments.into_iter();
        for part in self.path.split('/') {
            req.path.push(match part {
                "{}" => segments.next().unwrap_or_default(),
                literal => literal.to_owned(),
            });
        }
        Ok(req)
    }

    /// The answer as bindings receive it (see [`Answer`]).
    fn shape(&self, response: &crate::HttpResponse) -> Result<Value> {
        let envelope = || -> Result<Envelope<Value, Value>> {
            crate::runtime::json_body(response, "Sigil API response")
        };
        Ok(match &self.answer {
            Data => envelope()?.data,
            NoContent => Value::Null,
            DataMember(name) => envelope()?.data.get(*name).cloned().unwrap_or_default(),
            Answer::Page {
                items,
                meta,
                absent,
            } => {
                let e = envelope()?;
                let more = e.meta.get(*meta).cloned().unwrap_or_else(absent);
                let mut page = Map::new();
                page.insert((*items).to_owned(), e.data);
                page.insert((*meta).to_owned(), more);
                Value::Object(page)
            }
            Issuance => {
                let mut data = envelope()?.data;
                let tag = if response.status() == http::StatusCode::ACCEPTED {
                    "held_for_approval"
                } else {
                    "issued"
                };
                if let Value::Object(fields) = &mut data {
                    fields.insert("status".into(), tag.into());
                }
                data
            }
            Text => Value::String(
                String::from_utf8(response.body().clone())
                    .map_err(|_| Error::InvalidResponse("the answer is not UTF-8".into()))?,
            ),
            Whole => crate::runtime::json_body(response, "Sigil API response")?,
        })
    }
}

impl Kind {
    fn check(&self, value: &Value) -> std::result::Result<(), String> {
        let ok = match (self, value) {
            (Kind::OptStr | Kind::OptU32 | Kind::OptTyped(_), Value::Null) => true,
            (Kind::Str | Kind::OptStr, Value::String(_)) => true,
            (Kind::OptU32, Value::Number(n)) => n.as_u64().is_some_and(|n| n <= u32::MAX.into()),
            (Kind::Strings(max), Value::Array(items)) => {
                if items.is_empty() || items.len() > *max {
                    return Err(format!("must hold 1-{max} items, not {}", items.len()));
                }
                items.iter().all(Value::is_string)
            }
            (Kind::Typed(check) | Kind::OptTyped(check), value) => return check(value),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(match self {
                Kind::Str => "must be a string".into(),
                Kind::OptStr => "must be a string or null".into(),
                Kind::OptU32 => "must be an integer from 0 to 4294967295, or null".into(),
                _ => "must be a list of strings".into(),
            })
        }
    }
}

/// The operation bindings name `name`.
fn find(name: &str) -> Result<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|op| op.name == name)
        .ok_or_else(|| Error::InvalidInput(format!("unknown operation `{name}`")))
}

/// One operation by name, with JSON arguments (a list in the typed method's
/// order, or `null` for none), answered with the server's JSON.
pub(crate) async fn call(core: &Core, name: &str, args: Value) -> Result<Value> {
    let op = find(name)?;
    let args = match args {
        Value::Array(list) => list,
        Value::Null => Vec::new(),
        _ => {
            return Err(Error::InvalidInput(format!(
                "{name}: arguments must be a list"
            )))
        }
    };
    let response = core.exec(op, args).await?;
    op.shape(&response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_are_unique_resource_dot_method_names() {
        let mut seen = std::collections::HashSet::new();
        for op in OPERATIONS {
            assert!(seen.insert(op.name), "{} twice", op.name);
            let (resource, method) = op.name.split_once('.').expect(op.name);
            assert!(!resource.is_empty() && !method.is_empty());
            let holes = op.path.matches("{}").count();
            let paths = op.args.iter().filter(|a| matches!(a, Path)).count();
            assert_eq!(holes, paths, "{}: path holes and path arguments", op.name);
        }
    }

    #[test]
    fn arguments_are_checked_before_any_request() {
        let e = find("apiKeys.get")
            .unwrap()
            .request(vec![json!(1)])
            .err()
            .unwrap();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("apiKeys.get"), "{e}");
        let e = API_KEYS_GET
            .request(vec![json!("a"), json!("b")])
            .err()
            .unwrap();
        assert!(e.to_string().contains("takes 1"), "{e}");
        let e = AGENTS_CREATE
            .request(vec![json!({ "name": "a", "nmae": "b" })])
            .err()
            .unwrap();
        assert!(e.to_string().contains("nmae"), "{e}");
        let e = WEBHOOKS_DELIVERIES
            .request(vec![json!("wh_1"), json!(1u64 << 40)])
            .err()
            .unwrap();
        assert!(e.to_string().contains("argument 2"), "{e}");
        let e = TOKENS_VERIFY_BATCH.request(vec![json!([])]).err().unwrap();
        assert!(e.to_string().contains("1-100"), "{e}");
        assert!(find("apiKeys.nope").is_err());
    }

    #[test]
    fn arguments_become_path_body_query_and_headers() {
        let req = API_KEYS_RENAME
            .request(vec![json!("key/../1"), json!("ci")])
            .unwrap();
        assert_eq!(req.method, Method::PATCH);
        assert_eq!(req.path, ["v1", "api-keys", "key/../1"]);
        assert_eq!(req.body, Some(json!({ "name": "ci" })));
        let req = AUDIT_LIST
            .request(vec![json!({ "type": "key.created" }), json!(5)])
            .unwrap();
        assert_eq!(
            req.query,
            [("type", "key.created".into()), ("limit", "5".into())]
        );
        assert_eq!(req.body, None);
        let req = APP_SEND_MESSAGE
            .request(vec![json!({ "to": "u", "body": "hi" }), json!("k1")])
            .unwrap();
        assert_eq!(req.headers, [("idempotency-key", "k1".into())]);
        let req = AGENTS_LIST.request(vec![]).unwrap();
        assert!(req.query.is_empty());
    }
}
