//! `zag`: the command line of the Zag Smalltalk VM.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "zag",
    version,
    about = "A Pharo-compatible Smalltalk whose image is built by cargo build",
    after_help = "With no command, zag is a REPL: it reads statements at a prompt and \
                  prints their values (Ctrl-C interrupts an evaluation, Ctrl-D leaves)."
)]
struct Cli {
    #[command(flatten)]
    vm: cli::VmArgs,
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
    Eval {
        #[command(flatten)]
        args: cli::eval::EvalArgs,
        #[command(flatten)]
        vm: cli::VmArgs,
    },
    /// Run a Smalltalk script file on the image; `Smalltalk arguments`
    /// answers the arguments after it.
    Run {
        #[command(flatten)]
        args: cli::run::RunArgs,
        #[command(flatten)]
        vm: cli::VmArgs,
    },
    /// Run benchmarks several times each and report median, min and max
    /// times and peak RSS (the bundled ones by default; AWFY's with --load).
    Bench {
        #[command(flatten)]
        args: cli::bench::BenchArgs,
        #[command(flatten)]
        vm: cli::VmArgs,
    },
    /// Run SUnit tests (of the classes or packages named, or all) and print
    /// a summary; the exit status is non-zero on any failure or error.
    Test {
        #[command(flatten)]
        args: cli::test::TestArgs,
        #[command(flatten)]
        vm: cli::VmArgs,
    },
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
    // The options that run Smalltalk go before the command or after it.
    let options = |vm: cli::VmArgs| cli.vm.clone().and(vm).options();
    match cli.command {
        None => cli::repl::run(&cli.vm.clone().options()),
        Some(Command::Check(args)) => {
            if cli.vm != cli::VmArgs::default() {
                eprintln!("zag: check runs no Smalltalk: the options for running it do not apply");
                return ExitCode::from(2);
            }
            cli::check::run(&args)
        }
        Some(Command::Eval { args, vm }) => cli::eval::run(&args, &options(vm)),
        Some(Command::Run { args, vm }) => cli::run::run(&args, &options(vm)),
        Some(Command::Bench { args, vm }) => cli::bench::run(&args, &options(vm)),
        Some(Command::Test { args, vm }) => cli::test::run(&args, &options(vm)),
    }
}
