//! End-to-end tests of the store as a whole: incremental and idempotent
//! builds (same, added, changed, removed, pruned files give exactly the
//! dump of a fresh build of the same files) and SHACL validation of real
//! builds and of broken data.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{jindu, repo};

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "jindu failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A corpus folder with copies of some seed pages and gold-extra pages.
/// A corpus of every seed and gold-extra page.
fn every_page(dir: &Path) -> PathBuf {
    let seeds: Vec<String> = names(&repo("seeds"));
    let extra: Vec<String> = names(&repo("tests/gold-extra"));
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    corpus(dir, &seeds, &extra)
}

fn corpus(dir: &Path, seeds: &[&str], extra: &[&str]) -> PathBuf {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    for name in seeds {
        std::fs::copy(repo("seeds").join(name), corpus.join(name)).unwrap();
    }
    for name in extra {
        std::fs::copy(repo("tests/gold-extra").join(name), corpus.join(name)).unwrap();
    }
    corpus
}

fn build(corpus: &Path, store: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "build",
        corpus.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(jindu(&args))
}

fn dump(store: &Path) -> Vec<u8> {
    let out = jindu(&["dump", "--store", store.to_str().unwrap()]);
    assert!(out.status.success());
    out.stdout
}

/// The store built incrementally must equal a fresh build of the same files.
fn assert_same_as_fresh(corpus: &Path, store: &Path, work: &Path, what: &str) {
    let fresh = work.join(format!("fresh-{what}"));
    build(corpus, &fresh, &[]);
    let (a, b) = (dump(store), dump(&fresh));
    assert!(
        a == b,
        "{what}: the incremental store differs from a fresh build ({} and {} bytes)",
        a.len(),
        b.len()
    );
}

const SEED_A: &str = "000_c263f51713171ff9.txt";
const SEED_B: &str = "001_d0cbc93060d4aa0e.txt";
const EXTRA_A: &str = "01_yn_dehong_315.txt";
const EXTRA_B: &str = "08_cq_2023-117.txt";

#[test]
fn incremental_builds_equal_fresh_builds() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus(work.path(), &[SEED_A, SEED_B], &[EXTRA_A]);
    let store = work.path().join("store");

    let first = build(&corpus, &store, &[]);
    assert!(first.contains("3 added"), "{first}");
    let before = dump(&store);

    // Same corpus again: nothing to do, nothing changes.
    let again = build(&corpus, &store, &[]);
    assert!(again.contains("0 added, 0 changed, 3 unchanged"), "{again}");
    assert!(again.contains("0 quads written"), "{again}");
    assert!(
        dump(&store) == before,
        "an unchanged rebuild changed the store"
    );

    // One file added: only it is extracted.
    std::fs::copy(repo("tests/gold-extra").join(EXTRA_B), corpus.join(EXTRA_B)).unwrap();
    let added = build(&corpus, &store, &[]);
    assert!(added.contains("1 added, 0 changed, 3 unchanged"), "{added}");
    assert_same_as_fresh(&corpus, &store, work.path(), "added");

    // One file changed: its old facts go, its new ones come.
    let path = corpus.join(EXTRA_A);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replace("瑞丽市公安局", "芒市公安局");
    text.push_str("\n本报讯 近日，保山市公安局禁毒支队开展“净边”行动，抓获犯罪嫌疑人3名。\n");
    std::fs::write(&path, text).unwrap();
    let changed = build(&corpus, &store, &[]);
    assert!(
        changed.contains("0 added, 1 changed, 3 unchanged"),
        "{changed}"
    );
    let labels = String::from_utf8(dump(&store)).unwrap();
    assert!(labels.contains("保山市公安局禁毒支队"));
    assert_same_as_fresh(&corpus, &store, work.path(), "changed");

    // One file removed by name: exactly its facts go; shared facts stay.
    let removed = ok(jindu(&[
        "remove",
        EXTRA_B,
        "--store",
        store.to_str().unwrap(),
    ]));
    assert!(removed.contains("1 removed"), "{removed}");
    std::fs::remove_file(corpus.join(EXTRA_B)).unwrap();
    assert_same_as_fresh(&corpus, &store, work.path(), "removed");
    let text = String::from_utf8(dump(&store)).unwrap();
    assert!(
        !text.contains("2023-117专案"),
        "a removed file's case stayed"
    );
    assert!(
        text.contains("内蒙古自治区公安厅"),
        "facts of the other files went"
    );

    // A file deleted from the folder goes with --prune only.
    std::fs::remove_file(corpus.join(SEED_B)).unwrap();
    let kept = build(&corpus, &store, &[]);
    assert!(kept.contains("0 removed"), "{kept}");
    let pruned = build(&corpus, &store, &["--prune"]);
    assert!(pruned.contains("1 removed"), "{pruned}");
    assert_same_as_fresh(&corpus, &store, work.path(), "pruned");

    // Back to the first corpus: the store is the first store again.
    std::fs::copy(repo("seeds").join(SEED_B), corpus.join(SEED_B)).unwrap();
    std::fs::copy(repo("tests/gold-extra").join(EXTRA_A), &path).unwrap();
    build(&corpus, &store, &[]);
    assert!(
        dump(&store) == before,
        "the store does not return to its first state"
    );
}

/// The summary graph's lines of a store's N-Quads dump, sorted.
fn summary_lines(store: &Path) -> Vec<String> {
    let text = String::from_utf8(dump(store)).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.ends_with("<https://w3id.org/jindu/graph/summary> ."))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn the_summary_of_incremental_builds_and_removals_equals_a_fresh_builds() {
    // Every seed and gold-extra page, plus a copy of one under another name
    // (identical bytes: the two share their articles).
    let work = tempfile::tempdir().unwrap();
    let corpus = every_page(work.path());
    std::fs::copy(corpus.join(EXTRA_A), corpus.join("copy_of_a.txt")).unwrap();
    let aside = work.path().join("aside");
    std::fs::create_dir_all(&aside).unwrap();
    let later = [EXTRA_B, SEED_B, "copy_of_a.txt"];
    for name in later {
        std::fs::rename(corpus.join(name), aside.join(name)).unwrap();
    }
    let store = work.path().join("store");
    // With --no-summary, a fresh build adds no summary, nor does a later
    // build that does not ask; an unchanged build that asks for it adds it.
    build(&corpus, &store, &["--no-summary"]);
    assert!(
        summary_lines(&store).is_empty(),
        "a summary nobody asked for"
    );
    let asked = build(&corpus, &store, &["--summary"]);
    assert!(asked.contains("summary updated"), "{asked}");
    assert!(!summary_lines(&store).is_empty(), "no summary graph");

    // A few files added: their entries are recounted one by one.
    for name in later {
        std::fs::rename(aside.join(name), corpus.join(name)).unwrap();
    }
    let added = build(&corpus, &store, &[]);
    assert!(added.contains("3 added"), "{added}");
    let fresh = work.path().join("fresh-added");
    build(&corpus, &fresh, &["--summary"]);
    assert!(
        summary_lines(&store) == summary_lines(&fresh),
        "added: the summary differs from a fresh build's"
    );

    // Two files removed, one of them sharing its articles with another.
    ok(jindu(&[
        "remove",
        EXTRA_A,
        SEED_B,
        "--store",
        store.to_str().unwrap(),
    ]));
    std::fs::remove_file(corpus.join(EXTRA_A)).unwrap();
    std::fs::remove_file(corpus.join(SEED_B)).unwrap();
    let fresh = work.path().join("fresh-removed");
    build(&corpus, &fresh, &["--summary"]);
    assert!(
        summary_lines(&store) == summary_lines(&fresh),
        "removed: the summary differs from a fresh build's"
    );
}

/// A fresh build fills the summary as it loads; it must be the summary the
/// recount from the store gives (build without, then `--summary`), for any
/// thread count: whole dumps compared byte for byte.
fn assert_fresh_summary_is_the_recount(corpus: &Path, work: &Path, what: &str) {
    let recounted = work.join(format!("{what}-recounted"));
    build(corpus, &recounted, &["--no-summary"]);
    assert!(summary_lines(&recounted).is_empty(), "{what}: --no-summary");
    let out = build(corpus, &recounted, &["--summary"]);
    assert!(out.contains("summary updated"), "{out}");
    let expected = dump(&recounted);
    assert!(
        String::from_utf8_lossy(&expected).contains("jindu/graph/summary> ."),
        "{what}: no summary"
    );
    for threads in ["1", "2"] {
        let fresh = work.join(format!("{what}-fresh-{threads}"));
        let out = build(corpus, &fresh, &["--threads", threads]);
        assert!(out.contains("summary updated"), "{out}");
        let got = dump(&fresh);
        if got != expected {
            let (a, b) = (summary_lines(&fresh), summary_lines(&recounted));
            let first = a.iter().zip(&b).find(|(x, y)| x != y);
            panic!(
                "{what}, {threads} threads: the fresh build's summary differs from the recount \
                 ({} and {} lines; first difference {first:?})",
                a.len(),
                b.len()
            );
        }
    }
}

/// Copies that make evidence order hard: identical bytes under another name
/// (shared articles, two `jd:sourceFile`s), identical bytes under the same
/// name in a subfolder, and other bytes under a name already used.
fn add_tricky_copies(corpus: &Path, a: &str, b: &str) {
    std::fs::copy(corpus.join(a), corpus.join(format!("zz_copy_of_{a}"))).unwrap();
    std::fs::copy(corpus.join(a), corpus.join(format!("0_copy_of_{a}"))).unwrap();
    for (folder, from) in [("same", a), ("other", b)] {
        let sub = corpus.join(folder);
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(corpus.join(from), sub.join(a)).unwrap();
    }
}

#[test]
fn a_fresh_builds_summary_is_the_recount_on_seeds_and_gold_extra() {
    let work = tempfile::tempdir().unwrap();
    let corpus = every_page(work.path());
    assert_fresh_summary_is_the_recount(&corpus, work.path(), "plain");
    add_tricky_copies(&corpus, EXTRA_A, EXTRA_B);
    assert_fresh_summary_is_the_recount(&corpus, work.path(), "copies");
}

#[test]
fn a_fresh_builds_summary_is_the_recount_on_a_generated_corpus() {
    let work = tempfile::tempdir().unwrap();
    let corpus = work.path().join("generated");
    ok(jindu(&[
        "make-corpus",
        "--size",
        "1MB",
        "--seed",
        "3",
        corpus.to_str().unwrap(),
    ]));
    let pages = corpus.join("pages");
    let mut files = names(&pages);
    files.sort();
    add_tricky_copies(&pages, &files[0], &files[1]);
    assert_fresh_summary_is_the_recount(&pages, work.path(), "generated");
}

/// The text files of a folder.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_fact_read_in_two_files_stays_until_both_are_gone() {
    let work = tempfile::tempdir().unwrap();
    let corpus = work.path().join("c");
    std::fs::create_dir(&corpus).unwrap();
    let text = "本报讯 6月3日，昆明市公安局禁毒支队联合官渡区人民检察院开展禁毒宣传。";
    std::fs::write(corpus.join("a.txt"), text).unwrap();
    std::fs::write(
        corpus.join("b.txt"),
        format!("{text}\n另讯 昆明市公安局禁毒支队开展“清源断流”行动。"),
    )
    .unwrap();
    let store = work.path().join("s");
    build(&corpus, &store, &[]);
    // The default-graph line (file graphs add a graph name before the dot).
    let fact = "<https://w3id.org/jindu/id/agency/昆明市公安局禁毒支队> <https://w3id.org/jindu/ontology#subOrganizationOf> <https://w3id.org/jindu/id/agency/昆明市公安局> .";
    let s = store.to_str().unwrap();
    ok(jindu(&["remove", "a.txt", "--store", s]));
    assert!(String::from_utf8(dump(&store)).unwrap().contains(fact));
    ok(jindu(&["remove", "b.txt", "--store", s]));
    let rest = String::from_utf8(dump(&store)).unwrap();
    assert!(!rest.contains(fact), "{rest}");
    assert!(
        !rest
            .lines()
            .any(|l| !l.contains("graph/ontology") && !is_summary_marker(l)),
        "only the ontology (and the summary's markers) should remain"
    );
    let none = jindu(&["remove", "c.txt", "--store", s]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no file c.txt"));
}

/// The store folder's file names and sizes.
fn store_files(store: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(store)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_build_with_nothing_to_do_does_not_write_to_the_store() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus(work.path(), &[SEED_A], &[EXTRA_A]);
    let store = work.path().join("s");
    build(&corpus, &store, &[]);
    // A writable open of RocksDB would add a log and a manifest at least.
    let before = store_files(&store);
    let again = build(&corpus, &store, &[]);
    assert!(again.contains("2 unchanged"), "{again}");
    assert_eq!(store_files(&store), before);
    // Something to do still writes.
    std::fs::copy(repo("seeds").join(SEED_B), corpus.join(SEED_B)).unwrap();
    let added = build(&corpus, &store, &[]);
    assert!(added.contains("1 added"), "{added}");
    assert_ne!(store_files(&store), before);
}

fn sorted_table_files(store: &Path) -> usize {
    store_files(store)
        .iter()
        .filter(|(name, _)| name.ends_with(".sst"))
        .count()
}

#[test]
fn compaction_merges_the_loaded_batches_without_changing_the_content() {
    let work = tempfile::tempdir().unwrap();
    let corpus = every_page(work.path());
    let (left, compacted) = (work.path().join("left"), work.path().join("compacted"));
    let first = build(&corpus, &left, &["--compact", "never"]);
    assert!(!first.contains("compacted the store"), "{first}");
    // A small store is compacted by default after a build that wrote.
    let second = build(&corpus, &compacted, &[]);
    assert!(second.contains("compacted the store in"), "{second}");
    assert_eq!(dump(&left), dump(&compacted));
    assert!(
        sorted_table_files(&compacted) < sorted_table_files(&left),
        "compaction left {} sorted files, the load {}",
        sorted_table_files(&compacted),
        sorted_table_files(&left)
    );
    // Nothing to do: nothing written, nothing compacted.
    let again = build(&corpus, &compacted, &["--compact", "always"]);
    assert!(!again.contains("compacted the store"), "{again}");
    // A removal writes, and `always` compacts whatever the size.
    std::fs::remove_file(corpus.join(SEED_A)).unwrap();
    let pruned = build(&corpus, &left, &["--prune", "--compact", "always"]);
    assert!(pruned.contains("1 removed"), "{pruned}");
    assert!(pruned.contains("compacted the store in"), "{pruned}");
    assert_same_as_fresh(&corpus, &left, work.path(), "pruned and compacted");
}

#[test]
fn the_same_bytes_at_two_paths_keep_their_content_until_both_are_gone() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus(work.path(), &[SEED_A], &[]);
    std::fs::create_dir(corpus.join("copy")).unwrap();
    std::fs::copy(corpus.join(SEED_A), corpus.join("copy").join("renamed.txt")).unwrap();
    let store = work.path().join("s");
    build(&corpus, &store, &[]);
    let s = store.to_str().unwrap();
    // The articles, statistics and provenance records are the content's, not
    // the path's: removing one path leaves exactly a fresh build of the other.
    ok(jindu(&["remove", "renamed.txt", "--store", s]));
    std::fs::remove_dir_all(corpus.join("copy")).unwrap();
    assert_same_as_fresh(&corpus, &store, work.path(), "one-of-two-paths");
    ok(jindu(&["remove", SEED_A, "--store", s]));
    let rest = String::from_utf8(dump(&store)).unwrap();
    assert!(
        !rest
            .lines()
            .any(|l| !l.contains("graph/ontology") && !is_summary_marker(l)),
        "only the ontology (and the summary's markers) should remain: {}",
        rest.lines()
            .find(|l| !l.contains("graph/ontology") && !is_summary_marker(l))
            .unwrap()
    );
}

#[test]
fn file_graphs_hold_what_removal_needs_not_the_content() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus(work.path(), &[SEED_A], &[]);
    let store = work.path().join("s");
    build(&corpus, &store, &[]);
    let all = String::from_utf8(dump(&store)).unwrap();
    let file_graph = |l: &&str| l.contains("<https://w3id.org/jindu/graph/file/");
    let in_file_graph: Vec<&str> = all.lines().filter(file_graph).collect();
    let default_graph = all
        .lines()
        .filter(|l| {
            l.matches("> <").count() + l.matches("\" <").count() < 3
                && !file_graph(l)
                && !l.contains("graph/ontology")
        })
        .count();
    assert!(!in_file_graph.is_empty());
    for line in &in_file_graph {
        assert!(
            !line.starts_with("<https://w3id.org/jindu/id/statistic/")
                && !line.starts_with("<https://w3id.org/jindu/id/assertion/")
                && !line.contains("#mentionedIn>"),
            "a content triple in a file graph: {line}"
        );
    }
    // The content (records, statistics, mentions) is most of a page's facts.
    assert!(
        in_file_graph.len() * 2 < default_graph,
        "{} file-graph quads against {default_graph} default-graph ones",
        in_file_graph.len()
    );
}

#[test]
fn a_changed_lexicon_extracts_again() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus(work.path(), &[SEED_A], &[]);
    let store = work.path().join("s");
    build(&corpus, &store, &[]);
    let lexicon = work.path().join("lex");
    std::fs::create_dir(&lexicon).unwrap();
    std::fs::write(lexicon.join("drugs.tsv"), "蓝精灵\tdrug\n").unwrap();
    let again = build(&corpus, &store, &["--lexicon", lexicon.to_str().unwrap()]);
    assert!(again.contains("1 changed"), "{again}");
}

#[test]
fn sources_record_path_hash_encoding_read_time_and_extractor() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus(work.path(), &[], &["07_hn_huaihua_court_gbk.txt"]);
    let store = work.path().join("s");
    build(&corpus, &store, &[]);
    let rows = ok(jindu(&[
        "query",
        "sources",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert!(rows.contains("07_hn_huaihua_court_gbk.txt"), "{rows}");
    assert!(rows.contains("gb18030"), "{rows}");
    assert!(rows.contains("2026-01-01T00:00:00Z"), "{rows}");
    assert!(rows.contains("jindu 0.1.0; lexicon "), "{rows}");
    assert!(rows.contains("sha256:"), "{rows}");
}

#[test]
fn the_seeds_conform_to_the_shapes_and_broken_data_does_not() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("s");
    let s = store.to_str().unwrap();
    ok(jindu(&[
        "build",
        repo("seeds").to_str().unwrap(),
        "--store",
        s,
    ]));
    let clean = jindu(&["validate", "--store", s, "--format", "json"]);
    assert!(clean.status.success());
    let report: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(report["conforms"], true, "{report}");
    assert!(report["focus_nodes"].as_u64().unwrap() > 1000);

    let broken = work.path().join("broken.ttl");
    std::fs::write(
        &broken,
        r#"@prefix jd: <https://w3id.org/jindu/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/jindu/id/region/150700> jd:adminCode "15070" .
<https://w3id.org/jindu/id/agency/开鲁县公安局> jd:locatedIn <https://w3id.org/jindu/id/campaign/清源断流> .
<https://w3id.org/jindu/id/case/无名案> a jd:Case , jd:Drug ; rdfs:label "无名案"@zh .
<https://w3id.org/jindu/id/statistic/x-1-1> a jd:Statistic ; jd:metric "arrests" .
"#,
    )
    .unwrap();
    ok(jindu(&["load", broken.to_str().unwrap(), "--store", s]));
    let out = jindu(&["validate", "--store", s, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "violations must fail");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    let has = |focus: &str, path: Option<&str>, component: &str| {
        results.iter().any(|r| {
            r["focus"].as_str().unwrap().ends_with(focus)
                && r["path"].as_str().map(|p| p.rsplit('#').next().unwrap()) == path
                && r["component"].as_str().unwrap().ends_with(component)
        })
    };
    assert!(has(
        "region/150700",
        Some("adminCode"),
        "PatternConstraintComponent"
    ));
    assert!(has(
        "agency/开鲁县公安局",
        Some("locatedIn"),
        "ClassConstraintComponent"
    ));
    assert!(has("case/无名案", None, "XoneConstraintComponent"));
    assert!(has(
        "statistic/x-1-1",
        Some("metric"),
        "InConstraintComponent"
    ));
    assert!(has(
        "statistic/x-1-1",
        Some("value"),
        "MinCountConstraintComponent"
    ));
    // The table and Turtle forms carry the same results.
    let turtle = jindu(&["validate", "--store", s, "--format", "turtle"]);
    let text = String::from_utf8_lossy(&turtle.stdout);
    assert!(
        text.contains("sh:ValidationReport") && text.contains("sh:conforms false"),
        "{text}"
    );
}

/// A dump line of the summary graph's own markers (what it keeps, its
/// layout), which stay when every file is removed.
fn is_summary_marker(line: &str) -> bool {
    line.starts_with("<https://w3id.org/jindu/graph/summary> ")
}
