//! `zag run FILE [ARGS...]`: runs a Smalltalk script (a do-it file) on the
//! image; `Smalltalk arguments` answers ARGS.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use zag::vm::Origin;

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
    let file = args.file.display().to_string();
    for chunk in chunks(&text) {
        if chunk.text.trim().is_empty() {
            continue;
        }
        // A chunk with a doubled `!` is not the file's text: it is
        // located by its lines.
        let origin = if text[chunk.range.clone()] == chunk.text {
            Origin {
                file: &file,
                text: &text,
                range: chunk.range.clone(),
                line_offset: 0,
            }
        } else {
            Origin {
                line_offset: text[..chunk.range.start].matches('\n').count(),
                ..Origin::whole(&file, &chunk.text)
            }
        };
        if let Err(e) = vm.evaluate_from(&origin) {
            eprintln!("{e}");
            status = ExitCode::FAILURE;
            break;
        }
    }
    options.report(&vm);
    vm.abandon();
    status
}

/// A chunk of a script: its text (a doubled `!` made one) and the bytes
/// of the file it was read from.
#[derive(Debug, PartialEq)]
pub struct Chunk {
    pub text: String,
    pub range: std::ops::Range<usize>,
}

/// The chunks of a file in Pharo's chunk format: each ends at a `!` that is
/// not doubled; `!!` stands for one `!`. A file without `!` is one chunk.
pub fn chunks(text: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '!' {
            if chars.peek().is_some_and(|&(_, next)| next == '!') {
                chars.next();
                current.push('!');
            } else {
                out.push(Chunk {
                    text: std::mem::take(&mut current),
                    range: start..at,
                });
                start = at + 1;
            }
        } else {
            current.push(c);
        }
    }
    out.push(Chunk {
        text: current,
        range: start..text.len(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::chunks;

    fn texts(text: &str) -> Vec<String> {
        chunks(text).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn chunks_end_at_single_bangs() {
        assert_eq!(texts("a. b!c!"), ["a. b", "c", ""]);
        assert_eq!(texts("x := 'wow!!'!"), ["x := 'wow!'", ""]);
        assert_eq!(texts("3 + 4"), ["3 + 4"]);
        let ranges: Vec<_> = chunks("a. b!c!").into_iter().map(|c| c.range).collect();
        assert_eq!(ranges, [0..4, 5..6, 7..7]);
    }
}
