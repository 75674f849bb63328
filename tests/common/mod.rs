//! Helpers shared by the end-to-end tests: run the binary, read its output,
//! find the repository's files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with a fixed read time (SOURCE_DATE_EPOCH), so that two
/// builds of the same input give the same quads.
pub fn jindu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jindu"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .expect("the jindu binary runs")
}

/// Runs the binary and checks that it fails with `text` in its message.
pub fn fails_with(args: &[&str], text: &str) {
    let out = jindu(args);
    assert!(!out.status.success(), "jindu {args:?} succeeded");
    assert!(stderr(&out).contains(text), "{}", stderr(&out));
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn seeds_dir() -> PathBuf {
    repo("seeds")
}
