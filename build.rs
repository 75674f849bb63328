//! Embeds the stored queries of `queries/` into the binary: writes
//! `$OUT_DIR/queries.rs`, an array of (file name, text) in name order.
//!
//! The generated code names the files relative to `CARGO_MANIFEST_DIR` as
//! seen when the crate compiles, never by an absolute path, so that builds of
//! two checkouts sharing one target folder each embed their own queries.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=queries");
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("queries");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".rq"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::from("[\n");
    for name in &names {
        println!("cargo:rerun-if-changed=queries/{name}");
        code.push_str(&format!(
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/queries/{name}\"))),\n"
        ));
    }
    code.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set")).join("queries.rs");
    std::fs::write(out, code).expect("cannot write queries.rs");
}
