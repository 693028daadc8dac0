//! The validated authorization request: what `/authorize` checked and shows
//! on the consent page, and what the authorization code it issues binds.

use crate::store::App;

/// A validated authorization request.
#[derive(Debug)]
pub struct Authorization {
    /// The client.
    pub app: App,
    /// One of the app's registered redirect URIs (as the client sent it).
    pub redirect_uri: String,
    /// What the user is asked to grant.
    pub scopes: Vec<String>,
    /// The client's `state`, echoed back.
    pub state: Option<String>,
    /// The S256 PKCE challenge.
    pub code_challenge: String,
}
