//! The SQL side (SQLite and PostgreSQL) of [`WebhookStore`]: endpoints and the delivery outbox.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{SqlStore, WORKSPACE_OWNER};
use crate::store::changes::Change;
use crate::store::webhooks::{status, AttemptRecord, Delivery, Endpoint, Owner, WebhookStore};
use crate::store::{StoreError, StoreResult};

const ENDPOINT_COLUMNS: &str = "id, workspace_id, app_id, url, events, description, secret, \
     previous_secret, previous_expires_at, disabled_at, disabled_reason, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_type, payload, status, attempts, \
     next_attempt_ms, last_status, last_error, last_attempt_ms, delivered_at_ms, created_at";

fn endpoint_from(row: &AnyRow) -> StoreResult<Endpoint> {
    let events: String = row.try_get("events")?;
    Ok(Endpoint {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        app_id: row.try_get("app_id")?,
        url: row.try_get("url")?,
        events: serde_json::from_str(&events)
            .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
        description: row.try_get("description")?,
        secret: row.try_get("secret")?,
        previous_secret: row.try_get("previous_secret")?,
        previous_expires_at: row.try_get("previous_expires_at")?,
        disabled_at: row.try_get("disabled_at")?,
        disabled_reason: row.try_get("disabled_reason")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn delivery_from(row: &AnyRow) -> StoreResult<Delivery> {
    Ok(Delivery {
        id: row.try_get("id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        payload: row.try_get("payload")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_ms: row.try_get("next_attempt_ms")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        last_attempt_ms: row.try_get("last_attempt_ms")?,
        delivered_at_ms: row.try_get("delivered_at_ms")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Stores what an attempt of a pending delivery concluded.
async fn record_attempt(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    r: &AttemptRecord,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_ms = $3, \
         last_status = $4, last_error = $5, last_attempt_ms = $6, \
         delivered_at_ms = CASE WHEN $7 = 'delivered' THEN $8 ELSE delivered_at_ms END \
         WHERE id = $9 AND status = $10",
    )
    .bind(r.status)
    .bind(r.attempts)
    .bind(r.next_attempt_ms)
    .bind(r.last_status)
    .bind(&r.last_error)
    .bind(r.at_ms)
    .bind(r.status)
    .bind(r.at_ms)
    .bind(id)
    .bind(status::PENDING)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl WebhookStore for SqlStore {
    async fn create_webhook(&self, e: &Endpoint) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}, owner_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, {WORKSPACE_OWNER})"
        ))
        .bind(&e.id)
        .bind(&e.workspace_id)
        .bind(&e.app_id)
        .bind(&e.url)
        .bind(serde_json::to_string(&e.events).unwrap_or_else(|_| "[]".into()))
        .bind(&e.description)
        .bind(&e.secret)
        .bind(&e.previous_secret)
        .bind(e.previous_expires_at)
        .bind(e.disabled_at)
        .bind(&e.disabled_reason)
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Webhooks).await;
        Ok(())
    }

    async fn webhook(&self, id: &str) -> StoreResult<Option<Endpoint>> {
        self.row(
            &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"),
            &[id],
            endpoint_from,
        )
        .await
    }

    async fn webhooks_of(&self, owner: Owner<'_>) -> StoreResult<Vec<Endpoint>> {
        sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND app_id IS NOT DISTINCT FROM $2 \
             ORDER BY created_at DESC, id"
        ))
        .bind(owner.workspace)
        .bind(owner.app)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(endpoint_from)
        .collect()
    }

    async fn delete_webhook(&self, id: &str, owner: Owner<'_>) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM webhook_endpoints WHERE id = $1 AND workspace_id = $2 AND app_id IS NOT DISTINCT FROM $3",
        )
        .bind(id)
        .bind(owner.workspace)
        .bind(owner.app)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Webhooks).await;
        Ok(done.rows_affected() == 1)
    }

    async fn rotate_webhook_secret(
        &self,
        id: &str,
        owner: Owner<'_>,
        secret: &str,
        previous_expires_at: i64,
        at: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_expires_at = $1, \
             secret = $2, updated_at = $3 WHERE id = $4 AND workspace_id = $5 AND app_id IS NOT DISTINCT FROM $6",
        )
        .bind(previous_expires_at)
        .bind(secret)
        .bind(at)
        .bind(id)
        .bind(owner.workspace)
        .bind(owner.app)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Webhooks).await;
        Ok(done.rows_affected() == 1)
    }

    async fn disable_webhook(&self, id: &str, reason: &str, at: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2, updated_at = $3 \
             WHERE id = $4 AND disabled_at IS NULL",
        )
        .bind(at)
        .bind(reason)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_ms = NULL \
             WHERE endpoint_id = $2 AND status = $3",
        )
        .bind(status::STOPPED)
        .bind(id)
        .bind(status::PENDING)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.publish(Change::Webhooks).await;
        Ok(())
    }

    async fn enqueue_webhook_event(
        &self,
        owner: Owner<'_>,
        event_id: &str,
        event_type: &str,
        payload: &str,
        now: i64,
        now_ms: i64,
    ) -> StoreResult<usize> {
        let key = (
            owner.workspace.to_owned(),
            owner.app.map(str::to_owned),
            event_type.to_owned(),
        );
        if self.caches.subscribed.get(&key) == Some(false) {
            return Ok(0);
        }
        let generation = self.caches.subscribed.generation();
        let mut tx = self.write_tx().await?;
        let endpoints: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM webhook_endpoints e WHERE workspace_id = $1 \
             AND (app_id IS NULL OR app_id = $2) AND disabled_at IS NULL AND {}",
            self.dialect.subscribes()
        ))
        .bind(owner.workspace)
        .bind(owner.app)
        .bind(event_type)
        .fetch_all(&mut *tx)
        .await?;
        for endpoint in &endpoints {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, \
                 status, attempts, next_attempt_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
            )
            .bind(crate::core::crypto::new_id("dlv_"))
            .bind(endpoint)
            .bind(event_id)
            .bind(event_type)
            .bind(payload)
            .bind(status::PENDING)
            .bind(now_ms)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.caches
            .subscribed
            .insert(generation, key, !endpoints.is_empty());
        Ok(endpoints.len())
    }

    async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        skip_endpoints: &[String],
        per_endpoint: u32,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let skip = serde_json::to_string(skip_endpoints).unwrap_or_else(|_| "[]".into());
        // The status and due time are checked again on the row itself: a
        // claim that committed meanwhile moved it out of reach.
        sqlx::query(&format!(
            "UPDATE webhook_deliveries SET next_attempt_ms = $1 \
             WHERE id IN ({}) AND status = $2 AND next_attempt_ms <= $3 \
             RETURNING {DELIVERY_COLUMNS}",
            self.dialect.due_deliveries()
        ))
        .bind(lease_until_ms)
        .bind(status::PENDING)
        .bind(now_ms)
        .bind(skip)
        .bind(i64::from(per_endpoint))
        .bind(i64::from(limit))
        // The window ranked: the first `limit + per_endpoint` due rows of
        // the endpoints not skipped. A window of `limit * per_endpoint`
        // spread one claim over more endpoints, but cost a claim 5.5 ms on
        // SQLite against 3.7 ms, and claims bound delivery; endpoints past
        // the window are reached by the next claim.
        .bind(i64::from(limit.saturating_add(per_endpoint)))
        .fetch_all(&self.writer)
        .await?
        .iter()
        .map(delivery_from)
        .collect()
    }

    async fn next_webhook_due(&self) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_ms) FROM webhook_deliveries WHERE status = $1",
        )
        .bind(status::PENDING)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn record_webhook_attempts(
        &self,
        records: &[(String, AttemptRecord)],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for (id, r) in records {
            record_attempt(&mut tx, id, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 \
             ORDER BY created_at DESC, rowid DESC LIMIT $2"
        ))
        .bind(endpoint_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(delivery_from)
        .collect()
    }

    async fn redeliver_webhook(
        &self,
        delivery_id: &str,
        endpoint_id: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = 0, next_attempt_ms = $2 \
             WHERE id = $3 AND endpoint_id = $4",
        )
        .bind(status::PENDING)
        .bind(now_ms)
        .bind(delivery_id)
        .bind(endpoint_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
