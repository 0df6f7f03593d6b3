//! Calls into dependencies that panic on hostile input instead of failing (the parquet crate on damaged
//! pages: a run-length header longer than 10 bytes, a negative column offset, an empty bitmap slice; all
//! found by the `parquet` fuzz target). Such a call runs in [`guarded`], which turns the panic into a
//! message for a typed error. A panic is the dependency's bug, not flowhound's, and what the reader can
//! do is refuse the file with a clear message instead of dying.
//!
//! [`in_guard`] tells a panic hook whether it fires inside such a call: the fuzz targets let exactly
//! those panics (raised in crates.io code) unwind to the guard, and abort on every other one.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// True while the current thread runs inside [`guarded`].
pub fn in_guard() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Runs `f`; a panic inside it comes back as Err with the panic's message.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let out = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    out.map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// For binaries: a panic hook that keeps the current one for every panic except those inside
/// [`guarded`], which become typed errors and are not printed as panics.
pub fn quiet_guarded_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !in_guard() {
            previous(info)
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_the_guard_is_left() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let inside = guarded(in_guard).unwrap();
        let err = guarded(|| -> u8 { panic!("bad {}", 7) }).unwrap_err();
        std::panic::set_hook(hook);
        assert!(inside && !in_guard());
        assert_eq!(err, "bad 7");
        assert_eq!(guarded(|| 3).unwrap(), 3);
    }
}
