//! Turns any error response into a typed [`Error`].
//!
//! Reads the shapes Sigil's seeds document: RFC 6749 `{error,
//! error_description}`, RFC 9457 problem details with `code`/`requestId`
//! extensions, `{error:{code,message}, requestId, retryAfter}` and
//! `{success:false, error:{code,message}}`. Anything else still yields a typed
//! error carrying the status.

use std::time::Duration;

use serde_json::Value;

use crate::error::Error;
use crate::retry::parse_retry_after;
use crate::transport::HttpResponse;

/// Longest slice of an unparseable body kept in the error message.
const MAX_MESSAGE_LEN: usize = 200;

/// The typed error for a non-success response. `now` resolves HTTP-date
/// `Retry-After` values.
pub fn from_response(response: &HttpResponse, now: Duration) -> Error {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let body: Option<Value> = serde_json::from_slice(response.body()).ok();
    let body = body.as_ref();
    let str_at = |ptr: &str| {
        body.and_then(|b| b.pointer(ptr))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };

    let request_id = str_at("/requestId")
        .or_else(|| str_at("/request_id"))
        .or_else(|| str_at("/meta/requestId"))
        .or_else(|| str_at("/error/requestId"))
        .or_else(|| header("x-request-id"));
    let retry_after = header("retry-after")
        .and_then(|v| parse_retry_after(&v, now))
        .or_else(|| {
            ["/retryAfter", "/retry_after", "/error/retryAfter"]
                .iter()
                .find_map(|p| body.and_then(|b| b.pointer(p)).and_then(Value::as_f64))
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
        });

    // RFC 6749: `error` is a string code.
    let oauth_code = str_at("/error");
    // `{error:{code,message}}` and `{success:false,error:{...}}`.
    let nested_code = str_at("/error/code");
    let nested_message = str_at("/error/message");
    // RFC 9457 problem details.
    let problem_code = str_at("/code");
    let problem_message = str_at("/detail").or_else(|| str_at("/title"));

    if status == 429 {
        return Error::RateLimited {
            status,
            code: oauth_code
                .or(nested_code)
                .or(problem_code)
                .unwrap_or_else(|| "rate_limited".into()),
            request_id,
            retry_after,
        };
    }
    if let Some(code) = oauth_code {
        return Error::OAuth {
            code,
            description: str_at("/error_description"),
            uri: str_at("/error_uri"),
            status: Some(status),
            request_id,
        };
    }
    let (code, message) = match (nested_code, problem_code) {
        (Some(code), _) => (code, nested_message.or(problem_message)),
        (None, Some(code)) => (code, problem_message),
        (None, None) => (
            problem_message
                .as_deref()
                .and_then(snake_case_title)
                .unwrap_or_else(|| default_code(status).into()),
            problem_message.or_else(|| body_excerpt(response.body())),
        ),
    };
    Error::Api {
        status,
        message: message.unwrap_or_else(|| default_code(status).replace('_', " ")),
        code,
        request_id,
        retry_after,
    }
}

/// A problem `title` like "Not Found" as `not_found`, when it is short and plain.
fn snake_case_title(title: &str) -> Option<String> {
    let ok = title.len() <= 40 && title.chars().all(|c| c.is_ascii_alphabetic() || c == ' ');
    ok.then(|| title.trim().to_ascii_lowercase().replace(' ', "_"))
}

fn body_excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(text.chars().take(MAX_MESSAGE_LEN).collect())
}

/// The code for a status when the body names none.
pub fn default_code(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        422 => "unprocessable_entity",
        429 => "rate_limited",
        500 => "server_error",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ => "http_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    const NOW: Duration = Duration::from_secs(1_700_000_000);

    #[test]
    fn rfc6749_body_is_an_oauth_error() {
        let e = from_response(
            &resp(
                400,
                &[("x-request-id", "req_1")],
                r#"{"error":"invalid_grant","error_description":"code expired"}"#,
            ),
            NOW,
        );
        assert!(
            matches!(&e, Error::OAuth { code, description: Some(d), status: Some(400), .. } if code == "invalid_grant" && d == "code expired")
        );
        assert_eq!(e.request_id(), Some("req_1"));
    }

    #[test]
    fn rfc9457_problem_with_extensions() {
        let e = from_response(
            &resp(
                403,
                &[("content-type", "application/problem+json")],
                r#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"needs keys.write","code":"insufficient_scope","requestId":"req_2"}"#,
            ),
            NOW,
        );
        assert!(
            matches!(&e, Error::Api { status: 403, code, message, .. } if code == "insufficient_scope" && message == "needs keys.write")
        );
        assert_eq!(e.request_id(), Some("req_2"));
    }

    #[test]
    fn problem_without_code_derives_it_from_title() {
        let e = from_response(
            &resp(404, &[], r#"{"title":"Not Found","status":404}"#),
            NOW,
        );
        assert_eq!(e.code(), "not_found");
    }

    #[test]
    fn nested_error_object_with_request_id_and_retry_after() {
        let e = from_response(
            &resp(
                409,
                &[],
                r#"{"error":{"code":"conflict","message":"exists"},"requestId":"req_3","retryAfter":7}"#,
            ),
            NOW,
        );
        assert!(
            matches!(&e, Error::Api { status: 409, code, message, .. } if code == "conflict" && message == "exists")
        );
        assert_eq!(e.request_id(), Some("req_3"));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn success_false_shape() {
        let e = from_response(
            &resp(
                422,
                &[],
                r#"{"success":false,"error":{"code":"validation_failed","message":"ttl"}}"#,
            ),
            NOW,
        );
        assert_eq!(e.code(), "validation_failed");
        assert_eq!(e.status(), Some(422));
    }

    #[test]
    fn unknown_body_still_typed_with_status() {
        let e = from_response(&resp(502, &[], "<html>upstream died</html>"), NOW);
        assert!(
            matches!(&e, Error::Api { status: 502, code, message, .. } if code == "bad_gateway" && message.contains("upstream"))
        );
        let e = from_response(&resp(500, &[], ""), NOW);
        assert_eq!(e.code(), "server_error");
    }

    #[test]
    fn status_429_is_rate_limited_whatever_the_shape() {
        let e = from_response(
            &resp(429, &[("retry-after", "12")], r#"{"error":"slow_down"}"#),
            NOW,
        );
        assert!(matches!(&e, Error::RateLimited { code, .. } if code == "slow_down"));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(12)));
        let e = from_response(&resp(429, &[], "nope"), NOW);
        assert_eq!(e.code(), "rate_limited");
        assert_eq!(e.retry_after(), None);
    }
}
