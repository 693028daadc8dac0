//! The management API under `/v1`.

pub mod account;
pub mod agent_tokens;
pub mod agents;
pub mod api_keys;
pub mod approvals;
pub mod apps;
pub mod domains;
pub mod plans;
pub mod policies;
pub mod workspaces;

use axum::Router;

use crate::app::state::AppState;

/// Every `/v1` route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(account::routes())
        .merge(api_keys::routes())
        .merge(apps::routes())
        .merge(agents::routes())
        .merge(agent_tokens::routes())
        .merge(policies::routes())
        .merge(domains::routes())
        .merge(workspaces::routes())
        .merge(plans::routes())
}
