//! CSV files for `neo4j-admin database import full`.
//!
//! `nodes.csv` has the header `id:ID,:LABEL,label,class,…` (labels
//! `Entity;Agency` …, typed columns such as `mentions:int`, `pagerank:float`,
//! `altLabels:string[]` with `;` between items) and `relationships.csv`
//! `:START_ID,:END_ID,:TYPE,…` with the property name as type. Every value
//! is quoted (`"` doubled), which neo4j-admin reads by default; empty values
//! are left empty so that no property is set. `import.sh`
//! holds the import command.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use petgraph::visit::EdgeRef;

use super::ExportContext;

const NODE_HEADER: &[&str] = &[
    "id:ID",
    ":LABEL",
    "label",
    "class",
    "altLabels:string[]",
    "regions:string[]",
    "kind",
    "adminCode",
    "mentions:int",
    "degree:int",
    "weightedDegree:int",
    "pagerank:float",
    "betweenness:float",
    "community:int",
];
const RELATIONSHIP_HEADER: &[&str] = &[
    ":START_ID",
    ":END_ID",
    ":TYPE",
    "edgeId",
    "support:int",
    "sentence",
    "file",
];

/// A quoted CSV field, or an empty unquoted one for an empty value (which
/// neo4j-admin reads as "no property" rather than an empty string or an
/// array holding one empty string). Line breaks become spaces, so the
/// import needs no `--multiline-fields`.
fn field(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let clean: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("\"{}\"", clean.replace('"', "\"\""))
}

/// An array field: items joined by `;` (a `;` inside an item becomes `；`).
fn array_field(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| i.replace(';', "；")).collect();
    field(&items.join(";"))
}

fn write_row(out: &mut dyn Write, fields: &[String]) -> Result<()> {
    out.write_all(fields.join(",").as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(path).with_context(|| {
        format!("cannot write {}", path.display())
    })?))
}

pub(super) fn write_neo4j(ctx: &ExportContext<'_>, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let g = &ctx.graph.graph;
    let a = ctx.analysis;
    let nodes_path = dir.join("nodes.csv");
    let mut nodes = create(&nodes_path)?;
    // Header names hold no comma or quote: written bare, as Neo4j's manual
    // shows them.
    write_row(
        &mut nodes,
        &NODE_HEADER
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>(),
    )?;
    for n in g.node_indices() {
        let node = &g[n];
        let i = n.index();
        write_row(
            &mut nodes,
            &[
                field(&node.iri),
                field(&format!("Entity;{}", node.class.name())),
                field(&node.label),
                field(node.class.name()),
                array_field(&node.alt_labels),
                array_field(&node.regions),
                field(node.kind.as_deref().unwrap_or("")),
                field(node.admin_code.as_deref().unwrap_or("")),
                node.mentions.to_string(),
                a.degree[i].to_string(),
                a.weighted_degree[i].to_string(),
                a.pagerank[i].to_string(),
                a.betweenness[i].to_string(),
                a.community[i].to_string(),
            ],
        )?;
    }
    nodes.flush()?;

    let relationships_path = dir.join("relationships.csv");
    let mut relationships = create(&relationships_path)?;
    write_row(
        &mut relationships,
        &RELATIONSHIP_HEADER
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>(),
    )?;
    for e in g.edge_references() {
        let edge = e.weight();
        let (sentence, file) = ctx.first_sentence(e.id())?;
        write_row(
            &mut relationships,
            &[
                field(&g[e.source()].iri),
                field(&g[e.target()].iri),
                field(edge.property.name()),
                field(&format!("e{}", e.id().index())),
                edge.support.to_string(),
                field(&sentence),
                field(&file),
            ],
        )?;
    }
    relationships.flush()?;

    let script_path = dir.join("import.sh");
    let mut script = create(&script_path)?;
    writeln!(
        script,
        "#!/bin/sh\n# Imports this folder into a Neo4j 5 database (default: neo4j), replacing it.\n# Stop the database first; create it afterwards if it is new (CREATE DATABASE).\n# The database name comes before the options (required since Neo4j 5.19).\n# Written by {}; filters: {}.\nset -e\ncd \"$(dirname \"$0\")\"\nneo4j-admin database import full \"${{1:-neo4j}}\" --nodes=nodes.csv --relationships=relationships.csv --array-delimiter=';' --overwrite-destination=true",
        super::generator(),
        ctx.filters.replace('\n', " ")
    )?;
    script.flush()?;
    drop(script);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&script_path, std::fs::Permissions::from_mode(0o755));
    }
    Ok(vec![nodes_path, relationships_path, script_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_arrays_joined() {
        assert_eq!(field("a\"b\nc"), "\"a\"\"b c\"");
        assert_eq!(array_field(&["x;y".into(), "z".into()]), "\"x；y;z\"");
        assert_eq!(array_field(&[]), "");
    }
}
