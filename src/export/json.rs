//! The JSON exports: Cytoscape.js elements, node-link (D3, sigma.js,
//! networkx) and the viewer JSON, plus the self-contained HTML page that
//! embeds the viewer JSON.
//!
//! Each element is serialised on its own (serde_json) and streamed, so a
//! big graph is never held as one string. Floats are written by serde_json
//! (shortest round-trip form), which is deterministic.

use std::io::Write;

use anyhow::{Context, Result, bail};
use petgraph::graph::EdgeIndex;
use petgraph::visit::EdgeRef;
use serde::Serialize;
use serde_json::json;

use super::{ExportContext, class_color, class_label_zh, generator};
use crate::graph::EdgeEvidence;
use crate::model::EntityClass;

/// The page template (from the viewer work); it holds the placeholder below
/// inside a `<script>` tag.
const VIEWER_TEMPLATE: &str = include_str!("../../assets/viewer.html");
const PLACEHOLDER: &str = "/*JINDU_GRAPH_DATA*/null";

/// Writes a sequence of values as a JSON array, one element a line.
fn write_array<T: Serialize>(
    out: &mut dyn Write,
    items: impl Iterator<Item = Result<T>>,
    indent: &str,
) -> Result<()> {
    out.write_all(b"[")?;
    let mut first = true;
    for item in items {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write!(out, "\n{indent}  ")?;
        serde_json::to_writer(&mut *out, &item?)?;
    }
    if !first {
        write!(out, "\n{indent}")?;
    }
    out.write_all(b"]")?;
    Ok(())
}

/// A node with its names, class, regions and analytics, as node-link and
/// the viewer write it (object keys come out sorted).
fn node_json(ctx: &ExportContext<'_>, n: petgraph::graph::NodeIndex) -> serde_json::Value {
    let node = &ctx.graph.graph[n];
    let a = ctx.analysis;
    let i = n.index();
    json!({
        "id": node.iri,
        "label": node.label,
        "class": node.class.name(),
        "altLabels": node.alt_labels,
        "regions": node.regions,
        "mentions": node.mentions,
        "degree": a.degree[i],
        "weightedDegree": a.weighted_degree[i],
        "pagerank": a.pagerank[i],
        "betweenness": a.betweenness[i],
        "community": a.community[i],
    })
}

fn edge_id(e: EdgeIndex) -> String {
    format!("e{}", e.index())
}

/// Cytoscape.js: `{"elements": {"nodes": [{"data": …, "classes": "Agency"}],
/// "edges": [{"data": …, "classes": "locatedIn"}]}}` (schema in
/// `docs/schemas/cytoscape.schema.json`).
pub(super) fn write_cytoscape(ctx: &ExportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let g = &ctx.graph.graph;
    write!(
        out,
        "{{\n  \"data\": {},\n  \"elements\": {{\n    \"nodes\": ",
        json!({"generator": generator(), "title": ctx.title, "filters": ctx.filters})
    )?;
    write_array(
        out,
        g.node_indices()
            .map(|n| {
                let node = &g[n];
                let mut data = node_json(ctx, n);
                data["iri"] = json!(node.iri);
                data["color"] = json!(class_color(node.class));
                json!({
                    "data": data,
                    "classes": node.class.name(),
                })
            })
            .map(Ok),
        "    ",
    )?;
    out.write_all(b",\n    \"edges\": ")?;
    write_array(
        out,
        g.edge_references()
            .map(|e| {
                let edge = e.weight();
                json!({
                    "data": {
                        "id": edge_id(e.id()),
                        "source": g[e.source()].iri,
                        "target": g[e.target()].iri,
                        "property": edge.property.name(),
                        "label": edge.property.name(),
                        "support": edge.support,
                    },
                    "classes": edge.property.name(),
                })
            })
            .map(Ok),
        "    ",
    )?;
    out.write_all(b"\n  }\n}\n")?;
    Ok(())
}

/// Node-link JSON as networkx 3.6's `node_link_data` writes it: the links
/// under `"edges"` (networkx 3.6's default; networkx 3.4 and 3.5 read it
/// with `node_link_graph(data, edges="edges")`; D3 code reads `data.edges`),
/// each with `source`, `target` and a `key` (the edge id), since the graph
/// is a directed multigraph.
pub(super) fn write_node_link(ctx: &ExportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let g = &ctx.graph.graph;
    write!(
        out,
        "{{\n  \"directed\": true,\n  \"multigraph\": true,\n  \"graph\": {},\n  \"nodes\": ",
        json!({"name": ctx.title, "generator": generator(), "filters": ctx.filters})
    )?;
    write_array(
        out,
        g.node_indices()
            .map(|n| {
                let mut value = node_json(ctx, n);
                value["color"] = json!(class_color(g[n].class));
                value
            })
            .map(Ok),
        "  ",
    )?;
    out.write_all(b",\n  \"edges\": ")?;
    write_array(
        out,
        g.edge_references()
            .map(|e| {
                let edge = e.weight();
                json!({
                    "source": g[e.source()].iri,
                    "target": g[e.target()].iri,
                    "key": edge_id(e.id()),
                    "property": edge.property.name(),
                    "support": edge.support,
                })
            })
            .map(Ok),
        "  ",
    )?;
    out.write_all(b"\n}\n")?;
    Ok(())
}

#[derive(Serialize)]
struct ViewerEvidence<'a> {
    sentence: &'a str,
    file: &'a str,
    article: &'a str,
    start: usize,
    end: usize,
    rule: &'a str,
}

impl<'a> From<&'a EdgeEvidence> for ViewerEvidence<'a> {
    fn from(ev: &'a EdgeEvidence) -> Self {
        ViewerEvidence {
            sentence: &ev.sentence,
            file: &ev.file,
            article: &ev.article,
            start: ev.start,
            end: ev.end,
            rule: &ev.rule,
        }
    }
}

/// The viewer JSON (`docs/schemas/viewer.schema.json`): meta, classes,
/// nodes, and edges with at most `ctx.evidence_limit` sentences each (the
/// first by file and offset; `meta.evidenceLimit` and
/// `meta.edgesWithMoreEvidence` say so). No layout is precomputed, so
/// nodes carry no `x`/`y`.
pub fn write_viewer_json(ctx: &ExportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let g = &ctx.graph.graph;
    let a = ctx.analysis;
    let truncated = g
        .edge_weights()
        .filter(|e| e.evidence_total.unwrap_or(e.evidence.len()) > ctx.evidence_limit)
        .count();
    let meta = json!({
        "title": ctx.title,
        "generator": generator(),
        "nodeCount": g.node_count(),
        "edgeCount": g.edge_count(),
        "filters": ctx.filters,
        "evidenceLimit": ctx.evidence_limit,
        "edgesWithMoreEvidence": truncated,
        "betweenness": a.betweenness_method,
    });
    let classes: serde_json::Map<String, serde_json::Value> = EntityClass::ALL
        .iter()
        .map(|&c| {
            (
                c.name().to_string(),
                json!({"label": class_label_zh(c), "color": class_color(c)}),
            )
        })
        .collect();
    write!(
        out,
        "{{\n\"meta\": {},\n\"classes\": {},\n\"nodes\": ",
        meta,
        serde_json::Value::Object(classes)
    )?;
    write_array(out, g.node_indices().map(|n| Ok(node_json(ctx, n))), "")?;
    out.write_all(b",\n\"edges\": ")?;
    write_array(
        out,
        g.edge_references().map(|e| {
            let edge = e.weight();
            let records = ctx.evidence(e.id())?;
            let evidence: Vec<ViewerEvidence> = records
                .iter()
                .take(ctx.evidence_limit)
                .map(ViewerEvidence::from)
                .collect();
            Ok(json!({
                "id": edge_id(e.id()),
                "source": g[e.source()].iri,
                "target": g[e.target()].iri,
                "property": edge.property.name(),
                "support": edge.support,
                "evidence": evidence,
            }))
        }),
        "",
    )?;
    out.write_all(b"\n}\n")?;
    Ok(())
}

/// The viewer JSON as a value (for tests and small graphs).
pub fn viewer_json(ctx: &ExportContext<'_>) -> Result<serde_json::Value> {
    let mut buffer = Vec::new();
    write_viewer_json(ctx, &mut buffer)?;
    serde_json::from_slice(&buffer).context("the viewer JSON does not parse")
}

/// Passes bytes through, writing `<` as `\u003c`: inside a `<script>` the
/// JSON can then hold `</script>` or `<!--` in its strings without ending
/// the script. (`<` only occurs inside JSON strings, where the escape means
/// the same character.)
struct ScriptSafe<'a> {
    inner: &'a mut dyn Write,
}

impl Write for ScriptSafe<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = rest.iter().position(|&b| b == b'<') {
            self.inner.write_all(&rest[..at])?;
            self.inner.write_all(b"\\u003c")?;
            rest = &rest[at + 1..];
        }
        self.inner.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The viewer page with the viewer JSON in place of the placeholder.
pub(super) fn write_html(ctx: &ExportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let Some((before, after)) = VIEWER_TEMPLATE.split_once(PLACEHOLDER) else {
        bail!("the embedded viewer template has no {PLACEHOLDER} placeholder");
    };
    out.write_all(before.as_bytes())?;
    write_viewer_json(ctx, &mut ScriptSafe { inner: out })?;
    out.write_all(after.as_bytes())?;
    Ok(())
}
