//! The scenario catalog (`tests/scenarios.json`) and the known credentials
//! scenarios start from (the fixtures file, or `--credentials`).

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// `scenarios.json`.
#[derive(Debug, Deserialize)]
pub struct Catalog {
    /// In the order they run.
    pub scenarios: Vec<Scenario>,
}

/// One entry of the catalog.
#[derive(Debug, Deserialize)]
pub struct Scenario {
    /// Stable name, `area.what`.
    pub id: String,
    /// What passing demonstrates.
    pub proves: String,
    /// The SDKs (driver names) it runs for.
    pub sdks: Vec<String>,
    /// Test-mode features it cannot run without (`test-clock`, `dev-mailbox`,
    /// `second-server`, `loopback-webhooks`); against a deployment
    /// (`--url`) such a scenario is skipped, never passed.
    #[serde(default)]
    pub needs: Vec<String>,
}

impl Catalog {
    /// Reads the catalog file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Credentials with known values, picked from a fixtures-shaped file by what
/// they are rather than where they sit in it.
#[derive(Debug, Clone)]
pub struct Known {
    /// An API key with the `full` preset.
    pub full_key: String,
    /// An API key without `keys.write` (the `read` preset, or scopes).
    pub narrow_key: String,
    /// A confidential app owned by the full key's account.
    pub app_id: String,
    /// Its client secret.
    pub app_secret: String,
    /// A public app owned by the full key's account, with `identity.read`.
    pub public_app_id: String,
    /// Its first redirect URI.
    pub public_redirect: String,
    /// A user who can sign in through the dev mailbox (test mode only).
    pub user_email: Option<String>,
}

impl Known {
    /// Reads a fixtures-shaped JSON file (`users`, `apps`, `apiKeys`).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let f: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let list = |name: &str| f[name].as_array().cloned().unwrap_or_default();
        let (keys, apps) = (list("apiKeys"), list("apps"));
        let find = |items: &[Value], what: &str, test: &dyn Fn(&Value) -> bool| {
            items
                .iter()
                .find(|v| test(v))
                .cloned()
                .ok_or_else(|| format!("{}: no {what}", path.display()))
        };
        let full = find(&keys, "API key with preset full", &|k| {
            k["preset"] == "full"
        })?;
        let has = |v: &Value, list: &str, item: &str| {
            v[list]
                .as_array()
                .is_some_and(|l| l.iter().any(|x| x == item))
        };
        let narrow = find(&keys, "API key without keys.write", &|k| {
            k["preset"] == "read" || (k["preset"].is_null() && !has(k, "scopes", "keys.write"))
        })?;
        let owner = &full["owner"];
        let app = find(&apps, "confidential app of the full key's owner", &|a| {
            &a["owner"] == owner && a["secret"].is_string()
        })?;
        let public = find(
            &apps,
            "public app of the full key's owner with identity.read",
            &|a| {
                &a["owner"] == owner
                    && a.get("secret").is_none()
                    && has(a, "scopes", "identity.read")
            },
        )?;
        let s = |v: &Value, what: &str| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{}: {what} missing", path.display()))
        };
        Ok(Self {
            full_key: s(&full["key"], "full key")?,
            narrow_key: s(&narrow["key"], "narrow key")?,
            app_id: s(&app["id"], "app id")?,
            app_secret: s(&app["secret"], "app secret")?,
            public_app_id: s(&public["id"], "public app id")?,
            public_redirect: s(&public["redirectUris"][0], "public app redirect URI")?,
            user_email: f["users"][0]["email"].as_str().map(str::to_owned),
        })
    }
}
