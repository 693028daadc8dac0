//! The runner's side of the driver protocol: spawns one SDK's driver process
//! and exchanges JSON lines with it (`{"id","cmd","args"}` out,
//! `{"id","ok"}` or `{"id","error"}` back), every reply bounded by a timeout.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Longest wait for one reply. Generous: a command may honour a server's
/// `Retry-After` a few times.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start one SDK's driver.
#[derive(Debug, Clone)]
pub struct Sdk {
    /// Its column in the matrix (`rust`, `node`), as the catalog names it.
    pub name: String,
    program: PathBuf,
    args: Vec<String>,
}

impl Sdk {
    /// The known drivers: `rust` (the binary next to this one), `node`
    /// (`node sdk-node/conformance/driver.mjs`), `python`
    /// (`sdk-python/.venv/bin/python sdk-python/conformance/driver.py`) and
    /// `wasm` (`node sdk-wasm/conformance/driver.mjs`).
    pub fn named(name: &str) -> Result<Self, String> {
        let (program, args) = match name {
            "rust" => {
                let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                (exe.with_file_name("sigil-driver-rust"), vec![])
            }
            "node" => {
                let script = concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../sdk-node/conformance/driver.mjs"
                );
                ("node".into(), vec![script.to_owned()])
            }
            "python" => {
                // The interpreter of the venv that scripts/test-python.sh
                // installs the sigil-sdk wheel into.
                let sdk = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk-python");
                let script = format!("{sdk}/conformance/driver.py");
                (format!("{sdk}/.venv/bin/python").into(), vec![script])
            }
            "wasm" => {
                // The client build of @sigil/web under Node (scripts/test-wasm.sh).
                let script = concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../sdk-wasm/conformance/driver.mjs"
                );
                ("node".into(), vec![script.to_owned()])
            }
            other => {
                return Err(format!(
                    "no driver named `{other}` (known: rust, node, python, wasm)"
                ))
            }
        };
        Ok(Self {
            name: name.to_owned(),
            program,
            args,
        })
    }
}

/// An error as the SDK raised it: `sigil::ErrorInfo`'s fields, or the same
/// fields of a JS error.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SdkError {
    /// The error class (`OAuthError`, `ApiError`, ...).
    pub class: String,
    /// snake_case code.
    #[serde(default)]
    pub code: String,
    /// HTTP status, for errors that came from a response.
    pub status: Option<u16>,
    /// The server's request id.
    pub request_id: Option<String>,
    /// Seconds the server asked to wait.
    pub retry_after: Option<f64>,
    /// The display message.
    #[serde(default)]
    pub message: String,
}

impl std::fmt::Display for SdkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`", self.class, self.code)?;
        if let Some(s) = self.status {
            write!(f, " (HTTP {s})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A running driver process; killed on drop.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Driver {
    /// Starts `sdk`'s driver.
    pub fn spawn(sdk: &Sdk) -> Result<Self, String> {
        let mut child = Command::new(&sdk.program)
            .args(&sdk.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the {} driver ({}): {e}",
                    sdk.name,
                    sdk.program.display()
                )
            })?;
        let stdin = child.stdin.take().ok_or("driver stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("driver stdout")?).lines();
        Ok(Self {
            child,
            stdin,
            stdout,
            next_id: 1,
        })
    }

    /// Sends one command: `Ok(Ok(result))`, `Ok(Err(sdk error))`, or `Err`
    /// when the driver broke the protocol, died or timed out.
    pub async fn send(
        &mut self,
        cmd: &str,
        args: Value,
    ) -> Result<Result<Value, SdkError>, String> {
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"id": id, "cmd": cmd, "args": args}).to_string() + "\n";
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("{cmd}: driver stdin: {e}"))?;
        let text = match tokio::time::timeout(REPLY_TIMEOUT, self.stdout.next_line()).await {
            Err(_) => {
                return Err(format!(
                    "{cmd}: no reply within {}s",
                    REPLY_TIMEOUT.as_secs()
                ))
            }
            Ok(Err(e)) => return Err(format!("{cmd}: driver stdout: {e}")),
            Ok(Ok(None)) => return Err(format!("{cmd}: the driver exited")),
            Ok(Ok(Some(text))) => text,
        };
        let bad = |why: &str| format!("{cmd}: {why}: {text}");
        let mut reply: serde_json::Map<String, Value> =
            serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        if reply.get("id") != Some(&json!(id)) {
            return Err(bad(&format!("not the reply to {id}")));
        }
        // `ok` may be `null` (a call without a result), so presence decides.
        match (reply.remove("ok"), reply.remove("error")) {
            (_, Some(e)) => Ok(Err(
                serde_json::from_value(e).map_err(|e| bad(&e.to_string()))?
            )),
            (Some(ok), None) => Ok(Ok(ok)),
            (None, None) => Err(bad("neither ok nor error")),
        }
    }

    /// A command that must succeed.
    pub async fn ok(&mut self, cmd: &str, args: Value) -> Result<Value, String> {
        self.send(cmd, args)
            .await?
            .map_err(|e| format!("{cmd} failed: {e}"))
    }

    /// A command that must fail; returns the SDK's error.
    pub async fn err(&mut self, cmd: &str, args: Value) -> Result<SdkError, String> {
        match self.send(cmd, args).await? {
            Ok(v) => Err(format!("{cmd} succeeded, an error was expected: {v}")),
            Err(e) => Ok(e),
        }
    }

    /// `newClient`: a client handle for `config`.
    pub async fn client(&mut self, config: Value) -> Result<String, String> {
        let handle = self.ok("newClient", json!({ "config": config })).await?;
        handle
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("newClient returned {handle}"))
    }

    /// `call`: one typed management or app API operation.
    pub async fn call(&mut self, client: &str, op: &str, args: Value) -> Result<Value, String> {
        self.ok("call", json!({"client": client, "op": op, "args": args}))
            .await
            .map_err(|e| format!("{op}: {e}"))
    }

    /// `call` that must fail.
    pub async fn call_err(
        &mut self,
        client: &str,
        op: &str,
        args: Value,
    ) -> Result<SdkError, String> {
        self.err("call", json!({"client": client, "op": op, "args": args}))
            .await
            .map_err(|e| format!("{op}: {e}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
