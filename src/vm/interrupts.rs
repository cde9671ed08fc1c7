//! Operating-system signals that end a program (SIGINT, SIGTERM, SIGHUP)
//! turned into VM interrupts, so that the program ends the way an
//! unhandled error ends it: what the Transcript wrote is flushed, the
//! Smalltalk stack is printed, and the exit status says which signal
//! (128 + its number, as a shell reports it). In the REPL
//! ([`Universe::user_interrupts`](super::Universe)), SIGINT instead
//! signals UserInterrupt in the running Process, and the REPL goes on.
//!
//! A signal handler may run on any thread and may do almost nothing, so
//! it only records the signal and raises the running Process's alarm
//! (`Stack::alarm`, an atomic byte); the next activation or loop
//! back-edge sees it and calls [`Vm::interrupted`]. When no Smalltalk
//! code is running (the REPL waiting for a line), or when a second signal
//! comes before the first was answered (a primitive that takes long,
//! machine code that keeps the alarm in a register), the signal's default
//! action ends the process at once.

use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Once;

use super::stack::{Alarm, INTERRUPTED};
use super::{ErrorKind, Vm, VmError};

/// The signals that end a program.
const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The signal received and not yet answered (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);
/// The alarm of the Process running Smalltalk code.
static ALARM: AtomicPtr<Alarm> = AtomicPtr::new(std::ptr::null_mut());
/// How many computations from Rust are running Smalltalk code (they
/// nest: a primitive or the REPL's printing may start one in another).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Installs the handlers (once; the command-line tool does, before any
/// Smalltalk runs; a program embedding the VM may keep its own).
pub fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        for signal in SIGNALS {
            // SAFETY: a zeroed sigaction is a valid start; the handler is
            // async-signal-safe (atomics, and libc's signal and raise).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(i32) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

extern "C" fn on_signal(signal: i32) {
    let alarm = ALARM.load(Ordering::SeqCst);
    let first = PENDING
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if !first || alarm.is_null() || RUNNING.load(Ordering::SeqCst) == 0 {
        // SAFETY: both calls are async-signal-safe.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        return;
    }
    // SAFETY: `ALARM` points into the Vm that is running Smalltalk code
    // (`Running` keeps it there while `RUNNING` counts it).
    unsafe { (*alarm).raise(INTERRUPTED) };
}

/// While alive, `vm`'s Process is running Smalltalk code: a signal
/// raises its alarm.
pub(crate) struct Running;

impl Running {
    pub(crate) fn enter(vm: &Vm) -> Running {
        ALARM.store(
            &vm.process.stack.alarm as *const Alarm as *mut Alarm,
            Ordering::SeqCst,
        );
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Vm {
    /// The process received a signal (the alarm's [`INTERRUPTED`] bit):
    /// answers true when it is to signal UserInterrupt in the running
    /// Process (SIGINT in the REPL; [`Vm::signal_user_interrupt`]);
    /// otherwise ends the program as an unhandled error does, with the
    /// Smalltalk stack, exit status 128 + the signal's number.
    #[cold]
    #[inline(never)]
    pub(crate) fn take_interrupt(&mut self) -> bool {
        let signal = PENDING.load(Ordering::SeqCst);
        if self.universe.user_interrupts && signal == libc::SIGINT {
            self.process.stack.alarm.clear(INTERRUPTED);
            // Answered: the next Ctrl-C interrupts again.
            PENDING.store(0, Ordering::SeqCst);
            return true;
        }
        let name = match signal {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            libc::SIGHUP => "SIGHUP",
            _ => "a signal",
        };
        let error = VmError {
            message: format!("Interrupted by {name}"),
            trace: self.trace(&self.process),
            kind: ErrorKind::Unhandled,
        };
        self.end_process(&error, 128 + signal)
    }
}
