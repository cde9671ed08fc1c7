//! `zag test [PACKAGE|CLASS ...]`: runs SUnit tests on the image and prints
//! a Pharo-like summary (`N run, N passes, N failures, N errors, N
//! skipped`) and every test that did not go as expected, with its reason.
//! The work is done in Smalltalk by `CommandLineTestRunner`; this command
//! passes it the names and turns its TestResult into the exit status.

use std::process::ExitCode;

use clap::Args;
use zag::memory::Space;

#[derive(Args)]
pub struct TestArgs {
    /// Test classes or packages to run (a trailing `*` matches package
    /// names by prefix); every test class in the image when none is given.
    names: Vec<String>,
    /// How long a test may run before it fails with TestTookTooMuchTime,
    /// unless it sets its own limit (Pharo's default: 10 seconds).
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<u32>,
}

pub fn run(args: &TestArgs, options: &super::VmOptions) -> ExitCode {
    let Some(mut vm) = options.boot(Vec::new()) else {
        return ExitCode::FAILURE;
    };
    let Some(runner) = vm.universe.global("CommandLineTestRunner") else {
        eprintln!("zag test: the image has no CommandLineTestRunner (SUnit-Core)");
        return ExitCode::FAILURE;
    };
    if let Some(seconds) = args.time_limit {
        let setting = format!("TestCase defaultTimeLimit: (Duration seconds: {seconds})");
        if let Err(e) = vm.evaluate(&setting) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let names: Vec<_> = args
        .names
        .iter()
        .map(|n| vm.new_string(Space::Old, n))
        .collect();
    let names = vm.new_array(Space::Old, &names);
    match vm.send(runner, "unknownNamesIn:", &[names]) {
        Ok(unknown) if zag::memory::slot(unknown, 0).is_some() => {
            let names = (0..).map_while(|i| zag::memory::slot(unknown, i));
            for name in names.filter_map(|n| zag::memory::text(&vm.heap, n)) {
                eprintln!("zag test: no test class or package named {name}");
            }
            return ExitCode::from(2);
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let passed = vm
        .send(runner, "runNames:", &[names])
        .and_then(|result| vm.send(result, "hasPassed", &[]));
    let status = match passed {
        Ok(p) if p == vm.universe.boolean(true) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    };
    options.report(&vm);
    vm.abandon();
    status
}
