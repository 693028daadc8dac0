//! The authorization-code redirect: building the URL with a pending
//! transaction, and checking the callback (state, RFC 9207 `iss`, `error=`).

use serde::{Deserialize, Serialize};

use crate::discovery::ServerMetadata;
use crate::error::{Error, Result};
use crate::pkce::PkceVerifier;

/// What to ask for.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationRequest {
    /// Must be registered exactly with the app.
    pub redirect_uri: String,
    /// Requested scopes.
    pub scopes: Vec<String>,
    /// Extra parameters (`prompt`, `login_hint`, `resource`, ...).
    pub extra: Vec<(String, String)>,
}

/// Everything the callback needs, kept between redirect and callback
/// (memory, sessionStorage, a server session).
///
/// Not `Clone`: it holds the PKCE verifier of one transaction.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The `state` sent; the callback must echo it.
    pub state: String,
    /// The PKCE verifier for the token request.
    pub verifier: PkceVerifier,
    /// The redirect URI, repeated on the token request.
    pub redirect_uri: String,
    /// The issuer the callback must name.
    pub issuer: String,
}

/// Builds the authorization URL and its pending transaction.
pub fn authorization_url(
    metadata: &ServerMetadata,
    client_id: &str,
    request: &AuthorizationRequest,
) -> Result<(String, PendingAuthorization)> {
    let endpoint = metadata.authorization_endpoint.as_deref().ok_or_else(|| {
        Error::InvalidInput("server metadata has no authorization_endpoint".into())
    })?;
    if !metadata.supports_s256() {
        return Err(Error::InvalidInput(
            "authorization server does not support PKCE S256".into(),
        ));
    }
    url::Url::parse(&request.redirect_uri)
        .map_err(|e| Error::InvalidInput(format!("redirect_uri: {e}")))?;
    let mut url = url::Url::parse(endpoint)
        .map_err(|e| Error::InvalidInput(format!("authorization_endpoint: {e}")))?;
    let verifier = PkceVerifier::generate();
    let state = crate::random::token();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", &request.redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge", &verifier.challenge())
            .append_pair("code_challenge_method", crate::pkce::S256);
        if !request.scopes.is_empty() {
            q.append_pair("scope", &request.scopes.join(" "));
        }
        for (k, v) in &request.extra {
            q.append_pair(k, v);
        }
    }
    Ok((
        url.into(),
        PendingAuthorization {
            state,
            verifier,
            redirect_uri: request.redirect_uri.clone(),
            issuer: metadata.issuer.clone(),
        },
    ))
}

/// Checks a callback URL against its pending transaction and returns the
/// authorization code. `iss_required` comes from the server's
/// `authorization_response_iss_parameter_supported`.
pub fn parse_callback(
    callback_url: &str,
    pending: &PendingAuthorization,
    iss_required: bool,
) -> Result<String> {
    let url = url::Url::parse(callback_url)
        .map_err(|e| Error::InvalidResponse(format!("callback URL: {e}")))?;
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in url.query_pairs() {
        if params.iter().any(|(seen, _)| *seen == k) {
            return Err(Error::InvalidResponse(format!(
                "callback repeats parameter `{k}`"
            )));
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    // RFC 9207 first: a response from a mixed-up issuer is not trusted even
    // for its error.
    match get("iss") {
        Some(iss) if iss != pending.issuer => {
            return Err(Error::IssuerMismatch {
                expected: pending.issuer.clone(),
                actual: Some(iss.to_owned()),
            })
        }
        None if iss_required => {
            return Err(Error::IssuerMismatch {
                expected: pending.issuer.clone(),
                actual: None,
            })
        }
        _ => {}
    }
    let state_ok = get("state").is_some_and(|s| {
        subtle::ConstantTimeEq::ct_eq(s.as_bytes(), pending.state.as_bytes()).into()
    });
    if !state_ok {
        return Err(Error::StateMismatch);
    }
    if let Some(code) = get("error") {
        return Err(Error::OAuth {
            code: code.to_owned(),
            description: get("error_description").map(str::to_owned),
            uri: get("error_uri").map(str::to_owned),
            status: None,
            request_id: None,
        });
    }
    match get("code") {
        Some(code) if !code.is_empty() => Ok(code.to_owned()),
        _ => Err(Error::InvalidResponse("callback has no `code`".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (String, PendingAuthorization) {
        let md = ServerMetadata::sigil("https://as.example");
        authorization_url(
            &md,
            "app_1",
            &AuthorizationRequest {
                redirect_uri: "https://app.example/cb".into(),
                scopes: vec!["identity.read".into(), "messages.send".into()],
                extra: vec![("prompt".into(), "consent".into())],
            },
        )
        .unwrap()
    }

    fn cb(pending: &PendingAuthorization, extra: &str) -> String {
        format!("https://app.example/cb?state={}&{extra}", pending.state)
    }

    #[test]
    fn url_carries_pkce_state_and_scopes() {
        let (url, pending) = setup();
        let u = url::Url::parse(&url).unwrap();
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(u.path(), "/oauth/authorize");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], pending.verifier.challenge());
        assert_eq!(q["state"], pending.state);
        assert_eq!(q["scope"], "identity.read messages.send");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(pending.redirect_uri, "https://app.example/cb");
    }

    #[test]
    fn refuses_servers_without_s256() {
        let mut md = ServerMetadata::sigil("https://as.example");
        md.code_challenge_methods_supported = Some(vec!["plain".into()]);
        let err = authorization_url(
            &md,
            "c",
            &AuthorizationRequest {
                redirect_uri: "https://a/cb".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid_input");
    }

    #[test]
    fn good_callback_yields_code() {
        let (_, p) = setup();
        let code =
            parse_callback(&cb(&p, "code=abc&iss=https%3A%2F%2Fas.example"), &p, true).unwrap();
        assert_eq!(code, "abc");
    }

    #[test]
    fn state_mismatch_and_missing_state() {
        let (_, p) = setup();
        let bad = "https://app.example/cb?state=other&code=abc&iss=https%3A%2F%2Fas.example";
        assert!(matches!(
            parse_callback(bad, &p, true),
            Err(Error::StateMismatch)
        ));
        let none = "https://app.example/cb?code=abc&iss=https%3A%2F%2Fas.example";
        assert!(matches!(
            parse_callback(none, &p, true),
            Err(Error::StateMismatch)
        ));
    }

    #[test]
    fn issuer_mismatch_and_missing_issuer_when_required() {
        let (_, p) = setup();
        let e = parse_callback(
            &cb(&p, "code=abc&iss=https%3A%2F%2Fevil.example"),
            &p,
            false,
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::IssuerMismatch { actual: Some(ref a), .. } if a == "https://evil.example")
        );
        let e = parse_callback(&cb(&p, "code=abc"), &p, true).unwrap_err();
        assert!(matches!(e, Error::IssuerMismatch { actual: None, .. }));
        assert!(parse_callback(&cb(&p, "code=abc"), &p, false).is_ok());
    }

    #[test]
    fn error_response_is_typed_oauth_error() {
        let (_, p) = setup();
        let e = parse_callback(
            &cb(
                &p,
                "error=access_denied&error_description=user+said+no&iss=https%3A%2F%2Fas.example",
            ),
            &p,
            true,
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::OAuth { code, description: Some(d), status: None, .. } if code == "access_denied" && d == "user said no")
        );
    }

    #[test]
    fn malformed_callbacks() {
        let (_, p) = setup();
        assert_eq!(
            parse_callback("::nope", &p, false).unwrap_err().code(),
            "invalid_response"
        );
        assert_eq!(
            parse_callback(&cb(&p, "x=1"), &p, false)
                .unwrap_err()
                .code(),
            "invalid_response"
        );
        let dup = format!("{}&state={}", cb(&p, "code=a"), p.state);
        assert_eq!(
            parse_callback(&dup, &p, false).unwrap_err().code(),
            "invalid_response"
        );
    }

    #[test]
    fn pending_round_trips_through_json() {
        let (_, p) = setup();
        let json = serde_json::to_string(&p).unwrap();
        let back: PendingAuthorization = serde_json::from_str(&json).unwrap();
        assert_eq!(back.state, p.state);
        assert_eq!(back.verifier.expose(), p.verifier.expose());
    }
}
