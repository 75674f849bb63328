//! jindu: a knowledge-graph builder for Chinese news about anti-drug work.
//!
//! The data moves one way, one module a stage:
//! [`read`] (files → decoded sources) → [`clean`] (OCR repair, offsets map)
//! → [`article`] (pages → articles and sentences) → [`mention`] (dictionary
//! and pattern hits, driven by [`lexicon`]) → [`resolve`] (canonical
//! entities, relations, statistics) → [`model`] (the knowledge, independent
//! of any sink) → sinks: [`graph`] (petgraph) and [`rdf`] (Oxigraph store)
//! → [`query`] (stored SPARQL) and the `jindu` command line. The graph
//! commands read a built store back into [`graph`], narrow it with
//! [`filter`], score it with [`analytics`] and write it out with [`export`]
//! ([`graph_cli`] holds their command line).

pub mod analytics;
pub mod article;
pub mod clean;
pub mod corpus;
pub mod eval;
pub mod export;
pub mod filter;
pub mod graph;
pub mod graph_cli;
pub mod lexicon;
pub mod mention;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod query;
pub mod rdf;
pub mod read;
pub mod resolve;
pub mod shacl;
pub mod summary;
pub mod sync;
