//! The floor for any dictionary-driven extractor (benchmark (b) of
//! `scripts/bench`): one character-wise double-array Aho-Corasick automaton
//! (daachorse, leftmost-longest) over the region and agency forms, scanned
//! over every page of a corpus, single-threaded, counting matches.
//!
//! ```sh
//! jindu lexicon lex/
//! cargo run --release --example lexicon_scan -- --lexicon lex/ CORPUS_DIR_OR_FILES…
//! ```
//!
//! Forms: `regions.tsv` names and short names, `region_aliases.tsv` aliases,
//! `agency_terms.tsv` terms, `agencies_national.tsv` labels and aliases.
//! Each file is read and decoded like jindu does the common cases (a BOM,
//! else UTF-8 when valid, else GB18030, which covers GBK); the throughput
//! counts the bytes read. Prints one JSON object: files, bytes, forms,
//! matches, seconds (read + decode + scan), scan_seconds (scan alone),
//! mb_per_second (bytes / seconds).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use encoding_rs::{Encoding, GB18030};

fn rows(dir: &Path, file: &str) -> Vec<Vec<String>> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// The region and agency forms of the lexicon folder written by `jindu lexicon`.
fn forms(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |s: &str| {
        let s = s.trim();
        if !s.is_empty() {
            out.insert(s.to_string());
        }
    };
    // code, name, level, parent, short_names
    for r in rows(dir, "regions.tsv") {
        add(&r[1]);
        if let Some(shorts) = r.get(4) {
            shorts.split(',').for_each(&mut add);
        }
    }
    // alias, targets, kind
    for r in rows(dir, "region_aliases.tsv") {
        add(&r[0]);
    }
    // term, role, kind, canonical
    for r in rows(dir, "agency_terms.tsv") {
        add(&r[0]);
    }
    // label, kind, aliases
    for r in rows(dir, "agencies_national.tsv") {
        add(&r[0]);
        if let Some(aliases) = r.get(2) {
            aliases.split(',').for_each(&mut add);
        }
    }
    out
}

fn list(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            list(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "txt") {
        out.push(path.to_path_buf());
    }
}

fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut lexicon = None;
    let mut inputs = Vec::new();
    while let Some(a) = args.next() {
        if a == "--lexicon" {
            lexicon = args.next().map(PathBuf::from);
        } else {
            inputs.push(PathBuf::from(a));
        }
    }
    let Some(lexicon) = lexicon else {
        eprintln!("usage: lexicon_scan --lexicon DIR INPUT…  (DIR written by `jindu lexicon DIR`)");
        std::process::exit(2);
    };
    let forms = forms(&lexicon);
    let built = Instant::now();
    let automaton: CharwiseDoubleArrayAhoCorasick<u32> =
        CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .expect("the automaton builds");
    let build_seconds = built.elapsed().as_secs_f64();
    let mut files = Vec::new();
    for input in &inputs {
        list(input, &mut files);
    }
    let started = Instant::now();
    let mut scan_seconds = 0.0;
    let (mut bytes, mut chars, mut matches) = (0usize, 0usize, 0usize);
    for file in &files {
        let raw =
            std::fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        bytes += raw.len();
        let text = decode(&raw);
        let scan = Instant::now();
        matches += automaton.leftmost_find_iter(&text).count();
        scan_seconds += scan.elapsed().as_secs_f64();
        chars += text.chars().count();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"files\": {}, \"bytes\": {bytes}, \"chars\": {chars}, \"forms\": {}, \"matches\": {matches}, \"build_seconds\": {build_seconds:.6}, \"seconds\": {seconds:.6}, \"scan_seconds\": {scan_seconds:.6}, \"mb_per_second\": {:.3}}}",
        files.len(),
        forms.len(),
        bytes as f64 / 1e6 / seconds.max(1e-9)
    );
}
