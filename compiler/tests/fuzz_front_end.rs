//! Fuzzing the front end on stable Rust: Tonel sources mutated at random
//! (bytes flipped, inserted, deleted; spans cut, duplicated and moved;
//! brackets, quotes and Tonel punctuation dropped in) go through
//! everything `zag check` and the build do with a file: the Tonel reader,
//! the parser, the environment and class layouts, conversion to the Zag
//! AST, the round trip through the printer, threaded code and its
//! lowering, and the rendering of every diagnostic. Any input may be
//! refused with errors; none may panic.
//!
//! The seeds are the project's own Tonel files (`pharo-export/`). A short
//! run is part of `cargo test`; a long one:
//!
//! ```text
//! ZAG_FUZZ_EXECUTIONS=10000000 ZAG_FUZZ_SEED=1 \
//!     cargo test --release -p zag-compiler --test fuzz_front_end -- --nocapture
//! ```
//!
//! A panic names the seed and the execution, and writes the input to
//! `target/fuzz-failure-<seed>-<n>.st`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use zag_compiler::environment::ScopeCache;
use zag_compiler::import::{convert_checked, verify_round_trip, Import};
use zag_compiler::lowering::lower;
use zag_compiler::source::SourceFile;
use zag_compiler::threaded::compile_method;

/// xorshift64*: a fixed-seed generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that mean something to the Tonel reader or the parser.
const INTERESTING: &[&[u8]] = &[
    b"[",
    b"]",
    b"(",
    b")",
    b"{",
    b"}",
    b"'",
    b"\"",
    b"#",
    b"$",
    b":",
    b";",
    b".",
    b"^",
    b"|",
    b":=",
    b"#(",
    b"#[",
    b"#{",
    b"16r",
    b"2e",
    b"1.5s2",
    b"-",
    b"\n",
    b"\0",
    b"\xff",
    b"\xc3",
    b"Class {",
    b"Trait {",
    b"Extension {",
    b"{ #category : 'x' }",
    b" >> ",
    b" class >> ",
    b"<primitive: 1>",
    b"thisContext",
    b"super",
    b"#name : 'X',",
];

/// One to eight random edits of `input`.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, piece.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                // Duplicate a span (deep nesting grows this way).
                let end = (at + 1 + rng.below(256)).min(out.len());
                let span: Vec<u8> = out[at..end].to_vec();
                let times = 1 + rng.below(4);
                for _ in 0..times {
                    out.splice(end..end, span.iter().copied());
                }
            }
            4 if at < out.len() => {
                // Move a span elsewhere.
                let end = (at + 1 + rng.below(128)).min(out.len());
                let span: Vec<u8> = out.drain(at..end).collect();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, span);
            }
            5 => {
                let byte = rng.next() as u8;
                out.insert(at, byte);
            }
            _ => out.truncate(at),
        }
    }
    out
}

/// Everything the front end does with one file; answers how many
/// diagnostics it produced (the work must not be optimized away).
fn front_end(name: &str, bytes: &[u8]) -> usize {
    // The reader refuses text that is not UTF-8 before parsing; fuzz the
    // parser with what remains of it too.
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut import = Import::default();
    import.add_source(SourceFile::new(name, text));
    let mut errors = import.errors.clone();
    let env = import.environment(&mut errors);
    let methods = convert_checked(&import, &env, &mut errors);
    let mut scopes = ScopeCache::new(&env);
    let mut work = 0;
    for m in &methods {
        let scope = scopes.get(&m.method.class_name, m.method.class_side);
        work += verify_round_trip(&m.method, scope).is_err() as usize;
        if let Ok(threaded) = compile_method(&m.method) {
            work += lower(&threaded).units.len();
        }
    }
    for e in &errors {
        work += e.to_string().len() + e.headline().len();
    }
    work
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pharo-export");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "st") {
            out.push(path);
        }
    }
}

fn run(executions: u64, seed: u64) {
    let seeds = seeds();
    assert!(seeds.len() > 100, "the seeds are the kernel's Tonel files");
    let mut rng = Rng(seed.max(1));
    let mut work = 0usize;
    for n in 0..executions {
        let (name, original) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, original);
        let result = catch_unwind(AssertUnwindSafe(|| front_end(name, &input)));
        match result {
            Ok(w) => work = work.wrapping_add(w),
            Err(_) => {
                let dump = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("../target/fuzz-failure-{seed}-{n}.st"));
                let _ = std::fs::write(&dump, &input);
                panic!(
                    "the front end panicked on execution {n} (seed {seed}), a mutation of {name}; \
                     input written to {}",
                    dump.display()
                );
            }
        }
    }
    eprintln!("fuzz: {executions} executions (seed {seed}), no panic ({work} units of work)");
}

#[test]
fn mutated_tonel_never_panics_the_front_end() {
    let executions = std::env::var("ZAG_FUZZ_EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed = std::env::var("ZAG_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261206);
    run(executions, seed);
}
