//! build.rs: bakes the Smalltalk image into the binary.
//!
//! Reads the Tonel packages of `pharo-export/` and of every folder listed in
//! the `ZAG_EXPORTS` environment variable (separated like `PATH`), compiles
//! every method to threaded code with the same front end the runtime uses,
//! and writes `$OUT_DIR/image.rs` (see `src/image/mod.rs`). Any error in an
//! export fails the build with `file:line:column: message`. Set
//! `ZAG_KEEP_IMAGE_SOURCE=PATH` to keep a copy of the generated source.

#[path = "image.rs"]
mod image;

use std::path::{Path, PathBuf};

/// The generator thread's stack (only the pages touched cost memory).
const GENERATOR_STACK: usize = 256 << 20;

fn main() {
    if std::env::var_os("CARGO_FEATURE_JIT").is_some() {
        link_for_llvm();
    }
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut folders = vec![root.join("pharo-export")];
    println!("cargo:rerun-if-env-changed=ZAG_EXPORTS");
    println!("cargo:rerun-if-env-changed=ZAG_KEEP_IMAGE_SOURCE");
    if let Some(extra) = std::env::var_os("ZAG_EXPORTS") {
        folders.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
    }
    for folder in &folders {
        watch(folder);
    }
    // The front end walks expression trees recursively (up to
    // `parser::MAX_DEPTH` levels), and build scripts are not optimized:
    // generate on a thread with room for that.
    let generated = std::thread::Builder::new()
        .stack_size(GENERATOR_STACK)
        .spawn(move || image::generate(&folders))
        .expect("the generator's thread starts")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let source = match generated {
        Ok(image::Generated { source, warnings }) => {
            // Cargo shows a build script's warnings one line each.
            for w in &warnings {
                for line in w.to_string().lines() {
                    println!("cargo:warning={line}");
                }
            }
            source
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}\n");
            }
            eprintln!(
                "error: the Smalltalk exports have {} error(s); the image was not built",
                problems.len()
            );
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("image.rs");
    write(&out, &source);
    if let Some(keep) = std::env::var_os("ZAG_KEEP_IMAGE_SOURCE") {
        write(Path::new(&keep), &source);
    }
}

/// With the JIT, LLVM is linked in statically. So that start-up does not
/// pay for it (`zag eval '3 + 4'` stays a few million instructions):
/// - the binary is not position-independent, so the loader relocates
///   none of LLVM's pointers (nor the image's) at start-up;
/// - libstdc++ is linked statically when the C++ compiler has its archive,
///   so the loader binds none of LLVM's C++ symbols by name either (and
///   the binary needs no libstdc++ at run time).
fn link_for_llvm() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
    let archive = ["c++", "g++", "cc"].iter().find_map(|compiler| {
        let out = std::process::Command::new(compiler)
            .arg("-print-file-name=libstdc++.a")
            .output()
            .ok()?;
        let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
        path.is_absolute().then_some(path)
    });
    if let Some(dir) = archive.as_deref().and_then(Path::parent) {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static:+verbatim=libstdc++.a");
    }
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}

/// Rebuild when anything under `path` changes: Cargo watches a folder
/// whole (every file and folder in it, at any depth), so one line per
/// export folder does, and an error is the first thing a failing build
/// shows.
fn watch(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}
