//! The domain's pure parts, free of HTTP and storage I/O: time, credential
//! formats, scopes, field grammars and JSON shapes, the policy language, who
//! a caller is, the audit chain's hashing and the trust model.

pub mod audit;
pub mod clock;
pub mod crypto;
pub mod fields;
pub mod json;
pub mod network;
pub mod policy;
pub mod principal;
pub mod roles;
pub mod scopes;
pub mod trust;
