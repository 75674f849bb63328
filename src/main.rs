//! The `jindu` command line: the last stage of the flow. It wires the
//! library's stages together; data goes to stdout, logs and errors to stderr.

use std::io::Write;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use jindu::lexicon::{Lexicon, export_defaults};
use jindu::model::{EntityClass, Property};
use jindu::pipeline::{Extraction, Input, collect_inputs, embedded_seeds, extract_all, input_id};
use jindu::query::{
    OutputFormat, explain_query, find_query, run_query, stored_queries, write_table,
};
use jindu::rdf::open_store;
use jindu::sync::{BuildOptions, SyncReport, read_time_now, remove_files, sync};

// jindu allocates many small strings and maps per article; mimalloc's
// thread-local free lists make that about a fifth cheaper than glibc's malloc.
// It also replaces malloc for the C and C++ code (the "override" feature):
// oxigraph frees RocksDB's error messages, which RocksDB allocates with
// malloc, through Rust's allocator, so the two must be the same or every
// store error (a corrupt store, a full disk) ends in a segfault.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "jindu",
    version,
    about = "Builds a knowledge graph of Chinese anti-drug news: agencies, regions, campaigns, cases, drugs and statistics, in petgraph and an Oxigraph store.",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reads news text and builds the knowledge graph into an on-disk store.
    ///
    /// Inputs are files or folders (searched recursively for .txt), in
    /// UTF-8, UTF-16, GB18030/GBK or Big5, detected from the content.
    /// Without inputs, the five embedded seed pages are used.
    ///
    /// Builds are incremental: the store keeps each file's facts apart (by
    /// its path and content hash), so building again adds new files,
    /// replaces the facts of changed files, and leaves unchanged files alone
    /// (an unchanged corpus changes nothing). --prune also removes the files
    /// the store holds that are not among the inputs; `jindu remove` removes
    /// named files. Files that cannot be read are reported on stderr; the
    /// build goes on (keeping what the store had of them) and exits with
    /// status 2. Set SOURCE_DATE_EPOCH to record a fixed read time.
    Build {
        /// Files or folders to read (default: the embedded seed pages).
        inputs: Vec<PathBuf>,
        /// Where the Oxigraph store lives.
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
        /// Folders whose data files extend the lexicons (see data/README.md).
        #[arg(long = "lexicon", value_name = "DIR")]
        lexicons: Vec<PathBuf>,
        /// Worker threads for extraction (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Also write the knowledge extracted from all inputs as JSON to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Remove from the store the files that are not among the inputs.
        #[arg(long)]
        prune: bool,
        /// Empty the store first and extract every input again.
        #[arg(long)]
        rebuild: bool,
        /// Add the summary graph that `jindu graph` and `jindu export` read
        /// (support and evidence per relation, mentions per entity) to a
        /// store that has data but no summary: it is counted over the whole
        /// store. A build into an empty store (or with --rebuild) fills the
        /// summary as it loads without being asked; once a store has one,
        /// every build, `remove` and `load` updates the entries it touches.
        #[arg(long, conflicts_with = "no_summary")]
        summary: bool,
        /// Build an empty store (or --rebuild) without the summary graph.
        /// Without a summary `jindu graph` and `jindu export` read every
        /// provenance record instead. (A store that has a summary keeps it.)
        #[arg(long)]
        no_summary: bool,
        /// Compact the store after a build that wrote to it, so that lookups
        /// search one sorted run instead of every loaded batch: `auto` does
        /// so for stores up to 2 GB on disk (seconds of work; larger loads
        /// are merged by RocksDB as they run), `always` whatever the size
        /// (a full rewrite of the store), `never` leaves it.
        #[arg(long, value_enum, default_value = "auto")]
        compact: jindu::sync::Compaction,
    },
    /// Runs the extraction stage alone (read, decode, clean, split, find,
    /// resolve; no store) and prints what it found and how fast.
    ///
    /// For measuring: memory stays flat whatever the corpus size, since
    /// only counts are kept. --quads also turns each file into RDF quads.
    Extract {
        /// Files or folders to read (default: the embedded seed pages).
        inputs: Vec<PathBuf>,
        #[arg(long = "lexicon", value_name = "DIR")]
        lexicons: Vec<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Also build each file's RDF quads (counted, not stored).
        #[arg(long)]
        quads: bool,
        /// Print the counts and timing as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Removes files and exactly their facts from the store.
    ///
    /// A FILE is a path as given to `build` (a folder removes every file
    /// below it), or a bare file name that matches one file in the store.
    /// A fact also read in another file stays.
    Remove {
        #[arg(required = true)]
        files: Vec<String>,
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
    },
    /// Runs a stored SPARQL query by name (see --list) or a query file.
    ///
    /// Parameters bind as literals (never spliced into the text):
    /// `jindu query agencies-by-region --param region=呼伦贝尔市`.
    Query {
        /// A stored query's name, or a path to a .rq file.
        #[arg(required_unless_present = "list")]
        query: Option<String>,
        /// Lists the stored queries with their descriptions and parameters.
        #[arg(long)]
        list: bool,
        /// A parameter as NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// table, csv, tsv, json, xml (SELECT/ASK); turtle, ntriples, jsonld (CONSTRUCT/DESCRIBE).
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
        /// A folder of .rq files that adds to (or replaces by name) the stored queries.
        #[arg(long, value_name = "DIR")]
        queries: Option<PathBuf>,
        /// Stops the query after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
        /// Prints how the query was evaluated instead of its results: the
        /// plan as JSON, each step with the rows it gave and its time.
        #[arg(long, conflicts_with = "timeout")]
        explain: bool,
    },
    /// Validates the store's data against SHACL shapes and prints the results.
    ///
    /// Uses the shapes shipped with jindu (ontology/shapes.ttl) unless
    /// --shapes names another Turtle file. Exits with status 1 when there is
    /// a violation (with --strict, also a warning).
    Validate {
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
        /// A SHACL shapes graph in Turtle (default: the embedded shapes).
        #[arg(long, value_name = "FILE")]
        shapes: Option<PathBuf>,
        /// table (summary and results), json, or turtle (a sh:ValidationReport).
        #[arg(long, value_enum, default_value = "table")]
        format: ValidateFormat,
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
    },
    /// Counts per class and relation, articles and sources in the store.
    Stats {
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
    },
    /// Writes the whole store: N-Quads by default (the same bytes for the
    /// same content), or TriG, or the data graph as Turtle or N-Triples.
    Dump {
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value = "nquads")]
        format: jindu::rdf::DumpFormat,
        /// Output file (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Sort by the N-Quads text (readable diffs; holds the store in
        /// memory). Without it quads stream in the store's own order, which
        /// is the same for the same content.
        #[arg(long)]
        sort: bool,
    },
    /// Loads an RDF file (Turtle, TriG, N-Triples, N-Quads, RDF/XML,
    /// JSON-LD …, told by its extension or --format) into the store.
    Load {
        file: PathBuf,
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
        /// The format's media type or extension (ttl, nq, trig, rdf, jsonld …).
        #[arg(long)]
        format: Option<String>,
    },
    /// Scores extraction against gold files (contract section 6).
    ///
    /// Extracts the inputs (default: the embedded seeds), matches each gold
    /// file NAME.json to the source NAME.txt, and prints precision, recall
    /// and F1 per entity type, per relation property and for statistics.
    Eval {
        /// Folder of gold files.
        #[arg(long)]
        gold: PathBuf,
        /// Files or folders to extract (default: the embedded seed pages).
        inputs: Vec<PathBuf>,
        #[arg(long = "lexicon", value_name = "DIR")]
        lexicons: Vec<PathBuf>,
        /// Lists misses and false alarms per file.
        #[arg(long)]
        details: bool,
        /// Exit with status 1 when a headline F1 (entities, relations, statistics) is below this.
        #[arg(long)]
        min_f1: Option<f64>,
        /// Prints the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Writes a synthetic corpus of news pages with a manifest of what each
    /// page contains, for measuring extraction at scale.
    ///
    /// OUT/pages/NNNNNNN.txt holds two to six articles each (some pages with
    /// OCR-style line breaks, some in GBK, some articles about other
    /// topics); OUT/manifest/NNNNNNN.json says what was put in, in the gold
    /// format, so `jindu eval --gold OUT/manifest OUT/pages` reports recall
    /// and precision; OUT/corpus.json gives the seed, size and counts. The
    /// same seed and size give the same bytes whatever the thread count.
    MakeCorpus {
        /// The folder to write (its pages/ and manifest/ must be new or empty).
        out: PathBuf,
        /// Bytes of page text to write at least: 300KB, 10MB, 1GB (units of 1024).
        #[arg(long)]
        size: String,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Folders whose data files extend the lexicons (see data/README.md).
        #[arg(long = "lexicon", value_name = "DIR")]
        lexicons: Vec<PathBuf>,
        /// Folders whose templates.txt, agencies.tsv, fillers.tsv extend (or,
        /// starting with a line `# replace`, replace) those of data/corpus/.
        #[arg(long = "templates", value_name = "DIR")]
        templates: Vec<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Writes the embedded lexicon files into a folder, to read or extend.
    Lexicon {
        /// The folder to write.
        dir: PathBuf,
    },
    /// Graph analytics on a built store: centrality, components, Louvain
    /// communities, paths with their sentences, neighbourhoods.
    Graph {
        #[command(subcommand)]
        command: jindu::graph_cli::GraphCommand,
    },
    /// Writes the graph of a built store for other tools: GraphML (yEd,
    /// Cytoscape, Gephi), GEXF, DOT, Cytoscape.js, node-link JSON, Neo4j
    /// CSV, or one self-contained HTML page.
    Export(jindu::graph_cli::ExportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // A reader that stopped early (`jindu query … | head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("jindu: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Build {
            inputs,
            store,
            lexicons,
            threads,
            json,
            prune,
            rebuild,
            summary,
            no_summary,
            compact,
        } => build(
            inputs,
            store,
            lexicons,
            threads,
            json,
            BuildOptions {
                prune,
                rebuild,
                read_time: read_time_now(),
                summary,
                no_summary,
                compaction: compact,
            },
        ),
        Command::Remove { files, store } => remove(files, store),
        Command::Extract {
            inputs,
            lexicons,
            threads,
            quads,
            json,
        } => extract(inputs, lexicons, threads, quads, json),
        Command::Query {
            query,
            list,
            params,
            format,
            store,
            queries,
            timeout,
            explain,
        } => {
            if list {
                list_queries(queries.as_deref())?;
                return Ok(ExitCode::SUCCESS);
            }
            let name = query.context("give a query name or file, or --list")?;
            let q = find_query(&name, queries.as_deref())?;
            let mut bound = Vec::new();
            for p in &params {
                let (k, v) = p
                    .split_once('=')
                    .with_context(|| format!("parameter {p} is not NAME=VALUE"))?;
                bound.push((k.trim().to_string(), v.to_string()));
            }
            let store = open_store(&store)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            if explain {
                let rows = explain_query(&store, &q, &bound, &mut out)?;
                eprintln!("({rows} result{})", if rows == 1 { "" } else { "s" });
            } else {
                run_query(
                    &store,
                    &q,
                    &bound,
                    format,
                    timeout.map(Duration::from_secs_f64),
                    &mut out,
                )?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate {
            store,
            shapes,
            format,
            strict,
        } => validate(&store, shapes, format, strict),
        Command::Stats { store } => {
            stats(&store)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dump {
            store,
            format,
            output,
            sort,
        } => {
            let store = open_store(&store)?;
            // Streamed to the file or stdout: memory stays flat at any size.
            let count = match &output {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    let n = jindu::rdf::dump(&store, format, sort, &mut out)?;
                    out.flush()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    let n = jindu::rdf::dump(&store, format, sort, &mut out)?;
                    out.flush()?;
                    n
                }
            };
            eprintln!("jindu dump: {count} quads");
            Ok(ExitCode::SUCCESS)
        }
        Command::Load {
            file,
            store,
            format,
        } => {
            let format = match format {
                Some(f) => Some(
                    oxigraph::io::RdfFormat::from_media_type(&f)
                        .or_else(|| oxigraph::io::RdfFormat::from_extension(&f))
                        .with_context(|| format!("unknown RDF format {f}"))?,
                ),
                None => None,
            };
            let store = oxigraph::store::Store::open(&store)
                .with_context(|| format!("cannot open the store at {}", store.display()))?;
            let added = jindu::rdf::load_file(&store, &file, format)?;
            // External RDF may touch any relation or entity.
            if jindu::summary::evidence_kept(&store)?.is_some() {
                jindu::summary::refresh(&store, jindu::summary::AffectedKeys::all())?;
            }
            println!("jindu load: {} quads added from {}", added, file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            gold,
            inputs,
            lexicons,
            details,
            min_f1,
            json,
        } => eval(gold, inputs, lexicons, details, min_f1, json),
        Command::MakeCorpus {
            out,
            size,
            seed,
            lexicons,
            templates,
            threads,
        } => make_corpus(out, &size, seed, lexicons, templates, threads),
        Command::Lexicon { dir } => {
            export_defaults(&dir)?;
            eprintln!("wrote the lexicon files to {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph { command } => {
            jindu::graph_cli::run_graph(command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(args) => {
            jindu::graph_cli::run_export(args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The inputs under `paths`, or the embedded seed pages when there are none;
/// paths that cannot be listed come back as failures.
fn inputs_or_seeds(paths: &[PathBuf]) -> (Vec<Input>, Vec<jindu::read::ReadError>) {
    if paths.is_empty() {
        eprintln!("no input given: reading the embedded seed pages");
        (embedded_seeds(), Vec::new())
    } else {
        collect_inputs(paths)
    }
}

/// Extracts the inputs, or the embedded seed pages when there are none,
/// reporting each file that failed on stderr.
fn extract_inputs_or_seeds(lex: &Lexicon, paths: Vec<PathBuf>) -> Result<Extraction> {
    let (inputs, errors) = inputs_or_seeds(&paths);
    let mut extraction = extract_all(lex, &inputs);
    extraction.failures.splice(0..0, errors);
    for failure in &extraction.failures {
        eprintln!("jindu: skipped {failure}");
    }
    Ok(extraction)
}

fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot set the thread count")?;
    }
    Ok(())
}

fn extract(
    paths: Vec<PathBuf>,
    lexicons: Vec<PathBuf>,
    threads: Option<usize>,
    quads: bool,
    json: bool,
) -> Result<ExitCode> {
    set_threads(threads)?;
    let lex = Lexicon::load(&lexicons)?;
    let (inputs, mut failures) = inputs_or_seeds(&paths);
    let started = Instant::now();
    let (counts, failed) = jindu::pipeline::extract_counts(&lex, &inputs, quads);
    let seconds = started.elapsed().as_secs_f64();
    failures.extend(failed);
    for failure in &failures {
        eprintln!("jindu: skipped {failure}");
    }
    let mb = counts.bytes as f64 / 1e6;
    if json {
        let value = serde_json::json!({
            "counts": counts,
            "threads": rayon::current_num_threads(),
            "seconds": seconds,
            "mb_per_second": mb / seconds.max(1e-9),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "jindu extract: {} files ({:.1} MB, {} failed), {} articles, {} entity mentions, {} relations, {} statistics{}",
            counts.files,
            mb,
            failures.len(),
            counts.articles,
            counts.entity_mentions,
            counts.relations,
            counts.statistics,
            if quads {
                format!(", {} quads", counts.quads)
            } else {
                String::new()
            }
        );
        println!(
            "time: {seconds:.2}s on {} threads ({:.2} MB/s)",
            rayon::current_num_threads(),
            mb / seconds.max(1e-9)
        );
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn build(
    paths: Vec<PathBuf>,
    store_path: PathBuf,
    lexicons: Vec<PathBuf>,
    threads: Option<usize>,
    json: Option<PathBuf>,
    mut options: BuildOptions,
) -> Result<ExitCode> {
    let started = Instant::now();
    set_threads(threads)?;
    let lexicon = jindu::sync::LazyLexicon::new(&lexicons)?;
    let (inputs, listing_errors) = inputs_or_seeds(&paths);
    if options.prune && !listing_errors.is_empty() {
        // A mistyped or unreadable folder must not empty the store.
        eprintln!("jindu: not pruning: some inputs could not be listed");
        options.prune = false;
    }
    let mut compacted = None;
    let mut report = match plan_read_only(&store_path, &lexicon, &inputs, &options) {
        Some(plan) if plan.nothing_to_do() => plan.into_report(),
        plan => {
            let store = oxigraph::store::Store::open(&store_path)
                .with_context(|| format!("cannot open the store at {}", store_path.display()))?;
            let report = match plan {
                Some(plan) => jindu::sync::apply(&store, &lexicon, plan)?,
                None => sync(&store, &lexicon, &inputs, &options)?,
            };
            // The data is in and committed: a compaction that fails (a full
            // disk) leaves a valid store, so it is reported, not fatal.
            match jindu::sync::compact_after_build(&store, &store_path, options.compaction, &report)
            {
                Ok(took) => compacted = took,
                Err(e) => eprintln!("jindu: warning: the store is built but not compacted: {e:#}"),
            }
            report
        }
    };
    report.failures.splice(0..0, listing_errors);
    for failure in &report.failures {
        eprintln!("jindu: skipped {failure}");
    }
    if let Some(path) = json {
        let extraction = extract_all(lexicon.get()?, &inputs);
        let text = serde_json::to_string_pretty(&extraction.knowledge)?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    print_sync_report(&mut out, "build", inputs.len(), &report)?;
    if report.bytes_extracted > 0 {
        // What this build read, per file; `jindu stats` counts the whole store.
        writeln!(out)?;
        let mut rows: Vec<Vec<String>> = EntityClass::ALL
            .iter()
            .map(|c| {
                let n = report
                    .entities_extracted
                    .get(c.name())
                    .copied()
                    .unwrap_or(0);
                vec![c.name().to_string(), n.to_string()]
            })
            .collect();
        rows.push(vec![
            "Statistic".into(),
            report.statistics_extracted.to_string(),
        ]);
        for p in Property::ALL {
            let n = report
                .relations_extracted
                .get(p.name())
                .copied()
                .unwrap_or(0);
            rows.push(vec![p.name().to_string(), n.to_string()]);
        }
        write_table(&mut out, &["extracted".into(), "per file".into()], &rows)?;
    }
    writeln!(
        out,
        "\nstore {}: {} quads written, {} removed from the default graph{}{}",
        store_path.display(),
        report.quads_written,
        report.quads_removed,
        if report.ontology_replaced {
            "; ontology (re)written"
        } else {
            ""
        },
        if report.summary_kept {
            "; summary updated"
        } else {
            ""
        }
    )?;
    if let Some(took) = compacted {
        writeln!(out, "compacted the store in {:.2}s", took.as_secs_f64())?;
    }
    writeln!(out, "time: {:.2}s", started.elapsed().as_secs_f64())?;
    out.flush()?;
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// One line of what a build or removal did, then the files it touched.
fn print_sync_report(
    out: &mut dyn Write,
    command: &str,
    files: usize,
    report: &SyncReport,
) -> Result<()> {
    writeln!(
        out,
        "jindu {command}: {files} files ({} KB extracted, {} articles): {} added, {} changed, {} unchanged, {} removed, {} failed",
        report.bytes_extracted / 1024,
        report.articles_extracted,
        report.added.len(),
        report.changed.len(),
        report.unchanged,
        report.removed.len(),
        report.failures.len(),
    )?;
    // Name the files when there are few; a corpus of thousands would drown the summary.
    for (what, ids) in [
        ("added", &report.added),
        ("changed", &report.changed),
        ("removed", &report.removed),
    ] {
        if !ids.is_empty() && ids.len() <= 20 {
            for id in ids {
                writeln!(out, "  {what:<8} {id}")?;
            }
        }
    }
    Ok(())
}

fn remove(names: Vec<String>, store_path: PathBuf) -> Result<ExitCode> {
    let store = open_store_writable(&store_path)?;
    let cwd = std::env::current_dir().ok();
    let ids: Vec<String> = names
        .iter()
        .map(|n| {
            if n.starts_with("embedded:") {
                n.clone()
            } else {
                input_id(std::path::Path::new(n), cwd.as_deref())
            }
        })
        .collect();
    let (report, unmatched) = remove_files(&store, &ids)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    print_sync_report(&mut out, "remove", report.removed.len(), &report)?;
    writeln!(
        out,
        "{} quads removed from the default graph",
        report.quads_removed
    )?;
    for name in &unmatched {
        eprintln!("jindu: no file {name} in the store (see `jindu query sources`)");
    }
    Ok(if unmatched.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The build's plan made on the store opened read-only, so that a build
/// with nothing to do never opens it for writing; `None` when there is no
/// store yet, when it is to be rebuilt, or when it cannot be opened
/// read-only (the writable open then reports what is wrong).
fn plan_read_only<'a>(
    store_path: &std::path::Path,
    lexicon: &jindu::sync::LazyLexicon,
    inputs: &'a [jindu::pipeline::Input],
    options: &BuildOptions,
) -> Option<jindu::sync::Plan<'a>> {
    if options.rebuild || !store_path.join("CURRENT").exists() {
        return None;
    }
    let store = oxigraph::store::Store::open_read_only(store_path).ok()?;
    jindu::sync::plan(&store, &lexicon.fingerprint, inputs, options).ok()
}

/// Opens an existing store for writing, with a clear error when there is none.
fn open_store_writable(path: &std::path::Path) -> Result<oxigraph::store::Store> {
    if !path.exists() {
        anyhow::bail!(
            "no store at {}: run `jindu build` first (or give --store)",
            path.display()
        );
    }
    oxigraph::store::Store::open(path)
        .with_context(|| format!("cannot open the store at {}", path.display()))
}

fn make_corpus(
    out: PathBuf,
    size: &str,
    seed: u64,
    lexicons: Vec<PathBuf>,
    templates: Vec<PathBuf>,
    threads: Option<usize>,
) -> Result<ExitCode> {
    let size = jindu::corpus::parse_size(size)?;
    let lex = Lexicon::load(&lexicons)?;
    let opts = jindu::corpus::CorpusOptions {
        size,
        seed,
        out,
        lexicons,
        templates,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let s = pool.install(|| jindu::corpus::make_corpus(&lex, &opts))?;
    println!(
        "jindu make-corpus: {} pages, {} articles ({} about drugs), {} bytes in {:.2} s ({:.1} MB/s); {} entities, {} relations, {} statistics in the manifest",
        s.pages,
        s.articles,
        s.drug_articles,
        s.bytes_written,
        s.seconds,
        s.bytes_written as f64 / 1e6 / s.seconds.max(1e-9),
        s.entities,
        s.relations,
        s.statistics
    );
    Ok(ExitCode::SUCCESS)
}

fn eval(
    gold: PathBuf,
    inputs: Vec<PathBuf>,
    lexicons: Vec<PathBuf>,
    details: bool,
    min_f1: Option<f64>,
    json: bool,
) -> Result<ExitCode> {
    let lex = Lexicon::load(&lexicons)?;
    let golds = jindu::eval::read_gold_dir(&gold)?;
    let extraction = extract_inputs_or_seeds(&lex, inputs)?;
    let report = jindu::eval::score(&extraction.knowledge, &golds);
    for missing in &report.unmatched_gold {
        eprintln!("jindu: no source {missing} among the inputs; its gold file is not scored");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        let row = |name: &str, s: &jindu::eval::Score| {
            vec![
                name.to_string(),
                s.tp.to_string(),
                s.fp.to_string(),
                s.fn_.to_string(),
                format!("{:.3}", s.precision()),
                format!("{:.3}", s.recall()),
                format!("{:.3}", s.f1()),
            ]
        };
        let mut rows = Vec::new();
        for (name, s) in &report.scores {
            if s.tp + s.fp + s.fn_ > 0 || !name.starts_with("relation:") {
                rows.push(row(name, s));
            }
        }
        rows.push(row("ENTITIES", &report.entity_total()));
        rows.push(row("RELATIONS", &report.relation_total()));
        rows.push(row("STATISTICS", &report.scores["statistics"]));
        let header: Vec<String> = ["score", "tp", "fp", "fn", "precision", "recall", "f1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        write_table(&mut out, &header, &rows)?;
        if details {
            for f in &report.files {
                writeln!(out, "\n== {}", f.source)?;
                for m in &f.misses {
                    writeln!(out, "  miss         {m}")?;
                }
                for m in &f.false_alarms {
                    writeln!(out, "  false alarm  {m}")?;
                }
            }
        }
    }
    out.flush()?;
    if let Some(min) = min_f1 {
        let headline = [
            ("entities", report.entity_total().f1()),
            ("relations", report.relation_total().f1()),
            ("statistics", report.scores["statistics"].f1()),
        ];
        let low: Vec<String> = headline
            .iter()
            .filter(|(_, f)| *f < min)
            .map(|(n, f)| format!("{n} {f:.3}"))
            .collect();
        if !low.is_empty() {
            eprintln!("jindu eval: below --min-f1 {min}: {}", low.join(", "));
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ValidateFormat {
    Table,
    Json,
    Turtle,
}

fn validate(
    store: &std::path::Path,
    shapes: Option<PathBuf>,
    format: ValidateFormat,
    strict: bool,
) -> Result<ExitCode> {
    use jindu::shacl::{Severity, Shapes};
    let shapes = match shapes {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Shapes::parse(&text, &path.display().to_string())?
        }
        None => Shapes::embedded()?,
    };
    let store = open_store(store)?;
    let report = shapes.validate(&store)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        ValidateFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        ValidateFormat::Turtle => jindu::shacl::write_turtle(&report, &mut out)?,
        ValidateFormat::Table => {
            let rows: Vec<Vec<String>> = report
                .results
                .iter()
                .map(|r| {
                    vec![
                        format!("{:?}", r.severity),
                        jindu::query::shorten_iri(&r.focus),
                        r.path
                            .as_deref()
                            .map(jindu::query::shorten_iri)
                            .unwrap_or_default(),
                        r.value.clone().unwrap_or_default(),
                        r.component
                            .trim_start_matches("http://www.w3.org/ns/shacl#")
                            .trim_end_matches("ConstraintComponent")
                            .to_string(),
                        r.message.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                let header: Vec<String> = [
                    "severity",
                    "focus",
                    "path",
                    "value",
                    "constraint",
                    "message",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                write_table(&mut out, &header, &rows)?;
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    eprintln!(
        "jindu validate: {} focus nodes checked; conforms: {}; {} violations, {} warnings, {} infos",
        report.focus_nodes,
        report.conforms,
        report.count(Severity::Violation),
        report.count(Severity::Warning),
        report.count(Severity::Info)
    );
    let failed =
        report.count(Severity::Violation) > 0 || (strict && report.count(Severity::Warning) > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn list_queries(dir: Option<&std::path::Path>) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for q in stored_queries(dir)? {
        writeln!(out, "{:<36} {}", q.name, q.title)?;
        if !q.description.is_empty() {
            writeln!(out, "    {}", q.description)?;
        }
        if !q.requires.is_empty() {
            writeln!(out, "    requires: {}", q.requires.join(", "))?;
        }
        for (name, default, explanation) in &q.params {
            writeln!(out, "    --param {name}={default}    {explanation}")?;
        }
    }
    Ok(())
}

fn stats(store: &std::path::Path) -> Result<()> {
    let store = open_store(store)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    stats_table(&store, &mut out)
}

/// Counts per class and relation, and quads, as a table.
fn stats_table(store: &oxigraph::store::Store, out: &mut dyn Write) -> Result<()> {
    let q = jindu::query::parse_header(
        "stats",
        r##"PREFIX jd: <https://w3id.org/jindu/ontology#>
SELECT ?what ?count WHERE {
  { SELECT ?what (COUNT(DISTINCT ?x) AS ?count) WHERE {
      VALUES ?class { jd:Agency jd:Region jd:Campaign jd:Case jd:Drug jd:Statistic jd:Article jd:Source }
      ?x a ?class . BIND(STRAFTER(STR(?class), "#") AS ?what) } GROUP BY ?what }
  UNION
  { SELECT ?what (COUNT(*) AS ?count) WHERE {
      VALUES ?p { jd:locatedIn jd:subOrganizationOf jd:participatesIn jd:handledBy jd:occurredIn
                  jd:underCampaign jd:cooperatesWith jd:involvesDrug jd:partOf jd:supervisedBy }
      ?s ?p ?o . BIND(STRAFTER(STR(?p), "#") AS ?what) } GROUP BY ?what }
  UNION
  { SELECT ("quads" AS ?what) (COUNT(*) AS ?count) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } }
} ORDER BY ?what"##,
    );
    run_query(store, &q, &[], OutputFormat::Table, None, out)?;
    Ok(())
}
