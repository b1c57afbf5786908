//! Fetching a knowledge page by URL without server-side request forgery.
//!
//! A merchant types a URL and our server downloads it, so the URL must never make the server
//! reach what only the server can: loopback services, the private network, link-local
//! addresses (the cloud metadata endpoint `169.254.169.254` above all), or internal names.
//!
//! Each hop (the URL, then every redirect) is checked in full before anything is sent:
//! - the scheme is `http` or `https`, and the URL carries no user name or password;
//! - the host name is not an internal one (`localhost`, `metadata`, `*.internal`, `*.local`,
//!   any name without a dot, …) — see [`is_forbidden_host_name`];
//! - the name is resolved here, and the hop is refused if **any** address it resolves to is
//!   forbidden ([`is_forbidden_ip`]); the HTTP client is then pinned to exactly those vetted
//!   addresses (`ClientBuilder::resolve_to_addrs`), so a second DNS answer (DNS rebinding)
//!   cannot send the request elsewhere. No proxy is used, whatever the environment says.
//!
//! Redirects are not followed by the client (`redirect::Policy::none()`) but here, up to
//! `max_redirects`, each through the same checks. The body is read in pieces and abandoned as
//! soon as it passes `max_bytes`; the whole fetch, redirects and DNS included, has one deadline.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, LOCATION};
use url::{Host, Url};

/// Limits of one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Largest body accepted (20 MB).
    pub max_bytes: usize,
    /// Deadline for the whole fetch, redirects included (15 s).
    pub timeout: Duration,
    /// Redirects followed (5).
    pub max_redirects: u8,
    /// Tests only: loopback addresses (127.0.0.0/8, ::1) are allowed. Everything else stays
    /// forbidden. `false` in the product.
    pub allow_loopback_for_tests: bool,
    /// Tests only: these exact address and port pairs are allowed. Empty in the product.
    pub allow_exact: Vec<SocketAddr>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            max_bytes: 20 * 1024 * 1024,
            timeout: Duration::from_secs(15),
            max_redirects: 5,
            allow_loopback_for_tests: false,
            allow_exact: Vec::new(),
        }
    }
}

/// A fetched body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL the body came from, after redirects.
    pub final_url: String,
    /// The `Content-Type` header as sent, if any.
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// Why a URL was not fetched. `Display` is written for the merchant.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("This is not a valid web address. Paste the full link, starting with https://.")]
    InvalidUrl { detail: String },
    #[error("Only http:// and https:// links can be added.")]
    UnsupportedScheme { scheme: String },
    #[error(
        "Links with a user name or password in them can't be added. Use the page's public link."
    )]
    Credentials,
    #[error("This link points to a private or internal address, which can't be added. Use the page's public link.")]
    Forbidden { host: String },
    #[error("We couldn't find the website {host}. Check the link and try again.")]
    Dns { host: String, detail: String },
    #[error("We couldn't reach the website. Check the link and try again later.")]
    Network { detail: String },
    #[error(
        "The website answered with error {status}. Check that the page is public and try again."
    )]
    HttpStatus { status: u16 },
    #[error(
        "The link redirects too many times (more than {max}). Use the final address of the page."
    )]
    TooManyRedirects { max: u8 },
    #[error("The page is larger than {} MB, which is too large to add.", .max_bytes / (1024 * 1024))]
    TooLarge { max_bytes: usize },
    #[error("The website took too long to answer. Try again later.")]
    Timeout,
}

/// Downloads `url` under `policy` (see the module documentation for what is refused).
pub async fn fetch(url: &str, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let url = Url::parse(url.trim()).map_err(|e| FetchError::InvalidUrl {
        detail: e.to_string(),
    })?;
    match tokio::time::timeout(policy.timeout, fetch_hops(url, policy)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout),
    }
}

async fn fetch_hops(mut url: Url, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let mut redirects = 0u8;
    loop {
        let target = vet(&url, policy).await?;
        let client = client_for(&target, policy)?;
        let response = client.get(url.clone()).send().await.map_err(network)?;
        let status = response.status();
        if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            let Some(location) = response.headers().get(LOCATION) else {
                return Err(FetchError::HttpStatus {
                    status: status.as_u16(),
                });
            };
            if redirects >= policy.max_redirects {
                return Err(FetchError::TooManyRedirects {
                    max: policy.max_redirects,
                });
            }
            redirects += 1;
            let location = location.to_str().map_err(|e| FetchError::InvalidUrl {
                detail: format!("redirect: {e}"),
            })?;
            url = url.join(location).map_err(|e| FetchError::InvalidUrl {
                detail: format!("redirect: {e}"),
            })?;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::HttpStatus {
                status: status.as_u16(),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_capped(response, policy.max_bytes).await?;
        return Ok(Fetched {
            final_url: url.to_string(),
            content_type,
            bytes,
        });
    }
}

/// The body, abandoned (the connection dropped) as soon as it passes `max_bytes`.
async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(FetchError::TooLarge { max_bytes });
    }
    let mut bytes = Vec::new();
    while let Some(piece) = response.chunk().await.map_err(network)? {
        if bytes.len() + piece.len() > max_bytes {
            return Err(FetchError::TooLarge { max_bytes });
        }
        bytes.extend_from_slice(&piece);
    }
    Ok(bytes)
}

fn network(e: reqwest::Error) -> FetchError {
    // The URL in reqwest's message is the merchant's own; it is dropped anyway, for logs.
    FetchError::Network {
        detail: e.without_url().to_string(),
    }
}

/// A hop that passed the checks: where the client may connect.
struct Vetted {
    /// The host name to pin, or `None` for an IP literal (nothing to resolve).
    domain: Option<String>,
    addrs: Vec<SocketAddr>,
}

async fn vet(url: &Url, policy: &FetchPolicy) -> Result<Vetted, FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::UnsupportedScheme {
            scheme: url.scheme().to_owned(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::Credentials);
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| FetchError::InvalidUrl {
            detail: "no port".into(),
        })?;
    let host = url.host().ok_or_else(|| FetchError::InvalidUrl {
        detail: "no host".into(),
    })?;
    let (domain, addrs) = match host {
        Host::Ipv4(ip) => (None, vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Host::Ipv6(ip) => (None, vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        Host::Domain(name) => {
            if is_forbidden_host_name(name) {
                return Err(FetchError::Forbidden {
                    host: name.to_owned(),
                });
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| FetchError::Dns {
                    host: name.to_owned(),
                    detail: e.to_string(),
                })?
                .collect();
            if addrs.is_empty() {
                return Err(FetchError::Dns {
                    host: name.to_owned(),
                    detail: "no addresses".into(),
                });
            }
            (Some(name.to_owned()), addrs)
        }
    };
    if let Some(bad) = addrs.iter().find(|addr| !address_allowed(**addr, policy)) {
        tracing::warn!(host = %url.host_str().unwrap_or_default(), address = %bad.ip(), "knowledge fetch refused a forbidden address");
        return Err(FetchError::Forbidden {
            host: url.host_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(Vetted { domain, addrs })
}

/// Whether the client may connect to `addr` under `policy`.
fn address_allowed(addr: SocketAddr, policy: &FetchPolicy) -> bool {
    if policy.allow_exact.contains(&addr) {
        return true;
    }
    if policy.allow_loopback_for_tests && canonical(addr.ip()).is_loopback() {
        return true;
    }
    !is_forbidden_ip(addr.ip())
}

/// A client that connects only to the vetted addresses, follows no redirect and uses no proxy.
fn client_for(target: &Vetted, policy: &FetchPolicy) -> Result<reqwest::Client, FetchError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
        .user_agent(concat!(
            "IG-Shop-Agent/",
            env!("CARGO_PKG_VERSION"),
            " (knowledge page fetcher)"
        ));
    if let Some(domain) = &target.domain {
        builder = builder.resolve_to_addrs(domain, &target.addrs);
    }
    builder.build().map_err(network)
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is; anything else as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Whether `ip` is anything but a public unicast address: loopback, private (RFC 1918),
/// carrier-grade NAT, link-local (cloud metadata), "this network", multicast, broadcast,
/// reserved, benchmarking and documentation ranges; for IPv6 also unique-local, site-local,
/// anything outside global unicast 2000::/3, IETF and documentation blocks, Teredo, and any
/// IPv4-mapped, IPv4-compatible, 6to4 or NAT64 address that embeds a forbidden IPv4 one.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let n = u32::from(ip);
    let within = |net: [u8; 4], prefix: u32| {
        let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        n & mask == u32::from_be_bytes(net) & mask
    };
    within([0, 0, 0, 0], 8) // "this network", 0.0.0.0
        || within([10, 0, 0, 0], 8) // private
        || within([100, 64, 0, 0], 10) // carrier-grade NAT
        || within([127, 0, 0, 0], 8) // loopback
        || within([169, 254, 0, 0], 16) // link-local, cloud metadata
        || within([172, 16, 0, 0], 12) // private
        || within([192, 0, 0, 0], 24) // IETF protocol assignments
        || within([192, 0, 2, 0], 24) // documentation
        || within([192, 88, 99, 0], 24) // 6to4 relay anycast
        || within([192, 168, 0, 0], 16) // private
        || within([198, 18, 0, 0], 15) // benchmarking
        || within([198, 51, 100, 0], 24) // documentation
        || within([203, 0, 113, 0], 24) // documentation
        || within([224, 0, 0, 0], 4) // multicast
        || within([240, 0, 0, 0], 4) // reserved, 255.255.255.255 broadcast
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let n = u128::from(ip);
    let within = |net: u128, prefix: u32| {
        let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
        n & mask == net & mask
    };
    let embedded_v4 = |shift: u32| Ipv4Addr::from((n >> shift) as u32);
    // ::ffff:a.b.c.d reaches a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    // NAT64 well-known prefix 64:ff9b::/96 reaches the IPv4 address in its last 32 bits.
    if within(0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96) {
        return is_forbidden_v4(embedded_v4(0));
    }
    // 6to4 2002::/16 embeds an IPv4 address in bits 16..48.
    if within(0x2002_0000_0000_0000_0000_0000_0000_0000, 16) {
        return is_forbidden_v4(embedded_v4(80));
    }
    // Only global unicast: this refuses ::, ::1, IPv4-compatible ::a.b.c.d, 64:ff9b:1::/48,
    // discard 100::/64, unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10,
    // multicast ff00::/8.
    !within(0x2000_0000_0000_0000_0000_0000_0000_0000, 3)
        || within(0x2001_0000_0000_0000_0000_0000_0000_0000, 23) // IETF assignments, Teredo 2001::/32
        || within(0x2001_0db8_0000_0000_0000_0000_0000_0000, 32) // documentation
        || within(0x3fff_0000_0000_0000_0000_0000_0000_0000, 20) // documentation
}

/// Whether a host name is an internal one, refused before any DNS lookup: `localhost` and
/// `*.localhost`, the cloud metadata names (`metadata`, `metadata.google.internal`), the
/// suffixes `.internal`, `.local`, `.localdomain`, `.home.arpa`, `.lan`, and any name without
/// a dot (it would be completed with the server's own search domains).
pub fn is_forbidden_host_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || !host.contains('.') {
        return true;
    }
    const SUFFIXES: [&str; 6] = [
        "localhost",
        "internal",
        "local",
        "localdomain",
        "home.arpa",
        "lan",
    ];
    host == "metadata.google.internal"
        || SUFFIXES
            .iter()
            .any(|s| host == *s || host.ends_with(&format!(".{s}")))
        || host.ends_with("localhost")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use warp::Filter;
    use warp::Reply;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_addresses() {
        for s in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.0.0.2",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.170",
            "::",
            "::1",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:192.168.1.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "::8.8.8.8",
            "64:ff9b::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:0a00:0001::1",
            "2002:a9fe:a9fe::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
        ] {
            assert!(is_forbidden_ip(ip(s)), "{s} should be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed_as_values() {
        // Checked as values only: nothing here connects anywhere.
        for s in [
            "8.8.8.8",
            "1.1.1.1",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
            "172.32.0.1",
            "100.128.0.1",
            "172.15.255.255",
        ] {
            assert!(!is_forbidden_ip(ip(s)), "{s} should be allowed");
        }
    }

    #[test]
    fn internal_host_names() {
        for h in [
            "localhost",
            "LOCALHOST.",
            "api.localhost",
            "metadata",
            "metadata.google.internal",
            "db.internal",
            "printer.local",
            "nas.home.arpa",
            "router.lan",
            "intranet",
            "",
        ] {
            assert!(is_forbidden_host_name(h), "{h:?}");
        }
        for h in [
            "example.com",
            "shop.jo",
            "xn--mgbh0fb.xn--mgbayh7gpa",
            "localhost-shop.com",
        ] {
            assert!(!is_forbidden_host_name(h), "{h:?}");
        }
    }

    #[test]
    fn test_allowances_only_open_what_they_name() {
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let product = FetchPolicy::default();
        assert!(!address_allowed(addr("127.0.0.1:8080"), &product));
        let loopback = FetchPolicy {
            allow_loopback_for_tests: true,
            ..FetchPolicy::default()
        };
        assert!(address_allowed(addr("127.0.0.1:8080"), &loopback));
        assert!(address_allowed(addr("[::1]:8080"), &loopback));
        assert!(address_allowed(addr("[::ffff:127.0.0.1]:8080"), &loopback));
        for other in [
            "10.0.0.1:80",
            "169.254.169.254:80",
            "192.168.1.1:80",
            "[fd00::1]:80",
            "0.0.0.0:80",
            "[::]:80",
        ] {
            assert!(!address_allowed(addr(other), &loopback), "{other}");
        }
        let exact = FetchPolicy {
            allow_exact: vec![addr("127.0.0.1:8080")],
            ..FetchPolicy::default()
        };
        assert!(address_allowed(addr("127.0.0.1:8080"), &exact));
        assert!(!address_allowed(addr("127.0.0.1:8081"), &exact));
        assert!(!address_allowed(addr("127.0.0.2:8080"), &exact));
    }

    #[tokio::test]
    async fn bad_urls_are_refused_before_any_lookup() {
        let policy = FetchPolicy::default();
        for (url, check) in [
            ("file:///etc/passwd", "scheme"),
            ("ftp://example.com/menu.pdf", "scheme"),
            ("gopher://example.com/", "scheme"),
            ("javascript:alert(1)", "scheme"),
            ("http://user:secret@example.com/", "credentials"),
            ("https://user@example.com/", "credentials"),
            ("not a url", "invalid"),
            (
                "http://metadata.google.internal/computeMetadata/v1/",
                "forbidden",
            ),
            ("http://metadata/", "forbidden"),
            ("http://printer.local/", "forbidden"),
        ] {
            let err = fetch(url, &policy).await.unwrap_err();
            let ok = match check {
                "scheme" => matches!(err, FetchError::UnsupportedScheme { .. }),
                "credentials" => matches!(err, FetchError::Credentials),
                "invalid" => matches!(err, FetchError::InvalidUrl { .. }),
                _ => matches!(err, FetchError::Forbidden { .. }),
            };
            assert!(ok, "{url}: {err:?}");
        }
    }

    /// A loopback server that counts the requests it receives.
    struct TestServer {
        addr: SocketAddr,
        hits: Arc<AtomicUsize>,
    }

    impl TestServer {
        /// `None` when the address cannot be bound here (no IPv6 loopback, say).
        async fn start<F>(bind: &str, answer: F) -> Option<TestServer>
        where
            F: Fn(&str) -> warp::reply::Response + Clone + Send + Sync + 'static,
        {
            let listener = tokio::net::TcpListener::bind(bind).await.ok()?;
            let addr = listener.local_addr().unwrap();
            let hits = Arc::new(AtomicUsize::new(0));
            let counter = hits.clone();
            let route = warp::path::full().map(move |path: warp::path::FullPath| {
                counter.fetch_add(1, Ordering::SeqCst);
                answer(path.as_str())
            });
            tokio::spawn(warp::serve(route).incoming(listener).run());
            Some(TestServer { addr, hits })
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }
    }

    fn page(_: &str) -> warp::reply::Response {
        warp::http::Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body("<h1>مرحبا</h1>".as_bytes().to_vec())
            .unwrap()
            .into_response()
    }

    fn redirect_to(
        location: String,
    ) -> impl Fn(&str) -> warp::reply::Response + Clone + Send + Sync + 'static {
        move |_: &str| {
            warp::http::Response::builder()
                .status(302)
                .header("location", location.clone())
                .body(Vec::new())
                .unwrap()
                .into_response()
        }
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_before_any_request() {
        let v4 = TestServer::start("127.0.0.1:0", page).await.unwrap();
        let port = v4.addr.port();
        let policy = FetchPolicy::default();
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://localhost:{port}/"),
            format!("http://LocalHost.:{port}/"),
            format!("http://127.1:{port}/"),
            format!("http://2130706433:{port}/"),
            format!("http://0x7f000001:{port}/"),
            format!("http://0.0.0.0:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            format!("https://127.0.0.1:{port}/"),
        ] {
            let err = fetch(&url, &policy).await.unwrap_err();
            assert!(
                matches!(err, FetchError::Forbidden { .. }),
                "{url}: {err:?}"
            );
        }
        assert_eq!(v4.hits(), 0, "a refused fetch reached the server");

        match TestServer::start("[::1]:0", page).await {
            Some(v6) => {
                let url = format!("http://[::1]:{}/", v6.addr.port());
                let err = fetch(&url, &policy).await.unwrap_err();
                assert!(
                    matches!(err, FetchError::Forbidden { .. }),
                    "{url}: {err:?}"
                );
                assert_eq!(v6.hits(), 0);
            }
            None => {
                // No IPv6 loopback on this machine: the refusal is still checked.
                let err = fetch("http://[::1]:9/", &policy).await.unwrap_err();
                assert!(matches!(err, FetchError::Forbidden { .. }), "{err:?}");
            }
        }
    }

    #[tokio::test]
    async fn an_allowed_server_is_fetched_with_its_relative_redirects() {
        let server = TestServer::start("127.0.0.1:0", |path: &str| {
            if path == "/old" {
                warp::http::Response::builder()
                    .status(301)
                    .header("location", "/new?x=1")
                    .body(Vec::new())
                    .unwrap()
                    .into_response()
            } else {
                page(path)
            }
        })
        .await
        .unwrap();
        let policy = FetchPolicy {
            allow_exact: vec![server.addr],
            ..FetchPolicy::default()
        };
        let fetched = fetch(&format!("http://{}/old", server.addr), &policy)
            .await
            .unwrap();
        assert_eq!(fetched.final_url, format!("http://{}/new?x=1", server.addr));
        assert_eq!(
            fetched.content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(String::from_utf8(fetched.bytes).unwrap(), "<h1>مرحبا</h1>");
        assert_eq!(server.hits(), 2);

        let loopback = FetchPolicy {
            allow_loopback_for_tests: true,
            ..FetchPolicy::default()
        };
        assert!(fetch(&format!("http://{}/", server.addr), &loopback)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn every_redirect_hop_is_checked_again() {
        let target = TestServer::start("127.0.0.2:0", page).await.unwrap();
        let first = TestServer::start(
            "127.0.0.1:0",
            redirect_to(format!("http://127.0.0.2:{}/", target.addr.port())),
        )
        .await
        .unwrap();
        let policy = FetchPolicy {
            allow_exact: vec![first.addr],
            ..FetchPolicy::default()
        };
        let err = fetch(&format!("http://{}/", first.addr), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Forbidden { .. }), "{err:?}");
        assert_eq!(first.hits(), 1);
        assert_eq!(target.hits(), 0, "the redirect target was reached");

        // Redirects to other refused places: a name, a scheme, credentials.
        for location in [
            "http://localhost/",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
        ] {
            let bouncer = TestServer::start("127.0.0.1:0", redirect_to(location.to_owned()))
                .await
                .unwrap();
            let policy = FetchPolicy {
                allow_exact: vec![bouncer.addr],
                ..FetchPolicy::default()
            };
            let err = fetch(&format!("http://{}/", bouncer.addr), &policy)
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    FetchError::Forbidden { .. }
                        | FetchError::UnsupportedScheme { .. }
                        | FetchError::Credentials
                ),
                "{location}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn redirects_are_capped() {
        let server = TestServer::start("127.0.0.1:0", redirect_to("/again".into()))
            .await
            .unwrap();
        let policy = FetchPolicy {
            allow_exact: vec![server.addr],
            max_redirects: 3,
            ..FetchPolicy::default()
        };
        let err = fetch(&format!("http://{}/", server.addr), &policy)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::TooManyRedirects { max: 3 }),
            "{err:?}"
        );
        assert_eq!(server.hits(), 4);
    }

    #[tokio::test]
    async fn bodies_over_the_cap_are_refused() {
        const SIZE: usize = 25 * 1024 * 1024;
        // Announced by Content-Length.
        let declared = TestServer::start("127.0.0.1:0", |_: &str| {
            warp::http::Response::builder()
                .header("content-type", "application/pdf")
                .body(vec![b'a'; SIZE])
                .unwrap()
                .into_response()
        })
        .await
        .unwrap();
        let policy = FetchPolicy {
            allow_exact: vec![declared.addr],
            ..FetchPolicy::default()
        };
        let err = fetch(&format!("http://{}/", declared.addr), &policy)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::TooLarge { max_bytes } if max_bytes == 20 * 1024 * 1024),
            "{err:?}"
        );
        assert!(err.to_string().contains("20 MB"), "{err}");

        // Streamed without a length (server-sent events, 400 × 64 KiB).
        let streamed = TestServer::start("127.0.0.1:0", |_: &str| {
            let events = futures::stream::iter((0..400).map(|_| {
                Ok::<_, std::convert::Infallible>(
                    warp::sse::Event::default().data("x".repeat(64 * 1024)),
                )
            }));
            warp::sse::reply(events).into_response()
        })
        .await
        .unwrap();
        let policy = FetchPolicy {
            allow_exact: vec![streamed.addr],
            ..FetchPolicy::default()
        };
        let err = fetch(&format!("http://{}/", streamed.addr), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn slow_servers_time_out_and_errors_are_reported() {
        let server = TestServer::start("127.0.0.1:0", |path: &str| {
            let status = if path == "/missing" { 404 } else { 200 };
            warp::http::Response::builder()
                .status(status)
                .body(Vec::new())
                .unwrap()
                .into_response()
        })
        .await
        .unwrap();
        let policy = FetchPolicy {
            allow_exact: vec![server.addr],
            ..FetchPolicy::default()
        };
        let err = fetch(&format!("http://{}/missing", server.addr), &policy)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::HttpStatus { status: 404 }),
            "{err:?}"
        );

        // A server that accepts but never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move {
            let (_socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let policy = FetchPolicy {
            allow_exact: vec![addr],
            timeout: Duration::from_millis(300),
            ..FetchPolicy::default()
        };
        let err = fetch(&format!("http://{addr}/"), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Timeout), "{err:?}");
        silent.abort();
    }
}
