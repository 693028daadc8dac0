//! Scopes (`resource.action`), presets and legacy aliases.

/// Every scope the server knows.
pub const ALL: &[&str] = &[
    "account.read",
    "account.write",
    "agents.read",
    "agents.write",
    "ai.chat",
    "apps.read",
    "apps.write",
    "audit.read",
    "identity.read",
    "keys.read",
    "keys.write",
    "messages.send",
    "policies.read",
    "policies.write",
    "profile.basic",
    "reports.write",
    "tokens.issue",
    "webhooks.read",
    "webhooks.write",
    "workspaces.admin",
    "workspaces.read",
];

/// Operator scopes: they act on every account (moderation, plans), so no
/// preset holds them and `POST /v1/api-keys` never grants them; only
/// `sigil-server create-key --operator` and a fixtures file do.
pub const OPERATOR: &[&str] = &["operator.billing", "operator.moderation"];

/// The legacy aliases and the scope each stands for.
pub const ALIASES: &[(&str, &str)] = &[("identify", "identity.read"), ("message", "messages.send")];

/// Canonical name of a scope, mapping the legacy aliases.
pub fn canonical(scope: &str) -> Option<&'static str> {
    let scope = ALIASES
        .iter()
        .find(|(alias, _)| *alias == scope)
        .map_or(scope, |(_, canonical)| canonical);
    ALL.iter().copied().find(|s| *s == scope)
}

/// The scopes of a preset: `read` = every `*.read`; `write` = read plus
/// every `*.write` except account administration; `full` = everything
/// (workspace settings and members, `workspaces.admin`, only there).
pub fn preset(name: &str) -> Option<Vec<String>> {
    let pick =
        |f: &dyn Fn(&str) -> bool| ALL.iter().filter(|s| f(s)).map(|s| s.to_string()).collect();
    match name {
        "read" => Some(pick(&|s| s.ends_with(".read"))),
        "write" => Some(pick(&|s| {
            s.ends_with(".read") || (s.ends_with(".write") && !s.starts_with("account."))
        })),
        "full" => Some(pick(&|_| true)),
        _ => None,
    }
}

/// Parses a list of scope names, refusing unknown ones.
pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let c = canonical(n.as_ref()).ok_or_else(|| format!("unknown scope `{}`", n.as_ref()))?;
        if !out.iter().any(|s| s == c) {
            out.push(c.to_owned());
        }
    }
    Ok(out)
}

/// [`parse_list`] that also takes the [`OPERATOR`] scopes (fixtures only).
pub fn parse_operator_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<String>, String> {
    let (operator, rest): (Vec<&str>, Vec<&str>) = names
        .iter()
        .map(AsRef::as_ref)
        .partition(|n| OPERATOR.contains(n));
    let mut out = parse_list(&rest)?;
    for n in operator {
        if !out.iter().any(|s| s == n) {
            out.push(n.to_owned());
        }
    }
    Ok(out)
}

/// Parses a space-separated `scope` parameter.
pub fn parse_param(param: &str) -> Result<Vec<String>, String> {
    parse_list(&param.split_whitespace().collect::<Vec<_>>())
}

/// Whether every scope in `wanted` is in `held`.
pub fn is_subset(wanted: &[String], held: &[String]) -> bool {
    wanted.iter().all(|w| held.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_follow_the_rules() {
        let read = preset("read").unwrap();
        assert!(read.iter().all(|s| s.ends_with(".read")));
        let write = preset("write").unwrap();
        assert!(write.contains(&"keys.write".to_string()));
        assert!(!write.contains(&"account.write".to_string()));
        assert_eq!(preset("full").unwrap().len(), ALL.len());
        assert!(preset("admin").is_none());
    }

    #[test]
    fn aliases_and_unknown_scopes() {
        assert_eq!(
            parse_param("identify message").unwrap(),
            ["identity.read", "messages.send"]
        );
        assert!(parse_param("keys.read root").is_err());
        assert_eq!(parse_list(&["keys.read", "keys.read"]).unwrap().len(), 1);
    }
}
