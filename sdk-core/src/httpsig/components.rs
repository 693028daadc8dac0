//! Component identifiers and their values (RFC 9421 §2.1, §2.2, §2.5).

use http::header::{HeaderMap, HeaderName};
use sfv::{BareItem, FieldType as _, Item, Parser, Version};

use super::{malformed, SignatureError};

/// What a component identifier refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Component {
    Method,
    TargetUri,
    Authority,
    Scheme,
    RequestTarget,
    Path,
    Query,
    /// The encoded query parameter name, as carried in `;name="…"`.
    QueryParam(String),
    /// A lowercase HTTP field name.
    Field(String),
}

/// A validated component identifier: what it refers to plus its sf-string item.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Covered {
    pub(super) kind: Component,
    pub(super) item: Item,
}

impl Covered {
    /// Validates a parsed component identifier (RFC 9421 §2).
    pub(super) fn from_item(item: Item) -> Result<Self, SignatureError> {
        let name = item
            .bare_item
            .as_string()
            .ok_or_else(|| malformed("component identifiers must be strings"))?
            .as_str()
            .to_owned();
        for key in item.params.keys() {
            if !(name == "@query-param" && key.as_str() == "name") {
                return Err(SignatureError::UnsupportedComponent(format!(
                    "{name};{}",
                    key.as_str()
                )));
            }
        }
        let kind = match name.as_str() {
            "@method" => Component::Method,
            "@target-uri" => Component::TargetUri,
            "@authority" => Component::Authority,
            "@scheme" => Component::Scheme,
            "@request-target" => Component::RequestTarget,
            "@path" => Component::Path,
            "@query" => Component::Query,
            "@query-param" => {
                let param = item
                    .params
                    .get("name")
                    .and_then(BareItem::as_string)
                    .ok_or_else(|| malformed("@query-param needs a string `name` parameter"))?;
                Component::QueryParam(param.as_str().to_owned())
            }
            _ if name.starts_with('@') => return Err(SignatureError::UnsupportedComponent(name)),
            _ => {
                if name.is_empty() || !name.bytes().all(is_tchar) {
                    return Err(malformed(format!("invalid field name {name:?}")));
                }
                if name.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(malformed(format!("field name {name:?} must be lowercase")));
                }
                Component::Field(name)
            }
        };
        Ok(Self { kind, item })
    }

    /// Parses the caller's form: `date`, `Content-Type` (lowercased),
    /// `@query-param;name="Pet"`, or an already quoted `"@path"`.
    pub(super) fn parse_user(component: &str) -> Result<Self, SignatureError> {
        let component = component.trim();
        let quoted = if component.starts_with('"') {
            component.to_owned()
        } else {
            let (name, params) = match component.split_once(';') {
                Some((name, params)) => (name, format!(";{params}")),
                None => (component, String::new()),
            };
            let name = name.trim().to_ascii_lowercase();
            if name.contains(['"', '\\']) {
                return Err(malformed(format!("invalid component {component:?}")));
            }
            format!("\"{name}\"{params}")
        };
        let item = Parser::new(&quoted)
            .with_version(Version::Rfc8941)
            .parse_item()
            .map_err(|e| malformed(format!("invalid component {component:?}: {e}")))?;
        Self::from_item(item)
    }

    /// The sf-string serialization used in the signature base, e.g. `"@path"`.
    fn identifier(&self) -> String {
        self.item.serialize()
    }

    /// The caller's form, e.g. `@query-param;name="Pet"`.
    pub(super) fn display(&self) -> String {
        let serialized = self.identifier();
        // Names never contain `"`, so the serialization is `"name"` + params.
        match serialized
            .strip_prefix('"')
            .and_then(|rest| rest.split_once('"'))
        {
            Some((name, params)) => format!("{name}{params}"),
            None => serialized,
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub(super) fn parse_components(components: &[String]) -> Result<Vec<Covered>, SignatureError> {
    let covered = components
        .iter()
        .map(|c| Covered::parse_user(c))
        .collect::<Result<Vec<_>, _>>()?;
    check_duplicates(&covered)?;
    Ok(covered)
}

pub(super) fn check_duplicates(covered: &[Covered]) -> Result<(), SignatureError> {
    for (i, c) in covered.iter().enumerate() {
        if covered.iter().take(i).any(|earlier| earlier.kind == c.kind) {
            return Err(malformed(format!(
                "component {} is covered twice",
                c.display()
            )));
        }
    }
    Ok(())
}

/// The request's scheme, lowercased; `https` when the URI has none.
fn scheme(req: &http::Request<Vec<u8>>) -> String {
    req.uri()
        .scheme_str()
        .map_or_else(|| "https".to_owned(), str::to_ascii_lowercase)
}

/// RFC 9421 §2.2.3: the authority, host lowercased, default port removed.
fn authority(req: &http::Request<Vec<u8>>, scheme: &str) -> Result<String, SignatureError> {
    let from_host;
    let authority = match req.uri().authority() {
        Some(authority) => authority,
        None => {
            let mut hosts = req.headers().get_all(http::header::HOST).iter();
            let host = match (hosts.next(), hosts.next()) {
                (Some(host), None) => host,
                (None, _) => return Err(SignatureError::MissingComponent("@authority".into())),
                (Some(_), Some(_)) => return Err(malformed("more than one Host field")),
            };
            from_host = host
                .to_str()
                .ok()
                .and_then(|h| h.trim().parse::<http::uri::Authority>().ok())
                .ok_or_else(|| malformed("invalid Host field"))?;
            &from_host
        }
    };
    let host = authority.host().to_ascii_lowercase();
    let default_port = match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    Ok(match authority.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host,
    })
}

/// RFC 9421 §2.2.6: the path, not decoded; empty becomes `/`.
fn path(req: &http::Request<Vec<u8>>) -> &str {
    match req.uri().path() {
        "" => "/",
        path => path,
    }
}

/// RFC 9421 §2.2.5: path and query as in an origin-form request line.
fn request_target(req: &http::Request<Vec<u8>>) -> String {
    match req.uri().query() {
        Some(query) => format!("{}?{query}", path(req)),
        None => path(req).to_owned(),
    }
}

/// RFC 9421 §2.2.8 / URL Standard "percent-encode after encoding" with the
/// `application/x-www-form-urlencoded` set. Spaces become `%20` (not `+`), as
/// in the RFC's own example (`with+plus+whitespace` → `with%20plus%20whitespace`).
fn form_encode(decoded: &str) -> String {
    let mut out = String::with_capacity(decoded.len());
    for b in decoded.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query_param(
    req: &http::Request<Vec<u8>>,
    name: &str,
    display: &str,
) -> Result<String, SignatureError> {
    let query = req.uri().query().unwrap_or("");
    let mut found = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if form_encode(&key) == name {
            if found.is_some() {
                // §2.2.8: a repeated parameter MUST NOT be covered by name.
                return Err(SignatureError::UnsupportedComponent(format!(
                    "{display} occurs more than once in the query"
                )));
            }
            found = Some(form_encode(&value));
        }
    }
    found.ok_or_else(|| SignatureError::MissingComponent(display.to_owned()))
}

/// RFC 9421 §2.1: all field lines of `name`, each trimmed, joined by `", "`.
///
/// `http::HeaderValue` cannot hold CR or LF, so obs-fold never reaches here;
/// values with non-ASCII bytes would need `;bs`, which is not supported.
pub(super) fn field_value(headers: &HeaderMap, name: &str) -> Result<String, SignatureError> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| malformed(format!("invalid field name {name:?}")))?;
    let mut joined: Option<String> = None;
    for value in headers.get_all(&header) {
        let value = value.to_str().map_err(|_| {
            SignatureError::UnsupportedComponent(format!("{name}: non-ASCII field value"))
        })?;
        let value = value.trim_matches([' ', '\t']);
        match joined.as_mut() {
            Some(joined) => {
                joined.push_str(", ");
                joined.push_str(value);
            }
            None => joined = Some(value.to_owned()),
        }
    }
    joined.ok_or_else(|| SignatureError::MissingComponent(name.to_owned()))
}

fn component_value(
    req: &http::Request<Vec<u8>>,
    covered: &Covered,
) -> Result<String, SignatureError> {
    match &covered.kind {
        Component::Method => Ok(req.method().as_str().to_owned()),
        Component::TargetUri => {
            let scheme = scheme(req);
            let authority = authority(req, &scheme).map_err(|e| match e {
                SignatureError::MissingComponent(_) => {
                    SignatureError::MissingComponent("@target-uri".into())
                }
                other => other,
            })?;
            Ok(format!("{scheme}://{authority}{}", request_target(req)))
        }
        Component::Authority => authority(req, &scheme(req)),
        Component::Scheme => Ok(scheme(req)),
        Component::RequestTarget => Ok(request_target(req)),
        Component::Path => Ok(path(req).to_owned()),
        Component::Query => Ok(format!("?{}", req.uri().query().unwrap_or(""))),
        Component::QueryParam(name) => query_param(req, name, &covered.display()),
        Component::Field(name) => field_value(req.headers(), name),
    }
}

/// RFC 9421 §2.5: one `identifier: value` line per component, then
/// `"@signature-params": …` without a trailing newline.
pub(super) fn build_base(
    req: &http::Request<Vec<u8>>,
    covered: &[Covered],
    signature_params: &str,
) -> Result<String, SignatureError> {
    let mut base = String::new();
    for c in covered {
        base.push_str(&c.identifier());
        base.push_str(": ");
        base.push_str(&component_value(req, c)?);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(signature_params);
    Ok(base)
}

/// Builds the RFC 9421 signature base of `req`.
///
/// `components` use the caller's form (`"@method"`, `"content-type"`,
/// `"@query-param;name=\"Pet\""`); `signature_params_value` is the serialized
/// inner list, e.g. `("@method");created=1618884473;keyid="k"`.
pub fn signature_base(
    req: &http::Request<Vec<u8>>,
    components: &[String],
    signature_params_value: &str,
) -> Result<String, SignatureError> {
    if signature_params_value.contains(['\r', '\n']) {
        return Err(malformed("signature parameters contain a line break"));
    }
    build_base(req, &parse_components(components)?, signature_params_value)
}
