//! The JIT: a method that turns hot is translated from its threaded code
//! to LLVM IR (inkwell, LLVM 19), compiled to machine code, and installed
//! in this VM only.
//!
//! - When: a method's invocations, its blocks' activations and its loops'
//!   back-edges count on its `MethodInfo`; at the VM's trigger
//!   (`Universe::jit_trigger`, never by default) the method's units are
//!   compiled, and an activation running a loop switches to the new code
//!   at its next back-edge (on-stack replacement). A method that cannot be
//!   compiled (a refusal) stays interpreted, and the reason is kept.
//! - What: [`translate`] makes one function per code unit with the
//!   handler contract (`extern "C-unwind" fn(&mut Vm, Ip) -> Ip`), its
//!   sends guessing from the inline caches ([`speculation`]).
//! - How it is installed: the VM gets its own copy of the unit's
//!   instructions (`Universe::replace_code`), in which the unit's entries
//!   (its start, jump targets, return addresses) have the native function
//!   as their handler and the other instructions keep the interpreter's.
//!   Every path that starts the unit then runs native code, a frame
//!   returning into the unit re-enters it at the right instruction, and the
//!   static image's code is untouched.
//! - LLVM is set up only when the first method turns hot, so start-up does
//!   not pay for it.

mod helpers;
mod speculation;
mod translate;

pub(crate) use helpers::{invoke_cached, remember, string_equality, value_block};

use std::time::{Duration, Instant};

use inkwell::context::Context;
use inkwell::execution_engine::ExecutionEngine;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::OptimizationLevel;

use crate::vm::interpreter::Handler;
use crate::vm::method::{Instr, MethodRef};
use crate::vm::Vm;

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

/// A VM's JIT: LLVM (made when first needed) and what it compiled.
pub struct Jit {
    /// When the VM was made (for the compile time's share of the run).
    created: Instant,
    llvm: Option<Llvm>,
    pub stats: Stats,
    /// `Class>>selector` (or `Class class>>selector`) of a method whose
    /// LLVM IR is printed to standard error, before and after optimization,
    /// when it is compiled (`--dump-ir`).
    pub dump_ir: Option<String>,
    /// Where each unit's machine code starts, and its name, for profilers
    /// (`ZAG_PERF_MAP`: see [`Jit::write_perf_map`]).
    code_starts: Vec<(usize, String)>,
}

impl Default for Jit {
    fn default() -> Jit {
        Jit {
            created: Instant::now(),
            llvm: None,
            stats: Stats::default(),
            dump_ir: None,
            code_starts: Vec::new(),
        }
    }
}

impl Jit {
    /// `--jit-stats`: the statistics, and the compile time's share of the
    /// time since the VM was made.
    pub fn report(&self) -> String {
        let run = self.created.elapsed();
        let share = self.stats.compile_time().as_secs_f64() / run.as_secs_f64().max(1e-9);
        format!(
            "{}\njit: compiling took {:.1}% of the {:.2} s since the VM started",
            self.stats.report(),
            share * 100.0,
            run.as_secs_f64()
        )
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

/// LLVM's state: the context, the target, and the execution engine that
/// owns every compiled module (and so the machine code).
struct Llvm {
    // Declared before the context, which it borrows: dropped first.
    engine: Option<ExecutionEngine<'static>>,
    machine: TargetMachine,
    context: Box<Context>,
    next_module: usize,
}

impl Llvm {
    fn new() -> Result<Llvm, String> {
        Target::initialize_native(&InitializationConfig::default())?;
        let triple = TargetMachine::get_default_triple();
        let target = Target::from_triple(&triple).map_err(|e| e.to_string())?;
        let machine = target
            .create_target_machine(
                &triple,
                &TargetMachine::get_host_cpu_name().to_string(),
                &TargetMachine::get_host_cpu_features().to_string(),
                OptimizationLevel::Less,
                RelocMode::Default,
                CodeModel::JITDefault,
            )
            .ok_or("LLVM has no target machine for this host")?;
        Ok(Llvm {
            engine: None,
            machine,
            context: Box::new(Context::create()),
            next_module: 0,
        })
    }

    /// The context, for as long as the engine that borrows it.
    fn context(&self) -> &'static Context {
        // SAFETY: the context is boxed (it never moves) and outlives every
        // module and the engine: they are dropped before it (field order).
        unsafe { &*(self.context.as_ref() as *const Context) }
    }

    /// Optimizes and compiles `module`; answers the address of each of
    /// `functions`. `dump` names the method when its IR is to be printed.
    fn compile(
        &mut self,
        module: Module<'static>,
        functions: &[String],
        dump: Option<&str>,
    ) -> Result<Vec<usize>, String> {
        if cfg!(debug_assertions) {
            module
                .verify()
                .map_err(|e| format!("LLVM's verifier: {e}"))?;
        }
        if let Some(method) = dump {
            eprintln!(
                "; {method}: LLVM IR before optimization\n{}",
                module.print_to_string().to_string_lossy()
            );
        }
        module
            .run_passes(
                "early-cse,simplifycfg",
                &self.machine,
                PassBuilderOptions::create(),
            )
            .map_err(|e| e.to_string())?;
        if let Some(method) = dump {
            eprintln!(
                "; {method}: LLVM IR after optimization\n{}",
                module.print_to_string().to_string_lossy()
            );
        }
        match &self.engine {
            Some(engine) => engine
                .add_module(&module)
                .map_err(|()| "the module is in the engine already".to_string())?,
            None => {
                let engine = module
                    .create_jit_execution_engine(OptimizationLevel::Less)
                    .map_err(|e| e.to_string())?;
                self.engine = Some(engine);
            }
        }
        let engine = self.engine.as_ref().expect("made above");
        functions
            .iter()
            .map(|name| {
                engine
                    .get_function_address(name)
                    .map_err(|e| format!("{name}: {e}"))
            })
            .collect()
    }
}

/// The interpreter's handler stays on special sends' copies without the
/// chaining mark, so that a delegated special send answers its successor
/// rather than running it.
fn unchained_copy(code: &[Instr]) -> Box<[Instr]> {
    code.iter()
        .map(|&i| {
            // The special sends are the handlers named `send_...`.
            let special_send = i
                .plan_handler()
                .is_some_and(|h| h.name().starts_with("send_"));
            Instr {
                b: if special_send { 0 } else { i.b },
                ..i
            }
        })
        .collect()
}

/// Compiles every unit of `method` and installs the code in this VM. On a
/// refusal nothing is installed and the method stays interpreted.
pub fn compile_method(vm: &mut Vm, method: MethodRef) -> Result<(), String> {
    let started = Instant::now();
    let mut jit = std::mem::take(&mut vm.universe.jit);
    let name = {
        let m = &vm.universe.methods[method as usize];
        format!(
            "{}>>{}",
            vm.universe.classes.name(m.class),
            vm.symbol_text(m.selector)
        )
    };
    let dump = (jit.dump_ir.as_deref() == Some(name.as_str())).then_some(name.as_str());
    let result = compile_units(vm, &mut jit, method, &name, dump);
    match &result {
        Ok(units) => {
            jit.stats.methods += 1;
            jit.stats.compiled.push(name);
            jit.stats.units += units;
            jit.stats.compile_times.push(started.elapsed());
        }
        Err(why) => jit.stats.refused.push((name, why.clone())),
    }
    vm.universe.jit = jit;
    result.map(|_| ())
}

fn compile_units(
    vm: &mut Vm,
    jit: &mut Jit,
    method: MethodRef,
    method_name: &str,
    dump: Option<&str>,
) -> Result<usize, String> {
    if jit.llvm.is_none() {
        jit.llvm = Some(Llvm::new()?);
    }
    let llvm = jit.llvm.as_mut().expect("made above");
    let context = llvm.context();
    let module = context.create_module(&format!("m{}", llvm.next_module));
    llvm.next_module += 1;
    let units = vm.universe.methods[method as usize].units.len();
    let mut copies = Vec::with_capacity(units);
    let mut names = Vec::with_capacity(units);
    let mut guesses = 0;
    for unit in 0..units {
        let copy = unchained_copy(&vm.universe.methods[method as usize].units[unit].code);
        let name = format!("{}_m{method}_u{unit}", module.get_name().to_string_lossy());
        let input = translate::UnitInput {
            code: &copy,
            copy: copy.as_ptr() as usize,
            info: vm.universe.info(method) as *const _ as usize,
            caches: vm.universe.caches.as_ptr() as usize,
            infos: vm.universe.infos.as_ptr() as usize,
            bindings: &vm.universe.bindings,
            nursery: vm.heap.nursery_range(),
            speculations: speculation::speculations(vm, &copy),
            epoch: vm.universe.epoch,
            nil: vm.universe.nil,
            true_object: vm.universe.true_object,
            false_object: vm.universe.false_object,
        };
        let entries = translate::translate(context, &module, &name, &input)?;
        guesses += input.speculations.iter().flatten().count();
        copies.push((copy, entries));
        names.push(name);
    }
    // A function after the units marks where their machine code ends
    // (MCJIT lays a module's functions out in order).
    let end = format!("{}_end", module.get_name().to_string_lossy());
    let marker = module.add_function(&end, context.void_type().fn_type(&[], false), None);
    let builder = context.create_builder();
    builder.position_at_end(context.append_basic_block(marker, "end"));
    builder.build_return(None).map_err(|e| e.to_string())?;
    names.push(end);
    let mut addresses = llvm.compile(module, &names, dump)?;
    let end = addresses.pop().unwrap_or_default();
    let start = addresses.iter().copied().min().unwrap_or(end);
    jit.stats.code_bytes += end.saturating_sub(start);
    for (unit, ((mut copy, entries), address)) in copies.into_iter().zip(addresses).enumerate() {
        // SAFETY: the function was made with the handler's signature and
        // calling convention (C), and lives as long as the engine, which
        // lives as long as the VM.
        let native: Handler = unsafe { std::mem::transmute::<usize, Handler>(address) };
        jit.code_starts
            .push((address, format!("{method_name} unit {unit}")));
        for (instr, entry) in copy.iter_mut().zip(entries) {
            if entry {
                instr.handler = native;
            }
        }
        vm.universe.replace_code(method, unit as u16, copy);
    }
    jit.write_perf_map();
    jit.stats.guessed_sends += guesses;
    Ok(units)
}
