//! Policies over agent-token issuance: the rule language, its validation and
//! its evaluation. Everything here is pure (time is an argument), so the
//! handlers pass the server clock and the tests pass any instant.
//!
//! Evaluation: of the owner's active policies, the one that decides is the
//! highest `priority` among those with a matching rule; on a tie a policy
//! whose matching rule denies goes first, then the newest. Within a policy a
//! matching `deny` rule wins, otherwise its first matching rule. No match
//! means the issuance goes ahead.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::core::scopes;

/// Lowest and highest `priority`.
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i64> = 0..=10_000;
/// `priority` when none is given.
pub const DEFAULT_PRIORITY: i64 = 100;
/// Most rules in one policy.
pub const MAX_RULES: usize = 100;
/// Most entries in one `match` list.
const MAX_LIST: usize = 100;
/// Longest `match` list entry, in characters.
const MAX_ENTRY_CHARS: usize = 200;
/// Longest throttle window, seconds (30 days).
const MAX_WINDOW_SECS: u64 = 30 * 86_400;

/// What a matching rule does to the issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Issue.
    Allow,
    /// Refuse with 403 `policy_denied`.
    Deny,
    /// Issue up to `limit.count` per `limit.window_secs` per agent.
    Throttle,
    /// Hold the request until the owner grants or rejects it.
    RequireApproval,
}

/// A daily window in UTC, `start` inclusive, `end` exclusive; it wraps
/// midnight when `end` is earlier than `start`, and equal ends are the whole
/// day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeOfDay {
    /// `HH:MM`.
    #[schema(value_type = crate::core::fields::TimeOfDayValue)]
    pub start: String,
    /// `HH:MM`.
    #[schema(value_type = crate::core::fields::TimeOfDayValue)]
    pub end: String,
    /// Only `UTC`.
    #[schema(value_type = TimeZone)]
    pub tz: String,
}

/// The only time zone windows are given in.
#[derive(Debug)]
pub struct TimeZone;

impl utoipa::PartialSchema for TimeZone {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum(["UTC"], "Only `UTC`").into()
    }
}
impl utoipa::ToSchema for TimeZone {}

/// A `match` list entry (agent id, owner id or target service).
#[derive(Debug)]
pub struct MatchEntry;

impl utoipa::PartialSchema for MatchEntry {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_ENTRY_CHARS))
            .into()
    }
}
impl utoipa::ToSchema for MatchEntry {}

/// What a rule applies to; every given criterion must hold, and an empty
/// match applies to every issuance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Agent ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<MatchEntry>>, min_items = 1, max_items = 100)]
    pub agents: Option<Vec<String>>,
    /// Owner account ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<MatchEntry>>, min_items = 1, max_items = 100)]
    pub owners: Option<Vec<String>>,
    /// Scope names or `resource.*`; matches when any requested scope does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<ScopePattern>>, min_items = 1, max_items = 100)]
    pub scopes: Option<Vec<String>>,
    /// Exact `target_service` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<MatchEntry>>, min_items = 1, max_items = 100)]
    pub target_services: Option<Vec<String>>,
    /// A daily UTC window.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::core::json::optional_object"
    )]
    pub time_of_day: Option<TimeOfDay>,
}

/// A throttle's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Issuances allowed per window.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub count: u32,
    /// Window length, seconds.
    #[schema(minimum = 1, maximum = 2_592_000)]
    pub window_secs: u64,
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// What happens when it matches.
    pub effect: Effect,
    /// When it matches.
    #[serde(
        rename = "match",
        default,
        deserialize_with = "crate::core::json::object"
    )]
    pub matcher: Match,
    /// Required for `throttle`, refused otherwise.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::core::json::optional_object"
    )]
    pub limit: Option<Limit>,
}

impl utoipa::PartialSchema for Rule {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let matcher = serde_json::json!({ "$ref": "#/components/schemas/Match" });
        crate::core::fields::schema_from_json(serde_json::json!({
            "description": "One rule. `limit` is required on a throttle rule and refused on any other",
            "oneOf": [
                {
                    "title": "ThrottleRule",
                    "type": "object",
                    "required": ["effect", "limit"],
                    "additionalProperties": false,
                    "properties": {
                        "effect": { "type": "string", "enum": ["throttle"] },
                        "match": matcher,
                        "limit": { "$ref": "#/components/schemas/Limit" },
                    },
                },
                {
                    "title": "DecidingRule",
                    "type": "object",
                    "required": ["effect"],
                    "additionalProperties": false,
                    "properties": {
                        "effect": { "type": "string", "enum": ["allow", "deny", "require_approval"] },
                        "match": matcher,
                        "limit": { "type": "null" },
                    },
                },
            ],
        }))
    }
}

impl utoipa::ToSchema for Rule {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema as _;
        schemas.push((Match::name().into(), Match::schema()));
        Match::schemas(schemas);
        schemas.push((Limit::name().into(), Limit::schema()));
    }
}

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `pol_…`.
    pub id: String,
    /// The account whose agents it governs.
    pub workspace_id: String,
    /// Human label.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// 0-10000; higher wins.
    pub priority: i64,
    /// The rules, in order.
    pub rules: Vec<Rule>,
    /// Only active policies are evaluated.
    pub is_active: bool,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds of the last change.
    pub updated_at: i64,
}

/// The issuance being evaluated.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The agent.
    pub agent_id: &'a str,
    /// Its owner.
    pub workspace_id: &'a str,
    /// Requested scopes (canonical names).
    pub scopes: &'a [String],
    /// Requested `target_service`.
    pub target_service: &'a str,
    /// Server time, UNIX seconds.
    pub now: i64,
}

/// `HH:MM` as minutes after midnight.
fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn check_list(field: &str, list: &Option<Vec<String>>) -> Result<(), String> {
    if let Some(list) = list {
        if list.is_empty() || list.len() > MAX_LIST {
            return Err(format!("match.{field} must hold 1-{MAX_LIST} entries"));
        }
        if list
            .iter()
            .any(|v| v.is_empty() || v.chars().count() > MAX_ENTRY_CHARS)
        {
            return Err(format!(
                "match.{field} entries must be 1-{MAX_ENTRY_CHARS} characters"
            ));
        }
    }
    Ok(())
}

/// Every valid `match.scopes` entry: each scope, each legacy alias, and
/// `resource.*` for each resource.
pub fn scope_patterns() -> Vec<String> {
    let mut out: Vec<String> = scopes::ALL.iter().map(|s| s.to_string()).collect();
    out.extend(scopes::ALIASES.iter().map(|(alias, _)| alias.to_string()));
    for scope in scopes::ALL {
        if let Some((resource, _)) = scope.split_once('.') {
            let wildcard = format!("{resource}.*");
            if !out.contains(&wildcard) {
                out.push(wildcard);
            }
        }
    }
    out
}

/// Whether `pattern` (a scope or `resource.*`) names something real.
fn valid_scope_pattern(pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(resource) => {
            !resource.is_empty()
                && scopes::ALL
                    .iter()
                    .any(|s| s.split_once('.').is_some_and(|(r, _)| r == resource))
        }
        None => scopes::canonical(pattern).is_some(),
    }
}

/// Checks rules strictly; the message says what is wrong and where. Scope
/// names are canonicalised (legacy aliases mapped) in place.
pub fn validate(rules: &mut [Rule]) -> Result<(), String> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(format!("rules must hold 1-{MAX_RULES} rules"));
    }
    for (i, rule) in rules.iter_mut().enumerate() {
        let at = |msg: String| format!("rules[{i}]: {msg}");
        let m = &mut rule.matcher;
        check_list("agents", &m.agents).map_err(at)?;
        check_list("owners", &m.owners).map_err(at)?;
        check_list("scopes", &m.scopes).map_err(at)?;
        check_list("target_services", &m.target_services).map_err(at)?;
        if let Some(list) = &mut m.scopes {
            for s in list.iter_mut() {
                if !valid_scope_pattern(s) {
                    return Err(at(format!(
                        "unknown scope `{s}` (give a scope name or `resource.*`)"
                    )));
                }
                if let Some(c) = scopes::canonical(s) {
                    *s = c.to_owned();
                }
            }
        }
        if let Some(t) = &m.time_of_day {
            if t.tz != "UTC" {
                return Err(at("time_of_day.tz must be \"UTC\"".into()));
            }
            // Equal ends are the whole day (from `start` round to `start`).
            if minutes(&t.start).is_none() || minutes(&t.end).is_none() {
                return Err(at(
                    "time_of_day.start and end must be HH:MM (00:00-23:59)".into()
                ));
            }
        }
        match (rule.effect, rule.limit) {
            (Effect::Throttle, None) => {
                return Err(at("a throttle rule needs limit {count, window_secs}".into()))
            }
            (Effect::Throttle, Some(l)) => {
                if l.count == 0 || l.count > 1_000_000 {
                    return Err(at("limit.count must be 1-1000000".into()));
                }
                if l.window_secs == 0 || l.window_secs > MAX_WINDOW_SECS {
                    return Err(at(format!("limit.window_secs must be 1-{MAX_WINDOW_SECS}")));
                }
            }
            (_, Some(_)) => return Err(at("limit is only allowed on a throttle rule".into())),
            (_, None) => {}
        }
    }
    Ok(())
}

fn scope_matches(pattern: &str, scope: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(resource) => scope.split_once('.').is_some_and(|(r, _)| r == resource),
        None => pattern == scope,
    }
}

fn in_window(t: &TimeOfDay, now: i64) -> bool {
    let (Some(start), Some(end)) = (minutes(&t.start), minutes(&t.end)) else {
        return false;
    };
    let minute = (now.rem_euclid(86_400) / 60) as u32;
    if start < end {
        start <= minute && minute < end
    } else {
        minute >= start || minute < end
    }
}

impl Rule {
    /// Whether the rule applies to `req`.
    pub fn matches(&self, req: &Request) -> bool {
        let m = &self.matcher;
        let within = |list: &Option<Vec<String>>, v: &str| {
            list.as_ref().is_none_or(|l| l.iter().any(|x| x == v))
        };
        within(&m.agents, req.agent_id)
            && within(&m.owners, req.workspace_id)
            && within(&m.target_services, req.target_service)
            && m.scopes.as_ref().is_none_or(|patterns| {
                patterns
                    .iter()
                    .any(|p| req.scopes.iter().any(|s| scope_matches(p, s)))
            })
            && m.time_of_day.as_ref().is_none_or(|t| in_window(t, req.now))
    }
}

impl Policy {
    /// The rule of this policy that applies to `req`: a matching deny,
    /// else the first matching rule.
    pub fn decisive_rule(&self, req: &Request) -> Option<&Rule> {
        let mut matching = self.rules.iter().filter(|r| r.matches(req));
        let first = matching.next()?;
        if first.effect == Effect::Deny {
            return Some(first);
        }
        Some(matching.find(|r| r.effect == Effect::Deny).unwrap_or(first))
    }
}

/// The deciding policy and rule for `req` among `policies` (inactive ones
/// are skipped), or `None` when nothing matches.
pub fn evaluate<'a>(policies: &'a [Policy], req: &Request) -> Option<(&'a Policy, &'a Rule)> {
    policies
        .iter()
        .filter(|p| p.is_active)
        .filter_map(|p| p.decisive_rule(req).map(|r| (p, r)))
        .max_by(|(a, ra), (b, rb)| {
            (a.priority, ra.effect == Effect::Deny, a.created_at, &b.id).cmp(&(
                b.priority,
                rb.effect == Effect::Deny,
                b.created_at,
                &a.id,
            ))
        })
}

/// Fixed-window counters for throttle rules, keyed by (policy, agent), in
/// memory and driven by the server clock (so they reset when the process
/// restarts).
#[derive(Debug, Default)]
pub struct Throttle {
    windows: Mutex<HashMap<(String, String), (i64, u32)>>,
}

/// Entries kept before expired windows are swept.
const THROTTLE_SWEEP_AT: usize = 10_000;

impl Throttle {
    /// Counts one issuance at `now`; `Err(retry_after_secs)` when the
    /// window's budget is spent.
    pub fn hit(&self, policy_id: &str, agent_id: &str, limit: Limit, now: i64) -> Result<(), u64> {
        let window = limit.window_secs as i64;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= THROTTLE_SWEEP_AT {
            windows.retain(|_, (start, _)| now - *start < MAX_WINDOW_SECS as i64);
        }
        let entry = windows
            .entry((policy_id.to_owned(), agent_id.to_owned()))
            .or_insert((now, 0));
        // A new window starts once the old one has passed (or the clock
        // moved back before it).
        if now >= entry.0 + window || now < entry.0 {
            *entry = (now, 0);
        }
        if entry.1 < limit.count {
            entry.1 += 1;
            Ok(())
        } else {
            Err((entry.0 + window - now).max(1) as u64)
        }
    }
}

/// A policy `match.scopes` entry: a scope, an alias or `resource.*`.
#[derive(Debug)]
pub struct ScopePattern;

impl utoipa::PartialSchema for ScopePattern {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum(
            scope_patterns(),
            "A scope, a legacy alias, or `resource.*` for every scope of a resource",
        )
        .into()
    }
}
impl utoipa::ToSchema for ScopePattern {}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> Rule {
        serde_json::from_value(json).unwrap()
    }

    fn policy(id: &str, priority: i64, created_at: i64, rules: Vec<Rule>) -> Policy {
        Policy {
            id: id.into(),
            workspace_id: "usr_1".into(),
            name: id.into(),
            description: None,
            priority,
            rules,
            is_active: true,
            created_at,
            updated_at: created_at,
        }
    }

    fn req<'a>(scopes: &'a [String], target: &'a str, now: i64) -> Request<'a> {
        Request {
            agent_id: "agt_1",
            workspace_id: "usr_1",
            scopes,
            target_service: target,
            now,
        }
    }

    /// 2030-01-01T00:00:00Z.
    const MIDNIGHT: i64 = 1_893_456_000;

    #[test]
    fn criteria_all_have_to_hold() {
        let send = vec!["messages.send".to_string()];
        let read = vec!["identity.read".to_string()];
        let r = rule(serde_json::json!({"effect": "deny", "match": {
            "agents": ["agt_1"], "owners": ["usr_1"], "scopes": ["messages.*"],
            "target_services": ["billing"]}}));
        assert!(r.matches(&req(&send, "billing", 0)));
        assert!(!r.matches(&req(&send, "any", 0)));
        assert!(!r.matches(&req(&read, "billing", 0)));
        let other_agent = Request {
            agent_id: "agt_2",
            ..req(&send, "billing", 0)
        };
        assert!(!r.matches(&other_agent));
        let other_owner = Request {
            workspace_id: "usr_2",
            ..req(&send, "billing", 0)
        };
        assert!(!r.matches(&other_owner));
        assert!(rule(serde_json::json!({"effect": "allow"})).matches(&req(&read, "x", 0)));
    }

    #[test]
    fn scope_patterns() {
        assert!(scope_matches("messages.*", "messages.send"));
        assert!(!scope_matches("messages.*", "messagesx.send"));
        assert!(!scope_matches("identity.*", "messages.send"));
        assert!(scope_matches("identity.read", "identity.read"));
        assert!(!scope_matches("identity.read", "identity.write"));
        assert!(valid_scope_pattern("keys.*"));
        assert!(!valid_scope_pattern("nope.*"));
        assert!(!valid_scope_pattern(".*"));
        assert!(!valid_scope_pattern("keys.rea*"));
    }

    #[test]
    fn time_windows_including_wrap_around_midnight() {
        let day = TimeOfDay {
            start: "09:00".into(),
            end: "17:00".into(),
            tz: "UTC".into(),
        };
        assert!(in_window(&day, MIDNIGHT + 9 * 3600));
        assert!(in_window(&day, MIDNIGHT + 17 * 3600 - 1));
        assert!(!in_window(&day, MIDNIGHT + 17 * 3600));
        assert!(!in_window(&day, MIDNIGHT + 8 * 3600 + 3599));
        let night = TimeOfDay {
            start: "23:00".into(),
            end: "01:00".into(),
            tz: "UTC".into(),
        };
        assert!(in_window(&night, MIDNIGHT + 23 * 3600 + 1800));
        assert!(in_window(&night, MIDNIGHT + 1800));
        assert!(!in_window(&night, MIDNIGHT + 3600));
        assert!(!in_window(&night, MIDNIGHT + 12 * 3600));
        assert_eq!(minutes("23:59"), Some(23 * 60 + 59));
        for bad in ["24:00", "9:00", "12:60", "12-00", "ab:cd", "+1:00"] {
            assert_eq!(minutes(bad), None, "{bad}");
        }
    }

    #[test]
    fn validation_is_strict() {
        let check = |v: serde_json::Value| {
            serde_json::from_value::<Vec<Rule>>(v)
                .map_err(|e| e.to_string())
                .and_then(|mut rules| validate(&mut rules))
        };
        assert!(check(serde_json::json!([{"effect": "allow"}])).is_ok());
        assert!(check(serde_json::json!([])).is_err());
        assert!(check(serde_json::json!([{"effect": "maybe"}])).is_err());
        assert!(check(serde_json::json!([{"effect": "allow", "when": {}}])).is_err());
        assert!(check(serde_json::json!([{"effect": "allow", "match": {"agent": []}}])).is_err());
        assert!(check(serde_json::json!([{"effect": "throttle"}])).is_err());
        assert!(check(
            serde_json::json!([{"effect": "deny", "limit": {"count": 1, "window_secs": 1}}])
        )
        .is_err());
        assert!(check(
            serde_json::json!([{"effect": "throttle", "limit": {"count": 0, "window_secs": 1}}])
        )
        .is_err());
        let tod = |start: &str, tz: &str| serde_json::json!([{"effect": "deny", "match": {"time_of_day": {"start": start, "end": "01:00", "tz": tz}}}]);
        assert!(check(tod("23:00", "UTC")).is_ok());
        assert!(check(tod("25:00", "UTC")).is_err());
        // Equal ends: the whole day.
        assert!(check(tod("01:00", "UTC")).is_ok());
        assert!(check(tod("23:00", "Europe/Paris")).is_err());
        let mut aliased: Vec<Rule> = serde_json::from_value(
            serde_json::json!([{"effect": "deny", "match": {"scopes": ["message"]}}]),
        )
        .unwrap();
        validate(&mut aliased).unwrap();
        assert_eq!(
            aliased[0].matcher.scopes.as_deref(),
            Some(&["messages.send".to_string()][..])
        );
    }

    #[test]
    fn priority_then_deny_then_newest_decides() {
        let scopes = vec!["messages.send".to_string()];
        let r = req(&scopes, "any", 0);
        let allow = || rule(serde_json::json!({"effect": "allow"}));
        let deny = || rule(serde_json::json!({"effect": "deny"}));
        let ps = vec![
            policy("low", 10, 1, vec![deny()]),
            policy("high", 20, 0, vec![allow()]),
        ];
        assert_eq!(evaluate(&ps, &r).unwrap().0.id, "high");
        let ps = vec![
            policy("a", 10, 5, vec![allow()]),
            policy("d", 10, 1, vec![deny()]),
        ];
        assert_eq!(evaluate(&ps, &r).unwrap().0.id, "d");
        let ps = vec![
            policy("old", 10, 1, vec![allow()]),
            policy("new", 10, 2, vec![allow()]),
        ];
        assert_eq!(evaluate(&ps, &r).unwrap().0.id, "new");
        let mut inactive = policy("off", 99, 1, vec![deny()]);
        inactive.is_active = false;
        assert!(evaluate(&[inactive], &r).is_none());
        // Within a policy, a matching deny beats an earlier allow.
        let both = policy("both", 1, 1, vec![allow(), deny()]);
        assert_eq!(both.decisive_rule(&r).unwrap().effect, Effect::Deny);
        let unmatched = rule(serde_json::json!({"effect": "deny", "match": {"agents": ["agt_9"]}}));
        assert!(evaluate(&[policy("p", 1, 1, vec![unmatched])], &r).is_none());
    }

    #[test]
    fn throttle_counts_per_policy_and_agent_and_resets_with_the_window() {
        let t = Throttle::default();
        let limit = Limit {
            count: 2,
            window_secs: 60,
        };
        assert!(t.hit("p", "a", limit, 1000).is_ok());
        assert!(t.hit("p", "a", limit, 1010).is_ok());
        assert_eq!(t.hit("p", "a", limit, 1020), Err(40));
        assert!(t.hit("p", "b", limit, 1020).is_ok());
        assert!(t.hit("q", "a", limit, 1020).is_ok());
        assert!(t.hit("p", "a", limit, 1060).is_ok());
    }
}
