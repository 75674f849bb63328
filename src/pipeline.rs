//! The extraction pipeline: read → clean → split → find → resolve, over
//! many files in parallel.
//!
//! In: input paths (or the embedded seed pages) and a [`Lexicon`]. Out:
//! [`Input`]s with a stable identity, their content hashes, and one
//! [`Knowledge`] fragment per file in input order (so nothing downstream
//! depends on the thread count), or, for `eval` and `--json`, the fragments
//! merged; every input that failed comes back with its reason.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::lexicon::Lexicon;
use crate::model::Knowledge;
use crate::read::{ReadError, Source, list_inputs, read_source};
use crate::resolve::{extract_source, merge};

/// The five seed pages the project started from, shipped in the binary.
pub const SEEDS: &[(&str, &[u8])] = &[
    (
        "000_c263f51713171ff9.txt",
        include_bytes!("../seeds/000_c263f51713171ff9.txt"),
    ),
    (
        "001_d0cbc93060d4aa0e.txt",
        include_bytes!("../seeds/001_d0cbc93060d4aa0e.txt"),
    ),
    (
        "002_75639294e1420c5a.txt",
        include_bytes!("../seeds/002_75639294e1420c5a.txt"),
    ),
    (
        "003_691a8e3c31940359.txt",
        include_bytes!("../seeds/003_691a8e3c31940359.txt"),
    ),
    (
        "004_f783c7230155df96.txt",
        include_bytes!("../seeds/004_f783c7230155df96.txt"),
    ),
];

/// Where an input's bytes come from.
#[derive(Debug, Clone)]
pub enum InputData {
    File(PathBuf),
    Embedded(&'static [u8]),
}

/// One input file with the identity the store knows it by.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as named by the user, lexically normalised and made relative
    /// to the working folder when it lies below it (`seeds/000.txt`), or
    /// `embedded:seeds/NAME` for the seed pages in the binary. A rebuild
    /// recognises a file by this identity and tells a change by its hash.
    pub id: String,
    pub data: InputData,
}

impl Input {
    /// The raw bytes (read from disk for a file).
    pub fn bytes(&self) -> Result<Cow<'static, [u8]>, ReadError> {
        match &self.data {
            InputData::Embedded(bytes) => Ok(Cow::Borrowed(bytes)),
            InputData::File(path) => std::fs::read(path).map(Cow::Owned).map_err(|e| ReadError {
                path: path.clone(),
                reason: format!("cannot read: {e}"),
            }),
        }
    }

    /// Reads and decodes the input.
    pub fn read(&self) -> Result<Source, ReadError> {
        let mut source = match &self.data {
            InputData::File(path) => read_source(path)?,
            InputData::Embedded(bytes) => {
                let name = self.id.rsplit('/').next().unwrap_or(&self.id);
                Source::from_bytes(name, bytes)?
            }
        };
        source.path = PathBuf::from(&self.id);
        Ok(source)
    }

    /// The path to report in messages.
    pub fn display_path(&self) -> PathBuf {
        match &self.data {
            InputData::File(path) => path.clone(),
            InputData::Embedded(_) => PathBuf::from(&self.id),
        }
    }
}

/// The embedded seed pages as inputs.
pub fn embedded_seeds() -> Vec<Input> {
    SEEDS
        .iter()
        .map(|(name, bytes)| Input {
            id: format!("embedded:seeds/{name}"),
            data: InputData::Embedded(bytes),
        })
        .collect()
}

/// Lists the input files under `paths` (see [`list_inputs`]), each once, with
/// its identity.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<Input>, Vec<ReadError>) {
    let (files, errors) = list_inputs(paths);
    let cwd = std::env::current_dir().ok();
    let mut seen = std::collections::HashSet::new();
    let inputs = files
        .into_iter()
        .filter_map(|path| {
            let id = input_id(&path, cwd.as_deref());
            seen.insert(id.clone()).then_some(Input {
                id,
                data: InputData::File(path),
            })
        })
        .collect();
    (inputs, errors)
}

/// The identity of a path: lexically normalised (no `.`, `..` folded where
/// possible, `/` separators) and relative to `cwd` when below it.
pub fn input_id(path: &Path, cwd: Option<&Path>) -> String {
    let absolute = if path.is_absolute() {
        Some(path.to_path_buf())
    } else {
        cwd.map(|c| c.join(path))
    };
    let normal = |p: &Path| {
        let mut parts: Vec<String> = Vec::new();
        let mut root = String::new();
        for c in p.components() {
            match c {
                Component::Prefix(pre) => root = pre.as_os_str().to_string_lossy().into_owned(),
                Component::RootDir => root.push('/'),
                Component::CurDir => {}
                Component::ParentDir => {
                    if parts.last().is_some_and(|l| l != "..") {
                        parts.pop();
                    } else if root.is_empty() {
                        parts.push("..".into());
                    }
                }
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            }
        }
        format!("{root}{}", parts.join("/"))
    };
    if let (Some(abs), Some(cwd)) = (&absolute, cwd) {
        let abs = PathBuf::from(normal(abs));
        let cwd = PathBuf::from(normal(cwd));
        if let Ok(rel) = abs.strip_prefix(&cwd) {
            return normal(rel);
        }
        return normal(&abs);
    }
    normal(path)
}

/// Lower-case hex SHA-256 of every input's bytes, in input order (reads in
/// parallel; nothing is kept but the hashes).
pub fn hash_inputs(inputs: &[Input]) -> Vec<Result<String, ReadError>> {
    inputs
        .par_iter()
        .map(|input| {
            let bytes = input.bytes()?;
            let digest = Sha256::digest(&bytes);
            Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
        })
        .collect()
}

/// Reads and extracts one input into a fragment with one source. A panic in
/// extraction is caught and reported as an error of that file: a bug on one
/// odd input must not take the whole build down.
pub fn extract_input(lex: &Lexicon, input: &Input) -> Result<Knowledge, ReadError> {
    let source = input.read()?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        extract_source(lex, &source)
    }))
    .map_err(|panic| ReadError {
        path: input.display_path(),
        reason: format!(
            "internal error while extracting (please report it): {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown")
        ),
    })
}

pub struct Extraction {
    pub knowledge: Knowledge,
    pub failures: Vec<ReadError>,
    pub files: usize,
    pub bytes: usize,
}

/// Extracts every input and merges the fragments in input order. Files that
/// cannot be read or decoded are returned in `failures` and the rest goes on.
pub fn extract_all(lex: &Lexicon, inputs: &[Input]) -> Extraction {
    let total: u64 = inputs.iter().map(input_len).sum();
    let bar = crate::progress::bytes_bar(total, "extracting");
    let results: Vec<Result<Knowledge, ReadError>> = inputs
        .par_iter()
        .map(|input| {
            let kn = extract_input(lex, input);
            bar.inc(input_len(input));
            kn
        })
        .collect();
    bar.finish_and_clear();
    let mut fragments = Vec::new();
    let mut failures = Vec::new();
    let mut bytes = 0;
    for r in results {
        match r {
            Ok(kn) => {
                bytes += kn.sources.iter().map(|s| s.byte_len).sum::<usize>();
                fragments.push(kn);
            }
            Err(e) => failures.push(e),
        }
    }
    Extraction {
        knowledge: merge(fragments),
        failures,
        files: inputs.len(),
        bytes,
    }
}

/// Extracts every input file under `paths`; folders and files that cannot be
/// listed are reported among the failures.
pub fn extract_inputs(lex: &Lexicon, paths: &[PathBuf]) -> Extraction {
    let (inputs, errors) = collect_inputs(paths);
    let mut extraction = extract_all(lex, &inputs);
    extraction.failures.splice(0..0, errors);
    extraction
}

/// What an extraction found, in counts only (nothing of it is kept).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ExtractionCounts {
    pub files: usize,
    pub failed: usize,
    pub bytes: usize,
    pub chars: usize,
    pub articles: usize,
    pub entity_mentions: usize,
    pub relations: usize,
    pub statistics: usize,
    /// Quads the files would add to the store's default graph.
    pub quads: usize,
}

impl ExtractionCounts {
    fn add(mut self, other: ExtractionCounts) -> ExtractionCounts {
        self.files += other.files;
        self.failed += other.failed;
        self.bytes += other.bytes;
        self.chars += other.chars;
        self.articles += other.articles;
        self.entity_mentions += other.entity_mentions;
        self.relations += other.relations;
        self.statistics += other.statistics;
        self.quads += other.quads;
        self
    }
}

/// Extracts every input and keeps only counts: the extraction stage alone,
/// with memory independent of the corpus size (for `jindu extract` and the
/// benchmarks). With `with_quads`, also turns each fragment into RDF quads
/// and counts them.
pub fn extract_counts(
    lex: &Lexicon,
    inputs: &[Input],
    with_quads: bool,
) -> (ExtractionCounts, Vec<ReadError>) {
    let total: u64 = inputs.iter().map(input_len).sum();
    let bar = crate::progress::bytes_bar(total, "extracting");
    let failures = std::sync::Mutex::new(Vec::new());
    let counts = inputs
        .par_iter()
        .map(|input| {
            let mut c = ExtractionCounts {
                files: 1,
                ..Default::default()
            };
            match extract_input(lex, input) {
                Ok(kn) => {
                    c.bytes = kn.sources.iter().map(|s| s.byte_len).sum();
                    c.chars = kn.sources.iter().map(|s| s.char_len).sum();
                    c.articles = kn.articles.len();
                    c.entity_mentions = kn.entities.values().map(|e| e.mentioned_in.len()).sum();
                    c.relations = kn.relations.len();
                    c.statistics = kn.statistics.len();
                    if with_quads {
                        c.quads = crate::rdf::knowledge_quads(&kn).len();
                    }
                }
                Err(e) => {
                    c.failed = 1;
                    failures.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                }
            }
            bar.inc(input_len(input));
            c
        })
        .reduce(ExtractionCounts::default, ExtractionCounts::add);
    bar.finish_and_clear();
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by(|a, b| a.path.cmp(&b.path));
    (counts, failures)
}

/// The size of an input in bytes, for progress bars (0 when unknown).
pub fn input_len(input: &Input) -> u64 {
    match &input.data {
        InputData::Embedded(bytes) => bytes.len() as u64,
        InputData::File(path) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_ids_are_normalised_and_relative_to_the_working_folder() {
        let cwd = Path::new("/data/news");
        assert_eq!(input_id(Path::new("./2024/a.txt"), Some(cwd)), "2024/a.txt");
        assert_eq!(
            input_id(Path::new("/data/news/2024/a.txt"), Some(cwd)),
            "2024/a.txt"
        );
        assert_eq!(
            input_id(Path::new("2024/../2025/b.txt"), Some(cwd)),
            "2025/b.txt"
        );
        assert_eq!(
            input_id(Path::new("/other/c.txt"), Some(cwd)),
            "/other/c.txt"
        );
        assert_eq!(
            input_id(Path::new("../x/d.txt"), Some(cwd)),
            "/data/x/d.txt"
        );
        assert_eq!(input_id(Path::new("e.txt"), None), "e.txt");
    }

    #[test]
    fn embedded_seeds_read_with_their_identity() {
        let seeds = embedded_seeds();
        assert_eq!(seeds.len(), 5);
        let source = seeds[0].read().unwrap();
        assert_eq!(source.name, "000_c263f51713171ff9.txt");
        assert_eq!(
            source.path,
            PathBuf::from("embedded:seeds/000_c263f51713171ff9.txt")
        );
    }
}
