//! `GET /metrics`, and the middleware that records every request into the
//! server's [`Metrics`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::state::AppState;
use crate::error::ApiError;
use crate::services::metrics::Metrics;

/// Counts and times every request by its route template (not the raw path,
/// which would explode label cardinality).
pub async fn record(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    metrics.observe(
        method,
        route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}
/// `GET /metrics` in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "getMetrics",
    tag = "operations",
    responses((status = 200, description = "Request counts and latencies, in the OpenMetrics text format Prometheus scrapes", body = String, content_type = "application/openmetrics-text"))
)]
pub async fn export(State(state): State<AppState>) -> Response {
    let body = match state.metrics.encode() {
        Ok(body) => body,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}
