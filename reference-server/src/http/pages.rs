//! Server-rendered HTML for the browser flow (sign-in, consent, errors).
//! Askama templates escape every value, so nothing here builds markup by
//! hand; every page forbids framing (clickjacking on consent) and caching.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::core::crypto;
use crate::store::StoreError;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; \
                   base-uri 'none'";

/// The email form.
#[derive(Debug, Template)]
#[template(path = "signin.html")]
pub struct SigninPage<'a> {
    /// Page title.
    pub title: &'a str,
    /// Prefilled address.
    pub email: &'a str,
    /// Where to go once signed in (already checked to be same-origin).
    pub return_to: &'a str,
    /// Form token.
    pub csrf: &'a str,
    /// Why the last attempt failed.
    pub error: Option<&'a str>,
}

/// The code form.
#[derive(Debug, Template)]
#[template(path = "verify.html")]
pub struct VerifyPage<'a> {
    /// Page title.
    pub title: &'a str,
    /// The address the code went to.
    pub email: &'a str,
    /// Where to go once signed in.
    pub return_to: &'a str,
    /// Form token.
    pub csrf: &'a str,
    /// Why the last attempt failed.
    pub error: Option<&'a str>,
}

/// Shown after sign-in when there is nowhere to return to.
#[derive(Debug, Template)]
#[template(path = "signed_in.html")]
pub struct SignedInPage<'a> {
    /// Page title.
    pub title: &'a str,
    /// Who signed in.
    pub email: &'a str,
}

/// One requested scope, as the consent screen lists it.
#[derive(Debug)]
pub struct ScopeLine<'a> {
    /// `resource.action`.
    pub name: &'a str,
    /// What it lets the app do.
    pub description: &'static str,
}

/// The consent screen.
#[derive(Debug, Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    /// Page title.
    pub title: &'a str,
    /// The app's registered name.
    pub app_name: &'a str,
    /// Where the browser goes next.
    pub redirect_host: &'a str,
    /// The signed-in user.
    pub email: &'a str,
    /// What the app asks for.
    pub scopes: Vec<ScopeLine<'a>>,
    /// The authorization request, carried to the POST.
    pub hidden: Vec<(&'a str, &'a str)>,
    /// Form token.
    pub csrf: &'a str,
}

#[derive(Debug, Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// What a scope lets an app do, in words for the consent screen.
pub fn scope_description(scope: &str) -> &'static str {
    match scope {
        "profile.basic" => "See your basic profile (your alias, if you set one)",
        "identity.read" => "Recognise you with an ID that is unique to this app",
        "messages.send" => "Send you messages",
        "ai.chat" => "Use AI chat on your behalf",
        "account.read" => "See your account settings",
        "account.write" => "Change your account settings",
        "apps.read" => "See your OAuth apps",
        "apps.write" => "Create and change your OAuth apps",
        "keys.read" => "See your API keys",
        "keys.write" => "Create, rename and revoke your API keys",
        "agents.read" => "See your agents",
        "agents.write" => "Create, pause and revoke your agents",
        "tokens.issue" => "Issue agent tokens",
        "policies.read" => "See your token policies",
        "policies.write" => "Change your token policies",
        "audit.read" => "Read your audit log",
        "webhooks.read" => "See your webhooks",
        "webhooks.write" => "Create and change your webhooks",
        _ => "A permission this server does not describe",
    }
}

/// An HTML response with the page security headers.
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => with_headers(status, body),
        Err(e) => PageError::internal(&e).into_response(),
    }
}

fn with_headers(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(h);
    res
}

/// No caching, framing, sniffing or referrer leaks; a strict CSP. Also on
/// redirects, which can carry codes in `Location`.
pub fn secure(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A `302 Found` to `location` (RFC 6749 §4.1.2 uses 302).
pub fn found(location: &str) -> Response {
    redirect(StatusCode::FOUND, location)
}

/// A `303 See Other` to `location`: after a form POST, the browser GETs it.
pub fn see_other(location: &str) -> Response {
    redirect(StatusCode::SEE_OTHER, location)
}

fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut res = status.into_response();
            res.headers_mut().insert(header::LOCATION, v);
            secure(res.headers_mut());
            res
        }
        Err(_) => PageError::bad_request("the redirect target is not a valid URL").into_response(),
    }
}

/// A form token bound to a secret only this browser holds (its session or
/// pre-session cookie): a cross-site form cannot know it, and the token
/// reveals nothing about the cookie (HMAC).
pub fn csrf_token(binding: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(binding.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"sigil form token v1");
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `presented` is the form token for `binding` (constant time).
pub fn csrf_ok(binding: &str, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| crypto::ct_eq(csrf_token(binding).as_bytes(), p.as_bytes()))
}

/// An error shown as an HTML page.
#[derive(Debug, Clone)]
pub struct PageError {
    /// HTTP status.
    pub status: StatusCode,
    /// An RFC 6749 code, for callers that answer in JSON instead.
    pub error: &'static str,
    /// What went wrong, for the user.
    pub message: String,
}

impl PageError {
    /// Any status.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
        }
    }
    /// 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    /// 403: a form without its token, or without a session.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "access_denied", message)
    }
    /// 500; the cause is logged, not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error on a page");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Something went wrong on our side. Please try again.",
        )
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable on a page");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The service is briefly unavailable. Please try again in a moment.",
            );
        }
        Self::internal(&e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let page = ErrorPage {
            title,
            message: &self.message,
        };
        match page.render() {
            Ok(body) => with_headers(self.status, body),
            // Rendering the error page itself failed: plain text, never a loop.
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// A URL-encoded form body, refused with an HTML page.
#[derive(Debug)]
pub struct HtmlForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for HtmlForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "The form is too large.",
            )
        })?;
        serde_urlencoded::from_bytes(&bytes)
            .map(HtmlForm)
            .map_err(|_| PageError::bad_request("The form is malformed."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show() {
        let page = ErrorPage {
            title: "t",
            message: "<script>alert(1)</script>\"'&",
        };
        let out = page.render().unwrap();
        assert!(!out.contains("<script>"));
        assert!(!out.contains("\"'&"));
        assert!(out.contains("alert(1)"));
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_cookie() {
        let t = csrf_token("cookie-a");
        assert!(csrf_ok("cookie-a", Some(&t)));
        assert!(!csrf_ok("cookie-b", Some(&t)));
        assert!(!csrf_ok("cookie-a", None));
        assert!(!csrf_ok("cookie-a", Some("")));
    }
}
