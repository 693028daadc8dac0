//! A real server on a loopback socket with an in-memory store, plus helpers
//! to bootstrap an account and call it.
#![allow(dead_code)]

use std::net::SocketAddr;

use serde_json::Value;
use sigil_server::{scopes, seed, AppState, Config};

pub struct TestServer {
    pub base: String,
    pub state: AppState,
}

pub async fn start() -> TestServer {
    start_with(Config::for_tests()).await
}

pub async fn start_with(mut config: Config) -> TestServer {
    if config.database == "sqlite::memory:" {
        if let Some(url) = fresh_postgres() {
            config.database = url;
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_on(listener, config).await
}

/// A server on `listener`, for tests that need its address before its
/// configuration (an upstream that must know the callback URL).
pub async fn start_on(listener: tokio::net::TcpListener, mut config: Config) -> TestServer {
    let addr = listener.local_addr().unwrap();
    config.bind = addr;
    let state = AppState::new(config).await.unwrap();
    sigil_server::webhooks::spawn_worker(&state);
    let app = sigil_server::router(state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    TestServer {
        base: format!("http://{addr}"),
        state,
    }
}

impl TestServer {
    /// An account with a `full` API key.
    pub async fn account(&self, email: &str) -> (String, String) {
        let user = seed::user(&self.state, email).await.unwrap();
        let (_, key) = sigil_server::v1::api_keys::issue(
            &self.state,
            &user.id,
            "bootstrap".into(),
            scopes::preset("full").unwrap(),
            None,
            None,
        )
        .await
        .unwrap();
        (user.id, key)
    }

    /// A plain HTTP client for this server.
    pub fn http(&self) -> Http {
        Http {
            base: self.base.clone(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, http::HeaderMap) {
        self.http().call(method, path, auth, body).await
    }

    pub async fn form(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, Value, http::HeaderMap) {
        self.http().form(path, basic, form).await
    }

    pub async fn raw(&self, req: http::Request<Vec<u8>>) -> (u16, Value, http::HeaderMap) {
        send(req).await
    }

    /// Creates a confidential app and returns (client_id, client_secret).
    pub async fn confidential_app(&self, key: &str, scopes: &[&str]) -> (String, String) {
        let (status, body, _) = self
            .call(
                "POST",
                "/v1/apps",
                Some(key),
                Some(serde_json::json!({
                    "name": "backend", "redirectUris": ["https://app.example/cb"], "scopes": scopes
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["data"]["clientId"].as_str().unwrap().to_owned(),
            body["data"]["clientSecret"].as_str().unwrap().to_owned(),
        )
    }
}

/// With `SIGIL_TEST_POSTGRES` set (scripts/test-postgres.sh), a URL to a new,
/// empty schema of that server, so each test server has a database of its
/// own; `None` runs the suites on SQLite.
pub fn fresh_postgres() -> Option<String> {
    let base = std::env::var("SIGIL_TEST_POSTGRES").ok()?;
    let schema = format!(
        "t_{}",
        sigil_server::crypto::random_base62(12).to_lowercase()
    );
    let create = format!("CREATE SCHEMA {schema}");
    let admin = base.clone();
    // Callers may be sync or inside a runtime: a thread of its own can block.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(&create).execute(&mut conn).await.unwrap();
            })
    })
    .join()
    .expect("creating a PostgreSQL schema");
    let join = if base.contains('?') { '&' } else { '?' };
    // The schema names the connections too, so a test can find its own
    // servers' backends in `pg_stat_activity`.
    Some(format!(
        "{base}{join}options[search_path]={schema}&application_name={schema}"
    ))
}

// ---------------------------------------------------------------------------
// The real `sigil-server` binary as a child process, for tests that need a
// restart, a `kill -9` or the process's own log output.

/// A directory under the system temp dir, removed on drop, and the database
/// of the servers started over it.
pub struct TempDir(pub std::path::PathBuf, std::sync::OnceLock<String>);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "sigil-{tag}-{}-{}",
            std::process::id(),
            sigil_server::crypto::random_base62(8)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path, std::sync::OnceLock::new())
    }

    /// A database of its own: a fresh PostgreSQL schema when the suites run
    /// on PostgreSQL ([`fresh_postgres`]), else `sqlite://<dir>/sigil.db`.
    /// The same for every call, so a restarted server finds its data.
    pub fn database_url(&self) -> String {
        self.1
            .get_or_init(|| fresh_postgres().unwrap_or_else(|| self.sqlite_url()))
            .clone()
    }

    /// `sqlite://<dir>/sigil.db`, for the tests of SQLite itself.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.join("sigil.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A plain HTTP client for a server at `base` (no retries).
#[derive(Clone)]
pub struct Http {
    pub base: String,
}

impl Http {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, http::HeaderMap) {
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(a) = auth {
            b = b.header("authorization", format!("Bearer {a}"));
        }
        let bytes = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                serde_json::to_vec(&v).unwrap()
            }
            None => Vec::new(),
        };
        send(b.body(bytes).unwrap()).await
    }

    pub async fn form(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, Value, http::HeaderMap) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut b = http::Request::post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            b = b.header("authorization", basic_auth(id, secret));
        }
        send(b.body(body.into_bytes()).unwrap()).await
    }

    /// An access token by `client_credentials` for the client `basic`.
    pub async fn client_credentials(&self, basic: Option<(&str, &str)>) -> String {
        let (status, body, _) = self
            .form(
                "/oauth/token",
                basic,
                &[("grant_type", "client_credentials")],
            )
            .await;
        expect_2xx("client_credentials", status, &body);
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// Fails the test, naming `what`, unless `status` is a success.
pub fn expect_2xx(what: &str, status: u16, body: &Value) {
    assert!((200..300).contains(&status), "{what}: {status} {body}");
}

/// `Basic base64(id:secret)`.
pub fn basic_auth(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// Sends one request without retries; the body is parsed as JSON (`Null`
/// when it is not JSON).
pub async fn send(req: http::Request<Vec<u8>>) -> (u16, Value, http::HeaderMap) {
    try_send(req).await.expect("the server answered")
}

/// [`send`], or `None` when no answer came (the server is gone).
pub async fn try_send(req: http::Request<Vec<u8>>) -> Option<(u16, Value, http::HeaderMap)> {
    let res = sigil::Runtime::native()
        .with_retry(sigil::RetryPolicy::NONE)
        .transport
        .send(req)
        .await
        .ok()?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let json = serde_json::from_slice(res.body()).unwrap_or(Value::Null);
    Some((status, json, headers))
}

/// The `sigil-server` binary Cargo built for these tests.
pub fn server_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sigil-server")
}

/// `sigil-server create-key --database <url> --email <email> <args>` (a
/// `full` key unless `args` say otherwise, such as `--operator`); returns
/// the printed key. The child's stderr (its logs) is appended to `log` if
/// given.
pub fn create_key_cli(
    database: &str,
    email: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    log: Option<&std::path::Path>,
) -> String {
    let mut cmd = std::process::Command::new(server_bin());
    cmd.args(["create-key", "--database", database, "--email", email])
        .args(args)
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped());
    cmd.stderr(match log {
        Some(path) => std::process::Stdio::from(append(path)),
        None => std::process::Stdio::null(),
    });
    let out = cmd.output().expect("run sigil-server create-key");
    assert!(out.status.success(), "create-key failed: {:?}", out.status);
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("sgl_"), "create-key printed {key:?}");
    key
}

fn append(path: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

/// A running `sigil-server serve`, SIGKILLed and reaped on drop.
pub struct BinServer {
    pub child: std::process::Child,
    pub http: Http,
}

impl BinServer {
    /// Starts `serve` on a free loopback port over `database`, with `envs`
    /// set and stdout/stderr appended to `log` (discarded without one).
    /// Waits (bounded) until `/healthz` answers.
    pub async fn start(
        database: &str,
        envs: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> BinServer {
        for _attempt in 0..5 {
            // Another process can take the port between this probe and the
            // server's bind; the server then exits and we try another.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let bind = format!("127.0.0.1:{port}");
            let mut cmd = std::process::Command::new(server_bin());
            cmd.args(["serve", "--bind", &bind, "--database", database])
                .envs(envs.iter().copied())
                .stdin(std::process::Stdio::null());
            match log {
                Some(path) => {
                    cmd.stdout(append(path)).stderr(append(path));
                }
                None => {
                    cmd.stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null());
                }
            }
            let child = cmd.spawn().expect("spawn sigil-server serve");
            let mut server = BinServer {
                child,
                http: Http {
                    base: format!("http://{bind}"),
                },
            };
            if server.wait_ready().await {
                return server;
            }
            server.kill();
        }
        panic!("sigil-server did not start");
    }

    async fn wait_ready(&mut self) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            let req = http::Request::get(format!("{}/healthz", self.http.base))
                .body(Vec::new())
                .unwrap();
            let res = sigil::Runtime::native()
                .with_retry(sigil::RetryPolicy::NONE)
                .transport
                .send(req)
                .await;
            if res.is_ok_and(|r| r.status().is_success()) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }

    /// SIGKILL (`kill -9`) and reap. Idempotent.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BinServer {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------
// Operators and webhook receivers, for the trust and plan tests.

impl TestServer {
    /// An operator account's key holding `full` plus the operator scopes,
    /// as `sigil-server create-key --operator` makes it.
    pub async fn operator(&self, email: &str) -> String {
        let user = seed::user(&self.state, email).await.unwrap();
        let mut granted = scopes::preset("full").unwrap();
        granted.extend(scopes::OPERATOR.iter().map(|s| s.to_string()));
        let (_, key) = sigil_server::v1::api_keys::issue(
            &self.state,
            &user.id,
            "ops".into(),
            granted,
            None,
            None,
        )
        .await
        .unwrap();
        key
    }

    /// Registers a `/v1/webhooks` endpoint of `key`'s account for `events`
    /// at a fresh loopback receiver; returns the verifier and the bodies.
    pub async fn webhook_sink(
        &self,
        key: &str,
        events: &[&str],
    ) -> (
        sigil::Webhook,
        tokio::sync::mpsc::UnboundedReceiver<(http::HeaderMap, Vec<u8>)>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let app = axum::Router::new().fallback(
            move |headers: http::HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((headers, body.to_vec()));
                    http::StatusCode::NO_CONTENT
                }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let (status, body, _) = self
            .call(
                "POST",
                "/v1/webhooks",
                Some(key),
                Some(serde_json::json!({ "url": url, "events": events })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let secret = body["data"]["secret"].as_str().unwrap();
        (sigil::Webhook::new(&[secret]).unwrap(), rx)
    }
}

/// The next verified webhook event of `rx` whose type is `kind`, within 10 s.
pub async fn next_event(
    verifier: &sigil::Webhook,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(http::HeaderMap, Vec<u8>)>,
    kind: &str,
) -> Value {
    let deadline = std::time::Duration::from_secs(10);
    loop {
        let (headers, body) = tokio::time::timeout(deadline, rx.recv())
            .await
            .expect("no webhook arrived in time")
            .expect("receiver stopped");
        let event = verifier.verify(&headers, &body).unwrap().json().unwrap();
        if event["type"] == kind {
            return event;
        }
    }
}
