//! A `sigil-server --test-mode` child process on a free loopback port,
//! killed on drop.

use std::path::PathBuf;
use std::time::Duration;

use tokio::process::{Child, Command};

/// How to start a test-mode server: what the runner was given, kept so a
/// scenario can start a second one with other flags.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The `sigil-server` binary.
    pub binary: PathBuf,
    /// The fixtures file it loads.
    pub fixtures: PathBuf,
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Its issuer URL.
    pub issuer: String,
}

impl Launcher {
    /// Starts the binary in test mode with the fixtures and `extra` flags,
    /// and waits until it listens (10 s at most).
    pub async fn start(&self, extra: &[&str]) -> Result<Server, String> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            l.local_addr().map_err(|e| e.to_string())?.port()
        };
        let bind = format!("127.0.0.1:{port}");
        let mut command = Command::new(&self.binary);
        command
            .args([
                "serve",
                "--bind",
                &bind,
                "--database",
                "sqlite::memory:",
                "--test-mode",
            ])
            .arg("--fixtures")
            .arg(&self.fixtures)
            .args(extra)
            .kill_on_drop(true);
        // Its request log would bury the matrix; warnings and errors still show.
        if std::env::var_os("SIGIL_LOG").is_none() {
            command.env("SIGIL_LOG", "warn");
        }
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", self.binary.display()))?;
        let server = Server {
            child,
            issuer: format!("http://{bind}"),
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&bind).await.is_ok() {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("server did not listen within 10 s".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
