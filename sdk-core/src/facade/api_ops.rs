//! The typed `/v1` and `/app/v1` clients as one table of named operations,
//! so a binding exposes every resource method without a line per method:
//! it builds `client.apiKeys.create(...)` from [`OPERATIONS`] and forwards
//! to [`super::Sigil::call`]. Arguments arrive as a JSON array in the Rust
//! method's order (missing trailing ones are `null`) and are deserialized
//! into the method's own typed parameters, so a wrong type or an unknown
//! member is an `InvalidInput` naming the operation.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::api::{
    AgentQuery, AppApi, AppUpdate, ApprovalStatus, AuditFilter, AuditFormat, Management, NewAgent,
    NewApiKey, NewApp, NewMessage, NewPolicy, NewWebhook, PolicyUpdate, TokenRequest,
};
use crate::error::{Error, Result};

/// Declares each operation once: its name, typed arguments and call.
macro_rules! operations {
    ($( $name:literal => |$m:ident, $a:ident $(, $arg:ident : $ty:ty)*| $call:expr; )*) => {
        /// Every operation [`super::Sigil::call`] accepts, `resource.method`.
        pub const OPERATIONS: &[&str] = &[$($name),*];

        pub(super) async fn call(
            management: &Management,
            app: &AppApi,
            operation: &str,
            args: Value,
        ) -> Result<Value> {
            match operation {
                $($name => {
                    #[allow(unused_variables)]
                    let ($m, $a) = (management, app);
                    #[allow(unused_parens)]
                    let ($($arg,)*): ($($ty,)*) = parse_args(operation, args, count!($($arg)*))?;
                    to_json($call.await?)
                })*
                _ => Err(Error::InvalidInput(format!("unknown operation `{operation}`"))),
            }
        }
    };
}

macro_rules! count {
    () => { 0usize };
    ($head:ident $($tail:ident)*) => { 1usize + count!($($tail)*) };
}

operations! {
    "apiKeys.create" => |m, a, key: NewApiKey| m.api_keys().create(&key);
    "apiKeys.list" => |m, a| m.api_keys().list();
    "apiKeys.get" => |m, a, id: String| m.api_keys().get(&id);
    "apiKeys.rename" => |m, a, id: String, name: String| m.api_keys().rename(&id, &name);
    "apiKeys.revoke" => |m, a, id: String| m.api_keys().revoke(&id);
    "apiKeys.delete" => |m, a, id: String| m.api_keys().delete(&id);
    "apps.create" => |m, a, app: NewApp| m.apps().create(&app);
    "apps.list" => |m, a| m.apps().list();
    "apps.get" => |m, a, id: String| m.apps().get(&id);
    "apps.update" => |m, a, id: String, update: AppUpdate| m.apps().update(&id, &update);
    "apps.rotateSecret" => |m, a, id: String| m.apps().rotate_secret(&id);
    "apps.delete" => |m, a, id: String| m.apps().delete(&id);
    "agents.create" => |m, a, agent: NewAgent| m.agents().create(&agent);
    "agents.list" => |m, a, query: Option<AgentQuery>| m.agents().list(&query.unwrap_or_default());
    "agents.get" => |m, a, id: String| m.agents().get(&id);
    "agents.pause" => |m, a, id: String| m.agents().pause(&id);
    "agents.resume" => |m, a, id: String| m.agents().resume(&id);
    "agents.revoke" => |m, a, id: String| m.agents().revoke(&id);
    "tokens.issue" => |m, a, request: TokenRequest| m.tokens().issue(&request);
    "tokens.verify" => |m, a, token: String, scope: Option<String>| m.tokens().verify(&token, scope.as_deref());
    "tokens.verifyBatch" => |m, a, tokens: Vec<String>, scope: Option<String>| async move {
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        m.tokens().verify_batch(&tokens, scope.as_deref()).await
    };
    "tokens.revoke" => |m, a, jti: String| m.tokens().revoke(&jti);
    "policies.create" => |m, a, policy: NewPolicy| m.policies().create(&policy);
    "policies.list" => |m, a| m.policies().list();
    "policies.get" => |m, a, id: String| m.policies().get(&id);
    "policies.update" => |m, a, id: String, update: PolicyUpdate| m.policies().update(&id, &update);
    "policies.delete" => |m, a, id: String| m.policies().delete(&id);
    "approvals.list" => |m, a, status: Option<ApprovalStatus>| m.approvals().list(status);
    "approvals.grant" => |m, a, id: String| m.approvals().grant(&id);
    "approvals.reject" => |m, a, id: String| m.approvals().reject(&id);
    "approvals.collect" => |m, a, id: String| m.approvals().collect(&id);
    "audit.list" => |m, a, filter: Option<AuditFilter>, limit: Option<u32>, cursor: Option<String>|
        m.audit().list(&filter.unwrap_or_default(), limit, cursor.as_deref());
    "audit.verify" => |m, a| m.audit().verify();
    "audit.export" => |m, a, format: AuditFormat, filter: Option<AuditFilter>| async move {
        let bytes = m.audit().export(format, &filter.unwrap_or_default()).await?;
        String::from_utf8(bytes).map_err(|_| Error::InvalidResponse("audit export is not UTF-8".into()))
    };
    "webhooks.create" => |m, a, webhook: NewWebhook| m.webhooks().create(&webhook);
    "webhooks.list" => |m, a| m.webhooks().list();
    "webhooks.get" => |m, a, id: String| m.webhooks().get(&id);
    "webhooks.delete" => |m, a, id: String| m.webhooks().delete(&id);
    "webhooks.rotateSecret" => |m, a, id: String| m.webhooks().rotate_secret(&id);
    "webhooks.deliveries" => |m, a, id: String, limit: Option<u32>| m.webhooks().deliveries(&id, limit);
    "webhooks.redeliver" => |m, a, id: String, delivery: String| m.webhooks().redeliver(&id, &delivery);
    "domains.add" => |m, a, domain: String| m.domains().add(&domain);
    "domains.list" => |m, a| m.domains().list();
    "domains.get" => |m, a, id: String| m.domains().get(&id);
    "domains.verify" => |m, a, id: String| m.domains().verify(&id);
    "domains.delete" => |m, a, id: String| m.domains().delete(&id);
    "app.lookupIdentity" => |m, a, user_id: String| a.lookup_identity(&user_id);
    "app.sendMessage" => |m, a, message: NewMessage, key: Option<String>| a.send_message(&message, key.as_deref());
    "app.aiChat" => |m, a, request: Value| a.ai_chat(&request);
    "appWebhooks.create" => |m, a, webhook: NewWebhook| a.webhooks().create(&webhook);
    "appWebhooks.list" => |m, a| a.webhooks().list();
    "appWebhooks.get" => |m, a, id: String| a.webhooks().get(&id);
    "appWebhooks.delete" => |m, a, id: String| a.webhooks().delete(&id);
    "appWebhooks.rotateSecret" => |m, a, id: String| a.webhooks().rotate_secret(&id);
    "appWebhooks.deliveries" => |m, a, id: String, limit: Option<u32>| a.webhooks().deliveries(&id, limit);
    "appWebhooks.redeliver" => |m, a, id: String, delivery: String| a.webhooks().redeliver(&id, &delivery);
}

/// The arguments as a tuple; absent trailing arguments are `null`.
fn parse_args<T: DeserializeOwned>(operation: &str, args: Value, arity: usize) -> Result<T> {
    let mut list = match args {
        Value::Array(list) => list,
        Value::Null => Vec::new(),
        _ => {
            return Err(Error::InvalidInput(format!(
                "{operation}: arguments must be a list"
            )))
        }
    };
    if list.len() > arity {
        return Err(Error::InvalidInput(format!(
            "{operation} takes {arity} argument(s), got {}",
            list.len()
        )));
    }
    list.resize(arity, Value::Null);
    // A call without arguments deserializes `()`, which JSON spells `null`.
    let args = if arity == 0 {
        Value::Null
    } else {
        Value::Array(list)
    };
    serde_json::from_value(args).map_err(|e| Error::InvalidInput(format!("{operation}: {e}")))
}

fn to_json<T: Serialize>(value: T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::InvalidResponse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_unique_resource_dot_method_names() {
        let mut seen = std::collections::HashSet::new();
        for op in OPERATIONS {
            assert!(seen.insert(op), "{op} twice");
            let (resource, method) = op.split_once('.').expect(op);
            assert!(!resource.is_empty() && !method.is_empty());
        }
    }

    #[test]
    fn arguments_are_checked_before_any_request() {
        let e = parse_args::<(String,)>("apiKeys.get", serde_json::json!([1]), 1).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("apiKeys.get"), "{e}");
        let e =
            parse_args::<(String,)>("apiKeys.get", serde_json::json!(["a", "b"]), 1).unwrap_err();
        assert!(e.to_string().contains("takes 1"), "{e}");
        let (a, b): (String, Option<u32>) =
            parse_args("x.y", serde_json::json!(["id"]), 2).unwrap();
        assert_eq!((a.as_str(), b), ("id", None));
        let e = parse_args::<(NewAgent,)>(
            "agents.create",
            serde_json::json!([{ "name": "a", "nmae": "b" }]),
            1,
        )
        .unwrap_err();
        assert!(e.to_string().contains("nmae"), "{e}");
    }
}
