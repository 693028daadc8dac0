//! The runner's own HTTP client, for what no SDK does: the test clock, the
//! dev mailbox, an agent's signed request, the HTML pages a user clicks
//! through, and checks of the server's raw answers. It keeps cookies like a
//! browser and never follows redirects, so each hop can be checked.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

/// One response.
#[derive(Debug)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.body).map_err(|e| format!("not JSON ({e}): {}", self.body))
    }
}

/// An HTTP client with its own cookie jar, bound to one server.
#[derive(Debug, Clone)]
pub struct Web {
    client: reqwest::Client,
    /// The server's base URL (its issuer).
    pub base: String,
}

impl Web {
    /// A client with an empty cookie jar; every request times out after 10 s.
    pub fn new(base: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            base: base.to_owned(),
        })
    }

    /// Sends a request to a path on the server, or to an absolute URL.
    pub async fn send(
        &self,
        method: &str,
        path_or_url: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Result<Page, String> {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self.client.request(method, &url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let res = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.map_err(|e| format!("{url}: {e}"))?;
        Ok(Page {
            status,
            headers,
            body,
        })
    }

    /// `GET`.
    pub async fn get(&self, path_or_url: &str) -> Result<Page, String> {
        self.send("GET", path_or_url, &[], Vec::new()).await
    }

    /// `GET` with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> Result<Page, String> {
        let bearer = format!("Bearer {token}");
        self.send("GET", path, &[("authorization", &bearer)], Vec::new())
            .await
    }

    /// `POST` of a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Page, String> {
        let headers = [("content-type", "application/json")];
        self.send("POST", path, &headers, body.to_string()).await
    }

    /// `POST` of a form, as a browser submits one.
    pub async fn post_form(&self, path: &str, form: &[(String, String)]) -> Result<Page, String> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let headers = [("content-type", "application/x-www-form-urlencoded")];
        self.send("POST", path, &headers, body).await
    }

    /// Moves the server's test clock by `seconds` (negative: back).
    pub async fn advance_clock(&self, seconds: i64) -> Result<(), String> {
        let res = self
            .post_json("/_test/clock", &json!({ "advance": seconds }))
            .await?;
        match res.status {
            200 => Ok(()),
            s => Err(format!("test clock: HTTP {s}: {}", res.body)),
        }
    }

    /// How many `method` requests the server has counted on `route` (its
    /// route template, such as `/oauth/token`), any status, from
    /// `sigil_http_requests_total` in `GET /metrics`.
    pub async fn requests(&self, method: &str, route: &str) -> Result<u64, String> {
        let page = self.get("/metrics").await?;
        if page.status != 200 {
            return Err(format!("GET /metrics: HTTP {}", page.status));
        }
        let labels = [format!("method=\"{method}\""), format!("route=\"{route}\"")];
        let mut total = 0;
        for line in page.body.lines() {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Some(inner) = series
                .strip_prefix("sigil_http_requests_total{")
                .and_then(|rest| rest.strip_suffix('}'))
            else {
                continue;
            };
            // Label values here (methods, route templates, statuses) hold no commas.
            if labels.iter().all(|l| inner.split(',').any(|p| p == l)) {
                total += value
                    .parse::<f64>()
                    .map_err(|e| format!("/metrics: {line}: {e}"))? as u64;
            }
        }
        Ok(total)
    }

    /// The newest sign-in code the dev mailbox holds for `email`.
    pub async fn mailbox_code(&self, email: &str) -> Result<String, String> {
        let url = format!("/dev/mailbox?to={}", encode(email));
        let body = self.get(&url).await?.json()?;
        body["data"][0]["code"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no code in the dev mailbox for {email}: {body}"))
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
