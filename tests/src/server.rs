//! A `sigil-server` child process on a free loopback port, killed on drop.

use std::path::Path;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A running server.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Its issuer URL.
    pub issuer: String,
}

impl Server {
    /// Starts the binary in test mode with `fixtures` and waits until it
    /// listens (10 s at most).
    pub async fn start(binary: &Path, fixtures: &Path) -> Result<Self, String> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            l.local_addr().map_err(|e| e.to_string())?.port()
        };
        let bind = format!("127.0.0.1:{port}");
        let child = Command::new(binary)
            .args([
                "serve",
                "--bind",
                &bind,
                "--database",
                "sqlite::memory:",
                "--test-mode",
            ])
            .arg("--fixtures")
            .arg(fixtures)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
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
