//! SIGINT/SIGTERM as a future, so a process can shut down cleanly (and remove its work directory).

use std::time::Duration;

/// A registered listener for SIGINT and SIGTERM. Create it first thing: once it exists, the signals no
/// longer kill the process, they are delivered here.
pub struct Shutdown {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Shutdown {
    /// Registers the listeners.
    pub fn listen() -> std::io::Result<Shutdown> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Shutdown {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for either signal and names it.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// How long a process waits for its services to finish after a signal before it stops anyway.
pub const GRACE: Duration = Duration::from_secs(30);
