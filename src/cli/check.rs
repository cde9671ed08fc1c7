//! `zag check PATH...`: import Tonel packages and report what was read.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use zag_compiler::import::{check, CheckReport};

#[derive(Args)]
pub struct CheckArgs {
    /// Tonel files, package folders, or folders of packages (any depth).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// List every problem on one line (file:line:column: message) instead
    /// of showing each with its source line.
    #[arg(short, long)]
    verbose: bool,
}

pub fn run(args: &CheckArgs) -> ExitCode {
    // The packages extend the embedded image: its classes and globals are
    // theirs.
    let image = match zag::image::boot() {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("zag: the image does not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = check(&args.paths, &image.universe.environment, |name| {
        image.universe.has_global(name)
    });
    for e in report.warnings.iter().chain(&report.errors) {
        if args.verbose {
            eprintln!("{}", e.headline());
        } else {
            eprintln!("{e}\n");
        }
    }
    println!("{}", summary(&report));
    if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn summary(r: &CheckReport) -> String {
    let secs = r.elapsed.as_secs_f64();
    let percent = if r.methods == 0 {
        100.0
    } else {
        r.round_tripped as f64 * 100.0 / r.methods as f64
    };
    format!(
        "{} packages, {} classes, {} traits, {} extensions, {} methods ({} files, {:.1} MB)\n\
         {} methods converted, {} round-tripped ({percent:.1}%)\n\
         {} errors, {} warnings, {:.0} ms ({:.1} MB/s)",
        r.packages,
        r.classes,
        r.traits,
        r.extensions,
        r.methods,
        r.files,
        r.bytes as f64 / 1e6,
        r.converted,
        r.round_tripped,
        r.errors.len(),
        r.warnings.len(),
        secs * 1000.0,
        r.bytes as f64 / 1e6 / secs.max(1e-9),
    )
}
