//! Who is on the other end, and over what: the client's address is the TCP
//! peer's, unless the peer is a configured trusted proxy (`--trusted-proxy`),
//! whose `X-Forwarded-For` then names it; and a request a trusted proxy says
//! it received over plain HTTP (`X-Forwarded-Proto: http`) is refused
//! (SearchAF: "HTTP requests will be rejected"). Anyone else's forwarding
//! headers are ignored, so they cannot be spoofed.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use crate::app::state::AppState;
use crate::core::network;
use crate::error::ApiError;

/// The client's address, as [`layer`] resolved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client behind `peer`: `peer` itself unless it is trusted; else the
/// right-most `X-Forwarded-For` address that is not a trusted proxy (the
/// left part of the header is whatever the client wrote).
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    if !network::contains(trusted, peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !network::contains(trusted, **ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer)
}

fn peer(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip())
}

/// Refuses plain HTTP behind a trusted proxy (403 `https_required`), and
/// records the [`ClientIp`] for rate limits and key allowlists.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = peer(&req);
    let trusted = &state.config.trusted_proxies;
    if network::contains(trusted, peer) {
        let plain = req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("http"));
        if plain {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "https_required",
                "this server accepts HTTPS only; the proxy received this request over plain HTTP",
            )
            .into_response();
        }
    }
    let client = resolve(peer, req.headers(), trusted);
    req.extensions_mut().insert(ClientIp(client));
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or_else(|| {
                ClientIp(
                    parts
                        .extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip()),
                )
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let trusted = [network::parse("10.0.0.0/8").unwrap()];
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        let h = xff("203.0.113.1, 192.0.2.5, 10.0.0.3");
        assert_eq!(
            resolve(proxy, &h, &trusted),
            "192.0.2.5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(resolve(stranger, &h, &trusted), stranger);
        assert_eq!(resolve(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(resolve(proxy, &xff("garbage"), &trusted), proxy);
    }
}
