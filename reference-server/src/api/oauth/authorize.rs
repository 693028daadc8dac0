//! The authorization endpoint and the consent screen (RFC 6749 §4.1,
//! RFC 7636, RFC 9207, RFC 8252 §7.3). Until the client and its redirect URI
//! are known good, errors are shown to the user and never redirected; after
//! that they go back to the client with `error`, `state` and `iss`.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::code;
use super::grants;
use super::request::Authorization;
use crate::api::signin::{self, BrowserSession};
use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::crypto;
use crate::error::OAuthError;
use crate::http::pages::{self, ConsentPage, HtmlForm, PageError, ScopeLine};
use crate::store::StoreError;

/// Why an authorization request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// The client or redirect URI is unknown: tell the user, do not redirect.
    Page(PageError),
    /// Tell the client, at its validated redirect URI.
    Redirect {
        /// Where to send the browser.
        to: String,
        /// RFC 6749 error code.
        error: &'static str,
        /// What was wrong.
        description: String,
    },
}

impl From<PageError> for Refusal {
    fn from(e: PageError) -> Self {
        Refusal::Page(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Page(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(e) => e.into_response(),
            Refusal::Redirect { to, .. } => pages::found(&to),
        }
    }
}

/// Whether `presented` may be used for the registered URI `registered`:
/// exact string equality, except that for `http://127.0.0.1` and
/// `http://[::1]` any port matches (RFC 8252 §7.3: native apps get an
/// ephemeral port). `localhost` gets no exception (RFC 8252 §8.3).
pub fn redirect_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    match (loopback_parts(registered), loopback_parts(presented)) {
        (Some(r), Some(p)) => r == p,
        _ => false,
    }
}

/// A loopback URI without its port: (`http://127.0.0.1`, `/path?query`).
fn loopback_parts(uri: &str) -> Option<(&'static str, &str)> {
    for host in ["http://127.0.0.1", "http://[::1]"] {
        let Some(rest) = uri.strip_prefix(host) else {
            continue;
        };
        let rest = match rest.strip_prefix(':') {
            Some(after) => {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                let port: u16 = after[..digits].parse().ok()?;
                if port == 0 {
                    return None;
                }
                &after[digits..]
            }
            None => rest,
        };
        // Anything else after the host (`.evil.example`, `@evil.example`)
        // would be another host.
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
            return Some((host, rest));
        }
        return None;
    }
    None
}

/// `uri` with `params` appended to its query (an existing query is kept,
/// RFC 6749 §3.1.2).
fn with_params(uri: &str, params: &[(&str, &str)]) -> Result<String, PageError> {
    let mut url = url::Url::parse(uri)
        .map_err(|_| PageError::bad_request("The app's redirect URI is not a valid URL."))?;
    url.query_pairs_mut().extend_pairs(params);
    Ok(url.into())
}

/// Request parameters; a repeated one is refused (RFC 6749 §3.1).
fn params(pairs: &[(String, String)]) -> Result<HashMap<&str, &str>, PageError> {
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.as_str(), v.as_str()).is_some() {
            let name: String = k.chars().take(40).collect();
            return Err(PageError::bad_request(format!(
                "The parameter `{name}` is repeated."
            )));
        }
    }
    Ok(map)
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// An S256 challenge is BASE64URL(SHA-256(verifier)): exactly 43 characters.
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Validates an authorization request.
pub async fn validate(state: &AppState, p: &HashMap<&str, &str>) -> Result<Authorization, Refusal> {
    let get = |k: &str| p.get(k).copied().filter(|v| !v.is_empty());
    let client_id =
        get("client_id").ok_or_else(|| PageError::bad_request("The request has no client_id."))?;
    let app = state.store.app(client_id).await?.ok_or_else(|| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "The app asking for access is not registered here.",
        )
    })?;
    let redirect_uri = get("redirect_uri")
        .ok_or_else(|| PageError::bad_request("The request has no redirect_uri."))?;
    if !app
        .redirect_uris
        .iter()
        .any(|r| redirect_matches(r, redirect_uri))
    {
        return Err(PageError::bad_request(
            "The redirect_uri is not registered for this app, so we will not send you there.",
        )
        .into());
    }
    // From here on, errors go back to the client.
    let client_state = get("state").map(str::to_owned);
    let refuse = |error: &'static str, description: &str| -> Refusal {
        match error_redirect(
            state,
            redirect_uri,
            error,
            description,
            client_state.as_deref(),
        ) {
            Ok(to) => Refusal::Redirect {
                to,
                error,
                description: description.to_owned(),
            },
            Err(e) => Refusal::Page(e),
        }
    };
    if get("response_type") != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "response_type must be `code`",
        ));
    }
    let Some(challenge) = get("code_challenge") else {
        return Err(refuse(
            "invalid_request",
            "code_challenge is required (PKCE with S256)",
        ));
    };
    match get("code_challenge_method") {
        Some(sigil::pkce::S256) => {}
        Some(_) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256; plain is not supported",
            ))
        }
        None => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method is required and must be S256",
            ))
        }
    }
    if !is_s256_challenge(challenge) {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be BASE64URL(SHA-256(code_verifier)), 43 characters",
        ));
    }
    let scopes =
        grants::narrow(get("scope"), &app.scopes).map_err(|e| refuse(e.error, &e.description))?;
    Ok(Authorization {
        redirect_uri: redirect_uri.to_owned(),
        app,
        scopes,
        state: client_state.clone(),
        code_challenge: challenge.to_owned(),
    })
}

/// `redirect_uri?error=…&error_description=…&state=…&iss=…`.
fn error_redirect(
    state: &AppState,
    redirect_uri: &str,
    error: &str,
    description: &str,
    client_state: Option<&str>,
) -> Result<String, PageError> {
    let issuer = state.config.issuer();
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = client_state {
        params.push(("state", s));
    }
    params.push(("iss", &issuer));
    with_params(redirect_uri, &params)
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// An authorization request's parameters (RFC 6749 §4.1.1, RFC 7636);
/// an empty one is absent, a repeated one is refused.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read from the raw query by [`params`].
pub struct AuthorizeParams {
    /// Only `code`.
    #[param(value_type = ResponseType)]
    response_type: String,
    /// The app's id.
    client_id: String,
    /// One of the app's registered redirect URIs (loopback ports excepted).
    redirect_uri: String,
    /// Space-separated scopes; default: all of the app's.
    scope: Option<String>,
    /// Echoed back to the client.
    state: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)).
    #[param(value_type = crate::core::fields::CodeChallenge)]
    code_challenge: String,
    /// Only `S256`.
    #[param(value_type = ChallengeMethod)]
    code_challenge_method: String,
}

/// `response_type`: only `code`.
#[derive(Debug)]
pub struct ResponseType;

impl utoipa::PartialSchema for ResponseType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum(["code"], "Only `code`").into()
    }
}
impl utoipa::ToSchema for ResponseType {}

/// `code_challenge_method`: only `S256`.
#[derive(Debug)]
pub struct ChallengeMethod;

impl utoipa::PartialSchema for ChallengeMethod {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum(["S256"], "Only `S256`; `plain` is refused").into()
    }
}
impl utoipa::ToSchema for ChallengeMethod {}

/// What a client learns of an authorization request before the user
/// decides (`#/components/schemas/ConsentMetadata`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: [`metadata`] writes it.
pub struct ConsentMetadata {
    /// The app asking.
    client: ConsentClient,
    /// The scopes the user is asked for.
    scopes: Vec<String>,
    /// What each scope means, for the user.
    scope_descriptions: std::collections::BTreeMap<String, String>,
    /// The validated redirect URI.
    redirect_uri: String,
    /// The client's `state`.
    state: Option<String>,
}

/// The app in [`ConsentMetadata`].
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ConsentClient {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
}

/// `GET /oauth/authorize`: a browser goes on to the consent screen with the
/// same query; `Accept: application/json` gets the consent metadata instead.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    operation_id = "authorize",
    tag = "oauth",
    params(AuthorizeParams),
    responses(
        (status = 200, description = "With `Accept: application/json`: the consent metadata", body = ConsentMetadata),
        (status = 302, description = "A browser: on to /oauth/consent with the same query; or, once the client and redirect URI are known good, back to the client with `error`, `error_description`, `state` and `iss` (RFC 9207)", headers(("Location" = String, description = "Where to go"))),
        (status = 400, description = "An unknown client, an unregistered redirect URI or a repeated parameter: shown, never redirected (with `Accept: application/json`: an RFC 6749 error, also for what a browser would be redirected with)", content(
            (String = "text/html"),
            (crate::error::OAuthErrorSchema = "application/json"),
        )),
    )
)]
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let checked = match params(&pairs) {
        Ok(p) => validate(&state, &p).await,
        Err(e) => Err(e.into()),
    };
    if wants_json(&headers) {
        return match checked {
            Ok(auth) => Json(metadata(&auth)).into_response(),
            Err(Refusal::Page(e)) => OAuthError::new(e.status, e.error, e.message).into_response(),
            Err(Refusal::Redirect {
                error, description, ..
            }) => OAuthError::new(StatusCode::BAD_REQUEST, error, description).into_response(),
        };
    }
    match checked {
        Ok(_) => pages::found(&format!(
            "/oauth/consent?{}",
            raw.as_deref().unwrap_or_default()
        )),
        Err(refusal) => refusal.into_response(),
    }
}

fn metadata(auth: &Authorization) -> Value {
    let descriptions: Map<String, Value> = auth
        .scopes
        .iter()
        .map(|s| (s.clone(), pages::scope_description(s).into()))
        .collect();
    json!({
        "client": { "id": auth.app.id, "name": auth.app.name },
        "scopes": auth.scopes,
        "scope_descriptions": descriptions,
        "redirect_uri": auth.redirect_uri,
        "state": auth.state,
    })
}

/// `GET /oauth/consent`: signs the user in first if needed, then asks.
#[utoipa::path(
    get,
    path = "/oauth/consent",
    operation_id = "getConsent",
    tag = "oauth",
    params(AuthorizeParams),
    responses(
        (status = 200, description = "The consent page", body = String, content_type = "text/html"),
        (status = 302, description = "Not signed in: to /signin, returning here; or back to the client with an error, as from /oauth/authorize", headers(("Location" = String, description = "Where to go"))),
        (status = 400, description = "An unknown client, an unregistered redirect URI or a repeated parameter (never redirected)"),
    )
)]
pub async fn consent_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Refusal> {
    let pairs = query_pairs(raw.as_deref());
    let auth = validate(&state, &params(&pairs)?).await?;
    let Some(session) = signin::session(&state, &headers).await? else {
        let here = format!("/oauth/consent?{}", raw.as_deref().unwrap_or_default());
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", &here)
            .finish();
        return Ok(pages::found(&format!("/signin?{query}")));
    };
    Ok(render_consent(&auth, &session))
}

fn render_consent(auth: &Authorization, session: &BrowserSession) -> Response {
    let scope = auth.scopes.join(" ");
    let mut hidden = vec![
        ("response_type", "code"),
        ("client_id", auth.app.id.as_str()),
        ("redirect_uri", auth.redirect_uri.as_str()),
        ("scope", scope.as_str()),
        ("code_challenge", auth.code_challenge.as_str()),
        ("code_challenge_method", sigil::pkce::S256),
    ];
    if let Some(s) = &auth.state {
        hidden.push(("state", s.as_str()));
    }
    // Host and port: on loopback the port is what tells programs apart.
    let redirect_host = url::Url::parse(&auth.redirect_uri)
        .ok()
        .map(|u| match (u.host_str(), u.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => u.scheme().to_owned(),
        })
        .unwrap_or_default();
    let page = ConsentPage {
        title: "Authorize",
        app_name: &auth.app.name,
        redirect_host: &redirect_host,
        email: &session.user.email,
        scopes: auth
            .scopes
            .iter()
            .map(|s| ScopeLine {
                name: s,
                description: pages::scope_description(s),
            })
            .collect(),
        hidden,
        csrf: &pages::csrf_token(&session.cookie),
    };
    pages::html(StatusCode::OK, &page)
}

/// The consent form (`#/components/schemas/ConsentForm`): the authorization
/// request's parameters again, with the decision.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // Read as pairs by [`consent`].
pub struct ConsentForm {
    /// `approve` or `deny`.
    #[schema(value_type = Decision)]
    decision: String,
    /// The page's form token (bound to the session).
    csrf: String,
    /// As in the authorization request.
    response_type: String,
    /// As in the authorization request.
    client_id: String,
    /// As in the authorization request.
    redirect_uri: String,
    /// As in the authorization request.
    scope: Option<String>,
    /// As in the authorization request.
    state: Option<String>,
    /// As in the authorization request.
    code_challenge: String,
    /// As in the authorization request.
    code_challenge_method: String,
}

/// The user's decision.
#[derive(Debug)]
pub struct Decision;

impl utoipa::PartialSchema for Decision {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum(["approve", "deny"], "`approve` or `deny`").into()
    }
}
impl utoipa::ToSchema for Decision {}

/// `POST /oauth/consent`: approve or deny. Needs the session and its form
/// token; approval records the consent and sends a code back.
#[utoipa::path(
    post,
    path = "/oauth/consent",
    operation_id = "postConsent",
    tag = "oauth",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Back to the client with `code` (or `error=access_denied`), `state` and `iss`", headers(("Location" = String, description = "The client's redirect URI with the answer"))),
        (status = 400, description = "No decision, an invalid request (never redirected), or a malformed form"),
        (status = 403, description = "Not signed in, or a missing or wrong form token"),
    )
)]
pub async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    HtmlForm(pairs): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let p = params(&pairs)?;
    let Some(session) = signin::session(&state, &headers).await? else {
        return Err(PageError::forbidden("Sign in first, then approve the request again.").into());
    };
    if !pages::csrf_ok(&session.cookie, p.get("csrf").copied()) {
        return Err(PageError::forbidden(
            "This form did not come from this site, or it expired. Start again from the app.",
        )
        .into());
    }
    let auth = validate(&state, &p).await?;
    let issuer = state.config.issuer();
    let mut back: Vec<(&str, &str)> = Vec::new();
    let code;
    match p.get("decision").copied() {
        Some("approve") => {
            state
                .store
                .record_consent(
                    &session.user.id,
                    &auth.app.id,
                    &auth.scopes,
                    state.clock.now(),
                )
                .await?;
            code = code::issue(&state, &auth, &session.user.id).await?;
            state
                .audit
                .record(
                    Event::new("consent.granted")
                        .account(&session.user.id)
                        .actor(&session.user.id)
                        .subject(&auth.app.id)
                        .data(json!({ "scopes": auth.scopes })),
                )
                .await?;
            // The app learns the user only by its pairwise slug.
            let slug = crypto::pairwise_sub(&state.pairwise_secret, &auth.app.id, &session.user.id);
            state
                .webhooks
                .emit_in_app(
                    &auth.app.workspace_id,
                    &auth.app.id,
                    "identity.approved",
                    json!({ "appId": auth.app.id, "userId": slug, "scopes": auth.scopes }),
                )
                .await?;
            back.push(("code", &code));
        }
        Some("deny") => {
            state
                .audit
                .record(
                    Event::new("consent.denied")
                        .account(&session.user.id)
                        .actor(&session.user.id)
                        .subject(&auth.app.id)
                        .data(json!({ "scopes": auth.scopes })),
                )
                .await?;
            back.push(("error", "access_denied"));
            back.push(("error_description", "the user denied the request"));
        }
        _ => return Err(PageError::bad_request("Choose Approve or Deny.").into()),
    }
    if let Some(s) = &auth.state {
        back.push(("state", s));
    }
    back.push(("iss", &issuer));
    Ok(pages::found(&with_params(&auth.redirect_uri, &back)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_match_exactly_except_loopback_ports() {
        let reg = "https://app.example/cb";
        assert!(redirect_matches(reg, reg));
        for bad in [
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://app.example:443/cb",
            "https://APP.example/cb",
            "https://app.example/CB",
            "http://app.example/cb",
        ] {
            assert!(!redirect_matches(reg, bad), "{bad}");
        }
        let lo = "http://127.0.0.1/cb";
        assert!(redirect_matches(lo, "http://127.0.0.1:53187/cb"));
        assert!(redirect_matches(
            "http://127.0.0.1:3000/cb",
            "http://127.0.0.1:9/cb"
        ));
        assert!(redirect_matches("http://[::1]/cb", "http://[::1]:8080/cb"));
        for bad in [
            "http://127.0.0.1:53187/other",
            "http://127.0.0.1.evil.example/cb",
            "http://127.0.0.1@evil.example/cb",
            "http://127.0.0.1:0/cb",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:/cb",
            "https://127.0.0.1:8080/cb",
            "http://[::1]:8080/cb",
        ] {
            assert!(!redirect_matches(lo, bad), "{bad}");
        }
        assert!(!redirect_matches(
            "http://localhost/cb",
            "http://localhost:8080/cb"
        ));
    }

    #[test]
    fn error_params_keep_the_existing_query() {
        let out = with_params("https://app.example/cb?tenant=a", &[("error", "x y")]).unwrap();
        assert_eq!(out, "https://app.example/cb?tenant=a&error=x+y");
    }
}
