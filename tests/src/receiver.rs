//! A webhook receiver on a loopback port: the smallest HTTP/1.1 server that
//! takes the server's deliveries (test mode lets webhooks target loopback)
//! and hands each one's headers and raw body to the scenario, which then
//! asks the SDK under test to verify them.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Header names in lowercase.
    pub headers: BTreeMap<String, String>,
    /// The raw body, as the signature covers it.
    pub body: String,
}

/// A listening receiver; stops on drop.
#[derive(Debug)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    deliveries: mpsc::UnboundedReceiver<Delivery>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub async fn start() -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let (tx, deliveries) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(d)) =
                        tokio::time::timeout(Duration::from_secs(5), read(stream)).await
                    {
                        let _ = tx.send(d);
                    }
                });
            }
        });
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            deliveries,
            task,
        })
    }

    /// The next delivery whose body contains `needle`, waiting 10 s at most.
    pub async fn next_containing(&mut self, needle: &str) -> Result<Delivery, String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.deliveries.recv()).await {
                Ok(Some(d)) if d.body.contains(needle) => return Ok(d),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => {
                    return Err(format!("no delivery containing `{needle}` within 10 s"))
                }
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (headers, then `Content-Length` bytes) and answers 204.
async fn read(stream: TcpStream) -> std::io::Result<Delivery> {
    let mut stream = BufReader::new(stream);
    let mut headers = BTreeMap::new();
    let mut line = String::new();
    stream.read_line(&mut line).await?; // the request line
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        if let Some((name, value)) = text.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0; length.min(1 << 20)];
    stream.read_exact(&mut body).await?;
    stream
        .get_mut()
        .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        .await?;
    Ok(Delivery {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
