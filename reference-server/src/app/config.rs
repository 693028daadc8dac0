//! Server settings, from flags or `SIGIL_*` environment variables.

use std::net::SocketAddr;

use crate::services::federation::ProviderConfig;

/// What `sigil-server serve` runs with.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SIGIL_BIND", default_value = "127.0.0.1:8787")]
    pub bind: SocketAddr,
    /// Public issuer URL (defaults to `http://<bind>`).
    #[arg(long, env = "SIGIL_ISSUER")]
    pub issuer: Option<String>,
    /// Database URL: an SQLite file (`sqlite://sigil.db`) or `sqlite::memory:`.
    #[arg(long, env = "SIGIL_DATABASE", default_value = "sqlite://sigil.db")]
    pub database: String,
    /// Fsync every SQLite commit (power-loss safe, slower writes). Without it,
    /// acknowledged writes survive a process crash (`kill -9`) but not power loss.
    #[arg(long, env = "SIGIL_SQLITE_SYNCHRONOUS_FULL")]
    pub sqlite_synchronous_full: bool,
    /// Development mode: seeds a dev user and app on first start.
    #[arg(long, env = "SIGIL_DEV")]
    pub dev: bool,
    /// Test mode for CI: test-clock and fixtures endpoints. Never on by default.
    #[arg(long, env = "SIGIL_TEST_MODE")]
    pub test_mode: bool,
    /// Test mode only: a JSON file of apps, users and API keys with known values.
    #[arg(long, env = "SIGIL_FIXTURES", requires = "test_mode")]
    pub fixtures: Option<std::path::PathBuf>,
    /// Days a signing key signs before a new one takes over (the old one
    /// stays in the JWKS for one more period).
    #[arg(long, env = "SIGIL_SIGNING_KEY_MAX_AGE_DAYS", default_value_t = 30)]
    pub signing_key_max_age_days: u32,
    /// Access-token lifetime in seconds.
    #[arg(long, env = "SIGIL_ACCESS_TOKEN_TTL", default_value_t = 600)]
    pub access_token_ttl: u64,
    /// Refresh-token lifetime in seconds.
    #[arg(long, env = "SIGIL_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl: u64,
    /// Sustained requests per second per client IP on sign-in and OAuth endpoints.
    #[arg(long, env = "SIGIL_IP_RATE", default_value_t = 50)]
    pub ip_rate_per_sec: u32,
    /// Burst allowance per client IP.
    #[arg(long, env = "SIGIL_IP_BURST", default_value_t = 100)]
    pub ip_rate_burst: u32,
    /// Sustained requests per second per API key or token on the management API.
    #[arg(long, env = "SIGIL_KEY_RATE", default_value_t = 100)]
    pub key_rate_per_sec: u32,
    /// Burst allowance per API key or token.
    #[arg(long, env = "SIGIL_KEY_BURST", default_value_t = 200)]
    pub key_rate_burst: u32,
    /// App API: the upstream `POST /app/v1/ai/chat` forwards to (a JSON
    /// chat endpoint); the route answers 503 `not_configured` when unset.
    #[arg(long, env = "SIGIL_AI_UPSTREAM_URL")]
    pub ai_upstream_url: Option<String>,
    /// DNS resolver (`ip:port`) domain verification queries; the system
    /// resolver when unset.
    #[arg(long, env = "SIGIL_DNS_RESOLVER")]
    pub dns_resolver: Option<SocketAddr>,
    /// Plan limit: agents (not revoked) per account.
    #[arg(long, env = "SIGIL_PLAN_MAX_AGENTS", default_value_t = 100)]
    pub plan_max_agents: u64,
    /// Plan limit: agent tokens issued per account per calendar month (UTC,
    /// server clock).
    #[arg(
        long,
        env = "SIGIL_PLAN_MAX_TOKENS_PER_MONTH",
        default_value_t = 100_000
    )]
    pub plan_max_tokens_per_month: u64,
    /// Reports (`POST /app/v1/reports`) one app may file per minute, sustained.
    #[arg(long, env = "SIGIL_REPORT_RATE", default_value_t = 10)]
    pub report_rate_per_min: u32,
    /// Burst allowance of reports per app.
    #[arg(long, env = "SIGIL_REPORT_BURST", default_value_t = 20)]
    pub report_rate_burst: u32,
    /// Webhooks: the retry schedule's scale factor (1 = the SYSTEM.md
    /// schedule 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). Defaults to
    /// 0.001 in test mode, 1 otherwise.
    #[arg(long, env = "SIGIL_WEBHOOK_RETRY_SCALE")]
    pub webhook_retry_scale: Option<f64>,
    /// Webhooks: per-attempt timeout in milliseconds (default 10000, 1000 in
    /// test mode).
    #[arg(long, env = "SIGIL_WEBHOOK_TIMEOUT_MS")]
    pub webhook_timeout_ms: Option<u64>,
    /// Webhooks: attempts in flight to one endpoint at a time, so one busy
    /// receiver is not flooded (per node).
    #[arg(long, env = "SIGIL_WEBHOOK_IN_FLIGHT_PER_ENDPOINT", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub webhook_in_flight_per_endpoint: u32,
    /// Webhooks: attempts in flight in all, across endpoints (per node).
    #[arg(long, env = "SIGIL_WEBHOOK_IN_FLIGHT", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=8192))]
    pub webhook_in_flight: u32,
    /// Webhooks: seconds a rotated-out secret keeps signing alongside the new one.
    #[arg(long, env = "SIGIL_WEBHOOK_SECRET_OVERLAP", default_value_t = 86_400)]
    pub webhook_secret_overlap_secs: u64,
    /// A reverse proxy (CIDR, or one address) whose `X-Forwarded-For` names
    /// the client and whose `X-Forwarded-Proto: http` is refused. Repeatable;
    /// comma-separated in the environment. Nobody is trusted by default.
    #[arg(long = "trusted-proxy", env = "SIGIL_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// An upstream OpenID Connect provider for `/auth/oauth/{name}/login`:
    /// `name=…,issuer=…,client_id=…,client_secret=…` (optional `scope=a b`).
    /// Repeatable.
    #[arg(long = "oidc-provider", value_parser = parse_provider)]
    pub oidc_providers: Vec<ProviderConfig>,
    /// A JSON file of upstream providers: `[{"name", "issuer", "clientId",
    /// "clientSecret", "scope"?}]`, added to `--oidc-provider`.
    #[arg(long, env = "SIGIL_OIDC_PROVIDERS_FILE")]
    pub oidc_providers_file: Option<std::path::PathBuf>,
}

fn parse_network(value: &str) -> Result<ipnet::IpNet, String> {
    crate::core::network::parse(value)
        .ok_or_else(|| format!("{value:?} is not a CIDR or an IP address"))
}

fn parse_provider(value: &str) -> Result<ProviderConfig, String> {
    ProviderConfig::parse_flag(value)
}

impl Config {
    /// Defaults for tests: in-memory store on an ephemeral port.
    pub fn for_tests() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            issuer: None,
            database: "sqlite::memory:".into(),
            sqlite_synchronous_full: false,
            dev: false,
            test_mode: true,
            fixtures: None,
            signing_key_max_age_days: 30,
            access_token_ttl: 600,
            refresh_token_ttl: 30 * 24 * 3600,
            ip_rate_per_sec: 10_000,
            ip_rate_burst: 10_000,
            key_rate_per_sec: 10_000,
            key_rate_burst: 10_000,
            ai_upstream_url: None,
            webhook_retry_scale: None,
            webhook_timeout_ms: None,
            webhook_in_flight_per_endpoint: 16,
            webhook_in_flight: 128,
            webhook_secret_overlap_secs: 86_400,
            dns_resolver: None,
            plan_max_agents: 100,
            plan_max_tokens_per_month: 100_000,
            report_rate_per_min: 10,
            report_rate_burst: 20,
            trusted_proxies: Vec::new(),
            oidc_providers: Vec::new(),
            oidc_providers_file: None,
        }
    }

    /// The issuer identifier tokens and metadata carry.
    pub fn issuer(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// SearchAF's "HTTP requests will be rejected": outside `--dev` and
    /// `--test-mode`, a plain-`http` issuer is refused unless the server is
    /// bound to loopback (a local benchmark, or a TLS-terminating proxy on
    /// the same host).
    pub fn check_transport(&self) -> Result<(), String> {
        let issuer = self.issuer();
        if self.dev
            || self.test_mode
            || !issuer.starts_with("http://")
            || self.bind.ip().is_loopback()
        {
            return Ok(());
        }
        Err(format!(
            "the issuer {issuer} is plain http on the non-loopback address {}: set an https \
             --issuer (TLS at a proxy), bind to loopback, or use --dev",
            self.bind
        ))
    }

    /// Every configured upstream provider: the flags, then the file.
    pub fn providers(&self) -> Result<Vec<ProviderConfig>, String> {
        let mut all = self.oidc_providers.clone();
        if let Some(path) = &self.oidc_providers_file {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let listed: Vec<ProviderConfig> =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            all.extend(listed);
        }
        let mut names = std::collections::HashSet::new();
        for p in &all {
            p.check()?;
            if !names.insert(p.name.clone()) {
                return Err(format!("provider {:?} is configured twice", p.name));
            }
        }
        Ok(all)
    }
}
