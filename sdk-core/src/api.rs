//! Typed clients for Sigil's management API (`/v1`), over an authenticated
//! [`Session`]: every call gets the session's renewal, retry and typed-error
//! rules, and answers are unwrapped from the `{data, meta}` envelope.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::Session;

/// The management API of one Sigil server.
#[derive(Debug, Clone)]
pub struct Management {
    session: Arc<Session>,
    base: url::Url,
}

impl Management {
    /// A client for the server at `base_url` (usually the issuer).
    pub fn new(session: Arc<Session>, base_url: &str) -> Result<Self> {
        let base =
            url::Url::parse(base_url).map_err(|e| Error::InvalidInput(format!("base URL: {e}")))?;
        if base.cannot_be_a_base() {
            return Err(Error::InvalidInput("base URL cannot hold paths".into()));
        }
        Ok(Self { session, base })
    }

    /// `/v1/api-keys`.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys(self)
    }

    /// `/v1/apps`.
    pub fn apps(&self) -> Apps<'_> {
        Apps(self)
    }

    fn url(&self, segments: &[&str]) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            // Each segment is percent-encoded: an id can never change the path.
            path.pop_if_empty().extend(segments);
        }
        url.into()
    }

    async fn send(
        &self,
        method: http::Method,
        segments: &[&str],
        body: Option<Value>,
    ) -> Result<crate::HttpResponse> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(self.url(segments))
            .header(http::header::ACCEPT, "application/json");
        let bytes = match body {
            Some(v) => {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
                serde_json::to_vec(&v).map_err(|e| Error::InvalidInput(e.to_string()))?
            }
            None => Vec::new(),
        };
        let request = request
            .body(bytes)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.session.request(request).await
    }

    async fn data<T: DeserializeOwned>(
        &self,
        method: http::Method,
        segments: &[&str],
        body: Option<Value>,
    ) -> Result<T> {
        let response = self.send(method, segments, body).await?;
        let envelope: Envelope<T> = serde_json::from_slice(response.body())
            .map_err(|e| Error::InvalidResponse(format!("management API: {e}")))?;
        Ok(envelope.data)
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

fn to_body<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::InvalidInput(e.to_string()))
}

/// A key as the API shows it: never the secret, only its prefix and last 4.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    /// `key_…`.
    pub id: String,
    /// Human label.
    pub name: String,
    /// First 12 characters of the secret.
    pub prefix: String,
    /// Last 4 characters of the secret.
    pub last4: String,
    /// `prefix…last4`.
    pub masked: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Set for project-scoped keys.
    pub app_id: Option<String>,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    /// RFC 3339.
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub revoked_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// A freshly created key: the only time its secret is visible.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedApiKey {
    /// The secret (`sgl_live_…`); store it now.
    pub key: Secret,
    /// Everything else.
    #[serde(flatten)]
    pub info: ApiKeyInfo,
}

/// What to create.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApiKey {
    /// Human label.
    pub name: String,
    /// Explicit scopes (or use `preset`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// `read`, `write` or `full`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// 1–3650 days; none for a key that does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
    /// Bind the key to one of your apps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
}

/// `/v1/api-keys`.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeys<'a>(&'a Management);

impl ApiKeys<'_> {
    /// Creates a key; the secret is in the answer, once.
    pub async fn create(&self, key: &NewApiKey) -> Result<CreatedApiKey> {
        self.0
            .data(http::Method::POST, &["v1", "api-keys"], Some(to_body(key)?))
            .await
    }

    /// Your keys, masked.
    pub async fn list(&self) -> Result<Vec<ApiKeyInfo>> {
        self.0
            .data(http::Method::GET, &["v1", "api-keys"], None)
            .await
    }

    /// One key.
    pub async fn get(&self, id: &str) -> Result<ApiKeyInfo> {
        self.0
            .data(http::Method::GET, &["v1", "api-keys", id], None)
            .await
    }

    /// Renames a key.
    pub async fn rename(&self, id: &str, name: &str) -> Result<ApiKeyInfo> {
        let body = serde_json::json!({ "name": name });
        self.0
            .data(http::Method::PATCH, &["v1", "api-keys", id], Some(body))
            .await
    }

    /// Revokes a key; it is refused from the next request on.
    pub async fn revoke(&self, id: &str) -> Result<ApiKeyInfo> {
        self.0
            .data(http::Method::POST, &["v1", "api-keys", id, "revoke"], None)
            .await
    }

    /// Deletes a key.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0
            .send(http::Method::DELETE, &["v1", "api-keys", id], None)
            .await
            .map(drop)
    }
}

/// An OAuth app as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The `client_id`.
    pub id: String,
    /// Shown on the consent screen.
    pub name: String,
    /// Exact-match redirect URIs.
    pub redirect_uris: Vec<String>,
    /// CORS origins.
    pub allowed_origins: Vec<String>,
    /// Public clients have no secret.
    pub public: bool,
    /// Scopes the app may be granted.
    pub scopes: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// An app with its secret, shown at creation and rotation only.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppWithSecret {
    /// The client secret of a confidential app.
    pub client_secret: Option<Secret>,
    /// Everything else.
    #[serde(flatten)]
    pub app: AppInfo,
}

/// What to register.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApp {
    /// Shown on the consent screen.
    pub name: String,
    /// Exact-match redirect URIs.
    pub redirect_uris: Vec<String>,
    /// CORS origins.
    pub allowed_origins: Vec<String>,
    /// A public client (browser, mobile, CLI) has no secret.
    pub public: bool,
    /// Scopes the app may be granted (server default when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New redirect URIs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// New CORS origins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// New scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// `/v1/apps`.
#[derive(Debug, Clone, Copy)]
pub struct Apps<'a>(&'a Management);

impl Apps<'_> {
    /// Registers an app; a confidential app's secret is in the answer, once.
    pub async fn create(&self, app: &NewApp) -> Result<AppWithSecret> {
        self.0
            .data(http::Method::POST, &["v1", "apps"], Some(to_body(app)?))
            .await
    }

    /// Your apps.
    pub async fn list(&self) -> Result<Vec<AppInfo>> {
        self.0.data(http::Method::GET, &["v1", "apps"], None).await
    }

    /// One app.
    pub async fn get(&self, id: &str) -> Result<AppInfo> {
        self.0
            .data(http::Method::GET, &["v1", "apps", id], None)
            .await
    }

    /// Changes an app.
    pub async fn update(&self, id: &str, update: &AppUpdate) -> Result<AppInfo> {
        self.0
            .data(
                http::Method::PATCH,
                &["v1", "apps", id],
                Some(to_body(update)?),
            )
            .await
    }

    /// Replaces a confidential app's secret; the old one stops working.
    pub async fn rotate_secret(&self, id: &str) -> Result<AppWithSecret> {
        self.0
            .data(http::Method::POST, &["v1", "apps", id, "secret"], None)
            .await
    }

    /// Deletes an app.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0
            .send(http::Method::DELETE, &["v1", "apps", id], None)
            .await
            .map(drop)
    }
}
