//! First-start seeding in dev mode and the account bootstrap used by the CLI:
//! the first API key has to come from somewhere.

use crate::app::state::AppState;
use crate::core::crypto;
use crate::store::{App, StoreResult, User};

/// The dev account's email.
pub const DEV_EMAIL: &str = "dev@sigil.local";
/// The dev app's client id.
pub const DEV_APP_ID: &str = "app_dev";

/// Finds or creates the user with `email`.
pub async fn user(state: &AppState, email: &str) -> StoreResult<User> {
    let email = email.trim().to_ascii_lowercase();
    if let Some(u) = state.store.user_by_email(&email).await? {
        return Ok(u);
    }
    let user = User {
        id: crypto::new_id("usr_"),
        email,
        alias: None,
        created_at: state.clock.now(),
        disabled_at: None,
    };
    state.store.create_user(&user).await?;
    Ok(user)
}

/// Seeds the dev user and a public dev app (idempotent); returns the app.
pub async fn dev(state: &AppState) -> StoreResult<App> {
    let owner = user(state, DEV_EMAIL).await?;
    if let Some(app) = state.store.app(DEV_APP_ID).await? {
        return Ok(app);
    }
    let app = App {
        id: DEV_APP_ID.into(),
        owner_id: owner.id,
        name: "Sigil dev app".into(),
        redirect_uris: vec!["http://127.0.0.1:3000/callback".into()],
        allowed_origins: vec!["http://127.0.0.1:3000".into()],
        is_public: true,
        secret_hash: None,
        scopes: vec!["profile.basic".into(), "identity.read".into()],
        created_at: state.clock.now(),
    };
    state.store.create_app(&app).await?;
    Ok(app)
}
