//! Criterion benchmarks of the hot stages of extraction, over the five seed
//! pages (embedded with `include_bytes!`), throughput in bytes of the input
//! of each stage:
//!
//! - `decode/utf8`, `decode/gb18030`: `read::decode` of the raw bytes;
//! - `clean`: `clean::clean` of the decoded text;
//! - `dictionary`: `mention::find_tokens` over the cleaned page;
//! - `patterns`: `find_cases`, `find_figures` and `find_quoted_campaigns` over
//!   the cleaned page;
//! - `periods`: `PeriodGrammar::all_in` over each line of the cleaned page
//!   (a paragraph; the resolver reads a sentence's periods once);
//! - `resolve`: `resolve::extract_source`, the whole page (T→S, clean,
//!   split, find, resolve);
//! - `rdf`: `rdf::knowledge_quads` of the page's knowledge (bytes: the page).
//!
//! Run with `cargo bench --bench stages` (the bench profile inherits
//! release, so RocksDB is not compiled again). Under `cargo test` each
//! benchmark runs once, as a smoke test.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use jindu::clean::clean;
use jindu::lexicon::Lexicon;
use jindu::mention::{find_cases, find_figures, find_quoted_campaigns, find_tokens};
use jindu::rdf::knowledge_quads;
use jindu::read::{Source, decode};
use jindu::resolve::extract_source;

// The allocator the `jindu` binary uses, so the figures are the shipped ones.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEEDS: &[(&str, &[u8])] = &[
    ("000", include_bytes!("../seeds/000_c263f51713171ff9.txt")),
    ("001", include_bytes!("../seeds/001_d0cbc93060d4aa0e.txt")),
    ("002", include_bytes!("../seeds/002_75639294e1420c5a.txt")),
    ("003", include_bytes!("../seeds/003_691a8e3c31940359.txt")),
    ("004", include_bytes!("../seeds/004_f783c7230155df96.txt")),
];

/// The five pages as one workload: every benchmark runs its stage over
/// each page in turn, so the figures are per corpus of five pages.
struct Pages {
    utf8: Vec<&'static [u8]>,
    gb18030: Vec<Vec<u8>>,
    text: Vec<String>,
    cleaned: Vec<String>,
    sources: Vec<Source>,
}

fn pages() -> Pages {
    let utf8: Vec<&'static [u8]> = SEEDS.iter().map(|(_, b)| *b).collect();
    let text: Vec<String> = utf8
        .iter()
        .map(|b| decode(b).expect("seed pages decode").0)
        .collect();
    let gb18030 = text
        .iter()
        .map(|t| encoding_rs::GB18030.encode(t).0.into_owned())
        .collect();
    let layout = jindu::lexicon::layout_words(&[]).expect("embedded layout words");
    let cleaned = text.iter().map(|t| clean(t, &layout).text).collect();
    let sources = SEEDS
        .iter()
        .map(|(name, b)| Source::from_bytes(&format!("{name}.txt"), b).expect("seed pages read"))
        .collect();
    Pages {
        utf8,
        gb18030,
        text,
        cleaned,
        sources,
    }
}

fn total<T: AsRef<[u8]>>(items: &[T]) -> u64 {
    items.iter().map(|i| i.as_ref().len() as u64).sum()
}

fn stages(c: &mut Criterion) {
    let lex = Lexicon::embedded().expect("the embedded lexicon loads");
    let p = pages();

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(total(&p.utf8)));
    g.bench_function(BenchmarkId::from_parameter("utf8"), |b| {
        b.iter(|| {
            for bytes in &p.utf8 {
                black_box(decode(black_box(bytes)).expect("decodes"));
            }
        })
    });
    g.throughput(Throughput::Bytes(total(&p.gb18030)));
    g.bench_function(BenchmarkId::from_parameter("gb18030"), |b| {
        b.iter(|| {
            for bytes in &p.gb18030 {
                let (_, encoding) = decode(black_box(bytes)).expect("decodes");
                assert!(encoding.eq_ignore_ascii_case("gb18030"), "{encoding}");
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Bytes(total(&p.text)));
    g.bench_function("clean", |b| {
        b.iter(|| {
            for t in &p.text {
                black_box(clean(black_box(t), &lex.layout));
            }
        })
    });
    g.throughput(Throughput::Bytes(total(&p.cleaned)));
    g.bench_function("dictionary", |b| {
        b.iter(|| {
            for t in &p.cleaned {
                black_box(find_tokens(&lex, black_box(t), 0, t.len()));
            }
        })
    });
    g.bench_function("patterns", |b| {
        b.iter(|| {
            for t in &p.cleaned {
                black_box(find_cases(&lex.cases, black_box(t), 0, t.len()));
                black_box(find_figures(&lex.figure_grammar, t, 0, t.len()));
                black_box(find_quoted_campaigns(&lex, t, 0, t.len()));
            }
        })
    });
    g.bench_function("periods", |b| {
        b.iter(|| {
            for t in &p.cleaned {
                for line in t.lines() {
                    black_box(lex.periods.all_in(black_box(line)));
                }
            }
        })
    });
    g.throughput(Throughput::Bytes(total(&p.utf8)));
    g.bench_function("resolve", |b| {
        b.iter(|| {
            for s in &p.sources {
                black_box(extract_source(&lex, black_box(s)));
            }
        })
    });
    let knowledge: Vec<_> = p.sources.iter().map(|s| extract_source(&lex, s)).collect();
    g.bench_function("rdf", |b| {
        b.iter(|| {
            for kn in &knowledge {
                black_box(knowledge_quads(black_box(kn)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
