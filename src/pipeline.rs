//! The extraction pipeline: read → clean → split → find → resolve, over
//! many files in parallel.
//!
//! In: input paths and a [`Lexicon`]. Out: one merged [`Knowledge`] in input
//! order (so output does not depend on the thread count) and the list of
//! inputs that failed, each with its reason.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::lexicon::Lexicon;
use crate::model::Knowledge;
use crate::read::{ReadError, list_inputs, read_source};
use crate::resolve::{extract_source, merge};

pub struct Extraction {
    pub knowledge: Knowledge,
    pub failures: Vec<ReadError>,
    pub files: usize,
    pub bytes: usize,
}

/// Extracts every input file. Files that cannot be read or decoded are
/// returned in `failures` and the rest goes on.
pub fn extract_inputs(lex: &Lexicon, inputs: &[PathBuf]) -> Extraction {
    let (files, mut failures) = list_inputs(inputs);
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = crate::progress::bytes_bar(total, "extracting");
    let results: Vec<Result<(Knowledge, usize), ReadError>> = files
        .par_iter()
        .map(|path| {
            let source = read_source(path)?;
            let bytes = source.byte_len;
            // A bug on one odd input must not take the whole build down:
            // report the file and go on.
            let kn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                extract_source(lex, &source)
            }))
            .map_err(|panic| ReadError {
                path: path.clone(),
                reason: format!(
                    "internal error while extracting (please report it): {}",
                    panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("unknown")
                ),
            })?;
            bar.inc(bytes as u64);
            Ok((kn, bytes))
        })
        .collect();
    bar.finish_and_clear();
    let mut fragments = Vec::new();
    let mut bytes = 0;
    for r in results {
        match r {
            Ok((kn, b)) => {
                bytes += b;
                fragments.push(kn);
            }
            Err(e) => failures.push(e),
        }
    }
    Extraction {
        knowledge: merge(fragments),
        failures,
        files: files.len(),
        bytes,
    }
}
