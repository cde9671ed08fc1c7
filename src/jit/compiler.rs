//! Compiling one method: its units' threaded code → one LLVM module →
//! machine code. What the translation needs of the VM is gathered first,
//! on the VM's thread, into a [`Job`]; a [`Compiler`] then works on the
//! job alone, so it can run on the VM's thread or on the JIT's worker
//! (see `worker`), and answers a [`Compiled`] for the VM to install.

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::{Duration, Instant};

use inkwell::context::Context;
use inkwell::execution_engine::ExecutionEngine;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::OptimizationLevel;

use super::code_memory::CodeMemory;
use super::speculation::{self, Speculation};
use super::translate;
use crate::object::Oop;
use crate::vm::interpreter::Handler;
use crate::vm::method::{Instr, MethodRef};
use crate::vm::Vm;

/// A method to compile, with everything the translation reads of its VM
/// (addresses of blocks that never move, and values).
pub(super) struct Job {
    pub method: MethodRef,
    /// `Class>>selector`.
    pub name: String,
    /// Whether its LLVM IR is printed (`--dump-ir`).
    pub dump: bool,
    pub units: Vec<UnitJob>,
    info: usize,
    caches: usize,
    infos: usize,
    bindings: Vec<Oop>,
    nursery: std::ops::Range<u64>,
    epoch: u32,
    nil: Oop,
    true_object: Oop,
    false_object: Oop,
}

/// One unit of a [`Job`].
pub(super) struct UnitJob {
    /// The VM's copy of the unit's code to be (see [`unchained_copy`]).
    copy: Box<[Instr]>,
    speculations: Vec<Option<Speculation>>,
}

impl Job {
    /// The job of compiling `method` as `vm` has it now.
    pub fn new(vm: &Vm, method: MethodRef, name: String, dump: bool) -> Box<Job> {
        let u = &vm.universe;
        let units = u.methods[method as usize]
            .units
            .iter()
            .map(|unit| {
                let copy = unchained_copy(&unit.code);
                let speculations = speculation::speculations(vm, &copy);
                UnitJob { copy, speculations }
            })
            .collect();
        Box::new(Job {
            method,
            name,
            dump,
            units,
            info: u.info(method) as *const _ as usize,
            caches: u.caches.as_ptr() as usize,
            infos: u.infos.as_ptr() as usize,
            bindings: u.bindings.clone(),
            nursery: vm.heap.nursery_range(),
            epoch: u.epoch,
            nil: u.nil,
            true_object: u.true_object,
            false_object: u.false_object,
        })
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

/// A [`Job`] done: each unit's new code (its entries running the machine
/// code), or why the method cannot be compiled.
pub(super) struct Compiled {
    pub method: MethodRef,
    pub name: String,
    pub units: Result<Vec<CompiledUnit>, String>,
    /// The time the compilation took (on the thread that did it).
    pub time: Duration,
    pub code_bytes: usize,
    pub guessed_sends: usize,
}

impl Compiled {
    /// A job that ended without machine code.
    pub fn failed(method: MethodRef, name: String, why: String) -> Compiled {
        Compiled {
            method,
            name,
            units: Err(why),
            time: Duration::ZERO,
            code_bytes: 0,
            guessed_sends: 0,
        }
    }
}

pub(super) struct CompiledUnit {
    pub code: Box<[Instr]>,
    /// Where its machine code starts.
    pub address: usize,
}

/// Makes machine code of jobs. LLVM is set up at the first job, so that
/// start-up does not pay for it; the code lives as long as the compiler.
#[derive(Default)]
pub(super) struct Compiler {
    llvm: Option<Llvm>,
    /// Why it compiles nothing more (it panicked), if so.
    off: Option<String>,
}

impl Compiler {
    /// The job's machine code, or why there is none. A panic while
    /// compiling turns the compiler off: the VM may be running code its
    /// LLVM made, and that LLVM's state is unknown, so it is kept for good
    /// and used no more.
    pub fn compile(&mut self, job: Job) -> Compiled {
        if let Some(why) = &self.off {
            return Compiled::failed(job.method, job.name, why.clone());
        }
        let (method, name) = (job.method, job.name.clone());
        match catch_unwind(AssertUnwindSafe(|| self.compile_job(job))) {
            Ok(compiled) => compiled,
            Err(_) => {
                std::mem::forget(self.llvm.take());
                let why = "the compiler panicked; the JIT compiles no more".to_string();
                self.off = Some(why.clone());
                Compiled::failed(method, name, why)
            }
        }
    }

    fn compile_job(&mut self, job: Job) -> Compiled {
        let started = Instant::now();
        let guessed_sends = job
            .units
            .iter()
            .map(|u| u.speculations.iter().flatten().count())
            .sum();
        let mut code_bytes = 0;
        let units = self.compile_units(&job, &mut code_bytes).map(|addresses| {
            job.units
                .into_iter()
                .zip(addresses)
                .map(|(unit, (address, entries))| {
                    // SAFETY: the function was made with the handler's
                    // signature and calling convention (C), and lives as
                    // long as the compiler, which lives as long as the VM.
                    let native: Handler = unsafe { std::mem::transmute::<usize, Handler>(address) };
                    let mut code = unit.copy;
                    for (instr, entry) in code.iter_mut().zip(entries) {
                        if entry {
                            instr.handler = native;
                        }
                    }
                    CompiledUnit { code, address }
                })
                .collect()
        });
        let guessed_sends = if units.is_ok() { guessed_sends } else { 0 };
        Compiled {
            method: job.method,
            name: job.name,
            units,
            time: started.elapsed(),
            code_bytes,
            guessed_sends,
        }
    }

    /// Each unit's function address and entries.
    fn compile_units(
        &mut self,
        job: &Job,
        code_bytes: &mut usize,
    ) -> Result<Vec<(usize, Vec<bool>)>, String> {
        if self.llvm.is_none() {
            self.llvm = Some(Llvm::new()?);
        }
        let llvm = self.llvm.as_mut().expect("made above");
        let context = llvm.context();
        let module = context.create_module(&format!("m{}", llvm.next_module));
        llvm.next_module += 1;
        let mut names = Vec::with_capacity(job.units.len() + 1);
        let mut entries = Vec::with_capacity(job.units.len());
        for (k, unit) in job.units.iter().enumerate() {
            let name = format!(
                "{}_m{}_u{k}",
                module.get_name().to_string_lossy(),
                job.method
            );
            let input = translate::UnitInput {
                code: &unit.copy,
                copy: unit.copy.as_ptr() as usize,
                info: job.info,
                caches: job.caches,
                infos: job.infos,
                bindings: &job.bindings,
                nursery: job.nursery.clone(),
                speculations: &unit.speculations,
                epoch: job.epoch,
                nil: job.nil,
                true_object: job.true_object,
                false_object: job.false_object,
            };
            entries.push(translate::translate(context, &module, &name, &input)?);
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
        let dump = job.dump.then_some(job.name.as_str());
        let mut addresses = llvm.compile(module, &names, dump)?;
        let end = addresses.pop().unwrap_or_default();
        let start = addresses.iter().copied().min().unwrap_or(end);
        *code_bytes = end.saturating_sub(start);
        Ok(addresses.into_iter().zip(entries).collect())
    }
}

/// Past this many modules, a dropped engine is left to the operating
/// system (see `Drop for Llvm`).
const MODULES_WORTH_DEREGISTERING: usize = 2_000;

/// LLVM's state: the context, the target, and the execution engine that
/// owns every compiled module (and so the machine code).
struct Llvm {
    // Declared before the context, which it borrows: dropped first.
    engine: Option<ExecutionEngine<'static>>,
    machine: TargetMachine,
    /// Dropped by hand (see `Drop`), after the engine.
    context: ManuallyDrop<Box<Context>>,
    next_module: usize,
    /// Set by the engine's [`CodeMemory`] when code cannot be made
    /// executable.
    failure: Rc<RefCell<Option<String>>>,
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
            context: ManuallyDrop::new(Box::new(Context::create())),
            next_module: 0,
            failure: Rc::default(),
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
                    .create_mcjit_execution_engine_with_memory_manager(
                        CodeMemory::new(self.failure.clone()),
                        OptimizationLevel::Less,
                        CodeModel::JITDefault,
                        false,
                        false,
                    )
                    .map_err(|e| e.to_string())?;
                self.engine = Some(engine);
            }
        }
        let engine = self.engine.as_ref().expect("made above");
        let addresses = functions
            .iter()
            .map(|name| {
                engine
                    .get_function_address(name)
                    .map_err(|e| format!("{name}: {e}"))
            })
            .collect();
        // The machine code stays in the engine's memory; the module's IR
        // is of no more use (about 100 KB a method, kept for good).
        engine
            .remove_module(&module)
            .map_err(|e| format!("the module does not leave the engine: {e:?}"))?;
        drop(module);
        match self.failure.borrow().as_ref() {
            Some(why) => Err(why.clone()),
            None => addresses,
        }
    }
}

impl Drop for Llvm {
    /// Dropping the engine deregisters each module's EH frames in the
    /// order they were registered, and libgcc searches a list for each:
    /// the drop is quadratic (minutes after 50,000 modules). Past
    /// [`MODULES_WORTH_DEREGISTERING`] modules the engine, its code and
    /// the context are left to the operating system instead (a VM that
    /// compiled that much is usually dropped as its process ends).
    fn drop(&mut self) {
        if self.next_module > MODULES_WORTH_DEREGISTERING {
            std::mem::forget(self.engine.take());
            return;
        }
        self.engine = None;
        // SAFETY: the engine, which borrowed the context, is gone, and the
        // context is not used again.
        unsafe { ManuallyDrop::drop(&mut self.context) };
    }
}
