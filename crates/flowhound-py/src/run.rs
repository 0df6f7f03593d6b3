//! Long calls: the work runs on its own thread while the caller's thread, without the GIL, waits for it
//! in 100 ms steps; between steps it checks for signals and reports progress to an optional Python
//! callback `progress(stage, done, total)`. Ctrl-C (or a callback that raised) sets the work's cancel
//! flag, which the work checks between phases, per batch read, between detectors, in the generator's
//! writers and around async DNS and SQL; the caller waits up to [`STOP_WAIT`] for the work to stop, then
//! raises `KeyboardInterrupt`.

use crate::errors::{to_py, FlowhoundError};
use pyo3::prelude::*;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an interrupted call waits for its work to stop before raising anyway.
pub const STOP_WAIT: Duration = Duration::from_millis(1500);
/// How often the caller wakes (signals, progress) and async work looks at the cancel flag.
const TICK: Duration = Duration::from_millis(100);

/// Shared between a long call's work and its waiting caller.
#[derive(Default)]
pub struct Ctl {
    /// Set when the caller was interrupted: the work stops at its next check.
    pub cancel: Arc<AtomicBool>,
    /// Units done in the current stage (bytes of files, rows of frames).
    pub done: Arc<AtomicU64>,
    /// Units in the current stage (0: unknown).
    pub total: AtomicU64,
    stage: Mutex<String>,
}

impl Ctl {
    /// Starts a stage of `total` units.
    pub fn stage(&self, name: &str, total: u64) {
        if let Ok(mut s) = self.stage.lock() {
            *s = name.to_string();
        }
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    /// Fails once the caller has been interrupted.
    pub fn check(&self) -> flowhound::Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(flowhound::FlowError::Internal("interrupted".into()));
        }
        Ok(())
    }

    /// Runs `fut` on `rt` to completion, or drops it and fails once the caller is interrupted.
    pub fn block_on<F: Future>(
        &self,
        rt: &tokio::runtime::Runtime,
        fut: F,
    ) -> flowhound::Result<F::Output> {
        rt.block_on(async {
            let mut fut = std::pin::pin!(fut);
            loop {
                tokio::select! {
                    out = &mut fut => return Ok(out),
                    _ = tokio::time::sleep(TICK / 2) => self.check()?,
                }
            }
        })
    }

    fn snapshot(&self) -> (String, u64, u64) {
        let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
        let done = self.done.load(Ordering::Relaxed);
        (stage, done, self.total.load(Ordering::Relaxed))
    }
}

/// Asks the work to stop when the caller leaves early (Ctrl-C, or a progress callback that raised).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `job` off the GIL, interruptible, with progress reports; its error becomes the Python exception.
pub fn long_call<T, F>(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>, job: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Ctl) -> flowhound::Result<T> + Send + 'static,
{
    let ctl = Arc::new(Ctl::default());
    let (tx, rx) = channel();
    let worker = ctl.clone();
    let _stop = StopOnDrop(ctl.cancel.clone());
    std::thread::Builder::new()
        .name("flowhound".into())
        .spawn(move || {
            let _ = tx.send(job(&worker));
        })
        .map_err(|e| FlowhoundError::new_err(format!("cannot start a thread: {e}")))?;
    // A Receiver is not Sync; the waiting closure borrows it through a mutex only this thread takes.
    let rx = Mutex::new(rx);
    loop {
        match py.detach(|| tick(&rx)) {
            Ok(result) => return result.map_err(to_py),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(FlowhoundError::new_err(
                    "internal error: the flowhound worker stopped unexpectedly (a bug; please report it)",
                ))
            }
        }
        let stop = py.check_signals().and_then(|()| match progress {
            Some(cb) => cb.call1(ctl.snapshot()).map(drop),
            None => Ok(()),
        });
        if let Err(e) = stop {
            ctl.cancel.store(true, Ordering::Relaxed);
            wait_stopped(py, &rx);
            return Err(e);
        }
    }
}

/// Waits one [`TICK`] for the work's result.
fn tick<T>(rx: &Mutex<Receiver<T>>) -> Result<T, RecvTimeoutError> {
    match rx.lock() {
        Ok(r) => r.recv_timeout(TICK),
        Err(_) => Err(RecvTimeoutError::Disconnected),
    }
}

/// After cancelling: waits (off the GIL) up to [`STOP_WAIT`] for the work to return, so that it no
/// longer runs when the exception is raised; a second Ctrl-C stops the wait.
fn wait_stopped<T: Send>(py: Python<'_>, rx: &Mutex<Receiver<T>>) {
    let deadline = Instant::now() + STOP_WAIT;
    while Instant::now() < deadline {
        if !matches!(py.detach(|| tick(rx)), Err(RecvTimeoutError::Timeout)) {
            return;
        }
        if py.check_signals().is_err() {
            return;
        }
    }
}
