//! Sink: keeps the Oxigraph store equal to the extraction of the corpus,
//! file by file (incremental, idempotent builds).
//!
//! In: the inputs of a build (identity and content hash), the lexicon and
//! the store. Out: the store updated in place, and a [`SyncReport`]:
//! - a file that is new, or whose bytes or extractor changed, is extracted
//!   and loaded through Oxigraph's bulk loader, extraction running on the
//!   worker threads while the loader writes;
//! - a file that changed, was pruned (`build --prune`) or removed
//!   (`jindu remove`) loses exactly its facts;
//! - an unchanged file is not read beyond its hash;
//! - the summary graph (see `summary`) is filled in the same load when the
//!   store had no data (the default; `--no-summary` skips it), and otherwise
//!   recounted where the change touched it when the store keeps one.
//!
//! Layout: every file's quads go into the default graph, which the queries
//! read. The file's own named graph `<https://w3id.org/jindu/graph/file/H>`
//! (H: 16 hex of the SHA-256 of its identity) records what removal needs:
//! - the facts other files may also assert (entities, their names and
//!   kinds, relations) and the file's record (its source node and the
//!   `jd:sourceFile` of its articles), each a copy of a default-graph triple;
//! - not what only its content can produce: articles, statistics,
//!   provenance records and `jd:mentionedIn` links all hang off IRIs minted
//!   from the content hash, so they are found from the source node.
//!
//! Removing a file drops its graph and removes from the default graph each
//! recorded triple that no other file's graph holds (facts read in several
//! files stay while one of them remains), and, once no remaining file has
//! the same bytes, everything hanging off its source's articles. Keeping the
//! content's triples out of the file graphs halves the quads a build writes.
//! The ontology graph is replaced only when the embedded ontology
//! differs from the stored one.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::mpsc;

use anyhow::{Context, Result};
use oxigraph::model::vocab::xsd;
use oxigraph::model::{GraphName, GraphNameRef, Literal, NamedNode, NamedOrBlankNode, Quad, Term};
use oxigraph::store::Store;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::lexicon::Lexicon;
use crate::model::Knowledge;
use crate::pipeline::{Input, extract_input, hash_inputs, input_len};
use crate::rdf::{
    ID, ONTOLOGY_GRAPH, PROV, jd, knowledge_quads, ontology_quads, source_iri_for_hash,
};
use crate::read::ReadError;
use crate::summary;

/// The base of the per-file named graphs.
pub const FILE_GRAPH_BASE: &str = "https://w3id.org/jindu/graph/file/";

/// The named graph holding what the file known by `id` contributed.
pub fn file_graph(id: &str) -> NamedNode {
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    NamedNode::new_unchecked(format!("{FILE_GRAPH_BASE}{hex}"))
}

fn is_file_graph(graph: &GraphName) -> bool {
    matches!(graph, GraphName::NamedNode(n) if n.as_str().starts_with(FILE_GRAPH_BASE))
}

/// What the store records of one file.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub graph: NamedNode,
    /// The file's identity (`jd:filePath`).
    pub id: String,
    pub sha256: String,
    /// The extractor that produced its facts (`jd:extractedWith`).
    pub extractor: String,
}

/// The files the store holds, by identity.
pub fn stored_files(store: &Store) -> Result<BTreeMap<String, StoredFile>> {
    let file_path = jd("filePath");
    let mut files = BTreeMap::new();
    for quad in store.quads_for_pattern(None, Some(file_path.as_ref()), None, None) {
        let quad = quad.context("cannot read the store")?;
        let GraphName::NamedNode(graph) = &quad.graph_name else {
            continue;
        };
        if !graph.as_str().starts_with(FILE_GRAPH_BASE) {
            continue;
        }
        let Term::Literal(id) = &quad.object else {
            continue;
        };
        let value = |p: &str| -> Result<String> {
            let found = store
                .quads_for_pattern(
                    Some(quad.subject.as_ref()),
                    Some(jd(p).as_ref()),
                    None,
                    Some(GraphNameRef::NamedNode(graph.as_ref())),
                )
                .next()
                .transpose()
                .context("cannot read the store")?;
            Ok(match found.map(|q| q.object) {
                Some(Term::Literal(l)) => l.value().to_string(),
                _ => String::new(),
            })
        };
        let sha256 = value("contentHash")?
            .trim_start_matches("sha256:")
            .to_string();
        files.insert(
            id.value().to_string(),
            StoredFile {
                graph: graph.clone(),
                id: id.value().to_string(),
                sha256,
                extractor: value("extractedWith")?,
            },
        );
    }
    Ok(files)
}

/// How a build treats the store.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Remove the files the store holds that are not among the inputs.
    pub prune: bool,
    /// Empty the store first and extract everything again.
    pub rebuild: bool,
    /// The `xsd:dateTime` recorded as the read time of new or changed files.
    pub read_time: String,
    /// Add the summary graph (see `summary`) if the store has none, counting
    /// it over the whole store; a store that has one keeps it up to date
    /// without being asked.
    pub summary: bool,
    /// Do not add the summary graph to a store without data (or rebuilt),
    /// which otherwise gets one filled as the build loads it.
    pub no_summary: bool,
    /// Whether to compact the store after a build that wrote to it.
    pub compaction: Compaction,
}

/// When a build compacts the store (RocksDB's full compaction, Oxigraph's
/// `Store::optimize`) after writing to it.
///
/// The bulk loader ingests each batch as its own sorted files, whose key
/// ranges all overlap, so every lookup then searches each of them. A long
/// load leaves few, as RocksDB merges them while it runs; a short one
/// leaves them all: on the 10 MB corpus the store had 61 files and answered
/// `agency-figures` in 22.1 s, `seizures-by-drug-region-time` in 4.3 s; once
/// compacted (2.2 s), 17 files and 7.4 s and 1.1 s. On the 100 MB corpus,
/// whose 132 s load RocksDB had compacted as it went, compacting took 12 s
/// and gained 0–25 %. A full compaction rewrites the whole store, whatever
/// the build added, hence the bound on the store's size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Compaction {
    /// Compact when the store is at most [`AUTO_COMPACTION_LIMIT`] bytes on
    /// disk (a few seconds of work).
    #[default]
    Auto,
    /// Compact after every build that wrote, whatever the store's size.
    Always,
    /// Never compact (RocksDB still merges files as it sees fit).
    Never,
}

/// The largest store (bytes of its folder) that `Compaction::Auto` compacts:
/// about 40 MB of news text, compacted in about 5 s on two cores.
pub const AUTO_COMPACTION_LIMIT: u64 = 2 << 30;

/// The bytes of the files directly in the store's folder (RocksDB keeps
/// its files there, without sub-folders). A file RocksDB deletes while the
/// folder is listed (its background work goes on) is not counted.
pub fn store_bytes(path: &std::path::Path) -> Result<u64> {
    let cannot = || format!("cannot list the store folder {}", path.display());
    let mut total = 0;
    for entry in std::fs::read_dir(path).with_context(cannot)? {
        match entry.and_then(|e| e.metadata()) {
            Ok(meta) if meta.is_file() => total += meta.len(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(cannot),
        }
    }
    Ok(total)
}

/// Compacts the store after a build that wrote to it, as `policy` asks;
/// returns how long it took, or `None` when it did not compact.
pub fn compact_after_build(
    store: &Store,
    path: &std::path::Path,
    policy: Compaction,
    report: &SyncReport,
) -> Result<Option<std::time::Duration>> {
    let wrote = report.quads_written > 0 || report.quads_removed > 0;
    let wanted = match policy {
        Compaction::Never => false,
        Compaction::Always => wrote,
        Compaction::Auto => wrote && store_bytes(path)? <= AUTO_COMPACTION_LIMIT,
    };
    if !wanted {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    store.optimize().context("cannot compact the store")?;
    Ok(Some(started.elapsed()))
}

/// What a build or a removal did.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
    pub failures: Vec<ReadError>,
    /// Quads handed to the bulk loader (default graph, and the copies in
    /// the files' own graphs).
    pub quads_written: usize,
    /// Triples removed from the default graph.
    pub quads_removed: usize,
    pub bytes_extracted: usize,
    pub articles_extracted: usize,
    /// Entities per class mentioned in the extracted files (counted per
    /// file: an entity named in two files counts twice).
    pub entities_extracted: BTreeMap<&'static str, usize>,
    /// Relations per property read from the extracted files (per file).
    pub relations_extracted: BTreeMap<&'static str, usize>,
    pub statistics_extracted: usize,
    pub ontology_replaced: bool,
    /// The summary graph was brought up to date.
    pub summary_kept: bool,
}

/// The read time to record: `SOURCE_DATE_EPOCH` (seconds since 1970, the
/// reproducible-builds convention) when set, so that builds can be compared
/// byte for byte; otherwise now, in UTC.
pub fn read_time_now() -> String {
    let when = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    when.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What a file's quads hold beyond its facts, as a number: 2 added each
/// source's `jd:articleCount`, `jd:statisticCount` and `jd:assertionCount`;
/// 3 its `jd:relationTally` per relation property (records and articles).
/// It is part of the extractor's identity (`jd:extractedWith`), so that the
/// next build re-extracts the files a store holds in an older layout
/// instead of leaving their records without what the queries read.
pub const FILE_QUADS_LAYOUT: u32 = 3;

/// The first layout whose sources carry the counts and tallies the stored
/// queries read (`# requires: source-counts`).
pub const SOURCE_COUNTS_SINCE: u32 = 3;

/// The quads layout an extractor identity names (`…; quads N`), if any:
/// identities written before the layout was recorded name none.
pub fn quads_layout(identity: &str) -> Option<u32> {
    identity
        .rsplit_once("; quads ")
        .and_then(|(_, n)| n.trim().parse().ok())
}

/// The extractor's identity recorded with each file: the lexicon's
/// fingerprint (crate version and data files) and [`FILE_QUADS_LAYOUT`].
pub fn extractor_identity(lexicon_fingerprint: &str) -> String {
    format!("{lexicon_fingerprint}; quads {FILE_QUADS_LAYOUT}")
}

/// The lexicon of a build, loaded only when a file has to be extracted: a
/// rebuild of an unchanged corpus needs only the fingerprint.
pub struct LazyLexicon {
    dirs: Vec<std::path::PathBuf>,
    pub fingerprint: String,
    loaded: std::sync::OnceLock<Lexicon>,
}

impl LazyLexicon {
    pub fn new(dirs: &[std::path::PathBuf]) -> Result<LazyLexicon> {
        for dir in dirs {
            if !dir.is_dir() {
                anyhow::bail!("lexicon folder {} does not exist", dir.display());
            }
        }
        Ok(LazyLexicon {
            dirs: dirs.to_vec(),
            fingerprint: extractor_identity(&crate::lexicon::fingerprint(dirs)?),
            loaded: std::sync::OnceLock::new(),
        })
    }

    /// The loaded lexicon.
    pub fn get(&self) -> Result<&Lexicon> {
        if let Some(lex) = self.loaded.get() {
            return Ok(lex);
        }
        let lex = Lexicon::load(&self.dirs)?;
        Ok(self.loaded.get_or_init(|| lex))
    }
}

/// Brings the store in line with `inputs` (see the module documentation).
pub fn sync(
    store: &Store,
    lexicon: &LazyLexicon,
    inputs: &[Input],
    options: &BuildOptions,
) -> Result<SyncReport> {
    if options.rebuild {
        // The store is empty after this: it gets a summary unless
        // `--no-summary`.
        store.clear().context("cannot clear the store")?;
    }
    let plan = plan(store, &lexicon.fingerprint, inputs, options)?;
    apply(store, lexicon, plan)
}

/// What a build has to do to the store: read only, so that it can run on a
/// store opened read-only (see [`Plan::nothing_to_do`]).
pub struct Plan<'a> {
    to_extract: Vec<&'a Input>,
    /// The sources (`jd:Source` IRIs, from the content hashes) of
    /// `to_extract`.
    arriving_sources: Vec<String>,
    to_remove: Vec<NamedNode>,
    ontology_current: bool,
    /// The build asks for a summary the store does not have yet.
    summary_missing: bool,
    read_time: String,
    /// The files found unchanged, added, changed, removed, or unreadable.
    report: SyncReport,
}

impl Plan<'_> {
    /// Nothing to extract, remove or rewrite: the build can stop without
    /// opening the store for writing. (Each writable open of RocksDB flushes
    /// its log into a new table and may start a compaction, which made an
    /// unchanged rebuild cost several times what its checks cost.)
    pub fn nothing_to_do(&self) -> bool {
        self.to_extract.is_empty()
            && self.to_remove.is_empty()
            && self.ontology_current
            && !self.summary_missing
    }

    /// The report of a build that stops here.
    pub fn into_report(self) -> SyncReport {
        self.report
    }
}

/// Compares `inputs` (by identity, content hash and the lexicon's
/// `fingerprint`) with the files the store holds.
pub fn plan<'a>(
    store: &Store,
    fingerprint: &str,
    inputs: &'a [Input],
    options: &BuildOptions,
) -> Result<Plan<'a>> {
    let mut report = SyncReport::default();
    let ontology_current = ontology_is_current(store)?;
    let hashes = hash_inputs(inputs);
    if all_recorded(store, fingerprint, inputs, &hashes, options.prune)? {
        // Nothing to do: the store is not read file by file.
        report.unchanged = inputs.len();
        return Ok(Plan {
            to_extract: Vec::new(),
            arriving_sources: Vec::new(),
            to_remove: Vec::new(),
            ontology_current,
            summary_missing: options.summary && !summary::is_current(store)?,
            read_time: options.read_time.clone(),
            report,
        });
    }
    let stored = stored_files(store)?;
    let mut to_extract: Vec<&Input> = Vec::new();
    let mut arriving_sources: Vec<String> = Vec::new();
    let mut to_remove: Vec<NamedNode> = Vec::new();
    for (input, hash) in inputs.iter().zip(hashes) {
        let hash = match hash {
            Ok(h) => h,
            Err(e) => {
                // Keep what the store has of a file that cannot be read now.
                report.failures.push(e);
                continue;
            }
        };
        match stored.get(&input.id) {
            Some(s) if s.sha256 == hash && s.extractor == fingerprint => report.unchanged += 1,
            Some(s) => {
                to_remove.push(s.graph.clone());
                report.changed.push(input.id.clone());
                to_extract.push(input);
                arriving_sources.push(source_iri_for_hash(&hash).into_string());
            }
            None => {
                report.added.push(input.id.clone());
                to_extract.push(input);
                arriving_sources.push(source_iri_for_hash(&hash).into_string());
            }
        }
    }
    if options.prune {
        let named: HashSet<&str> = inputs.iter().map(|i| i.id.as_str()).collect();
        for (id, s) in &stored {
            if !named.contains(id.as_str()) {
                to_remove.push(s.graph.clone());
                report.removed.push(id.clone());
            }
        }
    }
    // A store without data gets the summary by default (filled during the
    // load, see `apply`); one with data only when asked (counted over it).
    let empty = stored.is_empty()
        && store
            .quads_for_pattern(None, None, None, Some(GraphNameRef::DefaultGraph))
            .next()
            .is_none();
    let wanted = options.summary || (empty && !options.no_summary && !to_extract.is_empty());
    // (An outdated summary counts as missing: the build recounts it.)
    let summary_missing = wanted && !summary::is_current(store)?;
    Ok(Plan {
        to_extract,
        arriving_sources,
        to_remove,
        ontology_current,
        summary_missing,
        read_time: options.read_time.clone(),
        report,
    })
}

/// True when the store holds every input as it is now (the same identity,
/// bytes and extractor) and, with `prune`, no other file. Each input is
/// checked by looking up the three quads its file graph records (an index
/// seek each, with nothing decoded), so an unchanged corpus is confirmed
/// without reading every file's record back as text, the cost of most of a
/// no-op build. False sends [`plan`] to the full comparison.
fn all_recorded(
    store: &Store,
    fingerprint: &str,
    inputs: &[Input],
    hashes: &[Result<String, ReadError>],
    prune: bool,
) -> Result<bool> {
    if inputs.is_empty() {
        return Ok(false);
    }
    let (file_path, content_hash, extracted_with) =
        (jd("filePath"), jd("contentHash"), jd("extractedWith"));
    let extractor = Literal::new_simple_literal(fingerprint);
    for (input, hash) in inputs.iter().zip(hashes) {
        let Ok(hash) = hash else {
            return Ok(false);
        };
        let source = source_iri_for_hash(hash);
        let graph = GraphName::NamedNode(file_graph(&input.id));
        let records = [
            (&file_path, Literal::new_simple_literal(&input.id)),
            (
                &content_hash,
                Literal::new_simple_literal(format!("sha256:{hash}")),
            ),
            (&extracted_with, extractor.clone()),
        ];
        for (predicate, object) in records {
            let quad = Quad::new(source.clone(), predicate.clone(), object, graph.clone());
            if !store.contains(&quad).context("cannot read the store")? {
                return Ok(false);
            }
        }
    }
    if !prune {
        return Ok(true);
    }
    // Pruning removes files that are not inputs: there are none when the
    // store records as many files as the inputs it was found to hold (a
    // count over the index, nothing decoded).
    let count = format!(
        "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{}> ?id }} }}",
        file_path.as_str()
    );
    // An unreadable count reads as 0, which never equals the (non-empty)
    // inputs: the full comparison then decides.
    let recorded = match crate::graph::select(store, &count)?.next() {
        Some(solution) => solution
            .context("cannot read the store")?
            .get("n")
            .map_or(0, crate::graph::count_of),
        None => 0,
    };
    Ok(recorded == inputs.len())
}

/// Carries out a [`plan`] made on this store (opened for writing).
pub fn apply(store: &Store, lexicon: &LazyLexicon, plan: Plan<'_>) -> Result<SyncReport> {
    let mut report = plan.report;
    if !plan.ontology_current {
        write_ontology(store)?;
        report.ontology_replaced = true;
    }
    // The summary is kept once a store has one (or the build asks for it).
    let keep_summary = plan.summary_missing || summary::evidence_kept(store)?.is_some();
    // The summary entries the removed files touched, read before they go.
    let mut affected = summary::AffectedKeys::default();
    if keep_summary {
        let leaving: Vec<String> = report
            .changed
            .iter()
            .chain(&report.removed)
            .cloned()
            .collect();
        affected = summary::keys_of_files(store, &leaving)?;
        // Before anything changes: the rollups are brought up to date by the
        // difference of the touched sources' shares.
        summary::note_sources(store, &mut affected, &leaving, &plan.arriving_sources)?;
    }
    report.quads_removed = remove_graphs(store, &plan.to_remove)?;
    // Into a store with no data yet, the summary is aggregated from the
    // extracted knowledge as it streams into the loader, and loaded with
    // it: recounting it from the store afterwards cost two to three times
    // the build.
    let in_pass = keep_summary
        && plan.to_remove.is_empty()
        && store
            .quads_for_pattern(None, None, None, Some(GraphNameRef::DefaultGraph))
            .next()
            .is_none()
        && summary::is_blank(store)?;
    let mut outcome = None;
    if !plan.to_extract.is_empty() {
        let lex = lexicon.get()?;
        let builder = in_pass.then(summary::SummaryBuilder::new);
        outcome = load_extracted(
            store,
            lex,
            &lexicon.fingerprint,
            &plan.to_extract,
            &plan.read_time,
            builder,
            &mut report,
        )?;
    }
    if in_pass {
        match outcome {
            Some(dirty) => summary::recount(store, dirty)?,
            // The parts did not arrive in name order, or nothing was
            // extracted: count from the store.
            None => summary::refresh_all(store)?,
        }
        report.summary_kept = true;
    } else if keep_summary {
        let arrived: Vec<String> = report
            .added
            .iter()
            .chain(&report.changed)
            .cloned()
            .collect();
        affected.extend(summary::keys_of_files(store, &arrived)?);
        summary::refresh(store, affected)?;
        report.summary_kept = true;
    }
    store.flush().context("cannot flush the store")?;
    Ok(report)
}

/// Extracts `inputs` on the worker threads and streams their quads into the
/// bulk loader as they come (the store is a set: arrival order does not
/// change it).
///
/// With a `summary` builder, each worker also reduces its file's knowledge
/// to a [`summary::FilePart`], the files are extracted in the order of their
/// names (the order the builder merges them in; workers take the next file
/// in that order as they free up, so few parts wait for their turn), and
/// the aggregated summary follows the knowledge into the same load. Returns
/// then the relations left to recount from the store, or `None` when the
/// whole summary has to be counted from it (no builder, or it failed).
fn load_extracted(
    store: &Store,
    lex: &Lexicon,
    extractor: &str,
    inputs: &[&Input],
    read_time: &str,
    summary: Option<summary::SummaryBuilder>,
    report: &mut SyncReport,
) -> Result<Option<Vec<summary::RelationKey>>> {
    if inputs.is_empty() {
        return Ok(None);
    }
    let total: u64 = inputs.iter().map(|i| input_len(i)).sum();
    let bar = crate::progress::bytes_bar(total, "extracting");
    let with_parts = summary.is_some();
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    if with_parts {
        order.sort_by_cached_key(|&i| (source_name(inputs[i]), i));
    }
    // Taken out by the tail of the quad stream once every file is merged.
    let builder = RefCell::new(summary);
    let dirty: RefCell<Option<std::rc::Rc<RefCell<Vec<summary::RelationKey>>>>> =
        RefCell::new(None);
    type Extracted = Result<(Knowledge, Option<summary::FilePart>), ReadError>;
    let (sender, receiver) =
        mpsc::sync_channel::<(usize, usize, Extracted)>(4 * rayon::current_num_threads());
    std::thread::scope(|scope| -> Result<()> {
        let worker_bar = bar.clone();
        let order = &order;
        scope.spawn(move || {
            order.iter().enumerate().par_bridge().for_each_with(
                sender,
                |sender, (position, &i)| {
                    let input = inputs[i];
                    let kn = extract_input(lex, input).map(|kn| {
                        let part = with_parts.then(|| summary::FilePart::of(&kn));
                        (kn, part)
                    });
                    worker_bar.inc(input_len(input));
                    // The receiver only goes away when loading failed;
                    // that error is reported below.
                    let _ = sender.send((position, i, kn));
                },
            );
        });
        // The loader's budget is approximate: at 1024 MB the 100 MB build
        // peaked at 1.77 GB in all; at 768 MB, 1.12 GB in the same time
        // (155.8 s against 157.6 s), leaving room under 2 GB at any size.
        let mut loader = store.bulk_loader().with_max_memory_size_in_megabytes(768);
        let mut written = 0usize;
        let mut failed: Vec<(usize, ReadError)> = Vec::new();
        let mut bytes = 0usize;
        let mut articles = 0usize;
        let mut entities: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut relations: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut statistics = 0usize;
        // The iterator owns the receiver: when the loader stops early, the
        // receiver goes with it and the workers' sends fail instead of blocking.
        let quads = receiver.into_iter().flat_map(|(position, i, kn)| match kn {
            Ok((kn, part)) => {
                if let Some(builder) = builder.borrow_mut().as_mut() {
                    builder.add(position, part);
                }
                bytes += kn.sources.iter().map(|s| s.byte_len).sum::<usize>();
                articles += kn.articles.len();
                statistics += kn.statistics.len();
                for e in kn.entities.values().filter(|e| !e.mentioned_in.is_empty()) {
                    *entities.entry(e.id.class.name()).or_default() += 1;
                }
                for key in kn.relations.keys() {
                    *relations.entry(key.property.name()).or_default() += 1;
                }
                let quads = file_quads(&kn, &inputs[i].id, read_time, extractor);
                written += quads.len();
                quads
            }
            Err(e) => {
                if let Some(builder) = builder.borrow_mut().as_mut() {
                    builder.add(position, None);
                }
                failed.push((i, e));
                Vec::new()
            }
        });
        // In the same load: a second bulk load into the freshly loaded store
        // took longer to commit than the summary took to aggregate.
        let tail = std::iter::once(()).flat_map(|()| {
            let built = builder.borrow_mut().take().and_then(|b| b.finish());
            built
                .map(|built| {
                    let (quads, left) = built.into_quads();
                    *dirty.borrow_mut() = Some(left);
                    quads
                })
                .into_iter()
                .flatten()
        });
        loader
            .load_quads(quads.chain(tail))
            .context("the bulk loader failed")?;
        loader.commit().context("cannot commit the bulk load")?;
        report.quads_written = written;
        report.bytes_extracted = bytes;
        report.articles_extracted = articles;
        report.entities_extracted = entities;
        report.relations_extracted = relations;
        report.statistics_extracted = statistics;
        // A file that failed to extract has nothing in the store now.
        failed.sort_by_key(|(i, _)| *i);
        for (i, _) in &failed {
            let id = &inputs[*i].id;
            report.added.retain(|a| a != id);
            report.changed.retain(|a| a != id);
        }
        report.failures.extend(failed.into_iter().map(|(_, e)| e));
        Ok(())
    })?;
    bar.finish_and_clear();
    // Read after the load: relations whose kept records could not be read
    // back are added while the summary's quads are made.
    Ok(dirty.into_inner().map(|left| left.take()))
}

/// The name an input's articles will carry (`jd:sourceFile`), as reading
/// it sets it: the order files are extracted in when the summary is filled
/// during the build. (Only an order: the builder checks the names it gets.)
fn source_name(input: &Input) -> String {
    let path = match &input.data {
        crate::pipeline::InputData::File(path) => path.as_path(),
        crate::pipeline::InputData::Embedded(_) => std::path::Path::new(&input.id),
    };
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// One file's quads: its knowledge and its file record in the default
/// graph, and in the file's graph a copy of those that
/// `ContentVocabulary::recorded_in_file_graph` names.
pub fn file_quads(kn: &Knowledge, id: &str, read_time: &str, extractor: &str) -> Vec<Quad> {
    let mut data = knowledge_quads(kn);
    for source in &kn.sources {
        let s = NamedOrBlankNode::from(source_iri_for_hash(&source.sha256));
        data.push(Quad::new(
            s.clone(),
            jd("filePath"),
            Literal::new_simple_literal(id),
            GraphName::DefaultGraph,
        ));
        data.push(Quad::new(
            s.clone(),
            jd("readAt"),
            Literal::new_typed_literal(read_time, xsd::DATE_TIME),
            GraphName::DefaultGraph,
        ));
        data.push(Quad::new(
            s,
            jd("extractedWith"),
            Literal::new_simple_literal(extractor),
            GraphName::DefaultGraph,
        ));
    }
    let graph = GraphName::NamedNode(file_graph(id));
    let content = ContentVocabulary::new();
    let mut out = Vec::with_capacity(data.len() + data.len() / 4);
    for q in data {
        if content.recorded_in_file_graph(&q) {
            out.push(Quad::new(
                q.subject.clone(),
                q.predicate.clone(),
                q.object.clone(),
                graph.clone(),
            ));
        }
        out.push(q);
    }
    out
}

/// The IRIs that tell a file's content triples (those minted from its
/// content hash) from the facts other files may share.
struct ContentVocabulary {
    article_base: String,
    content_bases: [String; 2],
    mentioned_in: NamedNode,
    source_file: NamedNode,
    was_derived_from: NamedNode,
    from_source: NamedNode,
    file_path: NamedNode,
}

impl ContentVocabulary {
    fn new() -> ContentVocabulary {
        ContentVocabulary {
            article_base: format!("{ID}article/"),
            content_bases: [format!("{ID}statistic/"), format!("{ID}assertion/")],
            mentioned_in: jd("mentionedIn"),
            source_file: jd("sourceFile"),
            was_derived_from: NamedNode::new_unchecked(format!("{PROV}wasDerivedFrom")),
            from_source: jd("fromSource"),
            file_path: jd("filePath"),
        }
    }

    /// Whether `quad` is also written into its file's graph: everything but
    /// the triples of articles (other than the file name they came from),
    /// statistics and provenance records, and the `jd:mentionedIn` links,
    /// which only this content produces and which removal finds from the
    /// source node instead.
    fn recorded_in_file_graph(&self, quad: &Quad) -> bool {
        if quad.predicate == self.mentioned_in {
            return false;
        }
        let NamedOrBlankNode::NamedNode(subject) = &quad.subject else {
            return true;
        };
        let iri = subject.as_str();
        if iri.starts_with(&self.article_base) {
            return quad.predicate == self.source_file;
        }
        !self.is_content_node(iri)
    }

    /// A statistic or a provenance record: a node that belongs to one article.
    fn is_content_node(&self, iri: &str) -> bool {
        self.content_bases.iter().any(|b| iri.starts_with(b))
    }

    /// The default-graph triples that hang off the articles of `source`:
    /// the articles' own, their statistics' and provenance records', and
    /// the entities' `jd:mentionedIn` links to them.
    fn content_triples(&self, store: &Store, source: &NamedOrBlankNode) -> Result<Vec<Quad>> {
        let default = Some(GraphNameRef::DefaultGraph);
        let mut out = Vec::new();
        let mut nodes: HashSet<NamedOrBlankNode> = HashSet::new();
        for article in store.quads_for_pattern(
            None,
            Some(self.from_source.as_ref()),
            Some(source.as_ref().into()),
            default,
        ) {
            let article = article.context("cannot read the store")?.subject;
            let article_term = Term::from(article.clone());
            for link in store.quads_for_pattern(None, None, Some(article_term.as_ref()), default) {
                let link = link.context("cannot read the store")?;
                let owned = matches!(&link.subject, NamedOrBlankNode::NamedNode(n)
                    if self.is_content_node(n.as_str()));
                if owned
                    && (link.predicate == self.mentioned_in
                        || link.predicate == self.was_derived_from)
                {
                    nodes.insert(link.subject);
                } else if link.predicate == self.mentioned_in {
                    out.push(link);
                }
            }
            nodes.insert(article);
        }
        for node in &nodes {
            for quad in store.quads_for_pattern(Some(node.as_ref()), None, None, default) {
                out.push(quad.context("cannot read the store")?);
            }
        }
        Ok(out)
    }
}

/// Drops the named graphs of files and the default-graph triples that only
/// they held (see the module documentation); returns the number of
/// default-graph triples removed.
pub fn remove_graphs(store: &Store, graphs: &[NamedNode]) -> Result<usize> {
    let removing: HashSet<&NamedNode> = graphs.iter().collect();
    let held_elsewhere = |quad: &Quad| -> Result<bool> {
        for other in store.quads_for_pattern(
            Some(quad.subject.as_ref()),
            Some(quad.predicate.as_ref()),
            Some(quad.object.as_ref()),
            None,
        ) {
            let other = other.context("cannot read the store")?;
            if is_file_graph(&other.graph_name)
                && !matches!(&other.graph_name, GraphName::NamedNode(n) if removing.contains(n))
            {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let content = ContentVocabulary::new();
    let mut removed = 0;
    for graph in graphs {
        let mut transaction = store
            .start_transaction()
            .context("cannot start a transaction")?;
        let mut only_here: HashSet<Quad> = HashSet::new();
        let mut sources = Vec::new();
        for quad in store.quads_for_pattern(
            None,
            None,
            None,
            Some(GraphNameRef::NamedNode(graph.as_ref())),
        ) {
            let quad = quad.context("cannot read the store")?;
            if quad.predicate == content.file_path {
                sources.push(quad.clone());
            }
            if !held_elsewhere(&quad)? {
                only_here.insert(Quad::new(
                    quad.subject,
                    quad.predicate,
                    quad.object,
                    GraphName::DefaultGraph,
                ));
            }
        }
        for path_record in sources {
            // Another file with the same bytes still has these articles.
            let same_bytes_remain = store
                .quads_for_pattern(
                    Some(path_record.subject.as_ref()),
                    Some(content.file_path.as_ref()),
                    None,
                    None,
                )
                .map(|q| q.context("cannot read the store"))
                .collect::<Result<Vec<_>>>()?
                .iter()
                .any(|q| {
                    is_file_graph(&q.graph_name)
                        && !matches!(&q.graph_name, GraphName::NamedNode(n) if removing.contains(n))
                });
            if !same_bytes_remain {
                only_here.extend(content.content_triples(store, &path_record.subject)?);
            }
        }
        for quad in &only_here {
            transaction.remove(quad);
        }
        transaction
            .remove_named_graph(graph.as_ref())
            .context("cannot remove a file's graph")?;
        transaction.commit().context("cannot commit the removal")?;
        removed += only_here.len();
    }
    Ok(removed)
}

/// Removes the files named by `names` from the store: each name is a file's
/// identity (as `build` recorded it, the same normalisation applies), a
/// folder holding files, or a bare file name that matches exactly one file.
/// Returns the identities removed and the names that matched nothing.
pub fn remove_files(store: &Store, names: &[String]) -> Result<(SyncReport, Vec<String>)> {
    let stored = stored_files(store)?;
    let mut chosen: BTreeSet<String> = BTreeSet::new();
    let mut unmatched = Vec::new();
    for name in names {
        let name = name.trim_end_matches('/');
        let folder = format!("{name}/");
        let mut matched: Vec<&String> = stored
            .keys()
            .filter(|id| id.as_str() == name || id.starts_with(&folder))
            .collect();
        if matched.is_empty() {
            matched = stored
                .keys()
                .filter(|id| id.rsplit('/').next() == Some(name))
                .collect();
            if matched.len() > 1 {
                anyhow::bail!(
                    "{name} names several files in the store; give one of: {}",
                    matched
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        if matched.is_empty() {
            unmatched.push(name.to_string());
        }
        chosen.extend(matched.into_iter().cloned());
    }
    let graphs: Vec<NamedNode> = chosen.iter().map(|id| stored[id].graph.clone()).collect();
    let removed: Vec<String> = chosen.into_iter().collect();
    let keep_summary = summary::evidence_kept(store)?.is_some();
    let mut affected = summary::AffectedKeys::default();
    if keep_summary {
        affected = summary::keys_of_files(store, &removed)?;
        summary::note_sources(store, &mut affected, &removed, &[])?;
    }
    let report = SyncReport {
        quads_removed: remove_graphs(store, &graphs)?,
        removed,
        ..Default::default()
    };
    if keep_summary {
        summary::refresh(store, affected)?;
    }
    store.flush().context("cannot flush the store")?;
    Ok((report, unmatched))
}

/// Whether the store's ontology graph holds exactly the embedded ontology.
fn ontology_is_current(store: &Store) -> Result<bool> {
    let graph = NamedNode::new_unchecked(ONTOLOGY_GRAPH);
    let wanted: BTreeSet<String> = ontology_quads()?.iter().map(|q| q.to_string()).collect();
    let mut have = BTreeSet::new();
    for quad in store.quads_for_pattern(
        None,
        None,
        None,
        Some(GraphNameRef::NamedNode(graph.as_ref())),
    ) {
        have.insert(quad.context("cannot read the store")?.to_string());
    }
    Ok(have == wanted)
}

/// Replaces the ontology graph with the embedded ontology.
fn write_ontology(store: &Store) -> Result<()> {
    let graph = NamedNode::new_unchecked(ONTOLOGY_GRAPH);
    let mut transaction = store
        .start_transaction()
        .context("cannot start a transaction")?;
    transaction
        .clear_graph(graph.as_ref())
        .context("cannot clear the ontology graph")?;
    for quad in ontology_quads()? {
        transaction.insert(&quad);
    }
    transaction.commit().context("cannot write the ontology")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_bytes_adds_up_the_files_of_the_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.sst"), [0u8; 300]).unwrap();
        std::fs::write(dir.path().join("LOG"), [0u8; 45]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub").join("b"), [0u8; 1000]).unwrap();
        assert_eq!(store_bytes(dir.path()).unwrap(), 345);
        let missing = dir.path().join("missing");
        let err = store_bytes(&missing).unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot list the store folder"),
            "{err:#}"
        );
    }

    #[test]
    fn the_extractor_identity_names_the_quads_layout() {
        let identity = extractor_identity("jindu 0.1.0; lexicon 0123456789abcdef");
        assert_eq!(quads_layout(&identity), Some(FILE_QUADS_LAYOUT));
        const { assert!(FILE_QUADS_LAYOUT >= SOURCE_COUNTS_SINCE) };
        // identities written before the layout was recorded
        assert_eq!(quads_layout("jindu 0.1.0; lexicon 0123456789abcdef"), None);
        assert_eq!(quads_layout("jindu 0.1.0; lexicon 0a; quads 2"), Some(2));
        assert_eq!(quads_layout("jindu 0.1.0; lexicon 0a; quads x"), None);
    }
}
