//! Timed signals (a Delay's, a `waitTimeoutMilliseconds:`'s) and the
//! thread that wakes the running code for them.
//!
//! The VM keeps the pending signals; a thread of its own sleeps until the
//! earliest and then raises the [`TIMER`] bit of the running Process's
//! alarm, so that the next activation or loop back-edge fires what is due
//! (and lets a higher-priority process that it made ready preempt). The
//! thread reaches the alarm only while Smalltalk code runs (the VM cannot
//! move then); when it is idle, the scheduler sleeps itself.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::super::stack::{Alarm, TIMER};
use crate::object::Oop;

/// What a timed signal does when it is due.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Timed {
    /// Signals the Semaphore (a Delay).
    Signal(Oop),
    /// Ends the wait of a Process on a Semaphore, if it still waits there
    /// (`waitTimeoutMilliseconds:`, which then answers true).
    Timeout { semaphore: Oop, process: Oop },
}

impl Timed {
    pub(crate) fn roots(&mut self) -> impl Iterator<Item = &mut Oop> {
        match self {
            Timed::Signal(s) => vec![s],
            Timed::Timeout { semaphore, process } => vec![semaphore, process],
        }
        .into_iter()
    }
}

#[derive(Default)]
struct Shared {
    /// The running Process's alarm (its address in the Vm), or 0.
    alarm: usize,
    deadline: Option<Instant>,
    quit: bool,
}

/// The thread and what it shares with the VM.
pub(crate) struct Timer {
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl Timer {
    pub(crate) fn start() -> Timer {
        let shared: Arc<(Mutex<Shared>, Condvar)> = Arc::default();
        let theirs = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("zag-timer".into())
            .spawn(move || ring(&theirs))
            .expect("a thread for the timer");
        Timer { shared }
    }

    /// The earliest pending deadline (none: sleep until told).
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        let (lock, wake) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.deadline = deadline;
        wake.notify_one();
    }

    /// The alarm to raise while Smalltalk code runs; null when it stops.
    pub(crate) fn set_alarm(&self, alarm: *const Alarm) {
        let (lock, wake) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.alarm = alarm as usize;
        wake.notify_one();
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.quit = true;
        s.alarm = 0;
        wake.notify_one();
    }
}

/// The thread: waits for the deadline, then raises the alarm (once per
/// deadline; the VM sets the next one when it fires what is due).
fn ring(shared: &(Mutex<Shared>, Condvar)) {
    let (lock, wake) = shared;
    let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if s.quit {
            return;
        }
        s = match s.deadline {
            Some(d) if Instant::now() >= d && s.alarm != 0 => {
                // SAFETY: the VM clears `alarm` (under this lock) before
                // the Vm may move or go away.
                unsafe { (*(s.alarm as *const Alarm)).raise(TIMER) };
                s.deadline = None;
                continue;
            }
            Some(d) if Instant::now() < d => {
                let wait = d - Instant::now();
                wake.wait_timeout(s, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            _ => wake.wait(s).unwrap_or_else(|e| e.into_inner()),
        };
    }
}
