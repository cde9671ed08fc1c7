//! `zag`: the command line of the Zag Smalltalk VM.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "zag",
    version,
    about = "A Pharo-compatible Smalltalk whose image is built by cargo build"
)]
struct Cli {
    /// Collect garbage every N allocations (1: at every one), to test the
    /// collector.
    #[arg(long, global = true, value_name = "N")]
    gc_stress: Option<u32>,
    /// Limit the heap to SIZE (bytes, or with K, M, G: 512M, 2G); past it,
    /// allocation signals OutOfMemory. Half of the machine's memory when
    /// not given.
    #[arg(long, global = true, value_name = "SIZE", value_parser = zag::memory::limit::parse_size)]
    max_heap: Option<usize>,
    /// After the command, print memory statistics (collections, promoted
    /// words, peak RSS) to standard error.
    #[arg(long, global = true)]
    stats: bool,
    /// Also collect old space at every scavenge (with --gc-stress, a full
    /// collection at every allocation), to test the collector.
    #[arg(long, global = true)]
    full_gc: bool,
    /// Compile a method to machine code (LLVM) once it has run more than N
    /// times (0: at its first call); 1000 when not given.
    #[arg(long, global = true, value_name = "N")]
    jit_threshold: Option<u64>,
    /// Compile hot methods on the thread that runs Smalltalk, before their
    /// next activation, rather than on a thread of their own while the
    /// method goes on interpreted (always so at --jit-threshold 0 and for
    /// the --dump-ir method).
    #[arg(long, global = true)]
    jit_sync: bool,
    /// Run everything in the interpreter (no machine code).
    #[arg(long, global = true)]
    no_jit: bool,
    /// After the command, print what the JIT compiled (methods, refusals
    /// and their reasons, compile times) to standard error.
    #[arg(long, global = true)]
    jit_stats: bool,
    /// Print the LLVM IR of METHOD (`Class>>selector`, `Class class>>selector`)
    /// to standard error when the JIT compiles it, before and after
    /// optimization.
    #[arg(long, global = true, value_name = "METHOD")]
    dump_ir: Option<String>,
    /// File in the Tonel packages under PATH before the command (a folder
    /// of packages loads them all, superclasses first). Repeatable.
    #[arg(long, global = true, value_name = "PATH")]
    load: Vec<std::path::PathBuf>,
    /// With no command, zag reads statements at a prompt and prints their
    /// values (a REPL).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Read Tonel packages, parse and convert every method, verify that its
    /// source round-trips through the AST, and print a summary.
    Check(cli::check::CheckArgs),
    /// Evaluate Smalltalk statements on the embedded image and print the
    /// printString of the result.
    Eval(cli::eval::EvalArgs),
    /// Run a Smalltalk script file on the image; `Smalltalk arguments`
    /// answers the arguments after it.
    Run(cli::run::RunArgs),
    /// Run benchmarks several times each and report median, min and max
    /// times and peak RSS (the bundled ones by default; AWFY's with --load).
    Bench(cli::bench::BenchArgs),
    /// Run SUnit tests (of the classes or packages named, or all) and print
    /// a summary; the exit status is non-zero on any failure or error.
    Test(cli::test::TestArgs),
}

/// Output to a closed pipe (`zag eval ... | head -1`) ends the process
/// quietly, as for other command-line tools, instead of failing a print.
#[cfg(unix)]
fn die_quietly_on_closed_pipes() {
    extern "C" {
        fn signal(signal: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: restores the default action of one signal, before any thread
    // starts; Rust's runtime had set it to ignored.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn die_quietly_on_closed_pipes() {}

fn main() -> ExitCode {
    die_quietly_on_closed_pipes();
    zag::vm::interrupts::install();
    let cli = Cli::parse();
    let options = cli::VmOptions {
        gc_stress: cli.gc_stress,
        max_heap: cli.max_heap,
        load: cli.load,
        stats: cli.stats,
        full_gc: cli.full_gc,
        jit_threshold: cli::jit_threshold(cli.jit_threshold, cli.no_jit),
        jit_stats: cli.jit_stats,
        jit_sync: cli.jit_sync,
        dump_ir: cli.dump_ir,
    };
    match cli.command {
        None => cli::repl::run(&options),
        Some(Command::Check(args)) => cli::check::run(&args),
        Some(Command::Eval(args)) => cli::eval::run(&args, &options),
        Some(Command::Run(args)) => cli::run::run(&args, &options),
        Some(Command::Bench(args)) => cli::bench::run(&args, &options),
        Some(Command::Test(args)) => cli::test::run(&args, &options),
    }
}
