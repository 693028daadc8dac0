//! Email sign-in with a one-time code: the HTML forms under `/signin` that
//! give a browser its session cookie, `POST /auth/exchange-code` that turns
//! the same code into a first-party token, and the in-memory dev mailbox
//! the codes are "sent" to ([`crate::services::mailbox`], readable at
//! `GET /dev/mailbox` in dev and test mode only; there is no mail transport).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::seed;
use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::fields;
use crate::core::trust::TrustLevel;
use crate::core::{crypto, scopes};
use crate::error::ApiError;
use crate::http::body::ApiBody;
pub use crate::http::cookies::{cookie, SESSION_COOKIE};
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::http::pages::{self, HtmlForm, PageError, SignedInPage, SigninPage, VerifyPage};
use crate::http::query::Query;
use crate::http::tokens::{self, Grant};
use crate::services::mailbox::Mail;
use crate::store::{StoreResult, User};

/// How long an emailed code works.
pub const CODE_TTL_SECS: i64 = 600;
/// Wrong codes tolerated per emailed code before it stops working.
pub const MAX_ATTEMPTS: i64 = 5;
/// Digits in an emailed code.
const CODE_DIGITS: usize = 8;
/// Browser session lifetime.
const SESSION_TTL_SECS: i64 = 12 * 3600;
/// The pre-session cookie that binds the sign-in forms' tokens (login CSRF).
const FORM_COOKIE: &str = "sigil_form";

/// Routes: the sign-in pages, the dev mailbox and `/auth/exchange-code`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(signin_form).post(send_code))
        .route("/signin/verify", get(verify_form).post(verify))
        .route("/dev/mailbox", get(mailbox))
        .route("/auth/exchange-code", post(exchange_code))
}

fn dev_or_test(state: &AppState) -> bool {
    state.config.dev || state.config.test_mode
}

fn set_cookie(state: &AppState, res: &mut Response, name: &str, value: &str, max_age: i64) {
    let secure = if state.config.issuer().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A signed-in browser.
#[derive(Debug)]
pub struct BrowserSession {
    /// Who.
    pub user: User,
    /// The cookie value, which also binds the session's form tokens.
    pub cookie: String,
}

/// The browser's session, if its cookie names a live one.
pub async fn session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<BrowserSession>, PageError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let now = state.clock.now();
    let Some(user_id) = state
        .store
        .browser_session_user(&crypto::hash(value), now)
        .await?
    else {
        return Ok(None);
    };
    Ok(state
        .store
        .user(&user_id)
        .await?
        .map(|user| BrowserSession {
            user,
            cookie: value.to_owned(),
        }))
}

/// `return_to` must be a path on this server: never a scheme, a host, a
/// protocol-relative `//host` or a backslash a browser would read as `/`
/// ([`fields::RETURN_TO`]).
pub fn check_return_to(state: &AppState, raw: &str) -> Result<String, PageError> {
    let refuse = || PageError::bad_request("return_to must be a path on this server.");
    if !fields::RETURN_TO.matches(raw)
        || !raw.starts_with('/')
        || raw.starts_with("//")
        || raw.contains('\\')
        || raw.chars().any(|c| c.is_control())
    {
        return Err(refuse());
    }
    let issuer = url::Url::parse(&state.config.issuer()).map_err(|e| PageError::internal(&e))?;
    let joined = issuer.join(raw).map_err(|_| refuse())?;
    if joined.origin() != issuer.origin() {
        return Err(refuse());
    }
    Ok(raw.to_owned())
}

fn normalize_email(raw: &str) -> Option<String> {
    if !fields::SIGNIN_EMAIL.matches(raw) {
        return None;
    }
    let email = raw.trim().to_ascii_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

/// `n` random decimal digits (rejection sampling: no modulo bias).
fn random_digits(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut buf = [0u8; 32];
        getrandom::getrandom(&mut buf).expect("the operating system's random source failed");
        for b in buf {
            if b < 250 && out.len() < n {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

/// Issues a code for `email`, stores its hash and "sends" it.
async fn issue_code(state: &AppState, email: &str) -> StoreResult<()> {
    let code = random_digits(CODE_DIGITS);
    let now = state.clock.now();
    state
        .store
        .insert_signin_code(&crypto::hash(&code), email, now, now + CODE_TTL_SECS)
        .await?;
    if dev_or_test(state) {
        state.mailbox.deliver(Mail {
            to: email.to_owned(),
            subject: format!("Your Sigil sign-in code: {code}"),
            code,
            sent_at: now,
        });
    } else {
        tracing::warn!(
            "no mail transport outside dev and test mode; the sign-in code was not sent"
        );
    }
    Ok(())
}

/// Redeems `email`'s code (counting wrong tries) and finds or creates the user.
async fn redeem(state: &AppState, email: &str, code: &str) -> StoreResult<Option<User>> {
    let code = code.trim();
    let redeemed = state
        .store
        .redeem_signin_code(email, &crypto::hash(code), state.clock.now(), MAX_ATTEMPTS)
        .await?;
    if !redeemed {
        // The email is no secret; the code tried is never recorded.
        let mut event = Event::new("signin.failed").data(json!({ "email": email }));
        if let Some(user) = state.store.user_by_email(email).await? {
            event = event.account(&user.id).subject(&user.id);
        }
        state.audit.record(event).await?;
        return Ok(None);
    }
    let user = seed::user(state, email).await?;
    state
        .audit
        .record(
            Event::new("signin.succeeded")
                .account(&user.id)
                .actor(&user.id)
                .subject(&user.id)
                .data(json!({ "method": "email_code" })),
        )
        .await?;
    Ok(Some(user))
}

/// The pre-session cookie, and whether it must be set on the response.
fn form_binding(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, FORM_COOKIE) {
        Some(v) => (v.to_owned(), false),
        None => (crypto::random_base62(32), true),
    }
}

fn with_form_cookie(state: &AppState, mut res: Response, binding: &str, fresh: bool) -> Response {
    if fresh {
        set_cookie(state, &mut res, FORM_COOKIE, binding, SESSION_TTL_SECS);
    }
    res
}

/// The sign-in pages' query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SigninQuery {
    /// A path on this server to return to afterwards.
    #[param(value_type = Option<fields::ReturnTo>)]
    return_to: Option<String>,
    /// The email address to prefill (any text; `/signin/verify` requires an
    /// address).
    email: Option<String>,
}

fn return_to_of(state: &AppState, raw: Option<&str>) -> Result<String, PageError> {
    match raw.filter(|r| !r.is_empty()) {
        Some(r) => check_return_to(state, r),
        None => Ok(String::new()),
    }
}

/// The code page's query (`email` is required there).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents what [`verify_form`] reads through [`SigninQuery`].
pub(crate) struct VerifyPageQuery {
    /// A path on this server to return to afterwards.
    #[param(value_type = Option<fields::ReturnTo>)]
    return_to: Option<String>,
    /// The address the code was sent to.
    #[param(value_type = fields::SigninEmail)]
    email: String,
}

/// `GET /signin`: the email form.
#[utoipa::path(
    get,
    path = "/signin",
    operation_id = "getSignin",
    tag = "sign-in",
    params(SigninQuery),
    responses(
        (status = 200, description = "The email form (sets the form cookie)", body = String, content_type = "text/html"),
        (status = 400, description = "`return_to` is not a path on this server"),
    )
)]
pub(crate) async fn signin_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<SigninQuery>, ApiError>,
) -> Result<Response, PageError> {
    let Query(q) = q.map_err(|e| PageError::bad_request(e.detail))?;
    let return_to = return_to_of(&state, q.return_to.as_deref())?;
    let (binding, fresh) = form_binding(&headers);
    let page = SigninPage {
        title: "Sign in",
        email: q.email.as_deref().unwrap_or_default(),
        return_to: &return_to,
        csrf: &pages::csrf_token(&binding),
        error: None,
    };
    Ok(with_form_cookie(
        &state,
        pages::html(StatusCode::OK, &page),
        &binding,
        fresh,
    ))
}

/// The email form (`#/components/schemas/SigninForm`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SigninForm)]
pub(crate) struct EmailForm {
    /// The address to send a code to.
    email: Option<String>,
    /// A path on this server to return to afterwards.
    return_to: Option<String>,
    /// The form token of the page (bound to the form cookie).
    csrf: Option<String>,
}

fn check_form_token(headers: &HeaderMap, presented: Option<&str>) -> Result<(), PageError> {
    let ok = cookie(headers, FORM_COOKIE).is_some_and(|b| pages::csrf_ok(b, presented));
    if ok {
        Ok(())
    } else {
        Err(PageError::forbidden(
            "This form expired or did not come from this site. Go back, reload and try again.",
        ))
    }
}

/// `POST /signin`: sends a code, then shows the code form (by redirect, so a
/// reload does not send another).
#[utoipa::path(
    post,
    path = "/signin",
    operation_id = "postSignin",
    tag = "sign-in",
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Code sent to the mailbox; on to /signin/verify", headers(("Location" = String, description = "`/signin/verify?email=…&return_to=…`"))),
        (status = 400, description = "Not an email address, `return_to` not a path on this server, or a malformed form"),
        (status = 403, description = "Missing or wrong form token (login CSRF), or the account is disabled by moderation"),
    )
)]
pub(crate) async fn send_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    HtmlForm(form): HtmlForm<EmailForm>,
) -> Result<Response, PageError> {
    check_form_token(&headers, form.csrf.as_deref())?;
    let return_to = return_to_of(&state, form.return_to.as_deref())?;
    let Some(email) = form.email.as_deref().and_then(normalize_email) else {
        let binding = cookie(&headers, FORM_COOKIE).unwrap_or_default();
        let page = SigninPage {
            title: "Sign in",
            email: form.email.as_deref().unwrap_or_default(),
            return_to: &return_to,
            csrf: &pages::csrf_token(binding),
            error: Some("Enter a valid email address."),
        };
        return Ok(pages::html(StatusCode::BAD_REQUEST, &page));
    };
    issue_code(&state, &email).await?;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("email", &email)
        .append_pair("return_to", &return_to)
        .finish();
    Ok(pages::see_other(&format!("/signin/verify?{query}")))
}

/// `GET /signin/verify`: the code form.
#[utoipa::path(
    get,
    path = "/signin/verify",
    operation_id = "getSigninVerify",
    tag = "sign-in",
    params(VerifyPageQuery),
    responses(
        (status = 200, description = "The code form (sets the form cookie)", body = String, content_type = "text/html"),
        (status = 400, description = "No valid `email`, or `return_to` is not a path on this server"),
    )
)]
pub(crate) async fn verify_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<SigninQuery>, ApiError>,
) -> Result<Response, PageError> {
    let Query(q) = q.map_err(|e| PageError::bad_request(e.detail))?;
    let return_to = return_to_of(&state, q.return_to.as_deref())?;
    let Some(email) = q.email.as_deref().and_then(normalize_email) else {
        return Err(PageError::bad_request("Start again from the sign-in page."));
    };
    let (binding, fresh) = form_binding(&headers);
    let page = VerifyPage {
        title: "Enter your code",
        email: &email,
        return_to: &return_to,
        csrf: &pages::csrf_token(&binding),
        error: None,
    };
    Ok(with_form_cookie(
        &state,
        pages::html(StatusCode::OK, &page),
        &binding,
        fresh,
    ))
}

/// The code form (`#/components/schemas/SigninCodeForm`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SigninCodeForm)]
pub(crate) struct CodeForm {
    /// The address the code was sent to.
    email: Option<String>,
    /// The emailed code.
    code: Option<String>,
    /// A path on this server to return to afterwards.
    return_to: Option<String>,
    /// The form token of the page (bound to the form cookie).
    csrf: Option<String>,
}

/// `POST /signin/verify`: a right code starts a session and returns to
/// `return_to` (same origin only).
#[utoipa::path(
    post,
    path = "/signin/verify",
    operation_id = "postSigninVerify",
    tag = "sign-in",
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed in, with no `return_to`: the session cookie is set", body = String, content_type = "text/html"),
        (status = 303, description = "Signed in: the session cookie is set; on to `return_to`", headers(("Location" = String, description = "`return_to`"))),
        (status = 400, description = "A wrong, used or expired code (the form again), no valid email, or `return_to` not a path on this server"),
        (status = 403, description = "Missing or wrong form token (login CSRF)"),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    HtmlForm(form): HtmlForm<CodeForm>,
) -> Result<Response, PageError> {
    check_form_token(&headers, form.csrf.as_deref())?;
    let return_to = return_to_of(&state, form.return_to.as_deref())?;
    let Some(email) = form.email.as_deref().and_then(normalize_email) else {
        return Err(PageError::bad_request("Start again from the sign-in page."));
    };
    let code = form.code.as_deref().unwrap_or_default();
    let Some(user) = redeem(&state, &email, code).await? else {
        let binding = cookie(&headers, FORM_COOKIE).unwrap_or_default();
        let page = VerifyPage {
            title: "Enter your code",
            email: &email,
            return_to: &return_to,
            csrf: &pages::csrf_token(binding),
            error: Some("That code is wrong, used or expired. Check it, or ask for a new one."),
        };
        return Ok(pages::html(StatusCode::BAD_REQUEST, &page));
    };
    if state.moderation.state(&user.id).await?.blocks_tokens() {
        return Err(PageError::forbidden("This account is disabled."));
    }
    let value = crypto::random_base62(43);
    state
        .store
        .insert_browser_session(
            &crypto::hash(&value),
            &user.id,
            state.clock.now() + SESSION_TTL_SECS,
        )
        .await?;
    let mut res = if return_to.is_empty() {
        let page = SignedInPage {
            title: "Signed in",
            email: &user.email,
        };
        pages::html(StatusCode::OK, &page)
    } else {
        pages::see_other(&return_to)
    };
    set_cookie(&state, &mut res, SESSION_COOKIE, &value, SESSION_TTL_SECS);
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub(crate) struct MailboxQuery {
    to: Option<String>,
}

/// One "sent" sign-in email (`#/components/schemas/Mail`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Mail)]
pub struct MailView {
    /// The recipient, lowercase.
    to: String,
    /// The subject line.
    subject: String,
    /// The sign-in code.
    code: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    sent_at: String,
}

/// The user a session token is for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionUser {
    /// `usr_…`.
    id: String,
    /// The email, lowercase.
    email: String,
    /// What the user shows of themselves (`GET /trust-model`).
    trust_level: TrustLevel,
}

/// A first-party user session (`#/components/schemas/SigninSession`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigninSession {
    /// The access token (EdDSA JWS, `at+jwt`).
    access_token: String,
    #[schema(value_type = fields::BearerTokenType)]
    token_type: &'static str,
    /// Seconds until it expires.
    expires_in: u64,
    /// Space-separated scopes (every scope).
    scope: String,
    /// Who signed in.
    user: SessionUser,
}

envelopes! {
    /// Sign-in emails, newest first.
    MailListEnvelope(Vec<MailView>, Meta);
    /// A first-party user session.
    SigninSessionEnvelope(SigninSession, Meta);
}

/// `GET /dev/mailbox`: dev and test mode only.
#[utoipa::path(
    get,
    path = "/dev/mailbox",
    operation_id = "listDevMailbox",
    tag = "sign-in",
    params(("to" = Option<String>, Query, description = "Only emails to this address (case-insensitive)")),
    responses(
        (status = 200, description = "Sign-in emails, newest first (dev and test mode only)", body = MailListEnvelope),
        (status = 404, description = "`not_found`: not in dev or test mode"),
        (status = 422, description = "`validation_failed`: a repeated parameter"),
    )
)]
pub(crate) async fn mailbox(
    State(state): State<AppState>,
    rid: RequestId,
    Query(q): Query<MailboxQuery>,
) -> Result<Json<Value>, ApiError> {
    if !dev_or_test(&state) {
        return Err(ApiError::not_found("route"));
    }
    let to = q.to.map(|t| t.trim().to_ascii_lowercase());
    let data: Vec<MailView> = state
        .mailbox
        .list(to.as_deref())
        .iter()
        .map(|m| MailView {
            to: m.to.clone(),
            subject: m.subject.clone(),
            code: m.code.clone(),
            sent_at: rfc3339(m.sent_at),
        })
        .collect();
    Ok(envelope(data, &rid, state.clock.now()))
}

/// `POST /auth/exchange-code`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExchangeSigninCode)]
pub(crate) struct ExchangeCodeBody {
    /// The address the code was sent to.
    email: String,
    /// The emailed code.
    code: String,
}

/// `POST /auth/exchange-code`: the emailed code becomes a first-party user
/// token (dev and test mode only, like the mailbox it pairs with).
#[utoipa::path(
    post,
    path = "/auth/exchange-code",
    operation_id = "exchangeSigninCode",
    tag = "session",
    request_body = ExchangeCodeBody,
    responses(
        (status = 200, description = "A first-party user token with every scope", body = SigninSessionEnvelope, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_code`: the code is wrong, used or expired, or the email is not an address; or the body is malformed"),
        (status = 403, description = "`account_disabled`: moderation disabled the account"),
        (status = 404, description = "`not_found`: not in dev or test mode"),
    )
)]
pub(crate) async fn exchange_code(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<ExchangeCodeBody>,
) -> Result<Response, ApiError> {
    if !dev_or_test(&state) {
        return Err(ApiError::not_found("route"));
    }
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_code",
            "the code is wrong, used or expired",
        )
    };
    let email = normalize_email(&body.email).ok_or_else(invalid)?;
    let user = redeem(&state, &email, &body.code)
        .await?
        .ok_or_else(invalid)?;
    let standing = state.moderation.standing(&user).await?;
    if standing.state().blocks_tokens() {
        return Err(ApiError::account_disabled());
    }
    let scopes = scopes::preset("full").unwrap_or_default();
    let access = tokens::access_token(
        &state,
        &Grant {
            sub: &user.id,
            client_id: "sigil",
            scopes: &scopes,
            session_type: "user",
            sid: &crypto::new_id("sid_"),
            account: Some(&user.id),
            user: Some(&user.id),
        },
    );
    let data = SigninSession {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: scopes.join(" "),
        user: SessionUser {
            id: user.id,
            email: user.email,
            trust_level: standing.level,
        },
    };
    let mut res = envelope(data, &rid, state.clock.now()).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").as_deref(),
            Some("ada@example.com")
        );
        assert!(normalize_email("ada").is_none());
        assert!(normalize_email("@example.com").is_none());
        assert!(normalize_email("ada@localhost").is_none());
        assert!(normalize_email("a da@example.com").is_none());
        assert!(normalize_email("a@b@example.com").is_none());
    }

    #[test]
    fn codes_are_digits() {
        let c = random_digits(CODE_DIGITS);
        assert_eq!(c.len(), CODE_DIGITS);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sigil_session=xyz"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), None);
    }
}
