//! Pre-fills a database's webhook outbox for the delivery benchmark
//! (`scripts/bench-server.sh`): one account, one endpoint at `--url`
//! subscribed to `token.issued`, and `--events` pending events for it.
//! Prints the endpoint's secret. A server started afterwards on the same
//! database delivers them, so the measured rate is delivery alone, not
//! delivery sharing the CPU with the requests that cause the events.
//!
//! ```text
//! cargo run --release -p sigil-server --example fill_outbox -- \
//!   --database sqlite://bench.db --url http://127.0.0.1:9000/ --events 20000
//! ```

use clap::Parser;
use sigil_server::store::webhooks::{Endpoint, Owner};
use sigil_server::{seed, AppState, Config};

#[derive(Debug, Parser)]
struct Args {
    /// The database the server will run on.
    #[arg(long)]
    database: String,
    /// The receiver's URL.
    #[arg(long)]
    url: String,
    /// Events to enqueue.
    #[arg(long)]
    events: usize,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let state = AppState::new(Config {
        database: args.database,
        ..Config::for_tests()
    })
    .await
    .expect("open the database");
    let user = seed::user(&state, "outbox@bench.local")
        .await
        .expect("an account");
    let now = state.clock.now();
    let secret = sigil::webhook::generate_secret();
    let endpoint = Endpoint {
        id: sigil_server::crypto::new_id("whk_"),
        workspace_id: user.id.clone(),
        app_id: None,
        url: args.url,
        events: vec!["token.issued".into()],
        description: None,
        secret: secret.clone(),
        previous_secret: None,
        previous_expires_at: None,
        disabled_at: None,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .create_webhook(&endpoint)
        .await
        .expect("an endpoint");
    let owner = Owner {
        workspace: &user.id,
        app: None,
    };
    for i in 0..args.events {
        let event_id = sigil_server::crypto::new_id("msg_");
        let payload = serde_json::json!({
            "type": "token.issued",
            "timestamp": now,
            "data": { "n": i, "jti": sigil_server::crypto::new_id("jti_") },
        })
        .to_string();
        state
            .store
            .enqueue_webhook_event(owner, &event_id, "token.issued", &payload, now, now * 1000)
            .await
            .expect("an event");
    }
    println!("{secret}");
}
