//! Provider login (SearchAF): `GET /auth/oauth/{provider}/login` sends the
//! browser to a configured upstream OpenID Connect provider, its callback
//! verifies the upstream's `id_token` and signs the user in (linked by
//! issuer and `sub`, [`crate::services::federated_users`]), and the app gets
//! back a 60-second single-use code, never a token in a URL. The app
//! exchanges the code at `POST /auth/oauth/exchange` for an access token and
//! a refresh token, which `/auth/refresh` rotates.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::json;
use url::Url;

use crate::api::oauth::authorize::redirect_matches;
use crate::api::oauth::grants::{self, Outcome};
use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::{crypto, fields};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, Meta, RequestId};
use crate::http::query::Query;
use crate::http::tokens::{self, Grant};
use crate::services::federated_users::{self, Resolved, UNVERIFIED_DOMAIN};
use crate::services::federation::{LoginSecrets, UpstreamError};
use crate::store::federation::{CodeUse, PendingLogin, ProviderCode};

/// How long a login may stay at the upstream.
const LOGIN_TTL_SECS: i64 = 600;
/// How long the app's code lives (as an authorization code).
const CODE_TTL_SECS: i64 = 60;
/// The prefix of the app's code.
const CODE_PREFIX: &str = "sgl_pc_";
/// The longest `state` an app may pass through.
const MAX_APP_STATE: usize = 512;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oauth/{provider}/login", get(login))
        .route("/auth/oauth/{provider}/callback", get(callback))
        .route("/auth/oauth/exchange", post(exchange))
}

/// `GET /auth/oauth/{provider}/login`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LoginQuery {
    /// The app signing the user in.
    #[param(min_length = 1)]
    client_id: String,
    /// Where the app wants its code: one of its registered redirect URIs.
    #[param(value_type = fields::RedirectUri)]
    redirect_uri: String,
    /// Returned to the app as given (its CSRF check); at most 512 characters.
    #[param(max_length = 512)]
    state: Option<String>,
    /// Space-separated scopes for the session, within the app's; all of the
    /// app's by default.
    scope: Option<String>,
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn found(location: &Url) -> Result<Response, ApiError> {
    let value = HeaderValue::from_str(location.as_str())
        .map_err(|_| ApiError::bad_request("the redirect target is not a valid URL"))?;
    let mut res = StatusCode::FOUND.into_response();
    res.headers_mut().insert(header::LOCATION, value);
    Ok(no_store(res))
}

fn upstream_failed(e: &UpstreamError) -> ApiError {
    tracing::warn!(error = %e, "upstream provider");
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "upstream_unavailable",
        "the identity provider could not be reached",
    )
}

/// Where the upstream sends the browser back.
fn callback_uri(state: &AppState, provider: &str) -> String {
    format!("{}/auth/oauth/{provider}/callback", state.config.issuer())
}

#[utoipa::path(
    get,
    path = "/auth/oauth/{provider}/login",
    operation_id = "providerLogin",
    tag = "provider-login",
    params(
        ("provider" = String, Path, description = "A configured upstream provider's name"),
        LoginQuery,
    ),
    responses(
        (status = 302, description = "To the upstream provider's authorization endpoint (PKCE S256, `state`, `nonce`)", headers(("Location" = String, description = "Where to go"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_client` (no such app), `invalid_redirect_uri` (not registered for the app: never redirected to), `invalid_scope`, or `invalid_request` (`state` too long)"),
        (status = 404, description = "`unknown_provider`: no provider of that name is configured"),
        (status = 422, description = "`validation_failed`: a missing or repeated parameter"),
        (status = 502, description = "`upstream_unavailable`: the provider's discovery document could not be read"),
    )
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, ApiError> {
    let upstream = state.providers.get(&provider).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_provider",
            "no identity provider of that name is configured",
        )
    })?;
    let app =
        state.store.app(&q.client_id).await?.ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_client", "unknown app")
        })?;
    // Checked before anything else can send the browser there: an
    // unregistered redirect URI is an open redirect.
    if !app
        .redirect_uris
        .iter()
        .any(|r| redirect_matches(r, &q.redirect_uri))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            "redirect_uri is not registered for this app",
        ));
    }
    if q.state
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_APP_STATE)
    {
        return Err(ApiError::bad_request("state is longer than 512 characters"));
    }
    let scopes = grants::narrow(q.scope.as_deref(), &app.scopes)?;
    let secrets = LoginSecrets::new();
    let redirect = callback_uri(&state, upstream.name());
    let target = upstream
        .authorization_url(&redirect, &secrets)
        .await
        .map_err(|e| upstream_failed(&e))?;
    let pending = PendingLogin {
        provider: upstream.name().to_owned(),
        app_id: app.id,
        redirect_uri: q.redirect_uri,
        app_state: q.state,
        scope: scopes.join(" "),
        nonce: secrets.nonce,
        code_verifier: secrets.code_verifier,
        expires_at: state.clock.now() + LOGIN_TTL_SECS,
    };
    state
        .store
        .insert_pending_login(&crypto::hash(&secrets.state), &pending)
        .await?;
    found(&target)
}

/// The upstream's answer (OAuth 2.0 authorization response).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    /// The `state` Sigil sent upstream.
    #[param(min_length = 1)]
    state: String,
    /// The upstream's authorization code.
    code: Option<String>,
    /// The upstream's error, instead of a code.
    error: Option<String>,
    /// Its description.
    error_description: Option<String>,
    /// The upstream's issuer (RFC 9207), when it sends one.
    iss: Option<String>,
}

/// Back to the app with `params`, its `state` and Sigil's `iss`.
fn to_app(
    state: &AppState,
    login: &PendingLogin,
    params: &[(&str, &str)],
) -> Result<Response, ApiError> {
    let mut url = Url::parse(&login.redirect_uri)
        .map_err(|_| ApiError::bad_request("the app's redirect URI is not a URL"))?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(s) = &login.app_state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", &state.config.issuer());
    }
    found(&url)
}

fn denied(state: &AppState, login: &PendingLogin, why: &str) -> Result<Response, ApiError> {
    to_app(
        state,
        login,
        &[("error", "access_denied"), ("error_description", why)],
    )
}

#[utoipa::path(
    get,
    path = "/auth/oauth/{provider}/callback",
    operation_id = "providerCallback",
    tag = "provider-login",
    params(
        ("provider" = String, Path, description = "The provider the login went to"),
        CallbackQuery,
    ),
    responses(
        (status = 302, description = "Back to the app's redirect URI with `code` (single use, 60 s; exchange it at `POST /auth/oauth/exchange`), or with `error=access_denied` and `error_description` (the upstream refused, its `id_token` did not verify, the user is disabled, or an account already holds the upstream's unverified email); with the app's `state` and `iss`", headers(("Location" = String, description = "The app's redirect URI with the answer"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_state`: no login in flight has this `state` (unknown, used, expired, or another provider's)"),
        (status = 422, description = "`validation_failed`: a missing or repeated parameter"),
    )
)]
pub(crate) async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let invalid_state = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_state",
            "no provider login in flight has this state",
        )
    };
    let now = state.clock.now();
    let login = state
        .store
        .take_pending_login(&crypto::hash(&q.state))
        .await?
        .filter(|l| l.provider == provider && l.expires_at > now)
        .ok_or_else(invalid_state)?;
    let upstream = state.providers.get(&provider).ok_or_else(invalid_state)?;
    // From here the app's redirect URI is known good: errors go back to it.
    if q.error.is_some() {
        let why = q
            .error_description
            .as_deref()
            .unwrap_or("the provider refused the login");
        return denied(&state, &login, why);
    }
    let Some(code) = q.code.as_deref() else {
        return to_app(
            &state,
            &login,
            &[
                ("error", "invalid_request"),
                ("error_description", "the provider sent no code"),
            ],
        );
    };
    let identity = match upstream
        .sign_in(
            code,
            &callback_uri(&state, &provider),
            &login.code_verifier,
            &login.nonce,
        )
        .await
    {
        Ok(identity) => identity,
        Err(e @ UpstreamError::Unavailable(_)) => {
            upstream_failed(&e);
            return to_app(
                &state,
                &login,
                &[
                    ("error", "temporarily_unavailable"),
                    (
                        "error_description",
                        "the identity provider could not be reached",
                    ),
                ],
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, provider = %provider, "provider login refused");
            return denied(
                &state,
                &login,
                "the identity provider's answer did not verify",
            );
        }
    };
    if q.iss.as_deref().is_some_and(|iss| iss != identity.issuer) {
        return denied(&state, &login, "the answer came from another issuer");
    }
    let (user, created) = match federated_users::resolve(state.store.as_ref(), &identity, now).await? {
        Resolved::User(user, created) => (user, created),
        Resolved::EmailTaken => {
            return denied(
                &state,
                &login,
                "an account already uses this email, which the provider did not verify; sign in to it and link the provider",
            )
        }
    };
    if state.moderation.state(&user.id).await?.blocks_tokens() {
        return denied(&state, &login, "this account is disabled");
    }
    state
        .audit
        .record(
            Event::new("user.provider_login")
                .account(&user.id)
                .actor(&user.id)
                .subject(&login.app_id)
                .data(
                    json!({ "provider": provider, "issuer": identity.issuer, "newUser": created }),
                ),
        )
        .await?;
    let secret = crypto::new_secret(CODE_PREFIX);
    let issued = ProviderCode {
        app_id: login.app_id.clone(),
        user_id: user.id,
        provider,
        scope: login.scope.clone(),
        new_user: created,
        family_id: crypto::new_id("fam_"),
        expires_at: now + CODE_TTL_SECS,
    };
    state
        .store
        .insert_provider_code(&crypto::hash(&secret), &issued)
        .await?;
    to_app(&state, &login, &[("code", &secret)])
}

/// `POST /auth/oauth/exchange`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExchangeProviderCode)]
pub(crate) struct ExchangeBody {
    /// The code the callback gave the app (`sgl_pc_…`).
    code: String,
}

/// Who signed in, as the app sees them (`#/components/schemas/ProviderUser`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderUser {
    /// The user's id for this app (pairwise: another app sees another id);
    /// the access token's `sub`.
    id: String,
    /// The user's email; null when no provider verified one.
    #[schema(required = true)]
    email: Option<String>,
    /// The provider the user came through.
    provider: String,
    /// Whether this login created the user.
    is_new_user: bool,
}

/// A session from a provider login (`#/components/schemas/ProviderSession`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSession {
    /// The access token (EdDSA JWS, `at+jwt`).
    access_token: String,
    #[schema(value_type = fields::BearerTokenType)]
    token_type: &'static str,
    /// Seconds until it expires.
    expires_in: u64,
    /// The granted scopes, space-separated.
    scope: String,
    /// The refresh token (`sgl_rt_…`); `POST /auth/refresh` rotates it.
    refresh_token: String,
    /// Who signed in.
    user: ProviderUser,
}

envelopes! {
    /// A provider-login session.
    ProviderSessionEnvelope(ProviderSession, Meta);
}

#[utoipa::path(
    post,
    path = "/auth/oauth/exchange",
    operation_id = "exchangeProviderCode",
    tag = "provider-login",
    request_body = ExchangeBody,
    responses(
        (status = 200, description = "The session: access token, refresh token, `expiresIn` and the user", body = ProviderSessionEnvelope, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_grant`: the code is unknown, expired or already used (a replay revokes the refresh tokens its first exchange issued); or a malformed body"),
        (status = 403, description = "`user_disabled`: the user was disabled since signing in"),
    )
)]
pub(crate) async fn exchange(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<ExchangeBody>,
) -> Result<Response, ApiError> {
    let invalid = |why: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_grant", why);
    let now = state.clock.now();
    let code = match state
        .store
        .use_provider_code(&crypto::hash(&body.code), now)
        .await?
    {
        CodeUse::Fresh(code) => code,
        CodeUse::Replayed { family_id } => {
            state.store.revoke_family(&family_id, now).await?;
            return Err(invalid("the code was already used"));
        }
        CodeUse::Unknown => return Err(invalid("unknown code")),
    };
    if code.expires_at <= now {
        return Err(invalid("the code expired"));
    }
    let app = state
        .store
        .app(&code.app_id)
        .await?
        .ok_or_else(|| invalid("the app is gone"))?;
    let user = state
        .store
        .user(&code.user_id)
        .await?
        .ok_or_else(|| invalid("the user is gone"))?;
    if state.moderation.state(&user.id).await?.blocks_tokens() {
        return Err(ApiError::account_disabled());
    }
    let scopes: Vec<String> = code.scope.split_whitespace().map(str::to_owned).collect();
    let sid = crypto::new_id("sid_");
    let sub = crypto::pairwise_sub(&state.pairwise_secret, &app.id, &user.id);
    state
        .store
        .remember_subject(&app.id, &sub, &user.id, now)
        .await?;
    let access = tokens::access_token(
        &state,
        &Grant {
            sub: &sub,
            client_id: &app.id,
            scopes: &scopes,
            session_type: "user",
            sid: &sid,
            account: None,
            user: None,
        },
    );
    let refresh = tokens::refresh_token(
        &state,
        &code.family_id,
        &app.id,
        Some(&user.id),
        &code.scope,
        &sid,
    )
    .await?;
    let outcome = Outcome {
        access,
        scopes,
        refresh_token: Some(refresh),
    };
    let event = Event::new("token.issued").account(&user.id).actor(&app.id);
    let outcome = grants::audited(&state, event, "provider_login", &app.id, outcome).await?;
    let email = Some(user.email).filter(|e| !e.ends_with(&format!("@{UNVERIFIED_DOMAIN}")));
    let data = ProviderSession {
        access_token: outcome.access.token,
        token_type: "Bearer",
        expires_in: outcome.access.expires_in,
        scope: outcome.scopes.join(" "),
        refresh_token: outcome.refresh_token.unwrap_or_default(),
        user: ProviderUser {
            id: sub,
            email,
            provider: code.provider,
            is_new_user: code.new_user,
        },
    };
    Ok(no_store(envelope(data, &rid, now).into_response()))
}
