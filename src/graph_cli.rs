//! The `jindu graph …` and `jindu export …` commands.
//!
//! In: the command-line arguments (clap) and a store built by `jindu
//! build`. Out: tables or JSON on stdout (analytics), export files, and
//! with `--write-back` the analytics graph
//! `<https://w3id.org/jindu/graph/analytics>` in the store. The graph is
//! read from the store's default graph ([`KnowledgeGraph::from_store`]),
//! never re-extracted.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use oxigraph::model::vocab::xsd;
use oxigraph::model::{GraphName, Literal, NamedNode, Quad};
use oxigraph::store::Store;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde_json::json;

use crate::analytics::{Analysis, Betweenness, neighbourhood, shortest_path};
use crate::export::{Cluster, ExportContext, ExportFormat, export};
use crate::filter::GraphFilter;
use crate::graph::{DeferredEvidence, EvidenceDetail, KnowledgeGraph, LoadOptions};
use crate::model::{EntityClass, Property};
use crate::query::write_table;
use crate::rdf::{jd, open_store};

/// The named graph that `--write-back` replaces.
pub const ANALYTICS_GRAPH: &str = "https://w3id.org/jindu/graph/analytics";

/// Where the graph comes from and which part of it to use.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphSource {
    /// The store built by `jindu build`.
    #[arg(long, default_value = "jindu-store")]
    pub store: PathBuf,
    #[command(flatten)]
    pub filter: GraphFilter,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BetweennessArgs {
    /// Betweenness from K sampled sources (fixed seed, scaled up); 0 = exact.
    /// Default: exact up to 5000 nodes, 500 samples above.
    #[arg(long, value_name = "K")]
    pub betweenness_samples: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    Pagerank,
    Degree,
    WeightedDegree,
    Betweenness,
}

/// The analytics commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum GraphCommand {
    /// Counts of nodes and edges per class and relation, components,
    /// communities and modularity.
    Stats {
        #[command(flatten)]
        source: GraphSource,
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Degree, weighted degree (sum of supporting articles), PageRank,
    /// betweenness and community of each entity, best first.
    ///
    /// PageRank and betweenness read the graph as undirected (parallel
    /// relations merged, weighted by support for PageRank); betweenness is
    /// exact up to 5000 nodes and sampled above unless told otherwise.
    Centrality {
        #[command(flatten)]
        source: GraphSource,
        #[command(flatten)]
        betweenness: BetweennessArgs,
        /// The score to rank by.
        #[arg(long, value_enum, default_value = "pagerank")]
        sort: SortKey,
        /// Rows to print (0 = all).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also store the scores and communities of the whole graph in the
        /// store's named graph <https://w3id.org/jindu/graph/analytics>
        /// (replaced each time; not allowed with filters).
        #[arg(long)]
        write_back: bool,
    },
    /// Weakly connected components, largest first.
    Components {
        #[command(flatten)]
        source: GraphSource,
        /// Components to print (0 = all).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Communities by Louvain (deterministic: fixed node order, no
    /// randomness), largest first, with their best-ranked members.
    Communities {
        #[command(flatten)]
        source: GraphSource,
        /// Communities to print (0 = all).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also store scores and communities in the analytics graph (see
        /// `centrality --write-back`).
        #[arg(long)]
        write_back: bool,
    },
    /// The shortest chain of relations between two entities (labels,
    /// alternative labels or IRIs), with the sentence behind each link.
    ///
    /// Relations are followed in both directions; among chains of equal
    /// length the better supported one wins.
    Path {
        /// The first entity: label, alternative label or IRI.
        from: String,
        /// The second entity.
        to: String,
        #[command(flatten)]
        source: GraphSource,
        /// Sentences to show per link.
        #[arg(long, default_value_t = 1)]
        sentences: usize,
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The entities within N relations of an entity (either direction).
    #[command(alias = "neighbors")]
    Neighbours {
        /// The entity: label, alternative label or IRI.
        name: String,
        /// How many relations away to go.
        #[arg(long, default_value_t = 1)]
        hops: usize,
        #[command(flatten)]
        source: GraphSource,
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `jindu export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file (a folder for neo4j; default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub source: GraphSource,
    #[command(flatten)]
    pub betweenness: BetweennessArgs,
    /// How the DOT export groups nodes.
    #[arg(long, value_enum, default_value = "region")]
    pub cluster: Cluster,
    /// Title of the page or drawing.
    #[arg(long, default_value = "jindu 禁毒 knowledge graph")]
    pub title: String,
    /// Evidence sentences kept per edge in the HTML page and viewer JSON.
    /// Up to 5 come from the store's summary; more are read from every
    /// provenance record (slow on a large store: filter the export).
    #[arg(long, default_value_t = 5)]
    pub evidence_limit: usize,
}

/// Loads the store's graph and applies the filters.
fn load(source: &GraphSource, store: &Store, detail: EvidenceDetail) -> Result<KnowledgeGraph> {
    load_with(source, store, detail, false)
}

/// As [`load`]; with `defer_evidence`, see [`LoadOptions::defer_evidence`].
fn load_with(
    source: &GraphSource,
    store: &Store,
    detail: EvidenceDetail,
    defer_evidence: bool,
) -> Result<KnowledgeGraph> {
    let whole = KnowledgeGraph::from_store_opts(
        store,
        LoadOptions {
            detail,
            drug_support: source.filter.drug_articles,
            drug_evidence: source.filter.drug_articles,
            defer_evidence,
        },
    )?;
    if whole.graph.node_count() == 0 {
        eprintln!(
            "jindu: warning: the store at {} holds no entities",
            source.store.display()
        );
    }
    let graph = source.filter.apply(&whole)?;
    if graph.graph.node_count() == 0 && whole.graph.node_count() > 0 {
        eprintln!(
            "jindu: warning: the filters ({}) leave an empty graph",
            source.filter.describe()
        );
    }
    Ok(graph)
}

pub fn run_graph(command: GraphCommand) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        GraphCommand::Stats { source, json } => {
            let store = open_store(&source.store)?;
            let kg = load(&source, &store, EvidenceDetail::Articles)?;
            let analysis = Analysis::compute(&kg, Betweenness::Skip);
            stats(&kg, &analysis, &source.filter, json, &mut out)?;
        }
        GraphCommand::Centrality {
            source,
            betweenness,
            sort,
            limit,
            json,
            write_back,
        } => {
            let (store, kg) = open_for(&source, write_back)?;
            let analysis = Analysis::compute(
                &kg,
                Betweenness::from_samples(betweenness.betweenness_samples),
            );
            centrality(&kg, &analysis, sort, limit, json, &mut out)?;
            if write_back {
                let quads = write_back_analytics(&store, &kg, &analysis)?;
                eprintln!("jindu graph: wrote {quads} quads into <{ANALYTICS_GRAPH}>");
            }
        }
        GraphCommand::Components {
            source,
            limit,
            json,
        } => {
            let store = open_store(&source.store)?;
            let kg = load(&source, &store, EvidenceDetail::Articles)?;
            let analysis = Analysis::compute(&kg, Betweenness::Skip);
            groups(
                &kg,
                &analysis,
                &analysis.component,
                ("component", "components"),
                limit,
                json,
                &mut out,
            )?;
        }
        GraphCommand::Communities {
            source,
            limit,
            json,
            write_back,
        } => {
            let (store, kg) = open_for(&source, write_back)?;
            let mode = if write_back {
                Betweenness::Auto
            } else {
                Betweenness::Skip
            };
            let analysis = Analysis::compute(&kg, mode);
            groups(
                &kg,
                &analysis,
                &analysis.community,
                ("community", "communities"),
                limit,
                json,
                &mut out,
            )?;
            if !json {
                writeln!(out, "modularity: {:.4}", analysis.modularity)?;
            }
            if write_back {
                let quads = write_back_analytics(&store, &kg, &analysis)?;
                eprintln!("jindu graph: wrote {quads} quads into <{ANALYTICS_GRAPH}>");
            }
        }
        GraphCommand::Path {
            from,
            to,
            source,
            sentences,
            json,
        } => {
            let store = open_store(&source.store)?;
            let mut kg = load(&source, &store, EvidenceDetail::Articles)?;
            path(&mut kg, &store, &from, &to, sentences, json, &mut out)?;
        }
        GraphCommand::Neighbours {
            name,
            hops,
            source,
            json,
        } => {
            let store = open_store(&source.store)?;
            let kg = load(&source, &store, EvidenceDetail::Articles)?;
            neighbours(&kg, &name, hops, json, &mut out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Opens the store (read-write for `--write-back`, which refuses filters:
/// the stored scores describe the whole graph) and loads the graph.
fn open_for(source: &GraphSource, write_back: bool) -> Result<(Store, KnowledgeGraph)> {
    if !write_back {
        let store = open_store(&source.store)?;
        let kg = load(source, &store, EvidenceDetail::Articles)?;
        return Ok((store, kg));
    }
    if !source.filter.is_empty() {
        bail!(
            "--write-back stores the analytics of the whole graph: drop the filters ({})",
            source.filter.describe()
        );
    }
    if !source.store.exists() {
        bail!(
            "no store at {}: run `jindu build` first (or give --store)",
            source.store.display()
        );
    }
    let store = Store::open(&source.store)
        .with_context(|| format!("cannot open the store at {}", source.store.display()))?;
    let kg = load(source, &store, EvidenceDetail::Articles)?;
    Ok((store, kg))
}

pub fn run_export(args: ExportArgs) -> Result<()> {
    let started = Instant::now();
    let store = open_store(&args.source.store)?;
    // Node-link, Cytoscape.js and DOT leave the sentences out; GraphML,
    // GEXF and Neo4j keep the first of each edge, the viewer the first
    // --evidence-limit.
    let detail = match args.format {
        ExportFormat::NodeLink | ExportFormat::Cytoscape | ExportFormat::Dot => {
            EvidenceDetail::Articles
        }
        ExportFormat::Graphml | ExportFormat::Gexf | ExportFormat::Neo4j => {
            EvidenceDetail::First(1)
        }
        _ => EvidenceDetail::First(args.evidence_limit),
    };
    // The records are read while the edges are written, one subject at a
    // time, rather than held for every edge from the load on.
    let kg = load_with(&args.source, &store, detail, true)?;
    let deferred = match detail {
        EvidenceDetail::First(n) => Some(DeferredEvidence::new(
            &store,
            n,
            args.source.filter.drug_articles,
        )?),
        _ => None,
    };
    let analysis = Analysis::compute(
        &kg,
        Betweenness::from_samples(args.betweenness.betweenness_samples),
    );
    let ctx = ExportContext {
        graph: &kg,
        analysis: &analysis,
        filters: args.source.filter.describe(),
        title: args.title.clone(),
        evidence_limit: args.evidence_limit,
        cluster: args.cluster,
        deferred: deferred.as_ref(),
    };
    let written = export(args.format, &ctx, args.output.as_deref())?;
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    eprintln!(
        "jindu export: {} nodes, {} edges{} ({:.2}s)",
        kg.graph.node_count(),
        kg.graph.edge_count(),
        if names.is_empty() {
            String::new()
        } else {
            format!(" → {}", names.join(", "))
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn stats(
    kg: &KnowledgeGraph,
    analysis: &Analysis,
    filter: &GraphFilter,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let g = &kg.graph;
    let classes: Vec<(&str, usize)> = EntityClass::ALL
        .iter()
        .map(|&c| (c.name(), g.node_weights().filter(|n| n.class == c).count()))
        .collect();
    let relations: Vec<(&str, usize)> = Property::ALL
        .iter()
        .map(|&p| {
            (
                p.name(),
                g.edge_weights().filter(|e| e.property == p).count(),
            )
        })
        .collect();
    let components = analysis.component.iter().max().map_or(0, |m| m + 1);
    let communities = analysis.community.iter().max().map_or(0, |m| m + 1);
    let largest = analysis.component.iter().filter(|&&c| c == 0).count();
    if json {
        let value = json!({
            "nodes": g.node_count(),
            "edges": g.edge_count(),
            "classes": classes.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "relations": relations.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "components": components,
            "largestComponent": largest,
            "communities": communities,
            "modularity": analysis.modularity,
            "filters": filter.describe(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = vec![
        vec!["nodes".into(), g.node_count().to_string()],
        vec!["edges".into(), g.edge_count().to_string()],
    ];
    rows.extend(
        classes
            .iter()
            .map(|(k, v)| vec![format!("class {k}"), v.to_string()]),
    );
    rows.extend(
        relations
            .iter()
            .map(|(k, v)| vec![format!("relation {k}"), v.to_string()]),
    );
    rows.push(vec!["components".into(), components.to_string()]);
    rows.push(vec!["largest component".into(), largest.to_string()]);
    rows.push(vec![
        "communities (Louvain)".into(),
        communities.to_string(),
    ]);
    rows.push(vec![
        "modularity".into(),
        format!("{:.4}", analysis.modularity),
    ]);
    write_table(out, &["what".into(), "count".into()], &rows)?;
    if !filter.is_empty() {
        writeln!(out, "filters: {}", filter.describe())?;
    }
    Ok(())
}

fn centrality(
    kg: &KnowledgeGraph,
    a: &Analysis,
    sort: SortKey,
    limit: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let g = &kg.graph;
    let score = |i: usize| -> f64 {
        match sort {
            SortKey::Pagerank => a.pagerank[i],
            SortKey::Degree => a.degree[i] as f64,
            SortKey::WeightedDegree => a.weighted_degree[i] as f64,
            SortKey::Betweenness => a.betweenness[i],
        }
    };
    let mut order: Vec<NodeIndex> = g.node_indices().collect();
    order.sort_by(|&x, &y| {
        score(y.index())
            .total_cmp(&score(x.index()))
            .then_with(|| g[x].label.cmp(&g[y].label))
            .then_with(|| g[x].iri.cmp(&g[y].iri))
    });
    if limit > 0 {
        order.truncate(limit);
    }
    if json {
        let rows: Vec<serde_json::Value> = order
            .iter()
            .map(|&n| {
                let i = n.index();
                json!({
                    "iri": g[n].iri,
                    "label": g[n].label,
                    "class": g[n].class.name(),
                    "degree": a.degree[i],
                    "weightedDegree": a.weighted_degree[i],
                    "pagerank": a.pagerank[i],
                    "betweenness": a.betweenness[i],
                    "community": a.community[i],
                    "component": a.component[i],
                })
            })
            .collect();
        let value = json!({
            "nodes": g.node_count(),
            "edges": g.edge_count(),
            "betweenness": a.betweenness_method,
            "modularity": a.modularity,
            "entities": rows,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    let header: Vec<String> = [
        "label",
        "class",
        "degree",
        "weighted",
        "pagerank",
        "betweenness",
        "community",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|&n| {
            let i = n.index();
            vec![
                g[n].label.clone(),
                g[n].class.name().to_string(),
                a.degree[i].to_string(),
                a.weighted_degree[i].to_string(),
                format!("{:.5}", a.pagerank[i]),
                format!("{:.5}", a.betweenness[i]),
                a.community[i].to_string(),
            ]
        })
        .collect();
    write_table(out, &header, &rows)?;
    writeln!(
        out,
        "{} nodes, {} edges; betweenness {}",
        g.node_count(),
        g.edge_count(),
        a.betweenness_method
    )?;
    Ok(())
}

/// Prints components or communities: id, size, and the best-ranked members.
fn groups(
    kg: &KnowledgeGraph,
    a: &Analysis,
    membership: &[usize],
    (what, plural): (&str, &str),
    limit: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let g = &kg.graph;
    let count = membership.iter().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<NodeIndex>> = vec![Vec::new(); count];
    for n in g.node_indices() {
        members[membership[n.index()]].push(n);
    }
    for group in members.iter_mut() {
        group.sort_by(|&x, &y| {
            a.pagerank[y.index()]
                .total_cmp(&a.pagerank[x.index()])
                .then_with(|| g[x].label.cmp(&g[y].label))
        });
    }
    let shown = if limit == 0 { count } else { limit.min(count) };
    if json {
        let list: Vec<serde_json::Value> = members
            .iter()
            .take(shown)
            .enumerate()
            .map(|(id, group)| {
                json!({
                    "id": id,
                    "size": group.len(),
                    "members": group.iter().map(|&n| json!({"iri": g[n].iri, "label": g[n].label, "class": g[n].class.name()})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let value = json!({ "count": count, "modularity": a.modularity, (plural): list });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = members
        .iter()
        .take(shown)
        .enumerate()
        .map(|(id, group)| {
            let names: Vec<&str> = group.iter().take(6).map(|&n| g[n].label.as_str()).collect();
            let more = if group.len() > 6 { " …" } else { "" };
            vec![
                id.to_string(),
                group.len().to_string(),
                format!("{}{more}", names.join("、")),
            ]
        })
        .collect();
    write_table(
        out,
        &[
            what.to_string(),
            "size".into(),
            "members (by PageRank)".into(),
        ],
        &rows,
    )?;
    writeln!(out, "{count} {plural}")?;
    Ok(())
}

fn path(
    kg: &mut KnowledgeGraph,
    store: &Store,
    from: &str,
    to: &str,
    sentences: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let a = kg.find(from, None)?;
    let b = kg.find(to, None)?;
    let Some(nodes) = shortest_path(kg, a, b) else {
        bail!(
            "no path between {} and {} (they are in different components)",
            kg.describe(a),
            kg.describe(b)
        );
    };
    let mut step_ids = Vec::new();
    for pair in nodes.windows(2) {
        let (x, y) = (pair[0], pair[1]);
        // The best-supported relation between the two, either direction.
        let edge = kg
            .graph
            .edges_connecting(x, y)
            .chain(kg.graph.edges_connecting(y, x))
            .max_by(|p, q| {
                p.weight()
                    .support
                    .cmp(&q.weight().support)
                    .then_with(|| q.weight().property.name().cmp(p.weight().property.name()))
            })
            .context("a path step without a relation")?;
        step_ids.push(edge.id());
    }
    // The graph was read without sentences; fetch those of the path only.
    for &e in &step_ids {
        kg.load_evidence(store, e)?;
    }
    let g = &kg.graph;
    let steps: Vec<_> = step_ids
        .iter()
        .map(|&e| {
            let (s, t) = g.edge_endpoints(e).expect("a path edge");
            (s, t, &g[e])
        })
        .collect();
    if json {
        let value = json!({
            "from": g[a].iri,
            "to": g[b].iri,
            "length": steps.len(),
            "nodes": nodes.iter().map(|&n| json!({"iri": g[n].iri, "label": g[n].label, "class": g[n].class.name()})).collect::<Vec<_>>(),
            "edges": steps.iter().map(|(s, t, edge)| json!({
                "source": g[*s].iri,
                "target": g[*t].iri,
                "property": edge.property.name(),
                "support": edge.support,
                "evidence": edge.evidence.iter().take(sentences.max(1)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} → {}: {} step{}",
        g[a].label,
        g[b].label,
        steps.len(),
        if steps.len() == 1 { "" } else { "s" }
    )?;
    for (i, (s, t, edge)) in steps.iter().enumerate() {
        writeln!(
            out,
            "{}. {} —{}→ {}   (support {})",
            i + 1,
            g[*s].label,
            edge.property.name(),
            g[*t].label,
            edge.support
        )?;
        if edge.evidence.is_empty() {
            writeln!(
                out,
                "     (no sentence: implied, by the region gazetteer or a loaded file)"
            )?;
        }
        for ev in edge.evidence.iter().take(sentences) {
            writeln!(out, "     “{}”", ev.sentence)?;
            writeln!(
                out,
                "     {} [{}..{}] <{}> rule {}",
                ev.file, ev.start, ev.end, ev.article, ev.rule
            )?;
        }
    }
    Ok(())
}

fn neighbours(
    kg: &KnowledgeGraph,
    name: &str,
    hops: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let g = &kg.graph;
    let start = kg.find(name, None)?;
    let found = neighbourhood(kg, start, hops);
    // The relation that reached each node from its predecessor.
    let via = |n: NodeIndex, from: NodeIndex| -> String {
        g.edges_connecting(from, n)
            .map(|e| format!("{} →", e.weight().property.name()))
            .chain(
                g.edges_connecting(n, from)
                    .map(|e| format!("← {}", e.weight().property.name())),
            )
            .collect::<Vec<_>>()
            .join(", ")
    };
    if json {
        let list: Vec<serde_json::Value> = found
            .iter()
            .map(|&(n, d, from)| {
                json!({
                    "iri": g[n].iri,
                    "label": g[n].label,
                    "class": g[n].class.name(),
                    "hops": d,
                    "from": from.map(|f| g[f].iri.clone()),
                    "via": from.map(|f| via(n, f)),
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(
                &json!({"center": g[start].iri, "hops": hops, "entities": list})
            )?
        )?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .skip(1)
        .map(|&(n, d, from)| {
            let from = from.expect("every reached node has a predecessor");
            vec![
                d.to_string(),
                g[n].label.clone(),
                g[n].class.name().to_string(),
                format!("{} {}", g[from].label, via(n, from)),
            ]
        })
        .collect();
    writeln!(
        out,
        "{} ({}) within {hops} hop(s):",
        g[start].label,
        g[start].class.name()
    )?;
    write_table(
        out,
        &[
            "hops".into(),
            "label".into(),
            "class".into(),
            "reached from".into(),
        ],
        &rows,
    )?;
    writeln!(out, "{} entities", rows.len())?;
    Ok(())
}

/// Replaces the analytics graph with the scores of every entity:
/// `jd:degree`, `jd:weightedDegree`, `jd:pageRank`, `jd:betweenness`,
/// `jd:community`, `jd:component`. One transaction: readers see the old or
/// the new scores, never a mix. Returns the number of quads written.
pub fn write_back_analytics(store: &Store, kg: &KnowledgeGraph, a: &Analysis) -> Result<usize> {
    let graph = GraphName::NamedNode(NamedNode::new_unchecked(ANALYTICS_GRAPH));
    let integer = |n: usize| Literal::new_typed_literal(n.to_string(), xsd::INTEGER);
    let double = |x: f64| Literal::new_typed_literal(format!("{x:e}"), xsd::DOUBLE);
    let mut quads = Vec::with_capacity(kg.graph.node_count() * 6);
    for n in kg.graph.node_indices() {
        let i = n.index();
        let subject = NamedNode::new(kg.graph[n].iri.clone())
            .with_context(|| format!("bad IRI {}", kg.graph[n].iri))?;
        let mut add = |property: &str, value: Literal| {
            quads.push(Quad::new(
                subject.clone(),
                jd(property),
                value,
                graph.clone(),
            ));
        };
        add("degree", integer(a.degree[i]));
        add("weightedDegree", integer(a.weighted_degree[i]));
        add("pageRank", double(a.pagerank[i]));
        add("betweenness", double(a.betweenness[i]));
        add("community", integer(a.community[i]));
        add("component", integer(a.component[i]));
    }
    let mut transaction = store
        .start_transaction()
        .context("cannot write to the store")?;
    transaction
        .clear_graph(graph.as_ref())
        .context("cannot clear the analytics graph")?;
    for quad in &quads {
        transaction.insert(quad.as_ref());
    }
    transaction
        .commit()
        .context("cannot commit the analytics")?;
    store.flush().context("cannot flush the store")?;
    Ok(quads.len())
}
