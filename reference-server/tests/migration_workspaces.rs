//! Migration 0010 on a database made by the schema before it: every
//! single-owner row lands in its owner's personal workspace and nothing is
//! lost.

mod common;

use sigil_server::store::sql::SqlStore;
use sigil_server::store::workspaces::WorkspaceStore;
use sigil_server::store::Store;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

/// Tables whose rows a workspace owns.
const OWNED: &[&str] = &[
    "apps",
    "api_keys",
    "agents",
    "policies",
    "approvals",
    "domains",
    "cap_tokens",
    "webhook_endpoints",
];

#[tokio::test]
async fn single_owner_rows_move_into_personal_workspaces() {
    let dir = common::TempDir::new("migrate-0010");
    let url = dir.sqlite_url();

    // The schema up to 0009, from the same files the server embeds.
    let old = dir.0.join("migrations");
    std::fs::create_dir_all(&old).unwrap();
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap()
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0010" {
            std::fs::copy(&path, old.join(name)).unwrap();
        }
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.0.join("sigil.db"))
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    let rows = r#"
        INSERT INTO users VALUES ('usr_a', 'a@example.com', NULL, 1), ('usr_b', 'b@example.com', 'bee', 2);
        INSERT INTO apps VALUES ('app_a', 'usr_a', 'A', '[]', '[]', 1, NULL, 'identity.read', 3),
                                ('app_b', 'usr_b', 'B', '[]', '[]', 1, NULL, 'identity.read', 3);
        INSERT INTO api_keys (id, owner_id, app_id, name, prefix, last4, secret_hash, scopes, created_at)
            VALUES ('key_a', 'usr_a', NULL, 'a', 'sgl_test_aaa', 'aaaa', X'01', 'keys.read', 4),
                   ('key_b', 'usr_b', 'app_b', 'b', 'sgl_test_bbb', 'bbbb', X'02', 'keys.read', 4);
        INSERT INTO agents VALUES ('agt_a', 'usr_a', 'bot', NULL, X'00', 'active', 5, 5);
        INSERT INTO policies VALUES ('pol_a', 'usr_a', 'p', NULL, 100, '[]', 1, 6, 6);
        INSERT INTO approvals VALUES ('apv_a', 'usr_a', 'agt_a', 'pol_a', 'identity.read', 60, 'svc', NULL, 'pending', 7, NULL, NULL);
        INSERT INTO domains VALUES ('dom_b', 'usr_b', 'b.example', 'sigil-verification=x', 8, NULL);
        INSERT INTO cap_tokens VALUES ('cap_b', 'app_b', 'usr_b', X'03', 'identity.read', '[]', '[]', NULL, 9);
        INSERT INTO webhook_endpoints (id, owner_id, url, events, secret, created_at, updated_at, app_id)
            VALUES ('whk_a', 'usr_a', 'https://a.example/h', '["*"]', 'whsec_x', 10, 10, NULL),
                   ('whk_b', 'usr_b', 'https://b.example/h', '["*"]', 'whsec_y', 10, 10, 'app_b');
    "#;
    sqlx::raw_sql(rows).execute(&mut conn).await.unwrap();
    let mut before = Vec::new();
    for table in OWNED {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        before.push(n);
    }
    conn.close().await.unwrap();

    // The server opens it and applies 0010.
    let store = SqlStore::open(&url, false).await.unwrap();
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.0.join("sigil.db"))
        .connect()
        .await
        .unwrap();
    for (table, n) in OWNED.iter().zip(before) {
        let row = sqlx::query(&format!(
            "SELECT COUNT(*) AS n, \
             SUM(workspace_id IS NOT NULL AND workspace_id = owner_id) AS moved \
             FROM {table}"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        let (after, moved): (i64, i64) = (row.get("n"), row.get("moved"));
        assert_eq!(after, n, "{table}: no row lost");
        assert_eq!(
            moved, n,
            "{table}: every row in its owner's personal workspace"
        );
    }
    for (user, email) in [("usr_a", "a@example.com"), ("usr_b", "b@example.com")] {
        let ws = store
            .workspace(user)
            .await
            .unwrap()
            .expect("a personal workspace");
        assert!(ws.personal);
        assert_eq!(ws.owner_id, user);
        let members = store.members(user).await.unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].email, email);
        assert_eq!(members[0].role.as_str(), "owner");
    }
    // Through the store, as the handlers see it.
    assert_eq!(store.apps_of("usr_a").await.unwrap()[0].id, "app_a");
    assert_eq!(store.api_keys_of("usr_b").await.unwrap()[0].id, "key_b");
    assert_eq!(store.policies_of("usr_a", false).await.unwrap().len(), 1);
    assert_eq!(store.domains_of("usr_b").await.unwrap().len(), 1);
    assert!(store
        .api_keys_of("usr_a")
        .await
        .unwrap()
        .iter()
        .all(|k| k.id == "key_a"));
    let user = store.user("usr_b").await.unwrap().unwrap();
    assert_eq!(user.alias.as_deref(), Some("bee"));
}
