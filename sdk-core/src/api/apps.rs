//! `/v1/apps`: OAuth apps.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;
use crate::secret::Secret;

/// An OAuth app as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppWithSecret {
    /// The client secret of a confidential app.
    pub client_secret: Option<Secret>,
    /// Everything else.
    #[serde(flatten)]
    pub app: AppInfo,
}

/// What to register.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
pub struct Apps<'a>(pub(super) &'a Core);

impl Apps<'_> {
    /// Registers an app; a confidential app's secret is in the answer, once.
    pub async fn create(&self, app: &NewApp) -> Result<AppWithSecret> {
        self.0.data(&ops::APPS_CREATE, args![app]).await
    }

    /// Your apps.
    pub async fn list(&self) -> Result<Vec<AppInfo>> {
        self.0.data(&ops::APPS_LIST, args![]).await
    }

    /// One app.
    pub async fn get(&self, id: &str) -> Result<AppInfo> {
        self.0.data(&ops::APPS_GET, args![id]).await
    }

    /// Changes an app.
    pub async fn update(&self, id: &str, update: &AppUpdate) -> Result<AppInfo> {
        self.0.data(&ops::APPS_UPDATE, args![id, update]).await
    }

    /// Replaces a confidential app's secret; the old one stops working.
    pub async fn rotate_secret(&self, id: &str) -> Result<AppWithSecret> {
        self.0.data(&ops::APPS_ROTATE_SECRET, args![id]).await
    }

    /// Deletes an app.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.no_content(&ops::APPS_DELETE, args![id]).await
    }
}
