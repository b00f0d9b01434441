//! Who is on the other end: the TCP peer, or, behind a trusted proxy
//! (fly.io), the client address the proxy reports; and the key per-client
//! limits count under (an IPv6 client by its network, not its address).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use http::HeaderMap;

/// The TCP peer of the connection a request came on; the server puts it in
/// every request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The client's IP address.
///
/// With `trust_proxy_headers`: `Fly-Client-IP` (fly.io's proxy sets it
/// itself), else the right-most `X-Forwarded-For` hop that is not a proxy of
/// ours ([`is_proxy_hop`]): each proxy appends the address it saw, so
/// everything left of that is whatever the client chose to write. Without
/// it those headers are ignored: anyone can send them. Otherwise the TCP
/// peer; `None` when there is no peer (a request built in a test).
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
        fly.or_else(|| forwarded_client(headers))
    };
    trust_proxy_headers
        .then(from_proxy)
        .flatten()
        .or(peer.map(|ClientAddr(addr)| addr.ip()))
}

/// The right-most `X-Forwarded-For` hop (over every such header, in order)
/// that is not one of our proxies; the left-most hop when all are ours;
/// `None` when a hop on the way does not parse (then nothing left of it can
/// be trusted).
fn forwarded_client(headers: &HeaderMap) -> Option<IpAddr> {
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut last = None;
    for hop in hops.iter().rev() {
        let ip: IpAddr = hop.parse().ok()?;
        if !is_proxy_hop(ip) {
            return Some(ip);
        }
        last = Some(ip);
    }
    last
}

/// Whether an address is one a proxy of ours has (loopback, private,
/// link-local, unique-local such as fly.io's `fdaa::/16`): such a hop was
/// added by our own infrastructure, not by a client on the internet.
fn is_proxy_hop(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

/// An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) as the IPv4 it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The key per-client limits count under: an IPv4 address as it is; an
/// IPv6 address by its first `v6_prefix` bits (64 by default: one
/// household or server usually has a whole /64, and could otherwise take
/// a new address for every attempt), written `2001:db8:1:2::/64`.
pub fn client_key(ip: IpAddr, v6_prefix: u8) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = v6_prefix.min(128);
            let mask = u128::MAX.checked_shl(u32::from(128 - prefix)).unwrap_or(0);
            let network = Ipv6Addr::from(u128::from(v6) & mask);
            format!("{network}/{prefix}")
        }
    }
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
                "9.9.9.9",
                "the right-most hop: the left one is what the client wrote",
            ),
            (
                &[("x-forwarded-for", "6.6.6.6, 9.9.9.9, 10.0.0.7, fdaa::3")],
                true,
                "9.9.9.9",
                "our own proxies' hops are skipped",
            ),
            (
                &[("x-forwarded-for", "10.0.0.7, 127.0.0.1")],
                true,
                "10.0.0.7",
                "only our hops: the left-most",
            ),
            (
                &[("x-forwarded-for", "1.1.1.1, nonsense, 9.9.9.9")],
                true,
                "9.9.9.9",
                "a bad hop left of the client does not matter",
            ),
            (
                &[("x-forwarded-for", "1.1.1.1, nonsense, 10.0.0.7")],
                true,
                "10.0.0.1",
                "a bad hop before the client is found: the peer",
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

    #[test]
    fn a_forged_first_hop_does_not_change_the_client() {
        let peer = Some(ClientAddr("10.0.0.1:5000".parse().unwrap()));
        let honest = headers(&[("x-forwarded-for", "203.0.113.9")]);
        for forged in ["1.2.3.4, 203.0.113.9", "8.8.8.8, 7.7.7.7, 203.0.113.9"] {
            let sent = headers(&[("x-forwarded-for", forged)]);
            assert_eq!(
                client_ip(&sent, peer, true),
                client_ip(&honest, peer, true),
                "{forged}"
            );
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_network() {
        let cases = [
            ("203.0.113.9", 64, "203.0.113.9", "IPv4 as it is"),
            (
                "::ffff:203.0.113.9",
                64,
                "203.0.113.9",
                "IPv4-mapped is IPv4",
            ),
            ("2001:db8:1:2:aaaa::1", 64, "2001:db8:1:2::/64", "a /64"),
            (
                "2001:db8:1:2:ffff:ffff:ffff:ffff",
                64,
                "2001:db8:1:2::/64",
                "same /64",
            ),
            ("2001:db8:1:3::1", 64, "2001:db8:1:3::/64", "the next /64"),
            ("2001:db8:1:2:aaaa::1", 48, "2001:db8:1::/48", "a /48"),
            ("2001:db8::1", 128, "2001:db8::1/128", "one address"),
            ("2001:db8::1", 0, "::/0", "everything"),
        ];
        for (ip, prefix, want, why) in cases {
            assert_eq!(client_key(ip.parse().unwrap(), prefix), want, "{why}");
        }
    }
}
