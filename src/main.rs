//! The `jindu` command line: the last stage of the flow. It wires the
//! library's stages together; data goes to stdout, logs and errors to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use jindu::graph::KnowledgeGraph;
use jindu::lexicon::{Lexicon, export_defaults};
use jindu::model::{EntityClass, Property};
use jindu::pipeline::{Extraction, extract_inputs};
use jindu::query::{OutputFormat, find_query, run_query, stored_queries, write_table};
use jindu::rdf::{open_store, write_store};

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
    /// Without inputs, the five embedded seed pages are used. The store is
    /// replaced by the new build. Files that cannot be read are reported on
    /// stderr; the build goes on and exits with status 2.
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
        /// Also write the extracted knowledge as JSON to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
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
    },
    /// Counts per class and relation, articles and sources in the store.
    Stats {
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
    },
    /// Writes the whole store: sorted N-Quads by default (stable across
    /// builds), or TriG, or the data graph as Turtle or N-Triples.
    Dump {
        #[arg(long, default_value = "jindu-store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value = "nquads")]
        format: jindu::rdf::DumpFormat,
        /// Output file (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
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
        } => build(inputs, store, lexicons, threads, json),
        Command::Query {
            query,
            list,
            params,
            format,
            store,
            queries,
            timeout,
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
            run_query(
                &store,
                &q,
                &bound,
                format,
                timeout.map(Duration::from_secs_f64),
                &mut out,
            )?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats { store } => {
            stats(&store)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dump {
            store,
            format,
            output,
        } => {
            let store = open_store(&store)?;
            let mut buffer = Vec::new();
            let count = jindu::rdf::dump(&store, format, &mut buffer)?;
            match output {
                Some(path) => std::fs::write(&path, buffer)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().write_all(&buffer)?,
            }
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

/// The embedded seed pages, used when `build` is given no input.
const SEEDS: &[(&str, &[u8])] = &[
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

/// Writes the embedded seeds into a temporary folder and returns it.
fn embedded_seed_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("jindu-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in SEEDS {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(dir)
}

/// Extracts the inputs, or the embedded seed pages when there are none,
/// reporting each file that failed on stderr.
fn extract_inputs_or_seeds(lex: &Lexicon, inputs: Vec<PathBuf>) -> Result<Extraction> {
    let (inputs, temp) = if inputs.is_empty() {
        let dir = embedded_seed_dir()?;
        eprintln!("no input given: reading the embedded seed pages");
        (vec![dir.clone()], Some(dir))
    } else {
        (inputs, None)
    };
    let extraction = extract_inputs(lex, &inputs);
    if let Some(dir) = temp {
        let _ = std::fs::remove_dir_all(dir);
    }
    for failure in &extraction.failures {
        eprintln!("jindu: skipped {failure}");
    }
    Ok(extraction)
}

fn build(
    inputs: Vec<PathBuf>,
    store: PathBuf,
    lexicons: Vec<PathBuf>,
    threads: Option<usize>,
    json: Option<PathBuf>,
) -> Result<ExitCode> {
    let started = Instant::now();
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot set the thread count")?;
    }
    let lex = Lexicon::load(&lexicons)?;
    let extraction = extract_inputs_or_seeds(&lex, inputs)?;
    let kn = &extraction.knowledge;
    let extracted = started.elapsed();
    let graph = KnowledgeGraph::build(kn);
    let quads = write_store(&store, kn)?;
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(kn)?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let elapsed = started.elapsed();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let drug_articles = kn.articles.iter().filter(|a| a.about_drugs).count();
    writeln!(
        out,
        "jindu build: {} files ({} KB), {} failed; {} articles ({} about drugs)",
        extraction.files,
        extraction.bytes / 1024,
        extraction.failures.len(),
        kn.articles.len(),
        drug_articles
    )?;
    let mentioned = |class: EntityClass| {
        kn.entities
            .values()
            .filter(|e| e.id.class == class && !e.mentioned_in.is_empty())
            .count()
    };
    let counts = kn.entity_counts();
    let mut rows: Vec<Vec<String>> = EntityClass::ALL
        .iter()
        .map(|&c| {
            vec![
                c.name().to_string(),
                mentioned(c).to_string(),
                counts[&c].to_string(),
            ]
        })
        .collect();
    rows.push(vec![
        "Statistic".into(),
        kn.statistics.len().to_string(),
        kn.statistics.len().to_string(),
    ]);
    writeln!(out)?;
    write_table(
        &mut out,
        &["class".into(), "mentioned".into(), "with implied".into()],
        &rows,
    )?;
    writeln!(out)?;
    let rel_counts = kn.relation_counts();
    let rel_rows: Vec<Vec<String>> = Property::ALL
        .iter()
        .map(|p| {
            vec![
                p.name().to_string(),
                rel_counts.get(p).copied().unwrap_or(0).to_string(),
            ]
        })
        .collect();
    write_table(&mut out, &["relation".into(), "count".into()], &rel_rows)?;
    writeln!(out)?;
    writeln!(
        out,
        "graph: {} nodes, {} edges, {} components; store {}: {} quads",
        graph.graph.node_count(),
        graph.graph.edge_count(),
        graph.component_count(),
        store.display(),
        quads
    )?;
    writeln!(
        out,
        "time: {:.2}s (extraction {:.2}s)",
        elapsed.as_secs_f64(),
        extracted.as_secs_f64()
    )?;
    out.flush()?;
    Ok(if extraction.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
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

fn list_queries(dir: Option<&std::path::Path>) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for q in stored_queries(dir)? {
        writeln!(out, "{:<36} {}", q.name, q.title)?;
        if !q.description.is_empty() {
            writeln!(out, "    {}", q.description)?;
        }
        for (name, default, explanation) in &q.params {
            writeln!(out, "    --param {name}={default}    {explanation}")?;
        }
    }
    Ok(())
}

fn stats(store: &std::path::Path) -> Result<()> {
    let store = open_store(store)?;
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
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_query(&store, &q, &[], OutputFormat::Table, None, &mut out)?;
    Ok(())
}
