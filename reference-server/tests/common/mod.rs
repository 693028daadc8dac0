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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.bind = addr;
    let state = AppState::new(config).await.unwrap();
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
        self.raw(b.body(bytes).unwrap()).await
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
            use base64::Engine;
            let enc = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            b = b.header("authorization", format!("Basic {enc}"));
        }
        self.raw(b.body(body.into_bytes()).unwrap()).await
    }

    pub async fn raw(&self, req: http::Request<Vec<u8>>) -> (u16, Value, http::HeaderMap) {
        let res = sigil::Runtime::native()
            .with_retry(sigil::RetryPolicy::NONE)
            .transport
            .send(req)
            .await
            .unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let json = serde_json::from_slice(res.body()).unwrap_or(Value::Null);
        (status, json, headers)
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
