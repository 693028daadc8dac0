//! Field grammars shared by request validation and the OpenAPI document.
//!
//! Each grammar is a regular expression (plus, for some, a length bound) that
//! the server matches a value against, and that `/openapi.json` publishes as
//! the field's `pattern` (`#/components/schemas/<Name>`), so the two cannot
//! disagree: a value the document calls valid is accepted, and one it calls
//! invalid is refused. Where the server also parses the value (a URL, a
//! hostname), the grammar is the stricter of the two and is checked first, so
//! everything it admits also parses.
//!
//! Patterns are written in the subset that ECMA-262, Rust's `regex` and
//! Python's `re` read alike: explicit character classes (never `\s`, `\d` or
//! `\w`, whose meaning differs between them), `[\s\S]` for any character, and
//! `^…$` around the whole value.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// What Rust's `str::trim` removes: Unicode `White_Space`, spelled out.
pub const WHITESPACE: &str =
    r"\x09-\x0D \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Unicode `Cc`, what `char::is_control` refuses.
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

/// One field grammar: a pattern and an optional length bound in characters.
#[derive(Debug)]
pub struct Grammar {
    pattern: String,
    regex: Regex,
    max_length: Option<usize>,
    description: &'static str,
}

impl Grammar {
    fn new(pattern: String, max_length: Option<usize>, description: &'static str) -> Self {
        let regex = RegexBuilder::new(&pattern)
            .size_limit(1 << 24)
            .build()
            .unwrap_or_else(|e| panic!("field grammar `{pattern}`: {e}"));
        Self {
            pattern,
            regex,
            max_length,
            description,
        }
    }

    /// The published pattern.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether `value` is in the grammar.
    pub fn matches(&self, value: &str) -> bool {
        self.max_length
            .is_none_or(|max| value.chars().count() <= max)
            && self.regex.is_match(value)
    }

    /// The string schema the document publishes.
    pub fn schema(&self) -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(self.pattern.clone()))
            .max_length(self.max_length)
            .description(Some(self.description))
            .into()
    }
}

/// A string of at most `max` characters once `str::trim` has removed leading
/// and trailing whitespace; at least one when `non_empty`.
fn trimmed(non_empty: bool, max: usize) -> String {
    let ws = WHITESPACE;
    let inner = format!(r"[^{ws}]([\s\S]{{0,{}}}[^{ws}])?", max - 2);
    if non_empty {
        format!(r"^[{ws}]*{inner}[{ws}]*$")
    } else {
        format!(r"^[{ws}]*({inner})?[{ws}]*$")
    }
}

/// A DNS label of lowercase letters and digits, hyphens only inside and never
/// two in a row (so never an IDNA `xn--` label).
const LABEL: &str = r"[a-z0-9]+(-[a-z0-9]+)*";
/// The last label of a host name: it starts with a letter, so a URL parser
/// never reads the host as an IPv4 address.
const LAST_LABEL: &str = r"[a-z][a-z0-9]*(-[a-z0-9]+)*";
/// A dotted-quad IPv4 address without leading zeros.
const IPV4: &str = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}";
/// A port, 0-65535 (leading zeros allowed up to four digits).
const PORT: &str =
    r"([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
/// A port other than 443, as the URL standard serializes it.
const PORT_NOT_443: &str = r"(0|[1-9]|[1-9][0-9]|[1-35-9][0-9]{2}|4[0-35-9][0-9]|44[0-24-9]|[1-9][0-9]{3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
/// A port other than 80, as the URL standard serializes it.
const PORT_NOT_80: &str = r"(0|[1-9]|[1-79][0-9]|8[1-9]|[1-9][0-9]{2}|[1-9][0-9]{3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
/// Printable ASCII but `#` and space: a path and query with no fragment.
const PATH_CHAR: &str = r#"[!"$-~]"#;

fn host() -> String {
    format!(r"(({LABEL}\.)*{LAST_LABEL}|{IPV4})")
}

/// `name` of agents, API keys, apps and policies.
pub static NAME: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        trimmed(true, 100),
        None,
        "1-100 characters once leading and trailing whitespace is trimmed (it is stored trimmed)",
    )
});

/// `description` of agents and policies.
pub static DESCRIPTION: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        trimmed(false, 1000),
        None,
        "At most 1000 characters once leading and trailing whitespace is trimmed (it is stored trimmed)",
    )
});

/// `description` of webhook endpoints.
pub static WEBHOOK_DESCRIPTION: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        trimmed(false, 500),
        None,
        "At most 500 characters once trimmed; an empty one is no description",
    )
});

/// Why an operator changed a moderation state.
pub static REASON: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        trimmed(false, 500),
        None,
        "At most 500 characters once trimmed; an empty one is no reason",
    )
});

/// A plan's label (`free`, `pro`, `enterprise-2026`).
pub static PLAN_NAME: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        r"^[a-z0-9][a-z0-9_-]{0,39}$".to_owned(),
        None,
        "1-40 lowercase letters, digits, `_` or `-`, starting with a letter or digit",
    )
});

/// The account alias apps granted `profile.basic` see.
pub static ALIAS: LazyLock<Grammar> = LazyLock::new(|| {
    let ws = WHITESPACE;
    Grammar::new(
        format!(r"^[{ws}]*[^{ws}{CONTROL}]([^{CONTROL}]{{0,62}}[^{ws}{CONTROL}])?[{ws}]*$"),
        None,
        "1-64 characters once trimmed, with no control characters",
    )
});

/// A registered OAuth redirect URI (RFC 8252): `https`, loopback `http`, or
/// a private-use reverse-domain scheme; never a fragment.
pub static REDIRECT_URI: LazyLock<Grammar> = LazyLock::new(|| {
    let host = host();
    Grammar::new(
        format!(
            r#"^(https://{host}(:{PORT})?|http://(127\.0\.0\.1|\[::1\]|localhost)(:{PORT})?)(/{PATH_CHAR}*)?$|^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:/([!"$-.0-~]{PATH_CHAR}*)?$"#
        ),
        None,
        "An absolute URI without a fragment: https, http on a loopback host (127.0.0.1, [::1], localhost; RFC 8252 §7.3), or a reverse-domain private-use scheme such as `com.example.app:/cb` (RFC 8252 §7.1). Lowercase host names, printable ASCII",
    )
});

/// A web origin exactly as the URL standard serializes it.
pub static ORIGIN: LazyLock<Grammar> = LazyLock::new(|| {
    let host = host();
    Grammar::new(
        format!(r"^(https://{host}(:{PORT_NOT_443})?|http://{host}(:{PORT_NOT_80})?)/?$"),
        None,
        "A web origin, `scheme://host[:port]` as browsers send it in `Origin`: lowercase host, no default port, at most a trailing `/`",
    )
});

/// A webhook endpoint URL.
pub static WEBHOOK_URL: LazyLock<Grammar> = LazyLock::new(|| {
    let host = host();
    Grammar::new(
        format!(r"^https?://({host}|\[::1\])(:{PORT})?(/{PATH_CHAR}*)?$"),
        Some(2048),
        "An http(s) URL deliveries are POSTed to: lowercase host, printable ASCII, no credentials, no fragment. Outside dev and test mode it must also resolve to public addresses only",
    )
});

/// Label under which a domain's ownership challenge is published
/// (`_sigil-challenge.<domain>`).
pub const CHALLENGE_LABEL: &str = "_sigil-challenge";

/// Longest domain: its challenge name (`_sigil-challenge.<domain>`) must
/// still be a DNS name (at most 253 characters).
pub const MAX_DOMAIN_CHARS: usize = 253 - CHALLENGE_LABEL.len() - 1;

/// A domain an account claims.
pub static HOSTNAME: LazyLock<Grammar> = LazyLock::new(|| {
    let label = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let tld = r"[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    Grammar::new(
        format!(r"^({label}\.)+{tld}\.?$"),
        Some(MAX_DOMAIN_CHARS),
        "A hostname of two or more labels (letters, digits, inner hyphens; 1-63 each) whose last label starts with a letter, at most 236 characters (so its challenge name fits DNS); one trailing dot is dropped and it is stored lowercase",
    )
});

/// An email address a capability token is bound to.
pub static EMAIL: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$".to_owned(),
        Some(254),
        "An email address (ASCII); stored lowercase",
    )
});

/// The email address of the sign-in forms, which trim what the user typed.
pub static SIGNIN_EMAIL: LazyLock<Grammar> = LazyLock::new(|| {
    let ws = WHITESPACE;
    Grammar::new(
        format!(r"^[{ws}]*[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+[{ws}]*$"),
        Some(254),
        "An email address (ASCII), surrounding whitespace ignored; stored lowercase",
    )
});

/// `HH:MM`, 00:00-23:59.
pub static TIME_OF_DAY: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        r"^([01][0-9]|2[0-3]):[0-5][0-9]$".to_owned(),
        None,
        "`HH:MM`, 00:00-23:59",
    )
});

/// An audit page cursor: base64url (unpadded) of `a1:<seq>`, seq 1-18 digits.
pub static AUDIT_CURSOR: LazyLock<Grammar> = LazyLock::new(|| {
    // Three digits encode to four characters; each class is what the
    // digits' bits allow in that position.
    let lead = "(M[DTjz]|N[DTjz]|O[DT])";
    let three = format!("{lead}[AEIMQUYcgk][w-z0-5]");
    let one = "(M[AQgw]|N[AQgw]|O[AQ])";
    let two = format!("{lead}[AEIMQUYcgk]");
    Grammar::new(
        format!("^YTE6(({three}){{1,6}}|({three}){{0,5}}({one}|{two}))$"),
        None,
        "An opaque page cursor: `meta.nextCursor` of the previous page",
    )
});

/// Where the sign-in pages send the browser afterwards.
pub static RETURN_TO: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        format!(r"^(/([^/\\{CONTROL}][^\\{CONTROL}]*)?)?$"),
        None,
        "A path on this server (`/…`, not `//…`, no backslash or control characters); empty for none",
    )
});

/// An RFC 7636 S256 code challenge.
pub static CODE_CHALLENGE: LazyLock<Grammar> = LazyLock::new(|| {
    Grammar::new(
        r"^[A-Za-z0-9_-]{43}$".to_owned(),
        None,
        "BASE64URL(SHA-256(code_verifier)): 43 characters (RFC 7636)",
    )
});

/// An IP network as a key's allowlist takes it: an IPv4 or IPv6 CIDR, or a
/// single address (IPv6 without an embedded IPv4 part or zone).
pub static CIDR: LazyLock<Grammar> = LazyLock::new(|| {
    let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    let v4 = format!(r"({octet}\.){{3}}{octet}(/(3[0-2]|[12]?[0-9]))?");
    let h = "[0-9a-fA-F]{1,4}";
    let v6 = format!(
        "(({h}:){{7}}{h}|({h}:){{1,7}}:|({h}:){{1,6}}:{h}|({h}:){{1,5}}(:{h}){{1,2}}|\
         ({h}:){{1,4}}(:{h}){{1,3}}|({h}:){{1,3}}(:{h}){{1,4}}|({h}:){{1,2}}(:{h}){{1,5}}|\
         {h}:(:{h}){{1,6}}|:((:{h}){{1,7}}|:))(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?"
    );
    Grammar::new(
        format!("^({v4}|{v6})$"),
        None,
        "An IP network in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`) or one address",
    )
});

/// Declares schema types (`#/components/schemas/<Type>`) for grammars.
macro_rules! grammar_schemas {
    ($($ty:ident = $grammar:ident;)*) => {$(
        #[doc = concat!("The `", stringify!($ty), "` schema: [`", stringify!($grammar), "`].")]
        #[derive(Debug)]
        pub struct $ty;
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $grammar.schema().into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    )*};
}

grammar_schemas! {
    Name = NAME;
    Description = DESCRIPTION;
    WebhookDescription = WEBHOOK_DESCRIPTION;
    Alias = ALIAS;
    Reason = REASON;
    PlanName = PLAN_NAME;
    RedirectUri = REDIRECT_URI;
    Origin = ORIGIN;
    WebhookUrl = WEBHOOK_URL;
    Hostname = HOSTNAME;
    Email = EMAIL;
    SigninEmail = SIGNIN_EMAIL;
    TimeOfDayValue = TIME_OF_DAY;
    AuditCursor = AUDIT_CURSOR;
    ReturnTo = RETURN_TO;
    CodeChallenge = CODE_CHALLENGE;
    Cidr = CIDR;
}

/// A schema written as JSON (for what utoipa's derive cannot say, such as
/// `oneOf` between object shapes).
///
/// # Panics
/// When `value` is not a schema: a bug caught by the document's tests.
pub fn schema_from_json(value: serde_json::Value) -> RefOr<Schema> {
    serde_json::from_value(value).expect("a hand-written schema is a valid schema")
}

/// An enum of strings, as a schema.
pub fn string_enum<I: IntoIterator<Item = S>, S: Into<String>>(
    values: I,
    description: &str,
) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().map(Into::into)))
        .description(Some(description))
        .into()
}

/// Declares single-value schemas: `Type = json_value, "description";`.
macro_rules! const_schemas {
    ($($ty:ident = $value:expr, $desc:literal;)*) => {$(
        #[doc = concat!("Always `", stringify!($value), "`.")]
        #[derive(Debug)]
        pub struct $ty;
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                let value = serde_json::json!($value);
                let kind = if value.is_boolean() { "boolean" } else { "string" };
                schema_from_json(serde_json::json!({
                    "type": kind, "enum": [value], "description": $desc,
                }))
            }
        }
        impl utoipa::ToSchema for $ty {}
    )*};
}

const_schemas! {
    True = true, "Always `true`";
    False = false, "Always `false`";
    BearerTokenType = "Bearer", "Always `Bearer`";
}

/// A snake_case code (`reason`, `code`).
#[derive(Debug)]
pub struct Code;

impl utoipa::PartialSchema for Code {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[a-z][a-z0-9_]*$"))
            .description(Some("A stable snake_case code"))
            .into()
    }
}
impl utoipa::ToSchema for Code {}

/// A scope name the server knows, or one of its legacy aliases.
#[derive(Debug)]
pub struct Scope;

impl utoipa::PartialSchema for Scope {
    fn schema() -> RefOr<Schema> {
        let names = crate::core::scopes::ALL
            .iter()
            .chain(crate::core::scopes::ALIASES.iter().map(|(alias, _)| alias))
            .copied();
        string_enum(
            names,
            "A scope (`resource.action`), or a legacy alias (`identify`, `message`)",
        )
        .into()
    }
}
impl utoipa::ToSchema for Scope {}

/// A scope a key holds: a [`Scope`], or an operator scope, which only
/// `sigil-server create-key --operator` and fixtures grant.
#[derive(Debug)]
pub struct HeldScope;

impl utoipa::PartialSchema for HeldScope {
    fn schema() -> RefOr<Schema> {
        let names = crate::core::scopes::ALL
            .iter()
            .chain(crate::core::scopes::OPERATOR)
            .copied();
        string_enum(
            names,
            "A scope (`resource.action`); `operator.*` scopes act on every account",
        )
        .into()
    }
}
impl utoipa::ToSchema for HeldScope {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_exactly_what_trim_and_count_accept() {
        let accepts = |s: &str| {
            let t = s.trim();
            !t.is_empty() && t.chars().count() <= 100
        };
        let samples = [
            "a".to_owned(),
            " a ".to_owned(),
            "\u{3000}a\u{85}".to_owned(),
            "a b".to_owned(),
            "a\nb".to_owned(),
            "  ".to_owned(),
            String::new(),
            "\u{feff}".to_owned(),
            "\u{1c}".to_owned(),
            "x".repeat(100),
            "x".repeat(101),
            format!("  {}  ", "é".repeat(100)),
            format!("{}\t", "é".repeat(101)),
            "a\u{0}b".to_owned(),
        ];
        for s in &samples {
            assert_eq!(NAME.matches(s), accepts(s), "{s:?}");
        }
    }

    #[test]
    fn descriptions_and_aliases() {
        assert!(DESCRIPTION.matches(""));
        assert!(DESCRIPTION.matches("   "));
        assert!(DESCRIPTION.matches(&format!(" {} ", "y".repeat(1000))));
        assert!(!DESCRIPTION.matches(&"y".repeat(1001)));
        assert!(ALIAS.matches(" Ace "));
        assert!(ALIAS.matches("A c e"));
        assert!(!ALIAS.matches("A\tce"));
        assert!(ALIAS.matches("\tAce\n"));
        assert!(!ALIAS.matches("A\u{85}ce"));
        assert!(!ALIAS.matches(""));
        assert!(ALIAS.matches(&"z".repeat(64)));
        assert!(!ALIAS.matches(&"z".repeat(65)));
    }

    /// What `apps::check_origin` accepts, for an origin already in the
    /// grammar's alphabet.
    fn origin_ok(origin: &str) -> bool {
        url::Url::parse(origin)
            .is_ok_and(|u| u.origin().ascii_serialization() == origin.trim_end_matches('/'))
    }

    #[test]
    fn origins_match_the_url_standard_serialization_for_every_port() {
        for scheme in ["http", "https"] {
            for host in ["a.example", "127.0.0.1", "localhost"] {
                assert!(ORIGIN.matches(&format!("{scheme}://{host}")));
                assert!(ORIGIN.matches(&format!("{scheme}://{host}/")));
                for port in 0..=70_000u32 {
                    let origin = format!("{scheme}://{host}:{port}");
                    assert_eq!(ORIGIN.matches(&origin), origin_ok(&origin), "{origin}");
                }
                let zero_led = format!("{scheme}://{host}:0080");
                assert!(!ORIGIN.matches(&zero_led) && !origin_ok(&zero_led));
            }
        }
        for bad in [
            "https://a.example/path",
            "https://A.example",
            "https://a.example//",
            "https://010.0.0.1",
            "ftp://a.example",
            "null",
        ] {
            assert!(!ORIGIN.matches(bad), "{bad}");
        }
    }

    #[test]
    fn webhook_urls_and_hostnames() {
        for ok in [
            "http://127.0.0.1:9/hook",
            "https://hooks.example/in?x=1",
            "http://[::1]:8080/x",
            "http://localhost",
        ] {
            assert!(WEBHOOK_URL.matches(ok), "{ok}");
            let url = url::Url::parse(ok).unwrap();
            assert!(url.host().is_some() && url.username().is_empty());
        }
        for bad in [
            "ftp://a.example/",
            "http://user:pw@a.example/",
            "http://a.example/#x",
            " http://a.example/",
            "http://",
        ] {
            assert!(!WEBHOOK_URL.matches(bad), "{bad}");
        }
        assert!(!WEBHOOK_URL.matches(&format!("http://a.example/{}", "x".repeat(2048))));
        for ok in ["example.com", "Sub.Example.COM.", "a-1.b2.io"] {
            assert!(HOSTNAME.matches(ok), "{ok}");
        }
        for bad in [
            "example", "1.2.3.4", "-a.com", "a-.com", "a..com", " a.com", "a.com..",
        ] {
            assert!(!HOSTNAME.matches(bad), "{bad}");
        }
        for labels in [3, 4] {
            let long = format!("{}.com", vec!["a".repeat(63); labels].join("."));
            assert_eq!(HOSTNAME.matches(&long), long.len() <= 236, "{}", long.len());
        }
        assert_eq!(MAX_DOMAIN_CHARS, 236);
    }

    #[test]
    fn cursors_are_exactly_the_ones_the_server_issues() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        for seq in (0_i64..2000).chain([99_999, 123_456_789, 999_999_999_999_999_999]) {
            let cursor = URL_SAFE_NO_PAD.encode(format!("a1:{seq}"));
            assert!(AUDIT_CURSOR.matches(&cursor), "{seq} {cursor}");
        }
        for digits in ["007", "0", "+5", "-3", "1234567890123456789", "", "x"] {
            let cursor = URL_SAFE_NO_PAD.encode(format!("a1:{digits}"));
            let wanted = !digits.is_empty()
                && digits.len() <= 18
                && digits.bytes().all(|b| b.is_ascii_digit());
            assert_eq!(AUDIT_CURSOR.matches(&cursor), wanted, "{digits}");
        }
        assert!(!AUDIT_CURSOR.matches("42"));
    }

    #[test]
    fn emails_return_to_and_times() {
        assert!(EMAIL.matches("ada@example.com"));
        assert!(!EMAIL.matches("ada@localhost"));
        assert!(!EMAIL.matches(" ada@example.com"));
        assert!(SIGNIN_EMAIL.matches("  Ada@Example.COM "));
        assert!(RETURN_TO.matches(""));
        assert!(RETURN_TO.matches("/"));
        assert!(RETURN_TO.matches("/oauth/consent?x=1"));
        assert!(!RETURN_TO.matches("//evil.example"));
        assert!(!RETURN_TO.matches("/\\evil"));
        assert!(!RETURN_TO.matches("https://evil.example"));
        assert!(TIME_OF_DAY.matches("23:59"));
        assert!(!TIME_OF_DAY.matches("24:00"));
        assert!(!TIME_OF_DAY.matches("9:00"));
    }
}
