//! `zag run FILE [ARGS...]`: runs a Smalltalk script (a do-it file) on the
//! image; `Smalltalk arguments` answers ARGS.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
pub struct RunArgs {
    /// The script: statements (optionally starting with `| temps |`),
    /// optionally in chunks ended by `!` (a doubled `!!` stands for `!`).
    file: PathBuf,
    /// Arguments for the script (`Smalltalk arguments`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    arguments: Vec<String>,
}

pub fn run(args: &RunArgs, options: &super::VmOptions) -> ExitCode {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("zag: cannot read {}: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let Some(mut vm) = options.boot(args.arguments.clone()) else {
        return ExitCode::FAILURE;
    };
    let mut status = ExitCode::SUCCESS;
    for chunk in chunks(&text) {
        if chunk.trim().is_empty() {
            continue;
        }
        if let Err(e) = vm.evaluate(&chunk) {
            eprintln!("{e}");
            status = ExitCode::FAILURE;
            break;
        }
    }
    options.report(&vm);
    status
}

/// The chunks of a file in Pharo's chunk format: each ends at a `!` that is
/// not doubled; `!!` stands for one `!`. A file without `!` is one chunk.
pub fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '!' {
            if chars.peek() == Some(&'!') {
                chars.next();
                current.push('!');
            } else {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    out.push(current);
    out
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn chunks_end_at_single_bangs() {
        assert_eq!(chunks("a. b!c!"), ["a. b", "c", ""]);
        assert_eq!(chunks("x := 'wow!!'!"), ["x := 'wow!'", ""]);
        assert_eq!(chunks("3 + 4"), ["3 + 4"]);
    }
}
