//! Who is on the other end: the TCP peer, or, behind a trusted proxy
//! (fly.io), the client address the proxy reports.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

/// The TCP peer of the connection a request came on; the server puts it in
/// every request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The client's IP address, the key of per-client rate limits.
///
/// With `trust_proxy_headers`, `Fly-Client-IP`, else the first address of
/// `X-Forwarded-For`, when they hold an IP address; otherwise the TCP peer.
/// Without it those headers are ignored: anyone can send them.
/// `None` when there is no peer (a request built in a test).
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<ClientAddr>,
    trust_proxy_headers: bool,
) -> Option<IpAddr> {
    let from_proxy = || {
        let fly = headers
            .get("fly-client-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        fly.or_else(|| {
            headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok())
        })
    };
    trust_proxy_headers
        .then(from_proxy)
        .flatten()
        .or(peer.map(|ClientAddr(addr)| addr.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::infra::http_io::test_headers as headers;

    type Headers = &'static [(&'static str, &'static str)];

    #[test]
    fn proxy_headers_count_only_when_trusted() {
        let peer = Some(ClientAddr("10.0.0.1:5000".parse().unwrap()));
        let cases: &[(Headers, bool, &str, &str)] = &[
            (&[], false, "10.0.0.1", "no headers: the peer"),
            (
                &[("fly-client-ip", "1.2.3.4")],
                false,
                "10.0.0.1",
                "untrusted Fly-Client-IP ignored",
            ),
            (
                &[("x-forwarded-for", "1.2.3.4")],
                false,
                "10.0.0.1",
                "untrusted XFF ignored",
            ),
            (
                &[("fly-client-ip", "1.2.3.4")],
                true,
                "1.2.3.4",
                "trusted Fly-Client-IP",
            ),
            (
                &[("x-forwarded-for", " 5.6.7.8 , 9.9.9.9")],
                true,
                "5.6.7.8",
                "first XFF address",
            ),
            (
                &[("fly-client-ip", "1.2.3.4"), ("x-forwarded-for", "5.6.7.8")],
                true,
                "1.2.3.4",
                "Fly-Client-IP wins",
            ),
            (
                &[("fly-client-ip", "nonsense")],
                true,
                "10.0.0.1",
                "unparsable: the peer",
            ),
            (
                &[("x-forwarded-for", "2001:db8::1")],
                true,
                "2001:db8::1",
                "IPv6",
            ),
        ];
        for (pairs, trusted, want, why) in cases {
            let got = client_ip(&headers(pairs), peer, *trusted);
            assert_eq!(got, Some(want.parse().unwrap()), "{why}");
        }
        assert_eq!(
            client_ip(&HeaderMap::new(), None, true),
            None,
            "no peer at all"
        );
    }
}
