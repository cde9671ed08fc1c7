//! `zag eval EXPR`: evaluates a do-it on the embedded image and prints the
//! printString of the result, like Pharo's command-line `eval`.

use std::process::ExitCode;

use clap::Args;
use zag::vm::{Origin, Vm, VmError};

#[derive(Args)]
pub struct EvalArgs {
    /// Smalltalk statements, optionally starting with `| temps |`; the value
    /// of the last one is printed. Several words are joined with spaces.
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    expression: Vec<String>,
}

pub fn run(args: &EvalArgs, options: &super::VmOptions) -> ExitCode {
    let Some(mut vm) = options.boot(Vec::new()) else {
        return ExitCode::FAILURE;
    };
    let status = match evaluate_and_print(&mut vm, "<eval>", &args.expression.join(" ")) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    };
    options.report(&vm);
    vm.abandon();
    status
}

/// The printString of the value of `source`; a compile error names it
/// `name` (`<eval>`, `<repl>`).
pub fn evaluate_and_print(vm: &mut Vm, name: &str, source: &str) -> Result<String, VmError> {
    let value = vm.evaluate_from(&Origin::whole(name, source))?;
    let printed = vm.send(value, "printString", &[])?;
    match zag::memory::text(&vm.heap, printed) {
        Some(text) => Ok(text),
        None => Err(VmError {
            message: format!(
                "printString answered {}, not a String",
                vm.describe(printed)
            ),
            trace: Vec::new(),
            kind: zag::vm::ErrorKind::Vm,
        }),
    }
}
