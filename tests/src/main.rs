//! `sigil-conformance`: starts a real `sigil-server` process on a free
//! loopback port, runs the scenario catalog (`tests/scenarios.json`) through
//! the Rust SDK, and prints `N passed, N failed`. The other SDKs' runners
//! read the same catalog.

mod scenarios;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Drive the SDKs against a real sigil-server")]
struct Args {
    /// Path to the sigil-server binary.
    #[arg(long)]
    server: PathBuf,
    /// Fixtures the server starts with (known keys and client secrets).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../reference-server/fixtures.example.json"))]
    fixtures: PathBuf,
    /// Path to the scenario catalog.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios.json"))]
    catalog: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let catalog = match scenarios::Catalog::load(&args.catalog) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot read catalog: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match server::Server::start(&args.server, &args.fixtures).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start sigil-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (passed, failed) = scenarios::run_rust(&catalog, &server.issuer, &args.fixtures).await;
    drop(server);
    println!("conformance: {passed} passed, {failed} failed");
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
