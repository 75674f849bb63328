//! Exports of the petgraph view for other tools.
//!
//! In: a (filtered) [`KnowledgeGraph`] with its [`Analysis`]. Out: a file
//! (or, for Neo4j, a folder) in one of the [`ExportFormat`]s, streamed
//! through a buffered writer. Every format uses the store's IRIs as node ids
//! and its labels as names, the same colour per class, and is
//! byte-identical from one run to the next (no dates, no hash-map order).

mod dot;
mod gexf;
mod graphml;
mod json;
mod neo4j;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use std::borrow::Cow;

use petgraph::graph::EdgeIndex;

use crate::analytics::Analysis;
use crate::graph::{DeferredEvidence, EdgeEvidence, KnowledgeGraph};
use crate::model::EntityClass;

pub use json::{viewer_json, write_viewer_json};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// GraphML with yEd's node graphics (yEd, Cytoscape, Gephi, networkx).
    Graphml,
    /// GEXF 1.3 with colours and sizes (Gephi).
    Gexf,
    /// Graphviz DOT, clustered by region or community (dot, neato, sfdp).
    Dot,
    /// Cytoscape.js elements JSON.
    Cytoscape,
    /// Node-link JSON (D3, sigma.js, networkx's node_link_graph).
    NodeLink,
    /// CSV files for `neo4j-admin database import full` (-o is a folder).
    Neo4j,
    /// One self-contained HTML page with the interactive viewer.
    Html,
    /// The JSON the HTML viewer embeds.
    ViewerJson,
}

/// How the DOT export groups nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Cluster {
    /// One cluster per top-level region (province); nodes without a region
    /// stay outside.
    #[default]
    Region,
    /// One cluster per Louvain community of two or more nodes.
    Community,
    /// No clusters.
    None,
}

/// What every writer reads.
pub struct ExportContext<'a> {
    pub graph: &'a KnowledgeGraph,
    pub analysis: &'a Analysis,
    /// The filters as text (`none` when the whole graph is exported).
    pub filters: String,
    pub title: String,
    /// At most this many evidence sentences per edge in the viewer JSON.
    pub evidence_limit: usize,
    pub cluster: Cluster,
    /// Reads the records of edges loaded without them (see
    /// [`crate::graph::LoadOptions::defer_evidence`]).
    pub deferred: Option<&'a DeferredEvidence<'a>>,
}

impl ExportContext<'_> {
    /// The evidence of an edge: read now when its load deferred it.
    fn evidence(&self, e: EdgeIndex) -> Result<Cow<'_, [EdgeEvidence]>> {
        match self.deferred {
            Some(deferred) => deferred.records(self.graph, e),
            None => Ok(Cow::Borrowed(&self.graph.graph[e].evidence)),
        }
    }

    /// The first evidence sentence of an edge (empty without evidence), as
    /// GraphML, GEXF and Neo4j write it, with its file.
    fn first_sentence(&self, e: EdgeIndex) -> Result<(String, String)> {
        Ok(self
            .evidence(e)?
            .first()
            .map(|ev| (ev.sentence.clone(), ev.file.clone()))
            .unwrap_or_default())
    }
}

/// The fixed palette: one colour per class, shared by every format.
pub fn class_color(class: EntityClass) -> &'static str {
    match class {
        EntityClass::Agency => "#1f77b4",
        EntityClass::Region => "#2ca02c",
        EntityClass::Campaign => "#ff7f0e",
        EntityClass::Case => "#d62728",
        EntityClass::Drug => "#9467bd",
    }
}

/// The class's Chinese name, for legends.
pub fn class_label_zh(class: EntityClass) -> &'static str {
    match class {
        EntityClass::Agency => "机构",
        EntityClass::Region => "地区",
        EntityClass::Campaign => "专项行动",
        EntityClass::Case => "案件",
        EntityClass::Drug => "毒品",
    }
}

/// `#rrggbb` → (r, g, b).
fn rgb(hex: &str) -> (u8, u8, u8) {
    let part = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    (part(1), part(3), part(5))
}

/// The name of this generator, `jindu <version>`.
pub fn generator() -> String {
    format!("jindu {}", env!("CARGO_PKG_VERSION"))
}

/// Replaces the characters XML 1.0 forbids (control characters other than
/// tab and line breaks, U+FFFE, U+FFFF) with U+FFFD, so OCR debris cannot
/// make a file unreadable.
fn xml_text(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if text.chars().any(bad) {
        text.chars()
            .map(|c| if bad(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// Writes the export. `output` is a file (stdout when None), or a folder
/// for [`ExportFormat::Neo4j`]. Returns the paths written.
pub fn export(
    format: ExportFormat,
    ctx: &ExportContext<'_>,
    output: Option<&Path>,
) -> Result<Vec<std::path::PathBuf>> {
    if format == ExportFormat::Neo4j {
        let Some(dir) = output else {
            bail!("the neo4j export writes several files: give a folder with -o");
        };
        return neo4j::write_neo4j(ctx, dir);
    }
    let mut sink: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        ExportFormat::Graphml => graphml::write_graphml(ctx, &mut sink)?,
        ExportFormat::Gexf => gexf::write_gexf(ctx, &mut sink)?,
        ExportFormat::Dot => dot::write_dot(ctx, &mut sink)?,
        ExportFormat::Cytoscape => json::write_cytoscape(ctx, &mut sink)?,
        ExportFormat::NodeLink => json::write_node_link(ctx, &mut sink)?,
        ExportFormat::ViewerJson => json::write_viewer_json(ctx, &mut sink)?,
        ExportFormat::Html => json::write_html(ctx, &mut sink)?,
        ExportFormat::Neo4j => unreachable!("handled above"),
    }
    sink.flush().context("cannot write the export")?;
    Ok(output.map(|p| p.to_path_buf()).into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::Betweenness;
    use crate::graph::tests::{entity, evidence, knowledge_with_articles};
    use crate::model::Property;

    fn sample() -> KnowledgeGraph {
        let mut kn = knowledge_with_articles(2);
        let a = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let r = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let c = kn.upsert_entity(entity(EntityClass::Campaign, "清源断流\"</script>"));
        kn.upsert_entity(entity(EntityClass::Drug, "冰毒"));
        kn.add_relation(a.clone(), Property::LocatedIn, r, Some(evidence(0)));
        kn.add_relation(a, Property::ParticipatesIn, c, Some(evidence(1)));
        KnowledgeGraph::build(&kn)
    }

    fn render(format: ExportFormat, kg: &KnowledgeGraph) -> String {
        let analysis = Analysis::compute(kg, Betweenness::Auto);
        let ctx = ExportContext {
            graph: kg,
            analysis: &analysis,
            filters: "none".into(),
            title: "test".into(),
            evidence_limit: 5,
            cluster: Cluster::Region,
            deferred: None,
        };
        let mut out = Vec::new();
        match format {
            ExportFormat::Graphml => graphml::write_graphml(&ctx, &mut out).unwrap(),
            ExportFormat::Gexf => gexf::write_gexf(&ctx, &mut out).unwrap(),
            ExportFormat::Dot => dot::write_dot(&ctx, &mut out).unwrap(),
            ExportFormat::Cytoscape => json::write_cytoscape(&ctx, &mut out).unwrap(),
            ExportFormat::NodeLink => json::write_node_link(&ctx, &mut out).unwrap(),
            ExportFormat::ViewerJson => json::write_viewer_json(&ctx, &mut out).unwrap(),
            ExportFormat::Html => json::write_html(&ctx, &mut out).unwrap(),
            ExportFormat::Neo4j => unreachable!(),
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_format_names_the_entities_and_escapes_quotes() {
        let kg = sample();
        for format in [
            ExportFormat::Graphml,
            ExportFormat::Gexf,
            ExportFormat::Dot,
            ExportFormat::Cytoscape,
            ExportFormat::NodeLink,
            ExportFormat::ViewerJson,
            ExportFormat::Html,
        ] {
            let text = render(format, &kg);
            assert!(text.contains("开鲁县公安局"), "{format:?}");
            assert!(
                !text.contains("清源断流\"</script>"),
                "{format:?}: raw quote"
            );
            assert_eq!(text, render(format, &kg), "{format:?} is not deterministic");
        }
        let html = render(ExportFormat::Html, &kg);
        assert!(!html.contains("/*JINDU_GRAPH_DATA*/"));
        // The data adds no closing tag of its own to the template's.
        assert_eq!(
            html.matches("</script>").count(),
            include_str!("../../assets/viewer.html")
                .matches("</script>")
                .count()
        );
        let empty = KnowledgeGraph::default();
        for format in [ExportFormat::Graphml, ExportFormat::Gexf, ExportFormat::Dot] {
            assert!(!render(format, &empty).is_empty());
        }
        let viewer: serde_json::Value =
            serde_json::from_str(&render(ExportFormat::ViewerJson, &kg)).unwrap();
        assert_eq!(viewer["meta"]["nodeCount"], 4);
        assert_eq!(viewer["edges"][0]["evidence"][0]["file"], "test.txt");
    }

    #[test]
    fn xml_text_replaces_forbidden_characters() {
        assert_eq!(xml_text("a\u{1}b\tc"), "a\u{FFFD}b\tc");
        assert_eq!(rgb("#1f77b4"), (31, 119, 180));
    }
}
