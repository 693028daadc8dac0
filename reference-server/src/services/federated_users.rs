//! Which user an upstream account signs in as. The rules (SearchAF):
//! - an account already linked by (issuer, `sub`) is its user;
//! - else, an email the upstream says it verified links to the user with
//!   that email, or creates one;
//! - else a new user is created, unless a user already has that email: an
//!   unverified address never merges into an existing account.
//!
//! A new user without a verified email gets an address under `.invalid`
//! (RFC 2606), so it can never take an address someone else could sign in
//! with.

use crate::core::crypto;
use crate::services::federation::Identity;
use crate::store::{Store, StoreError, StoreResult, User};

/// The domain of addresses given to users whose email nobody verified.
pub const UNVERIFIED_DOMAIN: &str = "federated.invalid";

/// The user an upstream account signs in as.
#[derive(Debug)]
pub enum Resolved {
    /// A user, and whether this login created it.
    User(User, bool),
    /// A user holds the upstream's unverified email: not merged.
    EmailTaken,
}

/// Finds, links or creates the user for `identity`.
pub async fn resolve(store: &dyn Store, identity: &Identity, now: i64) -> StoreResult<Resolved> {
    if let Some(id) = store
        .linked_user(&identity.issuer, &identity.subject)
        .await?
    {
        let user = store
            .user(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("linked user {id} is gone")))?;
        return Ok(Resolved::User(user, false));
    }
    let existing = match &identity.email {
        Some(email) => store.user_by_email(email).await?,
        None => None,
    };
    let (user, created) = match (existing, identity.email_verified) {
        (Some(user), true) => (user, false),
        (Some(_), false) => return Ok(Resolved::EmailTaken),
        (None, verified) => {
            let id = crypto::new_id("usr_");
            let email = match (&identity.email, verified) {
                (Some(email), true) => email.clone(),
                _ => format!("{}@{UNVERIFIED_DOMAIN}", id.to_ascii_lowercase()),
            };
            let user = User {
                id,
                email,
                alias: None,
                created_at: now,
            };
            store.create_user(&user).await?;
            (user, true)
        }
    };
    store
        .link_identity(&identity.issuer, &identity.subject, &user.id, now)
        .await?;
    Ok(Resolved::User(user, created))
}
