//! Which network addresses a URL input may reach.
//!
//! A program that fetches URLs chosen by someone else (a gateway, a batch
//! file from a customer) must not let them reach its own loopback services,
//! the private network or the cloud metadata endpoint. [`AddressPolicy::PublicOnly`]
//! checks the address actually connected to: the resolver drops non-public
//! answers (so a name that resolves to 127.0.0.1, or is re-pointed there
//! after a first check, is refused), literal IP hosts are checked before the
//! request and again on every redirect.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Which addresses URL inputs may be downloaded from.
///
/// ```
/// use msgflux_core::{AddressPolicy, InputLoader};
/// let loader = InputLoader::default().with_address_policy(AddressPolicy::PublicOnly { allow: vec![] });
/// assert!(loader.address_policy().refuses("169.254.169.254".parse().unwrap()));
/// assert!(!loader.address_policy().refuses("93.184.216.34".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressPolicy {
    /// Any address (the library's default: the caller chose the URL).
    #[default]
    Any,
    /// Only public unicast addresses; loopback, private, link-local (and so
    /// the cloud metadata endpoints), shared, reserved, documentation and
    /// multicast ranges are refused, as are IPv6 forms that embed one of them.
    PublicOnly {
        /// Networks allowed all the same (for example a test server on loopback).
        allow: Vec<IpNet>,
    },
}

impl AddressPolicy {
    /// Whether a connection to this address is refused.
    pub fn refuses(&self, ip: IpAddr) -> bool {
        match self {
            Self::Any => false,
            Self::PublicOnly { allow } => !is_public(ip) && !allow.iter().any(|net| net.contains(ip)),
        }
    }

    /// Whether the policy restricts anything.
    pub fn is_restricted(&self) -> bool {
        !matches!(self, Self::Any)
    }
}

/// An IP network, written `10.0.0.0/8` or `::1/128` (a bare address is a /32 or /128).
///
/// ```
/// let net: msgflux_core::IpNet = "127.0.0.0/8".parse().unwrap();
/// assert!(net.contains("127.1.2.3".parse().unwrap()));
/// assert!(!net.contains("10.0.0.1".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether the address is in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let bits = usize::from(prefix);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}` has a prefix length outside 0..={max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl<'de> serde::Deserialize<'de> for IpNet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for IpNet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Whether an address is public unicast.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16: the metadata endpoints of AWS, GCP, Azure
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240; // reserved
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 is AWS's metadata endpoint)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo: tunnels to any IPv4 address
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0]; // discard-only
    !refused
}

/// The IPv4 address inside IPv4-mapped, IPv4-compatible, NAT64 and 6to4 addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) && !(s[5] == 0 && s[6] == 0) {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// Why a URL was refused by the policy; found in a transport error's source
/// chain by [`refusal_in`].
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) host: String,
    pub(crate) addresses: Vec<IpAddr>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.addresses.iter().map(ToString::to_string).collect();
        if shown.len() == 1 && shown[0] == self.host {
            write!(f, "{} is not a public address", self.host)
        } else {
            write!(
                f,
                "{} resolves to {}, not a public address",
                self.host,
                shown.join(", ")
            )
        }
    }
}

impl std::error::Error for Refused {}

/// The refusal inside an error's source chain, if the policy caused it.
pub(crate) fn refusal_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        current = e.source();
    }
    None
}

/// Checks a URL's host when it is a literal address (names are checked by the resolver).
pub(crate) fn check_literal_host(policy: &AddressPolicy, url: &url::Url) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if policy.refuses(ip) {
        return Err(Refused {
            host: ip.to_string(),
            addresses: vec![ip],
        });
    }
    Ok(())
}

/// A resolver that keeps only the answers the policy allows, so the address
/// checked is the address connected to.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    pub(crate) policy: Arc<AddressPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let answers: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                answers.into_iter().partition(|addr| !policy.refuses(addr.ip()));
            if allowed.is_empty() {
                let addresses = refused.iter().map(SocketAddr::ip).collect();
                return Err(Box::new(Refused { host, addresses }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(ip), "{ip} must not be public");
        }
    }

    #[test]
    fn ordinary_internet_addresses_are_public() {
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(public(ip), "{ip} must be public");
        }
    }

    #[test]
    fn an_allowed_network_is_let_through() {
        let policy = AddressPolicy::PublicOnly {
            allow: vec!["127.0.0.1/32".parse().unwrap()],
        };
        assert!(!policy.refuses("127.0.0.1".parse().unwrap()));
        assert!(policy.refuses("127.0.0.2".parse().unwrap()));
    }

    #[test]
    fn networks_parse_with_and_without_a_prefix() {
        assert_eq!("10.0.0.0/8".parse::<IpNet>().unwrap().to_string(), "10.0.0.0/8");
        assert_eq!("::1".parse::<IpNet>().unwrap().to_string(), "::1/128");
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("example.com".parse::<IpNet>().is_err());
    }
}
