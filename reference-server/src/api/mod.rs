//! The endpoints, one module or folder per domain: OAuth, the management API
//! (`/v1`), the app API (`/app/v1`), audit, webhooks, capability tokens,
//! sign-in, the session API, discovery, trust and moderation, the OpenAPI
//! document and test mode.

pub mod app_api;
pub mod audit;
pub mod auth_api;
pub mod cap_tokens;
pub mod discovery;
pub mod health;
pub mod oauth;
pub mod openapi;
pub mod provider_login;
pub mod signin;
pub mod test_mode;
pub mod trust;
pub mod v1;
pub mod webhooks;
