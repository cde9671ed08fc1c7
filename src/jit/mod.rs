//! The JIT: a method that turns hot is translated from its threaded code
//! to LLVM IR (inkwell, LLVM 19), compiled to machine code, and installed
//! in this VM only.
//!
//! - When: a method's invocations, its blocks' activations and its loops'
//!   back-edges count on its `MethodInfo`; at the VM's trigger
//!   (`Universe::jit_trigger`, never by default) the method turns hot
//!   ([`method_turned_hot`]), and an activation running a loop switches to
//!   the new code at its next back-edge once it is installed (on-stack
//!   replacement). A method that cannot be compiled (a refusal) stays
//!   interpreted, and the reason is kept.
//! - Where: on the VM's thread, before the method's next activation
//!   (synchronous: the default of a `Vm`, and at threshold 0), or on the
//!   JIT's worker thread ([`worker`]) while the VM goes on interpreting
//!   the method (`Jit::background`: the command line's default); the VM
//!   installs the worker's results whenever a method turns hot and every
//!   [`POLL_INTERVAL`] counts of a method still compiling.
//! - What: [`translate`] makes one function per code unit with the
//!   handler contract (`extern "C-unwind" fn(&mut Vm, Ip) -> Ip`), its
//!   sends guessing from the inline caches ([`speculation`]); [`compiler`]
//!   gathers what that needs of the VM into a job and runs LLVM on it.
//! - How it is installed: the VM gets its own copy of the unit's
//!   instructions (`Universe::replace_code`), in which the unit's entries
//!   (its start, jump targets, return addresses) have the native function
//!   as their handler and the other instructions keep the interpreter's.
//!   Every path that starts the unit then runs native code, a frame
//!   returning into the unit re-enters it at the right instruction, and the
//!   static image's code is untouched.
//! - LLVM is set up only when the first method turns hot, so start-up does
//!   not pay for it.

mod code_memory;
mod compiler;
mod helpers;
mod speculation;
mod translate;
mod worker;

pub(crate) use helpers::{invoke_cached, remember, string_equality, value_block};

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::vm::method::MethodRef;
use crate::vm::Vm;
use compiler::{Compiled, Compiler, Job};
use worker::Worker;

/// How many more counts a method still compiling in the background runs
/// interpreted before the VM looks again for the worker's results.
pub const POLL_INTERVAL: u64 = 256;

/// What the JIT did, for `--jit-stats`.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub methods: usize,
    pub units: usize,
    /// `Class>>selector` of each method compiled, in order.
    pub compiled: Vec<String>,
    pub refused: Vec<(String, String)>,
    pub compile_times: Vec<Duration>,
    /// Send sites compiled with a guess from their inline cache.
    pub guessed_sends: usize,
    /// Bytes of machine code (each module's, up to the marker function
    /// that ends it).
    pub code_bytes: usize,
    /// Activations that went on in machine code at a loop's back-edge
    /// (on-stack replacement).
    pub on_stack_replacements: usize,
}

impl Stats {
    pub fn compile_time(&self) -> Duration {
        self.compile_times.iter().sum()
    }

    /// A summary, one line per figure.
    pub fn report(&self) -> String {
        let mut times = self.compile_times.clone();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        let max = times.last().copied().unwrap_or_default();
        // (Each compiled method's time is recorded in the same order.)
        let slowest = self
            .compile_times
            .iter()
            .position(|&t| t == max)
            .and_then(|k| self.compiled.get(k))
            .map_or(String::new(), |m| format!(" ({m})"));
        let mut text = format!(
            "jit: {} methods ({} units) compiled, {} refused, {} on-stack replacements, \
             {} sends with a guess from their cache, {:.1} KB of machine code\n\
             jit: compile time {:.1} ms in all, median {:.2} ms, max {:.2} ms{}",
            self.methods,
            self.units,
            self.refused.len(),
            self.on_stack_replacements,
            self.guessed_sends,
            self.code_bytes as f64 / 1024.0,
            ms(self.compile_time()),
            ms(median),
            ms(max),
            slowest
        );
        for (method, why) in self.refused.iter().take(20) {
            text.push_str(&format!("\njit: refused {method}: {why}"));
        }
        text
    }
}

/// A VM's JIT: its compiler (LLVM is made when first needed), its worker
/// thread when it compiles in the background, and what it compiled.
pub struct Jit {
    /// When the VM was made (for the JIT's share of the time since).
    created: Instant,
    /// Whether hot methods are compiled on the worker thread while the VM
    /// goes on interpreting them, rather than before their next activation.
    pub background: bool,
    compiler: Compiler,
    /// Started with the first job it gets.
    worker: Option<Worker>,
    /// Every method that turned hot: each is compiled once.
    hot: HashSet<MethodRef>,
    /// Those whose job is with the worker.
    compiling: HashSet<MethodRef>,
    /// Time the VM's thread spent in the JIT (preparing jobs, compiling
    /// when synchronous, installing).
    vm_thread_time: Duration,
    pub stats: Stats,
    /// `Class>>selector` (or `Class class>>selector`) of a method whose
    /// LLVM IR is printed to standard error, before and after optimization,
    /// when it is compiled (`--dump-ir`; always on the VM's thread).
    pub dump_ir: Option<String>,
    /// Where each unit's machine code starts, and its name, for profilers
    /// (`ZAG_PERF_MAP`: see [`Jit::write_perf_map`]).
    code_starts: Vec<(usize, String)>,
}

impl Default for Jit {
    fn default() -> Jit {
        Jit {
            created: Instant::now(),
            background: false,
            compiler: Compiler::default(),
            worker: None,
            hot: HashSet::new(),
            compiling: HashSet::new(),
            vm_thread_time: Duration::ZERO,
            stats: Stats::default(),
            dump_ir: None,
            code_starts: Vec::new(),
        }
    }
}

/// `method` just reached the JIT's trigger: it is compiled now, or given
/// to the worker, or (when it is with the worker already) the VM installs
/// what the worker has done and looks again [`POLL_INTERVAL`] counts
/// later. The activation that turned it hot goes on interpreted.
pub fn method_turned_hot(vm: &mut Vm, method: MethodRef) {
    let started = Instant::now();
    poll(vm);
    let jit = &mut vm.universe.jit;
    if jit.hot.insert(method) {
        let name = {
            let m = &vm.universe.methods[method as usize];
            format!(
                "{}>>{}",
                vm.universe.classes.name(m.class),
                vm.symbol_text(m.selector)
            )
        };
        let dump = vm.universe.jit.dump_ir.as_deref() == Some(name.as_str());
        let job = Job::new(vm, method, name, dump);
        let jit = &mut vm.universe.jit;
        match jit.give_to_worker(job) {
            Ok(()) => {
                jit.compiling.insert(method);
            }
            Err(job) => {
                let compiled = jit.compiler.compile(*job);
                install(vm, compiled);
            }
        }
    }
    let jit = &mut vm.universe.jit;
    if jit.compiling.contains(&method) {
        let again = vm.universe.jit_trigger.saturating_sub(POLL_INTERVAL);
        vm.universe.info(method).invocations.set(again);
    }
    vm.universe.jit.vm_thread_time += started.elapsed();
}

/// Installs what the worker has compiled since the last look.
fn poll(vm: &mut Vm) {
    let Some(worker) = &vm.universe.jit.worker else {
        return;
    };
    let done: Vec<Compiled> = worker.done().collect();
    for compiled in done {
        install(vm, compiled);
    }
}

/// Waits for the worker to finish every job it has, and installs them
/// (for tests, and for measuring).
pub fn finish_compiling(vm: &mut Vm) {
    while !vm.universe.jit.compiling.is_empty() {
        let Some(compiled) = vm.universe.jit.worker.as_ref().and_then(Worker::wait) else {
            vm.universe.jit.compiling.clear();
            return;
        };
        install(vm, compiled);
    }
}

/// Ends the worker, once its job in hand is done (what is queued is
/// dropped): before the process exits, as LLVM's global state is torn down
/// then. The code it made stays valid until the VM ends.
pub fn stop_compiling(vm: &mut Vm) {
    if let Some(worker) = &mut vm.universe.jit.worker {
        worker.stop();
    }
}

/// Gives `compiled`'s code to its method's units (a method is compiled
/// once, and nothing else changes its code: a redefinition makes a new
/// method); records the result.
fn install(vm: &mut Vm, compiled: Compiled) {
    let method = compiled.method;
    let u = &mut vm.universe;
    u.jit.compiling.remove(&method);
    match compiled.units {
        Ok(units) => {
            let stats = &mut u.jit.stats;
            stats.compile_times.push(compiled.time);
            stats.methods += 1;
            stats.units += units.len();
            stats.code_bytes += compiled.code_bytes;
            stats.guessed_sends += compiled.guessed_sends;
            for (k, unit) in units.into_iter().enumerate() {
                u.jit
                    .code_starts
                    .push((unit.address, format!("{} unit {k}", compiled.name)));
                u.replace_code(method, k as u16, unit.code);
            }
            u.jit.stats.compiled.push(compiled.name);
            u.jit.write_perf_map();
        }
        Err(why) => {
            u.jit.stats.refused.push((compiled.name, why));
        }
    }
}

impl Jit {
    /// Queues `job` with the worker (started now if need be) when the JIT
    /// compiles in the background and the job prints no IR; else gives it
    /// back. Without a worker (no thread, or it ended) the JIT compiles on
    /// the VM's thread from then on.
    fn give_to_worker(&mut self, job: Box<Job>) -> Result<(), Box<Job>> {
        if !self.background || job.dump {
            return Err(job);
        }
        if self.worker.is_none() {
            self.worker = Worker::start().ok();
        }
        let sent = match &self.worker {
            Some(worker) => worker.send(job),
            None => Err(job),
        };
        if sent.is_err() {
            self.background = false;
        }
        sent
    }

    /// `--jit-stats`: the statistics, and the JIT's share of the time
    /// since the VM was made: compiling's, and the VM thread's when
    /// compiling was on the worker.
    pub fn report(&self) -> String {
        let run = self.created.elapsed().as_secs_f64().max(1e-9);
        let share = |d: Duration| d.as_secs_f64() / run * 100.0;
        let mut text = format!(
            "{}\njit: compiling took {:.1}% of the {:.2} s since the VM started",
            self.stats.report(),
            share(self.stats.compile_time()),
            run
        );
        if self.worker.is_some() {
            text.push_str(&format!(
                ", on the JIT's thread; the VM's thread spent {:.1} ms ({:.1}%) \
                 preparing jobs and installing code",
                self.vm_thread_time.as_secs_f64() * 1000.0,
                share(self.vm_thread_time)
            ));
            if !self.compiling.is_empty() {
                text.push_str(&format!(
                    "; {} methods were still compiling",
                    self.compiling.len()
                ));
            }
        }
        text
    }

    /// With `ZAG_PERF_MAP` set in the environment, writes
    /// `/tmp/perf-PID.map` (the format `perf` reads to name JIT code):
    /// each unit's start, its length (up to the next unit's start, as
    /// MCJIT does not say), and `Class>>selector` with the unit number.
    fn write_perf_map(&self) {
        if std::env::var_os("ZAG_PERF_MAP").is_none() {
            return;
        }
        let mut starts = self.code_starts.clone();
        starts.sort();
        let mut text = String::new();
        for (k, (start, name)) in starts.iter().enumerate() {
            let end = starts.get(k + 1).map_or(start + 4096, |(next, _)| *next);
            let len = (end - start).min(1 << 16);
            text.push_str(&format!("{start:x} {len:x} {name}\n"));
        }
        let path = format!("/tmp/perf-{}.map", std::process::id());
        let _ = std::fs::write(path, text);
    }
}
