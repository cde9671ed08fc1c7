//! One module per `zag` command.

pub mod check;
pub mod eval;

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
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
