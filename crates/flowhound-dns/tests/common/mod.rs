//! A real authoritative DNS server (hickory-server) on 127.0.0.1, random
//! port, UDP and TCP, serving zones built by the tests, with a request
//! handler that counts queries and adds SERVFAIL / REFUSED / slow names.

#![allow(dead_code)]

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, MessageResponseBuilder, ZoneType};
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

/// SOA minimum of every test zone: the negative TTL a resolver must use.
pub const SOA_MINIMUM: u32 = 60;
/// TTL of ordinary records.
pub const TTL: u32 = 300;
/// Number of PTR records in `10.in-addr.arpa.` (10.0.x.y, i = 256x + y).
pub const BULK: u32 = 10_000;
/// The hostile PTR target's first label.
pub const HOSTILE_LABEL: &[u8] = b"\x1b[31m<script>alert(1)</script>";
/// Hostile TXT length.
pub const HOSTILE_TXT_CHARS: usize = 10_000;

/// Expected PTR name of bulk index `i` (the oracle the tests compare with).
pub fn bulk_name(i: u32) -> String {
    format!("host-{}-{}.bulk.test.", i / 256, i % 256)
}

/// Bulk address of index `i`.
pub fn bulk_ip(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, (i / 256) as u8, (i % 256) as u8)
}

/// A running server; stops when dropped.
pub struct TestServer {
    /// UDP and TCP address (same port).
    pub addr: SocketAddr,
    counters: Arc<ServerCounters>,
    _server: Server<Handler>,
}

/// What the server saw.
#[derive(Default)]
struct ServerCounters {
    queries: AtomicU64,
    tcp: AtomicU64,
}

impl TestServer {
    /// Queries received (UDP + TCP).
    pub fn queries(&self) -> u64 {
        self.counters.queries.load(Ordering::SeqCst)
    }

    /// Queries received over TCP.
    pub fn tcp_queries(&self) -> u64 {
        self.counters.tcp.load(Ordering::SeqCst)
    }
}

/// Starts the server with all test zones; `slow` is how long slow names wait.
pub async fn start(slow: Duration) -> TestServer {
    start_with(build_catalog(), HashSet::new(), slow).await
}

/// Starts a server over `catalog`, answering SERVFAIL for the
/// `(lower-case fqdn, type)` pairs in `servfail`.
pub async fn start_with(
    catalog: Catalog,
    servfail: HashSet<(String, String)>,
    slow: Duration,
) -> TestServer {
    let counters = Arc::new(ServerCounters::default());
    let handler = Handler {
        catalog,
        counters: counters.clone(),
        servfail,
        slow,
    };
    let (udp, tcp, addr) = bind_pair().await;
    let mut server = Server::new(handler);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(10), 1024);
    TestServer {
        addr,
        counters,
        _server: server,
    }
}

/// A UDP socket and a TCP listener on one free port of 127.0.0.1. The UDP port is free when bound,
/// but its TCP twin may be taken (another test's connection): then another port is tried.
async fn bind_pair() -> (UdpSocket, TcpListener, std::net::SocketAddr) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = udp.local_addr().expect("udp addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp, addr);
        }
    }
    panic!("no port of 127.0.0.1 free for both UDP and TCP in 50 tries");
}

/// Counts queries; answers SERVFAIL for `servfail.*`, REFUSED for
/// `refused.*`, waits before answering names under `slow.test.` or starting
/// with `slow.`; everything else goes to the catalog.
struct Handler {
    catalog: Catalog,
    counters: Arc<ServerCounters>,
    servfail: HashSet<(String, String)>,
    slow: Duration,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        self.counters.queries.fetch_add(1, Ordering::SeqCst);
        if request.protocol() == Protocol::Tcp {
            self.counters.tcp.fetch_add(1, Ordering::SeqCst);
        }
        let (qname, qtype) = match request.request_info() {
            Ok(info) => (
                info.query.name().to_string(),
                info.query.query_type().to_string(),
            ),
            Err(_) => (String::new(), String::new()),
        };
        if qname.starts_with("servfail.") || self.servfail.contains(&(qname.clone(), qtype)) {
            return send_code(request, response_handle, ResponseCode::ServFail).await;
        }
        if qname.starts_with("refused.") {
            return send_code(request, response_handle, ResponseCode::Refused).await;
        }
        if qname.starts_with("slow.") || qname.ends_with(".slow.test.") {
            tokio::time::sleep(self.slow).await;
        }
        self.catalog
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}

/// Sends an empty response with `code`.
async fn send_code<R: ResponseHandler>(
    request: &Request,
    mut handle: R,
    code: ResponseCode,
) -> ResponseInfo {
    let response =
        MessageResponseBuilder::from_message_request(request).error_msg(&request.metadata, code);
    match handle.send_response(response).await {
        Ok(info) => info,
        Err(_) => {
            let mut metadata = Metadata::response_from_request(&request.metadata);
            metadata.response_code = ResponseCode::ServFail;
            ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            })
        }
    }
}

pub fn name(s: &str) -> Name {
    Name::from_str(s).expect("test name")
}

fn rec(owner: &str, rdata: RData) -> Record {
    Record::from_rdata(name(owner), TTL, rdata)
}

/// A zone with an SOA whose minimum is [`SOA_MINIMUM`].
pub fn zone(
    origin: &str,
    records: Vec<Record>,
) -> (LowerName, Arc<InMemoryZoneHandler<TokioRuntimeProvider>>) {
    let mut z = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
        name(origin),
        ZoneType::Primary,
        AxfrPolicy::Deny,
    );
    let soa = SOA::new(
        name("ns.test."),
        name("hostmaster.test."),
        1,
        3600,
        600,
        86400,
        SOA_MINIMUM,
    );
    let soa_rec = Record::from_rdata(name(origin), 3600, RData::SOA(soa));
    assert!(z.upsert_mut(soa_rec, 1));
    let ns = Record::from_rdata(name(origin), 3600, RData::NS(NS(name("ns.test."))));
    assert!(z.upsert_mut(ns, 1));
    for r in records {
        assert!(z.upsert_mut(r, 1), "insert failed");
    }
    (LowerName::new(&name(origin)), Arc::new(z))
}

fn build_catalog() -> Catalog {
    let mut catalog = Catalog::new();
    for (origin, handler) in [ua_zone(), reverse_zone(), bulk_zone(), slow_zone()] {
        catalog.upsert(origin, vec![handler]);
    }
    catalog
}

/// `ua.pt.`: the seed example plus AAAA, MX, CNAME, TXT, a large TXT set.
fn ua_zone() -> (LowerName, Arc<InMemoryZoneHandler<TokioRuntimeProvider>>) {
    let mut records = vec![
        rec("www.ua.pt.", RData::A(A(Ipv4Addr::new(193, 136, 172, 20)))),
        rec(
            "www.ua.pt.",
            RData::AAAA(AAAA(Ipv6Addr::from_str("2001:690:2200:a10::20").unwrap())),
        ),
        rec("ua.pt.", RData::MX(MX::new(10, name("mail.ua.pt.")))),
        rec("ua.pt.", RData::MX(MX::new(20, name("mail2.ua.pt.")))),
        rec("alias.ua.pt.", RData::CNAME(CNAME(name("www.ua.pt.")))),
        rec(
            "text.ua.pt.",
            RData::TXT(TXT::new(vec!["v=spf1 ".into(), "-all".into()])),
        ),
        rec("hostile-txt.ua.pt.", RData::TXT(hostile_txt())),
    ];
    for i in 0..40 {
        let s = format!("{i:02}-{}", "x".repeat(200));
        records.push(rec("big.ua.pt.", RData::TXT(TXT::new(vec![s]))));
    }
    zone("ua.pt.", records)
}

/// 10,000 characters of hostile text: ANSI escapes, HTML, a BEL, a CR.
pub fn hostile_txt_string() -> String {
    let unit = "\u{1b}[2J<b>x</b>\u{7}\r";
    let mut s = unit.repeat(HOSTILE_TXT_CHARS / unit.chars().count() + 1);
    s.truncate(HOSTILE_TXT_CHARS);
    s
}

fn hostile_txt() -> TXT {
    let s = hostile_txt_string();
    let chunks: Vec<&[u8]> = s.as_bytes().chunks(200).collect();
    TXT::from_bytes(chunks)
}

/// The hostile PTR target: ANSI + HTML label, then three 63-byte labels.
pub fn hostile_ptr_name() -> Name {
    let long = [b'a'; 63];
    let labels: Vec<&[u8]> = vec![HOSTILE_LABEL, &long, &long, &long, b"evil", b"test"];
    Name::from_labels(labels).expect("hostile name fits in 255 bytes")
}

/// `136.193.in-addr.arpa.`: 193.136.172.20 -> dns.ua.pt., 193.136.6.66 -> hostile.
fn reverse_zone() -> (LowerName, Arc<InMemoryZoneHandler<TokioRuntimeProvider>>) {
    let records = vec![
        rec(
            "20.172.136.193.in-addr.arpa.",
            RData::PTR(PTR(name("dns.ua.pt."))),
        ),
        rec(
            "66.6.136.193.in-addr.arpa.",
            RData::PTR(PTR(hostile_ptr_name())),
        ),
    ];
    zone("136.193.in-addr.arpa.", records)
}

/// `10.in-addr.arpa.`: [`BULK`] PTRs, 10.0.x.y -> host-x-y.bulk.test.
fn bulk_zone() -> (LowerName, Arc<InMemoryZoneHandler<TokioRuntimeProvider>>) {
    let records = (0..BULK)
        .map(|i| {
            let [a, b, c, d] = bulk_ip(i).octets();
            let owner = format!("{d}.{c}.{b}.{a}.in-addr.arpa.");
            rec(&owner, RData::PTR(PTR(name(&bulk_name(i)))))
        })
        .collect();
    zone("10.in-addr.arpa.", records)
}

/// `slow.test.`: every name is answered late (NXDOMAIN unless listed).
fn slow_zone() -> (LowerName, Arc<InMemoryZoneHandler<TokioRuntimeProvider>>) {
    zone(
        "slow.test.",
        vec![rec(
            "a.slow.test.",
            RData::A(A(Ipv4Addr::new(192, 0, 2, 1))),
        )],
    )
}
