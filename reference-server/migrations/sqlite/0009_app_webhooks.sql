-- Sigil reference server, schema version 9: webhook endpoints an app
-- registers through /app/v1/webhooks. NULL is the account's own endpoint
-- (/v1/webhooks). An app-scoped endpoint receives only events emitted in
-- that app's context, and goes (with its deliveries) when the app does.

ALTER TABLE webhook_endpoints ADD COLUMN app_id TEXT REFERENCES apps(id) ON DELETE CASCADE;
CREATE INDEX webhook_endpoints_app ON webhook_endpoints(app_id, created_at);
