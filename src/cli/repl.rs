//! `zag` with no command: a read-eval-print loop on the image, with line
//! editing and history (rustyline). Each input is a do-it whose result's
//! printString is printed; an error prints its description and Smalltalk
//! stack and the loop goes on. Input whose brackets, string or comment are
//! still open continues on the next line. Variables assigned without a
//! declaration are globals, so they live from one input to the next.
//!
//! Ctrl-C during an evaluation signals UserInterrupt in it (see
//! `vm::interrupts`): unhandled, its stack is printed and the REPL goes
//! on, its variables intact. Input typed at a terminal goes into the
//! history (`~/.zag_history`) as soon as it is entered; input from a
//! pipe or a file does not.

use std::io::IsTerminal;
use std::process::ExitCode;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use zag_compiler::lexer::{Lexer, TokenKind};

const PROMPT: &str = "zag> ";
const CONTINUATION: &str = "...> ";

pub fn run(options: &super::VmOptions) -> ExitCode {
    let Some(mut vm) = options.boot(Vec::new()) else {
        return ExitCode::FAILURE;
    };
    vm.universe.user_interrupts = true;
    let interactive = std::io::stdin().is_terminal();
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("zag: cannot read the terminal: {e}");
            return ExitCode::FAILURE;
        }
    };
    let history = std::env::var_os("HOME")
        .filter(|_| interactive)
        .map(|home| std::path::Path::new(&home).join(".zag_history"));
    if let Some(path) = &history {
        // A missing history file is the normal first run.
        let _ = editor.load_history(path);
    }
    if interactive {
        println!(
            "Zag Smalltalk {}: type statements to evaluate them; Ctrl-D leaves.",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mut source = String::new();
    let mut unfinished = false;
    loop {
        let prompt = if source.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                source.push_str(&line);
                source.push('\n');
                if is_incomplete(&source) {
                    continue;
                }
                let input = std::mem::take(&mut source);
                if input.trim().is_empty() {
                    continue;
                }
                remember(&mut editor, history.as_deref(), &input);
                match super::eval::evaluate_and_print(&mut vm, "<repl>", &input) {
                    Ok(text) => println!("{text}"),
                    Err(e) => eprintln!("{e}"),
                }
            }
            // Ctrl-C abandons the input being typed.
            Err(ReadlineError::Interrupted) => source.clear(),
            Err(ReadlineError::Eof) => {
                // Input that ended inside a string, a comment or a bracket
                // is evaluated for its error, and the REPL fails.
                if !source.trim().is_empty() {
                    remember(&mut editor, history.as_deref(), &source);
                    match super::eval::evaluate_and_print(&mut vm, "<repl>", &source) {
                        Ok(text) => println!("{text}"),
                        Err(e) => eprintln!("{e}"),
                    }
                    unfinished = true;
                }
                break;
            }
            Err(e) => {
                eprintln!("zag: {e}");
                break;
            }
        }
    }
    options.report(&vm);
    vm.abandon();
    if unfinished {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Adds `input` to the history and saves it, when there is one (at a
/// terminal), so that an entry survives however the REPL ends.
fn remember(editor: &mut DefaultEditor, history: Option<&std::path::Path>, input: &str) {
    if let Some(path) = history {
        let _ = editor.add_history_entry(input.trim_end());
        let _ = editor.save_history(path);
    }
}

/// Whether `source` stops inside a string, a comment or an open bracket,
/// so that the statement goes on on the next line.
fn is_incomplete(source: &str) -> bool {
    let mut lexer = Lexer::new(source, 0);
    let mut depth = 0i32;
    loop {
        match lexer.next_token() {
            Ok(token) => match token.kind {
                TokenKind::LeftParen
                | TokenKind::LeftBracket
                | TokenKind::LeftBrace
                | TokenKind::LiteralArrayOpen
                | TokenKind::ByteArrayOpen => depth += 1,
                TokenKind::RightParen | TokenKind::RightBracket | TokenKind::RightBrace => {
                    depth -= 1
                }
                TokenKind::Eof => return depth > 0,
                _ => {}
            },
            Err(e) => return e.message.starts_with("unterminated"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_incomplete;

    #[test]
    fn open_brackets_strings_and_comments_continue() {
        for text in [
            "[ :x |",
            "#(1 2",
            "(3 + ",
            "{ 1. 2",
            "'it''s",
            "\"a comment",
            "#[1 2",
        ] {
            assert!(is_incomplete(text), "{text}");
        }
        for text in [
            "3 + 4",
            "[ :x | x ] value: 3",
            "'a' , 'b'",
            "\"c\" 1",
            "$[",
            "#(1 $( 2)",
            "3 + 4)",
        ] {
            assert!(!is_incomplete(text), "{text}");
        }
    }
}
