//! Is a Ballista scheduler answering, and how many executors has it? One plain HTTP/1.1 `GET /readyz`
//! on the scheduler's port (it serves gRPC and HTTP on one port), bounded by a deadline, so a dead or
//! wrong address is a typed error in seconds rather than a hang inside a gRPC client.

use crate::addr::HostPort;
use crate::error::{ClusterError, Result};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the scheduler says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerStatus {
    /// Its `Server` header, e.g. `ballista/55.0.0`.
    pub server: String,
    /// Executors registered and alive.
    pub executors: usize,
}

/// Asks the scheduler at `addr`, retrying refused connections until `deadline` has passed (a scheduler
/// may be starting).
pub async fn probe(addr: &HostPort, deadline: Duration) -> Result<SchedulerStatus> {
    let start = Instant::now();
    loop {
        let left = deadline.saturating_sub(start.elapsed());
        let detail = match tokio::time::timeout(left, probe_once(addr)).await {
            Ok(Ok(status)) => return Ok(status),
            Ok(Err(Attempt::Fatal(e))) => return Err(e),
            Ok(Err(Attempt::Retry(detail))) => detail,
            Err(_) => "no answer".to_string(),
        };
        if start.elapsed() + Duration::from_millis(200) >= deadline {
            return Err(ClusterError::Unreachable {
                addr: addr.to_string(),
                deadline,
                detail,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

enum Attempt {
    Retry(String),
    Fatal(ClusterError),
}

async fn probe_once(addr: &HostPort) -> std::result::Result<SchedulerStatus, Attempt> {
    let mut stream = TcpStream::connect((addr.host.as_str(), addr.port))
        .await
        .map_err(|e| Attempt::Retry(e.to_string()))?;
    let request =
        format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: flowhound\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| Attempt::Retry(e.to_string()))?;
    let mut raw = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut raw)
        .await
        .map_err(|e| Attempt::Retry(e.to_string()))?;
    parse_response(&String::from_utf8_lossy(&raw)).map_err(|detail| {
        Attempt::Fatal(ClusterError::NotAScheduler {
            addr: addr.to_string(),
            detail,
        })
    })
}

/// Parses the `/readyz` answer: `Server: ballista/V` and a body `ready: N executors registered` or
/// `not ready: N/M executors registered`.
fn parse_response(text: &str) -> std::result::Result<SchedulerStatus, String> {
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
    let server = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("server"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    if !server.starts_with("ballista/") {
        let first = head.lines().next().unwrap_or("");
        return Err(format!(
            "answered {first:?} without a ballista Server header"
        ));
    }
    let body = body.trim();
    let count = body
        .split_once(": ")
        .and_then(|(_, rest)| rest.split(['/', ' ']).next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unexpected /readyz answer {body:?}"))?;
    Ok(SchedulerStatus {
        server,
        executors: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_executor_count_from_both_readyz_answers() {
        let ok = "HTTP/1.1 200 OK\r\nserver: ballista/55.0.0\r\ncontent-length: 30\r\n\r\nready: 2 executors registered\n";
        assert_eq!(parse_response(ok).unwrap().executors, 2);
        let not = "HTTP/1.1 503 Service Unavailable\r\nServer: ballista/55.0.0\r\n\r\nnot ready: 0/1 executors registered\n";
        let s = parse_response(not).unwrap();
        assert_eq!((s.executors, s.server.as_str()), (0, "ballista/55.0.0"));
    }

    #[test]
    fn another_http_server_is_not_a_scheduler() {
        let e = parse_response("HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n").unwrap_err();
        assert!(e.contains("404") && e.contains("ballista"), "{e}");
        assert!(parse_response("SSH-2.0-OpenSSH_9.6\r\n").is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_within_the_deadline() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = HostPort {
            host: "127.0.0.1".into(),
            port,
        };
        let start = Instant::now();
        let e = probe(&addr, Duration::from_millis(700)).await.unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(matches!(e, ClusterError::Unreachable { .. }), "{e}");
        assert!(
            e.to_string().contains("flowhound cluster scheduler --bind"),
            "{e}"
        );
    }
}
