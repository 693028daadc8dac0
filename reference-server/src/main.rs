//! `sigil-server`: the command line.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use sigil_server::{scopes, seed, AppState, Config};

#[derive(Debug, Parser)]
#[command(name = "sigil-server", version, about = "Sigil reference server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API.
    Serve(Box<Config>),
    /// Print a fresh, well-formed test-mode key value for a fixtures file
    /// (nothing is stored).
    MintKey,
    /// Create an API key for an account (created if new) and print it once.
    CreateKey {
        /// Database URL.
        #[arg(long, env = "SIGIL_DATABASE", default_value = "sqlite://sigil.db")]
        database: String,
        /// The account's email.
        #[arg(long, default_value = seed::DEV_EMAIL)]
        email: String,
        /// Key name.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Scope preset: read, write or full.
        #[arg(long, default_value = "full")]
        preset: String,
        /// Also grant the operator scopes (`operator.moderation`,
        /// `operator.billing`): moderation and plans of every account.
        #[arg(long)]
        operator: bool,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr: stdout carries output meant for scripts, such as
    // the key `create-key` prints (`KEY=$(sigil-server create-key)`).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_env("SIGIL_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(config) => serve(*config).await,
        Command::MintKey => {
            println!("{}", sigil_server::crypto::new_api_key(true));
            Ok(())
        }
        Command::CreateKey {
            database,
            email,
            name,
            preset,
            operator,
        } => {
            let mut scopes = scopes::preset(&preset).ok_or("preset must be read, write or full")?;
            if operator {
                scopes.extend(scopes::OPERATOR.iter().map(|s| s.to_string()));
            }
            let state = AppState::new(Config {
                database,
                test_mode: false,
                ..Config::for_tests()
            })
            .await?;
            let owner = seed::user(&state, &email).await?;
            let (_, secret) =
                sigil_server::v1::api_keys::issue(&state, &owner.id, name, scopes, None, None)
                    .await?;
            println!("{secret}");
            Ok(())
        }
    }
}

async fn serve(mut config: Config) -> Result<(), Box<dyn std::error::Error>> {
    config.check_transport()?;
    config.oidc_providers = config.providers()?;
    config.oidc_providers_file = None;
    let dev = config.dev;
    let database = config.database.clone();
    let fixtures = config.fixtures.clone();
    let state = AppState::new(config).await?;
    if let Some(path) = fixtures {
        sigil_server::test_mode::load(&state, &path).await?;
        tracing::info!(path = %path.display(), "fixtures loaded");
    }
    state.spawn_key_rotation();
    sigil_server::webhooks::spawn_worker(&state);
    let listener = tokio::net::TcpListener::bind(state.config.bind).await?;
    let issuer = state.config.issuer();
    tracing::info!(%issuer, "sigil-server listening on http://{}", listener.local_addr()?);
    if dev {
        let app = seed::dev(&state).await?;
        println!(
            "\nDev mode. Account {email}, public app `{app}` (redirect {redirect}).\n\
             Sign in:             {issuer}/signin as {email}; the code is at {issuer}/dev/mailbox\n\
             Create an API key:   sigil-server create-key --database {database} --email {email}\n\
             Exchange it:         curl -s {issuer}/auth/token/exchange -H 'content-type: application/json' -d '{{\"apiKey\":\"<key>\"}}'\n",
            email = seed::DEV_EMAIL,
            app = app.id,
            redirect = app.redirect_uris.join(", "),
        );
    }
    axum::serve(
        listener,
        sigil_server::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
