//! One module per `zag` command.

pub mod bench;
pub mod check;
pub mod eval;
pub mod repl;
pub mod run;
pub mod test;

/// One line of memory statistics: collections, promotion, peak RSS.
pub fn memory_stats(vm: &zag::vm::Vm) -> String {
    let gc = vm.heap.stats;
    let peak = peak_rss_kb().map_or_else(
        || "unknown".to_string(),
        |kb| format!("{:.1} MB", kb as f64 / 1024.0),
    );
    format!(
        "memory: {} scavenges, {} words promoted, {} old-space collections, {} words of old space, peak RSS {peak}",
        gc.scavenges,
        gc.promoted_words,
        gc.full_collections,
        vm.heap.old_words()
    )
}

/// Peak resident set size of this process in KiB (Linux: VmHWM).
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Whether the JIT runs when no option says: yes, where zag has it (it
/// makes every one of the twelve AWFY benchmarks faster, see
/// ARCHITECTURE.md).
const JIT_BY_DEFAULT: bool = cfg!(feature = "jit");
/// The threshold when the JIT runs by default.
const DEFAULT_JIT_THRESHOLD: u64 = 1000;

/// The JIT threshold the options ask for (None: no JIT).
pub fn jit_threshold(threshold: Option<u64>, no_jit: bool) -> Option<u64> {
    match threshold {
        _ if no_jit => None,
        Some(n) => Some(n),
        None => JIT_BY_DEFAULT.then_some(DEFAULT_JIT_THRESHOLD),
    }
}

/// The command-line options of every command that runs Smalltalk (and
/// of the REPL): given before the command, after it, or both.
#[derive(clap::Args, Clone, Debug, Default, PartialEq)]
pub struct VmArgs {
    /// Collect garbage every N allocations (1: at every one), to test the
    /// collector.
    #[arg(long, value_name = "N")]
    gc_stress: Option<u32>,
    /// Limit the heap to SIZE (bytes, or with K, M, G: 512M, 2G); past it,
    /// allocation signals OutOfMemory. Half of the machine's memory when
    /// not given.
    #[arg(long, value_name = "SIZE", value_parser = zag::memory::limit::parse_size)]
    max_heap: Option<usize>,
    /// After the command, print memory statistics (collections, promoted
    /// words, peak RSS) to standard error.
    #[arg(long)]
    stats: bool,
    /// Also collect old space at every scavenge (with --gc-stress, a full
    /// collection at every allocation), to test the collector.
    #[arg(long)]
    full_gc: bool,
    /// Compile a method to machine code (LLVM) once it has run more than N
    /// times (0: at its first call); 1000 when not given.
    #[arg(long, value_name = "N")]
    jit_threshold: Option<u64>,
    /// Compile hot methods on the thread that runs Smalltalk, before their
    /// next activation, rather than on a thread of their own while the
    /// method goes on interpreted (always so at --jit-threshold 0 and for
    /// the --dump-ir method).
    #[arg(long)]
    jit_sync: bool,
    /// Run everything in the interpreter (no machine code).
    #[arg(long)]
    no_jit: bool,
    /// After the command, print what the JIT compiled (methods, refusals
    /// and their reasons, compile times) to standard error.
    #[arg(long)]
    jit_stats: bool,
    /// Print the LLVM IR of METHOD (`Class>>selector`, `Class class>>selector`)
    /// to standard error when the JIT compiles it, before and after
    /// optimization.
    #[arg(long, value_name = "METHOD")]
    dump_ir: Option<String>,
    /// File in the Tonel packages under PATH before the command (a folder
    /// of packages loads them all, superclasses first). Repeatable.
    #[arg(long, value_name = "PATH")]
    load: Vec<std::path::PathBuf>,
}

impl VmArgs {
    /// These options with `later`'s (given after the command) added: a
    /// value given there wins.
    pub fn and(self, later: VmArgs) -> VmArgs {
        VmArgs {
            gc_stress: later.gc_stress.or(self.gc_stress),
            max_heap: later.max_heap.or(self.max_heap),
            stats: self.stats || later.stats,
            full_gc: self.full_gc || later.full_gc,
            jit_threshold: later.jit_threshold.or(self.jit_threshold),
            jit_sync: self.jit_sync || later.jit_sync,
            no_jit: self.no_jit || later.no_jit,
            jit_stats: self.jit_stats || later.jit_stats,
            dump_ir: later.dump_ir.or(self.dump_ir),
            load: self.load.into_iter().chain(later.load).collect(),
        }
    }

    pub fn options(self) -> VmOptions {
        VmOptions {
            gc_stress: self.gc_stress,
            max_heap: self.max_heap,
            load: self.load,
            stats: self.stats,
            full_gc: self.full_gc,
            jit_threshold: jit_threshold(self.jit_threshold, self.no_jit),
            jit_stats: self.jit_stats,
            jit_sync: self.jit_sync,
            dump_ir: self.dump_ir,
        }
    }
}

/// What every command that runs Smalltalk shares: `--gc-stress`, `--full-gc`,
/// `--max-heap`, `--load`, `--stats`, and the JIT's `--jit-threshold`,
/// `--no-jit`, `--jit-stats`.
pub struct VmOptions {
    pub gc_stress: Option<u32>,
    /// Bytes (None: the default limit).
    pub max_heap: Option<usize>,
    pub load: Vec<std::path::PathBuf>,
    pub stats: bool,
    pub full_gc: bool,
    /// None: no JIT.
    pub jit_threshold: Option<u64>,
    pub jit_stats: bool,
    /// Compile on the VM's thread (`--jit-sync`).
    pub jit_sync: bool,
    pub dump_ir: Option<String>,
}

impl VmOptions {
    /// The image, with the `--load` packages filed in; `None` (after saying
    /// why) when something fails.
    pub fn boot(&self, arguments: Vec<String>) -> Option<zag::vm::Vm> {
        let mut vm = match zag::image::boot() {
            Ok(vm) => vm,
            Err(e) => {
                eprintln!("zag: the image does not start: {e}");
                return None;
            }
        };
        vm.universe.arguments = arguments;
        vm.universe.set_jit_threshold(self.jit_threshold);
        #[cfg(feature = "jit")]
        {
            vm.universe.jit.dump_ir = self.dump_ir.clone();
            // At threshold 0 every method is compiled before it first runs.
            vm.universe.jit.background = !self.jit_sync && self.jit_threshold != Some(0);
        }
        #[cfg(not(feature = "jit"))]
        if self.dump_ir.is_some() || self.jit_threshold.is_some() || self.jit_sync {
            eprintln!("zag: this zag was built without the JIT; everything is interpreted");
        }
        vm.set_gc_stress(self.gc_stress);
        if let Some(bytes) = self.max_heap {
            vm.heap.set_max_heap(bytes);
        }
        if self.full_gc {
            vm.heap.set_full_collection_threshold(Some(0));
        }
        if !self.load.is_empty() {
            let import = zag_compiler::import::Import::read(&self.load);
            match zag::vm::loader::load(&mut vm, &import) {
                Ok(warnings) => {
                    for w in &warnings {
                        eprintln!("{w}\n");
                    }
                }
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{p}\n");
                    }
                    eprintln!("zag: --load failed with {} problem(s)", problems.len());
                    return None;
                }
            }
        }
        Some(vm)
    }

    /// Prints the memory statistics when `--stats` asked for them, and the
    /// JIT's when `--jit-stats` did.
    pub fn report(&self, vm: &zag::vm::Vm) {
        if self.stats {
            eprintln!("{}", memory_stats(vm));
        }
        if self.jit_stats {
            #[cfg(feature = "jit")]
            eprintln!("{}", vm.universe.jit.report());
            #[cfg(not(feature = "jit"))]
            eprintln!("jit: this zag was built without the JIT");
        }
    }
}
