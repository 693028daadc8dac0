//! Server settings, from flags or `SIGIL_*` environment variables.

use std::net::SocketAddr;

/// What `sigil-server serve` runs with.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SIGIL_BIND", default_value = "127.0.0.1:8787")]
    pub bind: SocketAddr,
    /// Public issuer URL (defaults to `http://<bind>`).
    #[arg(long, env = "SIGIL_ISSUER")]
    pub issuer: Option<String>,
}

impl Config {
    /// The issuer identifier tokens and metadata carry.
    pub fn issuer(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }
}
