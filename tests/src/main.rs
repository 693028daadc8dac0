//! `sigil-conformance`: runs the scenario catalog (`tests/scenarios.json`)
//! through every SDK's driver against one real `sigil-server`, and prints
//! the scenario × SDK matrix. The scenario logic lives here, once; each SDK
//! only ships a thin driver (see [`driver`]), so a green matrix means the
//! SDKs behave the same against the real server.
//!
//! - `--server PATH` starts that binary in test mode with `--fixtures`.
//! - `--url URL --credentials FILE` runs against an already-running
//!   deployment; scenarios that need test mode are reported as skipped.

mod browser;
mod catalog;
mod driver;
mod matrix;
mod receiver;
mod scenarios;
mod server;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser};

use catalog::{Catalog, Known, Scenario};
use driver::{Driver, Sdk};
use matrix::{Matrix, Outcome};
use scenarios::{Ctx, Target};
use server::Launcher;

/// Longest a scenario may take, all its commands included.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Parser)]
#[command(
    about = "Drive every SDK against a real sigil-server and print the scenario × SDK matrix"
)]
#[command(group(ArgGroup::new("target").required(true).args(["server", "url"])))]
struct Args {
    /// Start this sigil-server binary in test mode and run against it.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Run against an already-running deployment at this issuer URL instead.
    #[arg(long, requires = "credentials")]
    url: Option<String>,
    /// With --url: the deployment's known API keys and app secrets, in the
    /// fixtures file's shape.
    #[arg(long, requires = "url")]
    credentials: Option<PathBuf>,
    /// With --server: the fixtures it starts with.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../reference-server/fixtures.example.json"))]
    fixtures: PathBuf,
    /// The scenario catalog.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios.json"))]
    catalog: PathBuf,
    /// The SDK drivers to run, comma-separated: the matrix's columns.
    #[arg(long, value_delimiter = ',', default_value = "rust,node")]
    drivers: Vec<String>,
    /// Where `matrix.md` and `matrix.json` go (default: `conformance/` in
    /// the target directory this binary was built into).
    #[arg(long)]
    matrix_out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sigil-conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the matrix; `Ok(true)` when every listed cell passed or was skipped.
async fn run(args: Args) -> Result<bool, String> {
    let catalog = Catalog::load(&args.catalog)?;
    let sdks = args
        .drivers
        .iter()
        .map(|d| Sdk::named(d))
        .collect::<Result<Vec<_>, _>>()?;
    let (target, server) = match (&args.server, &args.url, &args.credentials) {
        (Some(binary), _, _) => {
            let launcher = Launcher {
                binary: binary.clone(),
                fixtures: args.fixtures.clone(),
            };
            // Every column's sign-in flows share this server and one client IP:
            // with three drivers they outrun the default per-IP quota (50/s,
            // burst 100). No scenario tests that quota; raise it.
            let server = launcher
                .start(&["--ip-rate-per-sec", "1000", "--ip-rate-burst", "1000"])
                .await?;
            let target = Target {
                issuer: server.issuer.clone(),
                known: Known::load(&args.fixtures)?,
                launcher: Some(launcher),
            };
            (target, Some(server))
        }
        (None, Some(url), Some(credentials)) => {
            let target = Target {
                issuer: url.trim_end_matches('/').to_owned(),
                known: Known::load(credentials)?,
                launcher: None,
            };
            (target, None)
        }
        _ => return Err("give --server, or --url with --credentials".into()),
    };

    let mut matrix = Matrix::new(sdks.iter().map(|s| s.name.clone()).collect());
    for scenario in &catalog.scenarios {
        let mut row = Vec::new();
        for sdk in &sdks {
            let outcome = cell(scenario, sdk, &target).await;
            match &outcome {
                Outcome::Pass => println!("ok   {:<5} {}", sdk.name, scenario.id),
                Outcome::Fail { reason } => {
                    println!("FAIL {:<5} {}: {reason}", sdk.name, scenario.id)
                }
                Outcome::Skipped { reason } => {
                    println!("skip {:<5} {}: {reason}", sdk.name, scenario.id)
                }
                Outcome::NotListed => {}
            }
            row.push(outcome);
        }
        matrix.push(scenario, row);
    }
    drop(server);

    let out = match args.matrix_out {
        Some(dir) => dir,
        None => default_matrix_dir()?,
    };
    matrix.write(&out)?;
    println!(
        "\n{}\n(written to {}/matrix.md and matrix.json)",
        matrix.markdown(),
        out.display()
    );
    let (passed, failed, skipped) = matrix.counts();
    let skipped = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    println!("conformance: {passed} passed, {failed} failed{skipped}");
    Ok(failed == 0 && passed > 0)
}

/// One cell of the matrix: the scenario through one SDK, in a fresh driver
/// process so no state or crash carries over to the next.
async fn cell(scenario: &Scenario, sdk: &Sdk, target: &Target) -> Outcome {
    if !scenario.sdks.contains(&sdk.name) {
        return Outcome::NotListed;
    }
    if target.launcher.is_none() && !scenario.needs.is_empty() {
        let reason = format!("needs test mode ({})", scenario.needs.join(", "));
        return Outcome::Skipped { reason };
    }
    let run = async {
        let mut cx = Ctx {
            sdk: Driver::spawn(sdk)?,
            sdk_name: &sdk.name,
            target,
            web: web::Web::new(&target.issuer)?,
        };
        scenarios::run(&scenario.id, &mut cx).await
    };
    match tokio::time::timeout(SCENARIO_TIMEOUT, run).await {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(reason)) => Outcome::Fail { reason },
        Err(_) => Outcome::Fail {
            reason: format!("did not finish within {}s", SCENARIO_TIMEOUT.as_secs()),
        },
    }
}

/// `<target dir>/conformance`, next to the `debug/` this binary runs from.
fn default_matrix_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let target = exe
        .parent()
        .and_then(|p| p.parent())
        .ok_or("no target directory")?;
    Ok(target.join("conformance"))
}
