//! jindu: a knowledge-graph builder for Chinese news about anti-drug work.
//!
//! The data moves one way, one module a stage:
//! [`read`] (files → decoded sources) → [`clean`] (OCR repair, offsets map)
//! → [`article`] (pages → articles and sentences) → [`mention`] (dictionary
//! and pattern hits, driven by [`lexicon`]; [`period`] reads the periods
//! of figures) → [`resolve`] (canonical
//! entities, relations, statistics) → [`model`] (the knowledge, independent
//! of any sink) → sinks: [`graph`] (petgraph) and [`rdf`] (Oxigraph store;
//! [`sync`] keeps it in step with the corpus, [`summary`], [`rollup`] and
//! [`agency_counts`] keep the totals the queries read) → [`query`] (stored SPARQL) and the `jindu`
//! command line. The graph
//! commands read a built store back into [`graph`], narrow it with
//! [`filter`], score it with [`analytics`] and write it out with [`export`]
//! ([`graph_cli`] holds their command line).

pub mod agency_counts;
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
pub mod period;
pub mod pipeline;
pub mod progress;
pub mod query;
pub mod rdf;
pub mod read;
pub mod resolve;
pub mod rollup;
pub mod shacl;
pub mod summary;
pub mod sync;

/// Helpers shared by the unit tests of several stages.
#[cfg(test)]
pub(crate) mod testing {
    /// `count` texts of up to `max_len - 1` chars drawn from `alphabet` by
    /// a xorshift generator from `seed`: the same texts on every run, for
    /// tests that hold a fast scan to a plain one.
    pub(crate) fn random_texts(
        alphabet: &[char],
        max_len: u64,
        seed: u64,
        count: usize,
    ) -> Vec<String> {
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let len = next() % max_len;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    /// `count` texts of up to `max_len - 1` pieces drawn from `pieces` as
    /// [`random_texts`] draws chars: for patterns whose parts are longer
    /// than one char (a year, a quoted code, a word).
    pub(crate) fn random_piece_texts(
        pieces: &[&str],
        max_len: u64,
        seed: u64,
        count: usize,
    ) -> Vec<String> {
        // Each piece stands in as the char at its place from 'A' on.
        let alphabet: Vec<char> = (0..pieces.len() as u32)
            .map(|i| char::from_u32(0x41 + i).expect("a char"))
            .collect();
        random_texts(&alphabet, max_len, seed, count)
            .iter()
            .map(|t| t.chars().map(|c| pieces[c as usize - 0x41]).collect())
            .collect()
    }
}
