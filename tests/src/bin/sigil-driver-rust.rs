//! `sigil-driver-rust`: the Rust SDK as a conformance driver.
//!
//! The runner (`sigil-conformance`) holds every scenario; a driver only maps
//! one primitive command to one SDK call, so every SDK is held to the same
//! assertions. Protocol: one JSON object per line on stdin,
//! `{"id":N,"cmd":"<name>","args":{...}}`, answered in order on stdout with
//! `{"id":N,"ok":<result>}` or `{"id":N,"error":<sigil::ErrorInfo>}`.
//! Only the public `sigil` facade is used, as an application would.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{json, Value};
use sigil::facade::{self, offline, RequestInit, Sigil};
use sigil::{Error, Runtime, Webhook};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One line from the runner.
#[derive(Debug, Deserialize)]
struct Line {
    id: u64,
    cmd: String,
    #[serde(default)]
    args: Value,
}

/// The union of every command's arguments; each command reads its own.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct Args {
    client: Option<String>,
    config: Option<Value>,
    options: Option<Value>,
    url: Option<String>,
    token: Option<String>,
    hint: Option<String>,
    api_key: Option<String>,
    scopes: Vec<String>,
    tokens: Option<Value>,
    method: Option<String>,
    headers: BTreeMap<String, String>,
    body: Option<String>,
    op: Option<String>,
    args: Value,
    request: Option<Request>,
    secrets: Vec<String>,
    id: Option<String>,
    timestamp: Option<i64>,
    count: Option<usize>,
    jwks: Option<Value>,
    now: Option<i64>,
}

/// A request for `signRequest` / `verifyRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Request {
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
}

impl From<Request> for RequestInit {
    fn from(r: Request) -> Self {
        RequestInit {
            method: r.method,
            url: r.url,
            headers: r.headers.into_iter().collect(),
            body: r.body.into_bytes(),
        }
    }
}

fn need<T>(value: Option<T>, name: &str) -> sigil::Result<T> {
    value.ok_or_else(|| Error::InvalidInput(format!("missing argument `{name}`")))
}

fn json<T: serde::Serialize>(value: T) -> sigil::Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::InvalidResponse(e.to_string()))
}

/// The clients this process holds, by handle.
#[derive(Debug, Default)]
struct Driver {
    clients: HashMap<String, Sigil>,
}

impl Driver {
    async fn run(&mut self, cmd: &str, args: Value) -> sigil::Result<Value> {
        let a: Args = facade::parse("args", args)?;
        match cmd {
            "newClient" => {
                let client = Sigil::from_json(need(a.config, "config")?, Runtime::native(), None)?;
                let handle = format!("c{}", self.clients.len() + 1);
                self.clients.insert(handle.clone(), client);
                Ok(json!(handle))
            }
            "pkce" | "signRequest" | "verifyRequest" | "verifyWebhook" | "signWebhook"
            | "verifyOffline" => stateless(cmd, a),
            _ => {
                let handle = need(a.client.as_deref(), "client")?;
                let client = self
                    .clients
                    .get(handle)
                    .cloned()
                    .ok_or_else(|| Error::InvalidInput(format!("no client `{handle}`")))?;
                on_client(&client, cmd, a).await
            }
        }
    }
}

/// The commands on a client (`Sigil`).
async fn on_client(c: &Sigil, cmd: &str, a: Args) -> sigil::Result<Value> {
    let options = a.options.unwrap_or_else(|| json!({}));
    match cmd {
        "discover" => json(c.discover().await?),
        "authorizationUrl" => json(
            c.authorization_url(facade::parse("options", options)?)
                .await?,
        ),
        "handleCallback" => json(c.handle_callback(&need(a.url, "url")?).await?),
        "accessToken" => json(c.access_token().await?),
        "concurrentAccessTokens" => {
            // Each call on its own task of the multi-threaded runtime, as
            // concurrent request handlers of an application would make them.
            let calls: Vec<_> = (0..need(a.count, "count")?)
                .map(|_| {
                    let c = c.clone();
                    tokio::spawn(async move { c.access_token().await })
                })
                .collect();
            let mut tokens = Vec::with_capacity(calls.len());
            for call in calls {
                // No task is ever aborted, so a join error is a panic: re-raised.
                let joined = call
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                tokens.push(joined?);
            }
            json(tokens)
        }
        "tokens" => json(c.tokens().await?),
        "setTokens" => {
            let tokens = facade::parse("tokens", need(a.tokens, "tokens")?)?;
            json(c.set_tokens(tokens).await?)
        }
        "logout" => json(c.logout().await?),
        "request" => {
            let init = RequestInit {
                method: a.method.unwrap_or_default(),
                url: need(a.url, "url")?,
                headers: a.headers.into_iter().collect(),
                body: a.body.unwrap_or_default().into_bytes(),
            };
            let res = c.request(init, None).await?;
            // One value per name, repeated headers joined as `fetch` joins them.
            let mut headers = BTreeMap::<String, String>::new();
            for (name, value) in res.headers {
                headers
                    .entry(name)
                    .and_modify(|v| *v = format!("{v}, {value}"))
                    .or_insert(value);
            }
            let body = String::from_utf8_lossy(&res.body);
            Ok(json!({"status": res.status, "headers": headers, "body": body}))
        }
        "clientCredentials" => json(c.client_credentials(a.scopes).await?),
        "exchangeApiKey" => json(c.exchange_api_key(a.api_key, a.scopes).await?),
        "tokenExchange" => json(c.token_exchange(facade::parse("options", options)?).await?),
        "introspect" => {
            let token = need(a.token, "token")?;
            json(c.introspect(&token, a.hint.as_deref()).await?)
        }
        "revoke" => {
            let token = need(a.token, "token")?;
            json(c.revoke(&token, a.hint.as_deref()).await?)
        }
        "verifyToken" => {
            let token = need(a.token, "token")?;
            json(
                c.verify_token(&token, facade::parse("options", options)?)
                    .await?,
            )
        }
        "call" => c.call(&need(a.op, "op")?, a.args).await,
        other => Err(Error::InvalidInput(format!("unknown command `{other}`"))),
    }
}

/// The commands that need no client: PKCE, RFC 9421, webhooks and offline
/// token verification.
fn stateless(cmd: &str, a: Args) -> sigil::Result<Value> {
    let options = a.options.unwrap_or_else(|| json!({}));
    match cmd {
        "pkce" => {
            let p = sigil::pkce();
            let method = p.method();
            Ok(json!({"verifier": p.verifier.expose(), "challenge": p.challenge, "method": method}))
        }
        "signRequest" => {
            let request = need(a.request, "request")?.into();
            let options = facade::parse("options", options)?;
            let headers = offline::sign_request(&request, &options, None)?;
            Ok(json!(headers.into_iter().collect::<BTreeMap<_, _>>()))
        }
        "verifyRequest" => {
            let request = need(a.request, "request")?.into();
            let options = facade::parse("options", options)?;
            json(offline::verify_request(&request, &options, None)?)
        }
        "verifyWebhook" => {
            let webhook = Webhook::new(&a.secrets)?;
            let body = a.body.unwrap_or_default();
            let v = webhook.verify(&a.headers, body.as_bytes())?;
            Ok(json!({"id": v.id, "timestamp": v.timestamp, "payload": v.json()?}))
        }
        "signWebhook" => {
            let webhook = Webhook::new(&a.secrets)?;
            let (id, timestamp) = (need(a.id, "id")?, need(a.timestamp, "timestamp")?);
            let body = a.body.unwrap_or_default();
            Ok(json!(webhook.sign(&id, timestamp, body.as_bytes())))
        }
        "verifyOffline" => {
            let jwks = serde_json::to_vec(&need(a.jwks, "jwks")?)
                .map_err(|e| Error::InvalidInput(e.to_string()))?;
            let verifier = offline::TokenVerifier::new(&jwks, &facade::parse("options", options)?)?;
            json(verifier.verify(&need(a.token, "token")?, a.now)?)
        }
        other => Err(Error::InvalidInput(format!("unknown command `{other}`"))),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    let mut driver = Driver::default();
    while let Some(text) = lines.next_line().await? {
        let reply = match serde_json::from_str::<Line>(&text) {
            Ok(line) => match driver.run(&line.cmd, line.args).await {
                Ok(ok) => json!({"id": line.id, "ok": ok}),
                Err(e) => json!({"id": line.id, "error": e.info()}),
            },
            Err(e) => json!({"id": null, "error": Error::InvalidInput(e.to_string()).info()}),
        };
        out.write_all(format!("{reply}\n").as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}
