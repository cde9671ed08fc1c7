//! The JIT's worker: a thread that compiles while the VM goes on running
//! the method interpreted, so that on a machine with a core to spare
//! compiling costs the program almost nothing. The VM sends [`Job`]s and,
//! at its next look (see `Jit::poll`), installs what is done. The machine
//! code lives in the worker's LLVM, so the worker lives as long as the VM,
//! and the process must not exit while it compiles (see `Worker::stop`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::compiler::{Compiled, Compiler, Job};

pub(super) struct Worker {
    jobs: Option<Sender<Box<Job>>>,
    done: Receiver<Compiled>,
    /// Set when the VM ends: the jobs still queued are dropped.
    stop: Arc<AtomicBool>,
    /// Says when the worker has stopped compiling (see [`Worker::stop`]).
    parked: Receiver<()>,
    /// Dropped to let the worker end, and its LLVM (which owns the machine
    /// code) with it.
    release: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn start() -> Result<Worker, String> {
        let (jobs, queue) = channel::<Box<Job>>();
        let (results, done) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let (park, parked) = channel();
        let (release, released) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("zag-jit".into())
            // LLVM's code generation recurses over large functions.
            .stack_size(64 << 20)
            .spawn(move || {
                let mut compiler = Compiler::default();
                for job in queue {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    let compiled = compiler.compile(*job);
                    if results.send(compiled).is_err() {
                        break;
                    }
                }
                drop(results);
                let _ = park.send(());
                // Until the VM has no more use for the machine code.
                let _ = released.recv();
                drop(compiler);
            })
            .map_err(|e| format!("the JIT's thread does not start: {e}"))?;
        Ok(Worker {
            jobs: Some(jobs),
            done,
            stop,
            parked,
            release: Some(release),
            thread: Some(thread),
        })
    }

    /// Queues `job`; gives it back when the worker is gone.
    pub fn send(&self, job: Box<Job>) -> Result<(), Box<Job>> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|e| e.0),
            None => Err(job),
        }
    }

    /// The next job done, waiting for it; None when the worker is gone.
    pub fn wait(&self) -> Option<Compiled> {
        self.done.recv().ok()
    }

    /// The jobs done since the last look, without waiting.
    pub fn done(&self) -> impl Iterator<Item = Compiled> + '_ {
        self.done.try_iter()
    }
}

impl Worker {
    /// Drops the queued jobs and waits for the one in hand. The worker's
    /// LLVM, and so the machine code, stays until the worker is dropped.
    pub fn stop(&mut self) {
        if self.jobs.take().is_some() {
            self.stop.store(true, Ordering::Relaxed);
            let _ = self.parked.recv();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
        self.release = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
