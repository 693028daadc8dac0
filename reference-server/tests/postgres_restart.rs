//! A PostgreSQL restart under a running server: clean 503s with
//! `Retry-After` while the database is down, and service again once it is
//! back, without restarting the server. Its own test binary, since it stops
//! the database every other suite shares; runs only under
//! scripts/test-postgres.sh, which sets `SIGIL_TEST_PG_CTL`.

mod common;

use std::time::{Duration, Instant};

use common::{BinServer, TempDir};

fn pg_ctl(action: &str) {
    let command = std::env::var("SIGIL_TEST_PG_CTL").unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} -w {action} >/dev/null"))
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {action}");
}

#[tokio::test]
async fn a_database_restart_gives_503s_then_recovers() {
    if std::env::var("SIGIL_TEST_PG_CTL").is_err() {
        eprintln!("skipped: SIGIL_TEST_PG_CTL is not set (scripts/test-postgres.sh sets it)");
        return;
    }
    let dir = TempDir::new("pg-restart");
    let db = dir.database_url();
    let key = common::create_key_cli(&db, "restart@example.com", &[], &[], None);
    let server = BinServer::start(&db, &[], None).await;
    let list = || server.http.call("GET", "/v1/api-keys", Some(&key), None);
    assert_eq!(list().await.0, 200);

    pg_ctl("-m fast stop");
    let (status, body, headers) = list().await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert_eq!(headers["retry-after"], "1");
    let (status, body, _) = server
        .http
        .form(
            "/oauth/token",
            Some(("app_x", "secret")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable")),
        "{body}"
    );

    pg_ctl("start");
    let start = Instant::now();
    loop {
        let (status, body, _) = list().await;
        if status == 200 {
            println!(
                "service back {} ms after the database",
                start.elapsed().as_millis()
            );
            break;
        }
        assert!(status == 503, "{status} {body}");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no recovery in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
