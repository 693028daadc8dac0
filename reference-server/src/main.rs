//! `sigil-server`: the command line.

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "sigil-server", version, about = "Sigil reference server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API.
    Serve(sigil_server::Config),
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SIGIL_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(config) => {
            let listener = tokio::net::TcpListener::bind(config.bind).await?;
            tracing::info!(
                issuer = %config.issuer(),
                "sigil-server listening on http://{}",
                listener.local_addr()?
            );
            axum::serve(listener, sigil_server::router(config))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
        }
    }
}
