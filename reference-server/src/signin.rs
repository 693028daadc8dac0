//! Email sign-in with a one-time code: the HTML forms under `/signin` that
//! give a browser its session cookie, `POST /auth/exchange-code` that turns
//! the same code into a first-party token, and the in-memory dev mailbox
//! the codes are "sent" to (readable at `GET /dev/mailbox` in dev and test
//! mode only; there is no mail transport).

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::Event;
use crate::body::ApiBody;
use crate::envelope::{envelope, rfc3339, RequestId};
use crate::error::ApiError;
use crate::pages::{self, HtmlForm, PageError, SignedInPage, SigninPage, VerifyPage};
use crate::state::AppState;
use crate::store::{StoreResult, User};
use crate::tokens::{self, Grant};
use crate::{crypto, scopes, seed};

/// How long an emailed code works.
pub const CODE_TTL_SECS: i64 = 600;
/// Wrong codes tolerated per emailed code before it stops working.
pub const MAX_ATTEMPTS: i64 = 5;
/// Digits in an emailed code.
const CODE_DIGITS: usize = 8;
/// Browser session lifetime.
const SESSION_TTL_SECS: i64 = 12 * 3600;
/// The session cookie.
pub const SESSION_COOKIE: &str = "sigil_session";
/// The pre-session cookie that binds the sign-in forms' tokens (login CSRF).
const FORM_COOKIE: &str = "sigil_form";
/// Messages the mailbox keeps before dropping the oldest.
const MAILBOX_CAP: usize = 1000;

/// One "sent" email.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient, lowercase.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The sign-in code it carries.
    pub code: String,
    /// UNIX seconds.
    pub sent_at: i64,
}

/// The dev mailbox: emails kept in memory, newest last, bounded.
#[derive(Debug, Default)]
pub struct Mailbox(Mutex<VecDeque<Mail>>);

impl Mailbox {
    /// Keeps `mail`, dropping the oldest beyond the cap.
    pub fn deliver(&self, mail: Mail) {
        if let Ok(mut box_) = self.0.lock() {
            if box_.len() >= MAILBOX_CAP {
                box_.pop_front();
            }
            box_.push_back(mail);
        }
    }

    /// Messages newest first, optionally only those to `to`.
    pub fn list(&self, to: Option<&str>) -> Vec<Mail> {
        let Ok(box_) = self.0.lock() else {
            return Vec::new();
        };
        box_.iter()
            .rev()
            .filter(|m| to.is_none_or(|t| m.to == t))
            .cloned()
            .collect()
    }
}

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

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
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
/// protocol-relative `//host` or a backslash a browser would read as `/`.
pub fn check_return_to(state: &AppState, raw: &str) -> Result<String, PageError> {
    let refuse = || PageError::bad_request("return_to must be a path on this server.");
    if !raw.starts_with('/')
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

#[derive(Debug, Deserialize)]
pub(crate) struct SigninQuery {
    return_to: Option<String>,
    email: Option<String>,
}

fn return_to_of(state: &AppState, raw: Option<&str>) -> Result<String, PageError> {
    match raw.filter(|r| !r.is_empty()) {
        Some(r) => check_return_to(state, r),
        None => Ok(String::new()),
    }
}

/// `GET /signin`: the email form.
#[utoipa::path(get, path = "/signin", tag = "sign-in", params(("return_to" = Option<String>, Query, description = "Same-origin path to return to")), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub(crate) async fn signin_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SigninQuery>,
) -> Result<Response, PageError> {
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

#[derive(Debug, Deserialize)]
pub(crate) struct EmailForm {
    email: Option<String>,
    return_to: Option<String>,
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
#[utoipa::path(post, path = "/signin", tag = "sign-in", responses((status = 303, description = "Code sent to the mailbox; on to /signin/verify"), (status = 403, description = "Missing form token")))]
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
#[utoipa::path(get, path = "/signin/verify", tag = "sign-in", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub(crate) async fn verify_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SigninQuery>,
) -> Result<Response, PageError> {
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

#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    email: Option<String>,
    code: Option<String>,
    return_to: Option<String>,
    csrf: Option<String>,
}

/// `POST /signin/verify`: a right code starts a session and returns to
/// `return_to` (same origin only).
#[utoipa::path(post, path = "/signin/verify", tag = "sign-in", responses((status = 303, description = "Signed in: session cookie set"), (status = 400, description = "Wrong or expired code")))]
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

/// `GET /dev/mailbox`: dev and test mode only.
#[utoipa::path(get, path = "/dev/mailbox", tag = "sign-in", params(("to" = Option<String>, Query, description = "Filter by recipient")), responses((status = 200, description = "Sign-in emails, newest first (dev and test mode only)"), (status = 404, description = "Not in dev or test mode")))]
pub(crate) async fn mailbox(
    State(state): State<AppState>,
    rid: RequestId,
    Query(q): Query<MailboxQuery>,
) -> Result<Json<Value>, ApiError> {
    if !dev_or_test(&state) {
        return Err(ApiError::not_found("route"));
    }
    let to = q.to.map(|t| t.trim().to_ascii_lowercase());
    let data: Vec<Value> = state
        .mailbox
        .list(to.as_deref())
        .iter()
        .map(|m| {
            json!({
                "to": m.to, "subject": m.subject, "code": m.code, "sentAt": rfc3339(m.sent_at),
            })
        })
        .collect();
    Ok(envelope(data.into(), &rid, state.clock.now()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExchangeCodeBody {
    email: String,
    code: String,
}

/// `POST /auth/exchange-code`: the emailed code becomes a first-party user
/// token (dev and test mode only, like the mailbox it pairs with).
#[utoipa::path(post, path = "/auth/exchange-code", tag = "session", responses((status = 200, description = "`{data:{accessToken, expiresIn, user}, meta}`"), (status = 400, description = "Wrong, used or expired code", content_type = "application/problem+json")))]
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
        },
    );
    let data = json!({
        "accessToken": access.token,
        "tokenType": "Bearer",
        "expiresIn": access.expires_in,
        "scope": scopes.join(" "),
        "user": { "id": user.id, "email": user.email },
    });
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

    #[test]
    fn mailbox_is_newest_first_and_filters() {
        let m = Mailbox::default();
        for (to, at) in [("a@x.io", 1), ("b@x.io", 2), ("a@x.io", 3)] {
            m.deliver(Mail {
                to: to.into(),
                subject: String::new(),
                code: at.to_string(),
                sent_at: at,
            });
        }
        let all = m.list(None);
        assert_eq!(all.iter().map(|m| m.sent_at).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(m.list(Some("a@x.io")).len(), 2);
    }
}
