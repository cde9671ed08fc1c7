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

/// What every command that runs Smalltalk shares: `--gc-stress`, `--full-gc`, `--load`,
/// `--stats`.
pub struct VmOptions {
    pub gc_stress: Option<u32>,
    pub load: Vec<std::path::PathBuf>,
    pub stats: bool,
    pub full_gc: bool,
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
        vm.set_gc_stress(self.gc_stress);
        if self.full_gc {
            vm.heap.set_full_collection_threshold(Some(0));
        }
        if !self.load.is_empty() {
            let import = zag_compiler::import::Import::read(&self.load);
            if let Err(problems) = zag::vm::loader::load(&mut vm, &import) {
                for p in &problems {
                    eprintln!("{p}");
                }
                eprintln!("zag: --load failed with {} problem(s)", problems.len());
                return None;
            }
        }
        Some(vm)
    }

    /// Prints the memory statistics when `--stats` asked for them.
    pub fn report(&self, vm: &zag::vm::Vm) {
        if self.stats {
            eprintln!("{}", memory_stats(vm));
        }
    }
}
