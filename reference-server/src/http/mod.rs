//! HTTP plumbing every endpoint shares: bodies, envelopes, errors' request
//! ids, middleware, CORS, query strings, HTML pages, metrics, and who is
//! calling (the [`principal`] extractor, OAuth client authentication, the
//! tokens the server issues).

pub mod body;
pub mod client_auth;
pub mod client_ip;
pub mod cookies;
pub mod cors;
pub mod envelope;
pub mod hsts;
pub mod metrics;
pub mod middleware;
pub mod pages;
pub mod principal;
pub mod query;
pub mod request_id;
pub mod tokens;
