//! The application: configuration, the shared state that wires the store and
//! the services together, and seeding. The only place that names a storage
//! backend.

pub mod config;
pub mod denylist;
pub mod seed;
pub mod state;

pub use config::Config;
pub use state::AppState;
