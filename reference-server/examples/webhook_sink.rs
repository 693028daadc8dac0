//! A webhook receiver for measuring delivery throughput
//! (`scripts/bench-server.sh`): it verifies every delivery with sdk-core's
//! Standard Webhooks verifier, as a real receiver would, and prints one JSON
//! line once `--expect` distinct events arrived or `--timeout-secs` passed.
//!
//! ```text
//! cargo run --release -p sigil-server --example webhook_sink -- \
//!   --bind 127.0.0.1:9000 --secret whsec_... --expect 20000
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use clap::Parser;
use sigil::webhook::Webhook;
use tokio::sync::Notify;

#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long)]
    bind: std::net::SocketAddr,
    /// The endpoint's signing secret (`whsec_…`).
    #[arg(long)]
    secret: String,
    /// Distinct events to wait for.
    #[arg(long)]
    expect: usize,
    /// Give up after this long.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

#[derive(Default)]
struct Tally {
    ids: HashSet<String>,
    deliveries: usize,
    rejected: usize,
    first: Option<Instant>,
    last: Option<Instant>,
}

struct Sink {
    verifier: Webhook,
    expect: usize,
    tally: Mutex<Tally>,
    done: Notify,
}

async fn receive(State(sink): State<Arc<Sink>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verified = sink.verifier.verify(&headers, &body).is_ok();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Ok(mut tally) = sink.tally.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    let now = Instant::now();
    tally.first.get_or_insert(now);
    tally.last = Some(now);
    tally.deliveries += 1;
    if !verified {
        tally.rejected += 1;
        return StatusCode::UNAUTHORIZED;
    }
    tally.ids.insert(id);
    if tally.ids.len() >= sink.expect {
        sink.done.notify_one();
    }
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let timeout = Duration::from_secs(args.timeout_secs);
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    let verifier = Webhook::new(&[args.secret.as_str()])
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let sink = Arc::new(Sink {
        verifier,
        expect: args.expect,
        tally: Mutex::default(),
        done: Notify::new(),
    });
    let app = Router::new()
        .route("/", post(receive))
        .with_state(sink.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let finished = tokio::time::timeout(timeout, sink.done.notified())
        .await
        .is_ok();
    let tally = sink.tally.lock().map_err(|_| std::io::ErrorKind::Other)?;
    let seconds = match (tally.first, tally.last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    let per_sec = if seconds > 0.0 {
        tally.ids.len() as f64 / seconds
    } else {
        0.0
    };
    println!(
        "{}",
        serde_json::json!({
            "complete": finished,
            "events": tally.ids.len(),
            "deliveries": tally.deliveries,
            "rejected": tally.rejected,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "eventsPerSec": per_sec.round(),
        })
    );
    Ok(())
}
