//! The caller's own account (`/v1/account`): its email, and the alias apps
//! see in `/app/v1/identity/lookup` once the user granted `profile.basic`.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;

/// The caller's account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// `usr_…`.
    pub id: String,
    /// The sign-in email, lowercase.
    pub email: String,
    /// What apps granted `profile.basic` see; `None` when unset.
    pub alias: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// A change to the caller's account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    /// `Some(Some(alias))` sets the alias (1-64 characters after trimming,
    /// no control characters), `Some(None)` clears it, `None` keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Option<String>>,
}

/// The caller's account.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a>(pub(super) &'a Core);

impl Accounts<'_> {
    /// The caller's account (`account.read`).
    pub async fn get(&self) -> Result<Account> {
        self.0.data(&ops::ACCOUNT_GET, args![]).await
    }

    /// Changes the caller's account (`account.write`).
    pub async fn update(&self, update: &AccountUpdate) -> Result<Account> {
        self.0.data(&ops::ACCOUNT_UPDATE, args![update]).await
    }
}
