//! Helpers shared by the integration tests (each test crate uses a subset).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `zag` binary built for these tests.
pub fn zag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zag"))
        .args(args)
        .output()
        .expect("zag runs")
}

/// A fresh folder `name` under the target directory holding `files`
/// (relative path, contents).
pub fn temp_tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}
