//! The server's discovery document, read by sdk-core's own discovery against
//! a real listening server.

use sigil::{ClientAuth, OAuthClient, Runtime};

async fn spawn() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = sigil_server::Config {
        bind: addr,
        issuer: None,
    };
    tokio::spawn(async move { axum::serve(listener, sigil_server::router(config)).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn sdk_core_discovers_the_server() {
    let issuer = spawn().await;
    let client = OAuthClient::discover(&issuer, "app", ClientAuth::None, Runtime::native())
        .await
        .unwrap();
    let md = client.metadata();
    assert_eq!(md.issuer, issuer);
    assert_eq!(md.token_endpoint, format!("{issuer}/oauth/token"));
    assert!(md.supports_s256());
    assert!(md.authorization_response_iss_parameter_supported);
}

#[tokio::test]
async fn healthz_and_request_ids() {
    let issuer = spawn().await;
    let res = reqwest_get(&format!("{issuer}/healthz")).await;
    assert_eq!(res.0, 200);
    assert!(res.1.is_some(), "X-Request-Id is set");
}

async fn reqwest_get(url: &str) -> (u16, Option<String>) {
    let runtime = Runtime::native();
    let req = http::Request::get(url).body(Vec::new()).unwrap();
    let res = runtime.send(req, sigil::Retry::Never).await.unwrap();
    (
        res.status().as_u16(),
        res.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned()),
    )
}
