//! The native transport: reqwest with rustls, redirects off (token endpoints
//! must not be followed silently).

use std::time::Duration;

use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError, REQUEST_TIMEOUT};

/// A [`Transport`] over a shared reqwest client.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("reqwest client with static settings");
        Self { client }
    }
}

impl ReqwestTransport {
    /// Wraps a caller-configured client (proxies, timeouts, roots).
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

#[async_trait::async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::InvalidRequest(e.to_string()))?;
        let response = self.client.execute(request).await.map_err(map_error)?;
        let mut builder = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = builder.headers_mut() {
            *headers = response.headers().clone();
        }
        let body = response.bytes().await.map_err(map_error)?;
        builder
            .body(body.to_vec())
            .map_err(|e| TransportError::Network(e.to_string()))
    }
}

fn map_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else if e.is_builder() {
        TransportError::InvalidRequest(e.to_string())
    } else {
        TransportError::Network(e.to_string())
    }
}
