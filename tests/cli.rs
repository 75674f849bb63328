//! End-to-end tests: run the `jindu` binary on the seed pages and on small
//! texts made for the test, and check concrete entities, relations and
//! query answers.

use std::path::{Path, PathBuf};

use std::sync::OnceLock;

mod common;
use common::{fails_with, jindu, seeds_dir, stderr, stdout};

/// One store built from the seeds, shared by the tests that only read it.
fn seed_store() -> &'static Path {
    static STORE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = STORE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let out = jindu(&[
            "build",
            seeds_dir().to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "build failed: {}", stderr(&out));
        (dir, store)
    });
    path
}

fn query(name: &str, params: &[&str], format: &str) -> String {
    let store = seed_store().to_str().unwrap().to_string();
    let mut args = vec!["query", name, "--store", &store, "--format", format];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    let out = jindu(&args);
    assert!(
        out.status.success(),
        "query {name} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn build_summary_counts_the_seed_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let out = jindu(&[
        "build",
        seeds_dir().to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("5 files"), "{text}");
    for word in [
        "Agency",
        "Region",
        "Campaign",
        "Case",
        "Drug",
        "locatedIn",
        "quads",
    ] {
        assert!(text.contains(word), "{word} missing in {text}");
    }
}

#[test]
fn agencies_by_region_rolls_up_the_hierarchy() {
    let rows = query("agencies-by-region", &["region=内蒙古自治区"], "csv");
    for agency in [
        "开鲁县公安局",
        "内蒙古自治区公安厅",
        "呼伦贝尔市公安局海拉尔分局禁毒大队",
    ] {
        assert!(rows.contains(agency), "{agency} missing:\n{rows}");
    }
    let tibet = query("agencies-by-region", &["region=西藏自治区"], "csv");
    assert!(tibet.contains("日喀则市公安局禁毒支队"), "{tibet}");
    assert!(!tibet.contains("开鲁县公安局"), "{tibet}");
}

#[test]
fn named_cases_come_with_their_handlers() {
    let rows = query("named-cases", &[], "csv");
    assert!(rows.contains("8·12特大运输毒品案"), "{rows}");
}

#[test]
fn statistics_are_normalised_with_reporter_and_period() {
    // 783 cases and 4.1 kg (4100 g) reported by 全区公安机关 of Inner Mongolia
    // for 2024年以来, on a page dated 2025.
    let rows = query("agency-figures", &["agency=内蒙古自治区公安机关"], "csv");
    assert!(rows.contains("casesSolved,783,"), "{rows}");
    assert!(rows.contains("drugsSeized,4100,"), "{rows}");
    assert!(rows.contains("2024-01-01,2025-06-26,2024年以来"), "{rows}");
    // Rolled up by region, the province's case counts add up over its articles.
    let by_region = query(
        "statistics-by-region-metric",
        &["region=内蒙古自治区"],
        "csv",
    );
    assert!(
        by_region.contains("内蒙古自治区,150000,casesSolved"),
        "{by_region}"
    );
}

#[test]
fn every_stored_query_runs_and_most_answer() {
    let list = jindu(&["query", "--list"]);
    assert!(list.status.success());
    let names: Vec<String> = stdout(&list)
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    let mut answered = 0;
    for name in &names {
        let rows = query(name, &[], "json");
        let v: serde_json::Value =
            serde_json::from_str(&rows).unwrap_or_else(|e| panic!("{name}: {e}\n{rows}"));
        if v["results"]["bindings"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
            || v["boolean"].is_boolean()
        {
            answered += 1;
        }
    }
    assert!(
        answered * 4 >= names.len() * 3,
        "only {answered} of {} queries answered",
        names.len()
    );
}

#[test]
fn the_same_build_twice_gives_the_same_quads() {
    let dir = tempfile::tempdir().unwrap();
    let mut dumps = Vec::new();
    for (i, threads) in ["1", "2"].iter().enumerate() {
        let store = dir.path().join(format!("s{i}"));
        let out = jindu(&[
            "build",
            seeds_dir().to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
            "--threads",
            threads,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let dump = jindu(&["dump", "--store", store.to_str().unwrap()]);
        assert!(dump.status.success());
        dumps.push(dump.stdout);
    }
    assert!(dumps[0].len() > 10_000);
    assert!(
        dumps[0] == dumps[1],
        "dumps differ ({} and {} bytes)",
        dumps[0].len(),
        dumps[1].len()
    );
}

#[test]
fn odd_inputs_are_decoded_or_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let gbk_text = "本报讯 近日，云南省公安厅禁毒总队联合昆明市公安局破获“3·15”特大贩卖毒品案，缴获冰毒12公斤。";
    let (gbk, _, _) = encoding_rs::GB18030.encode(gbk_text);
    std::fs::write(input.join("gbk.txt"), &gbk).unwrap();
    let utf16_text = "拉萨市公安局禁毒支队开展“清源断流”行动，抓获犯罪嫌疑人5名。";
    let mut utf16 = vec![0xFF, 0xFE];
    for u in utf16_text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(input.join("utf16.txt"), &utf16).unwrap();
    // An OCR'd column: a name broken over a line, spaces between characters.
    std::fs::write(
        input.join("ocr.txt"),
        "本报讯 6月26日，广西壮族自治区公安\n厅召开新闻发布会，通报全区公安机关开展\n禁 毒 工 作 的 成 效 。\n",
    )
    .unwrap();
    std::fs::write(input.join("empty.txt"), b"").unwrap();
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(input.join("binary.txt"), &binary).unwrap();

    let store = dir.path().join("store");
    let json = dir.path().join("kn.json");
    let out = jindu(&[
        "build",
        input.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("binary.txt"), "{err}");
    assert!(
        !err.contains("gbk.txt") && !err.contains("empty.txt"),
        "{err}"
    );
    let kn: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let labels: Vec<String> = kn["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap().to_string())
        .collect();
    for label in [
        "云南省公安厅禁毒总队",
        "昆明市公安局",
        "3·15特大贩卖毒品案",
        "冰毒",
        "拉萨市公安局禁毒支队",
        "清源断流",
        "广西壮族自治区公安厅",
    ] {
        assert!(
            labels.iter().any(|l| l == label),
            "{label} missing from {labels:?}"
        );
    }
    let encodings: Vec<&str> = kn["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["encoding"].as_str().unwrap())
        .collect();
    assert!(encodings.contains(&"gb18030"), "{encodings:?}");
    assert!(encodings.contains(&"UTF-16LE"), "{encodings:?}");
}

#[test]
fn parameters_cannot_inject_and_bad_queries_report_position() {
    let store = seed_store().to_str().unwrap().to_string();
    // A value full of quotes and braces is one literal, not query text.
    let out = jindu(&[
        "query",
        "agencies-by-region",
        "--store",
        &store,
        "--format",
        "csv",
        "--param",
        "region=\"} UNION { ?agency ?p ?o } #",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count(),
        1,
        "{}",
        stdout(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rq");
    std::fs::write(&bad, "SELECT ?x WHERE {\n  ?x ?y \n}}").unwrap();
    let out = jindu(&["query", bad.to_str().unwrap(), "--store", &store]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("malformed") && err.contains("3:"), "{err}");
}

#[test]
fn explain_shows_the_plan_with_rows_and_times_for_the_bound_parameters() {
    let store = seed_store().to_str().unwrap().to_string();
    let rows = query("agencies-by-region", &["region=内蒙古自治区"], "csv")
        .lines()
        .count()
        - 1;
    let out = jindu(&[
        "query",
        "agencies-by-region",
        "--store",
        &store,
        "--param",
        "region=内蒙古自治区",
        "--explain",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let top = &plan["plan"];
    // The top step gave the rows the query gives, and the plan reaches
    // down to the store's quad patterns, each with its figures.
    assert_eq!(top["number of results"].as_u64(), Some(rows as u64));
    assert!(top["duration in seconds"].as_f64().is_some(), "{plan}");
    fn patterns(node: &serde_json::Value, found: &mut Vec<String>) {
        let name = node["name"].as_str().unwrap_or_default();
        if name.starts_with("QuadPattern") {
            assert!(node["number of results"].is_u64(), "{node}");
            found.push(name.to_string());
        }
        for child in node["children"].as_array().into_iter().flatten() {
            patterns(child, found);
        }
    }
    let mut found = Vec::new();
    patterns(top, &mut found);
    assert!(
        found.iter().any(|p| p.contains("ontology#locatedIn")),
        "{found:?}"
    );
    assert!(
        stderr(&out).contains(&format!("({rows} results)")),
        "{}",
        stderr(&out)
    );
    // As for a run, a missing parameter name is refused.
    fails_with(
        &[
            "query",
            "agencies-by-region",
            "--store",
            &store,
            "--param",
            "place=x",
            "--explain",
        ],
        "has no parameter place",
    );
}

#[test]
fn missing_store_is_a_clear_error() {
    let out = jindu(&["stats", "--store", "/nonexistent/jindu-store"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("jindu build"), "{}", stderr(&out));
}

#[test]
fn a_corrupt_store_is_a_clear_error_not_a_crash() {
    // RocksDB reports the corruption with a message allocated in C; the
    // process must print it and exit 1 (it once died freeing that message).
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    std::fs::create_dir(&store).unwrap();
    std::fs::write(store.join("CURRENT"), "not a manifest name").unwrap();
    for args in [
        vec!["stats", "--store"],
        vec!["query", "sources", "--store"],
        vec!["graph", "stats", "--store"],
    ] {
        let mut args = args.clone();
        args.push(store.to_str().unwrap());
        let out = jindu(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {:?}", out.status);
        let err = stderr(&out);
        assert!(
            err.contains("cannot open the store") && err.contains("Corruption"),
            "{args:?}: {err}"
        );
    }
}

fn f1(score: &serde_json::Value) -> f64 {
    let tp = score["tp"].as_f64().unwrap();
    let fp = score["fp"].as_f64().unwrap();
    let fn_ = score["fn_"].as_f64().unwrap();
    if tp == 0.0 {
        return if fp + fn_ == 0.0 { 1.0 } else { 0.0 };
    }
    2.0 * tp / (2.0 * tp + fp + fn_)
}

fn sum_scores<'a>(scores: impl Iterator<Item = &'a serde_json::Value>) -> serde_json::Value {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for s in scores {
        tp += s["tp"].as_f64().unwrap();
        fp += s["fp"].as_f64().unwrap();
        fn_ += s["fn_"].as_f64().unwrap();
    }
    serde_json::json!({"tp": tp, "fp": fp, "fn_": fn_})
}

fn eval_report(gold: &Path, inputs: &Path) -> serde_json::Value {
    let out = jindu(&[
        "eval",
        "--gold",
        gold.to_str().unwrap(),
        inputs.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The hand-made gold set of news items that are not from the seeds: a
/// regression guard that the rules generalise (figures in the closing note).
#[test]
fn eval_on_the_extra_gold_set_holds_its_level() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gold-extra");
    let report = eval_report(&dir, &dir);
    let scores = report["scores"].as_object().unwrap();
    let entities = sum_scores(
        ["Agency", "Region", "Campaign", "Case", "Drug"]
            .iter()
            .map(|k| &scores[*k]),
    );
    let relations = sum_scores(
        scores
            .iter()
            .filter(|(k, _)| k.starts_with("relation:"))
            .map(|(_, v)| v),
    );
    assert!(f1(&entities) >= 0.93, "entities {}", f1(&entities));
    assert!(f1(&relations) >= 0.75, "relations {}", f1(&relations));
    assert!(
        f1(&scores["statistics"]) >= 0.90,
        "statistics {}",
        f1(&scores["statistics"])
    );
    assert_eq!(report["files"].as_array().unwrap().len(), 12);

    // --min-f1 turns a low score into a failing exit status.
    let out = jindu(&[
        "eval",
        "--gold",
        dir.to_str().unwrap(),
        dir.to_str().unwrap(),
        "--min-f1",
        "0.999",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("below --min-f1"), "{}", stderr(&out));
}

/// The seeds against the project's gold files (../shared/gold beside the
/// clone, where CI and the developers have it): the targets of the
/// extraction issue.
#[test]
fn eval_on_the_seed_gold_meets_the_targets() {
    let gold = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/gold");
    if !gold.is_dir() {
        eprintln!("no ../shared/gold beside the clone: seed scores not checked");
        return;
    }
    let report = eval_report(&gold, &seeds_dir());
    let scores = report["scores"].as_object().unwrap();
    for class in ["Agency", "Region", "Campaign", "Case", "Drug"] {
        assert!(
            f1(&scores[class]) >= 0.95,
            "{class} F1 {}",
            f1(&scores[class])
        );
    }
    let relations = sum_scores(
        scores
            .iter()
            .filter(|(k, _)| k.starts_with("relation:"))
            .map(|(_, v)| v),
    );
    assert!(f1(&relations) >= 0.85, "relations {}", f1(&relations));
    assert!(
        f1(&scores["statistics"]) >= 0.90,
        "statistics {}",
        f1(&scores["statistics"])
    );
}

/// Builds `input` into a fresh store in `dir`, with `--lexicon lexicon`
/// when given, and returns the knowledge the build wrote with `--json`.
fn build_knowledge(dir: &Path, input: &Path, lexicon: Option<&Path>) -> serde_json::Value {
    let tag = if lexicon.is_some() {
        "extended"
    } else {
        "embedded"
    };
    let json = dir.join(format!("kn-{tag}.json"));
    let store = dir.join(format!("store-{tag}"));
    // A store that holds the file already would extract nothing again.
    let _ = std::fs::remove_dir_all(&store);
    let mut args = vec![
        "build",
        input.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    if let Some(lexicon) = lexicon {
        args.extend(["--lexicon", lexicon.to_str().unwrap()]);
    }
    let out = jindu(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap()
}

/// `input.txt` holding `text` and an empty `lexicon/` folder in a new
/// temporary folder.
fn page_and_lexicon(text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.txt");
    std::fs::write(&input, text).unwrap();
    let lexicon = dir.path().join("lexicon");
    std::fs::create_dir(&lexicon).unwrap();
    (dir, input, lexicon)
}

/// The labels of the entities of a knowledge JSON.
fn entity_labels(kn: &serde_json::Value) -> Vec<String> {
    kn["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap().to_string())
        .collect()
}

/// The statistics of a knowledge JSON as (metric, value, unit,
/// approximate), sorted.
fn statistic_rows(kn: &serde_json::Value) -> Vec<(String, String, String, bool)> {
    let mut rows: Vec<(String, String, String, bool)> = kn["statistics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"].as_str().unwrap().to_string(),
                s["value"].as_str().unwrap().to_string(),
                s["unit"].as_str().unwrap().to_string(),
                s["approximate"].as_bool().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// `jindu extract input --lexicon lexicon` fails with an error naming
/// `file` and `word`, not a panic.
fn assert_lexicon_error(input: &Path, lexicon: &Path, file: &str, word: &str) {
    let bad = jindu(&[
        "extract",
        input.to_str().unwrap(),
        "--lexicon",
        lexicon.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    let err = stderr(&bad);
    assert!(err.contains(file) && err.contains(word), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn row(metric: &str, value: &str, unit: &str, approximate: bool) -> (String, String, String, bool) {
    (metric.into(), value.into(), unit.into(), approximate)
}

/// The figure grammar is data too: a unit added to units.tsv and a lead
/// word added to figure_words.tsv are read without recompiling, and a word
/// the scanner cannot read is a clear error that names it.
#[test]
fn lexicon_folders_extend_the_figure_grammar() {
    let (dir, input, lexicon) = page_and_lexicon(
        "勐海县公安局在边境检查站查获一起运输毒品案，缴获鸦片多达3两，抓获犯罪嫌疑人2名。",
    );
    std::fs::write(lexicon.join("units.tsv"), "两\t50\n").unwrap();
    std::fs::write(lexicon.join("metrics.tsv"), "drugsSeized\t缴获\t鸦片\t两\n").unwrap();
    std::fs::write(lexicon.join("figure_words.tsv"), "lead\t多达\texact\n").unwrap();
    assert_eq!(
        statistic_rows(&build_knowledge(dir.path(), &input, None)),
        [row("suspectsArrested", "2", "名", false)]
    );
    assert_eq!(
        statistic_rows(&build_knowledge(dir.path(), &input, Some(&lexicon))),
        [
            row("drugsSeized", "150", "两", false),
            row("suspectsArrested", "2", "名", false)
        ]
    );
    let figure_words = lexicon.join("figure_words.tsv");
    std::fs::write(&figure_words, "lead\t一共\texact\n").unwrap();
    let at = format!("{} line 1", figure_words.display());
    assert_lexicon_error(&input, &lexicon, &at, "一共");
}

/// The word lists of the campaign and weight rules are data files: a
/// campaign ending, a weight lead and a unit added in a --lexicon folder are
/// read without recompiling.
#[test]
fn lexicon_folders_extend_the_campaign_and_weight_words() {
    let (dir, input, lexicon) =
        page_and_lexicon("勐海县公安局开展“春季雷霆大清查”，查获海洛因15块,毛重5公斤。");
    std::fs::write(lexicon.join("campaign_endings.txt"), "大清查\n").unwrap();
    std::fs::write(lexicon.join("weight_leads.txt"), "毛重\n").unwrap();
    std::fs::write(lexicon.join("units.tsv"), "块\t1\n").unwrap();
    let plain = build_knowledge(dir.path(), &input, None);
    assert!(!entity_labels(&plain).contains(&"春季雷霆大清查".to_string()));
    assert_eq!(statistic_rows(&plain), []);
    let extended = build_knowledge(dir.path(), &input, Some(&lexicon));
    let campaign = extended["entities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["label"] == "春季雷霆大清查" && e["id"]["class"] == "Campaign");
    assert!(campaign, "{:?}", entity_labels(&extended));
    assert_eq!(
        statistic_rows(&extended),
        [row("drugsSeized", "5000", "公斤", false)]
    );
}

/// The period words are data: a figure's period is read from the words
/// before it (今年前三季度 by the embedded words), and a phrase or span added
/// in a --lexicon folder is read without recompiling.
#[test]
fn lexicon_folders_extend_the_period_words() {
    let (dir, input, lexicon) = page_and_lexicon(
        "禁毒工作成效显著\n2025年6月26日\n本报讯 今年前三季度，开鲁县公安局共破获毒品案件58起。\
         “十四五”期间，开鲁县公安局抓获犯罪嫌疑人73名。去年前10个月，开鲁县公安局缴获毒品4.1公斤。\n",
    );
    std::fs::write(
        lexicon.join("period_words.tsv"),
        "phrase\t“十四五”期间\t2021-01-01\t2025-12-31\nspan\t前10个月\t01-01\t10-31\n",
    )
    .unwrap();
    let periods = |lexicon: Option<&Path>| -> Vec<[String; 4]> {
        build_knowledge(dir.path(), &input, lexicon)["statistics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                ["metric", "period_start", "period_end", "period_text"]
                    .map(|k| s[k].as_str().unwrap_or("-").to_string())
            })
            .collect()
    };
    let of = |rows: &[[&str; 4]]| -> Vec<[String; 4]> {
        rows.iter().map(|r| r.map(String::from)).collect()
    };
    assert_eq!(
        periods(None),
        of(&[
            ["casesSolved", "2025-01-01", "2025-09-30", "今年前三季度"],
            ["suspectsArrested", "-", "-", "-"],
            ["drugsSeized", "-", "-", "-"],
        ])
    );
    assert_eq!(
        periods(Some(&lexicon)),
        of(&[
            ["casesSolved", "2025-01-01", "2025-09-30", "今年前三季度"],
            [
                "suspectsArrested",
                "2021-01-01",
                "2025-12-31",
                "“十四五”期间"
            ],
            ["drugsSeized", "2024-01-01", "2024-10-31", "去年前10个月"],
        ])
    );
    std::fs::write(
        lexicon.join("period_words.tsv"),
        "span\t前10个月\t01-01\t10-32\n",
    )
    .unwrap();
    assert_lexicon_error(&input, &lexicon, "period_words.tsv line 1", "10-32");
}

/// Periods are read in Traditional text as in Simplified: the words are
/// matched on the text folded to Simplified, and each statistic keeps the
/// period's days.
#[test]
fn periods_are_read_in_traditional_text() {
    let (dir, input, _) = page_and_lexicon(
        "禁毒工作成效\n2025年6月26日\n本報訊 今年上半年，開魯縣公安局共破獲毒品案件58起。\
         去年第四季度，開魯縣公安局繳獲毒品4.1公斤。2023年1至10月，開魯縣公安局查處吸毒人員112人次。\n",
    );
    let kn = build_knowledge(dir.path(), &input, None);
    let periods: Vec<[String; 4]> = kn["statistics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            ["metric", "period_start", "period_end", "period_text"]
                .map(|k| s[k].as_str().unwrap_or("-").to_string())
        })
        .collect();
    let expected = [
        ["casesSolved", "2025-01-01", "2025-06-30", "今年上半年"],
        ["drugsSeized", "2024-10-01", "2024-12-31", "去年第四季度"],
        [
            "drugUsersFound",
            "2023-01-01",
            "2023-10-31",
            "2023年1至10月",
        ],
    ]
    .map(|r| r.map(String::from));
    assert_eq!(periods, expected);
}

/// The endings of coded case names are data: one added in a --lexicon
/// folder makes a quoted code before it a case.
#[test]
fn lexicon_folders_extend_the_case_endings() {
    let (dir, input, lexicon) =
        page_and_lexicon("开鲁县公安局打掉“3·15”贩毒团伙，侦破“8·12”特大运输毒品案。");
    std::fs::write(lexicon.join("case_endings.txt"), "团伙\n").unwrap();
    let cases = |lexicon: Option<&Path>| -> Vec<String> {
        let kn = build_knowledge(dir.path(), &input, lexicon);
        let mut cases: Vec<String> = kn["entities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["id"]["class"] == "Case")
            .map(|e| e["label"].as_str().unwrap().to_string())
            .collect();
        cases.sort();
        cases
    };
    assert_eq!(cases(None), ["8·12特大运输毒品案"]);
    assert_eq!(
        cases(Some(&lexicon)),
        ["3·15贩毒团伙", "8·12特大运输毒品案"]
    );
}

/// The layout words are data: a dateline word of another outlet added in a
/// --lexicon folder splits the page where that outlet's story starts.
#[test]
fn lexicon_folders_extend_the_layout_words() {
    let (dir, input, lexicon) = page_and_lexicon(
        "禁毒宣传进校园\n本报讯 开鲁县公安局开展禁毒宣传活动，发放宣传资料。\n\
         边境查获毒品\n央视网消息 开鲁县公安局查获海洛因5公斤。\n",
    );
    std::fs::write(
        lexicon.join("layout_words.tsv"),
        "央视网消息\tdateline,block\n",
    )
    .unwrap();
    let titles = |lexicon: Option<&Path>| -> Vec<String> {
        build_knowledge(dir.path(), &input, lexicon)["articles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(titles(None), ["禁毒宣传进校园"]);
    assert_eq!(titles(Some(&lexicon)), ["禁毒宣传进校园", "边境查获毒品"]);
    std::fs::write(lexicon.join("layout_words.tsv"), "央视网消息\theadline\n").unwrap();
    assert_lexicon_error(&input, &lexicon, "layout_words.tsv", "headline");
}

/// A folder given with --lexicon adds rows to the embedded data files, as
/// the README shows.
#[test]
fn lexicon_folders_extend_the_embedded_data() {
    let (dir, input, lexicon) = page_and_lexicon(
        "昆明市公安局禁毒支队开展“雷霆扫毒”专项行动，查获新型毒品蓝精灵，缴获蓝精灵300克。",
    );
    std::fs::write(lexicon.join("drugs.tsv"), "蓝精灵\tdrug\t\n").unwrap();
    std::fs::write(
        lexicon.join("metrics.tsv"),
        "drugsSeized\t缴获\t蓝精灵\t克\n",
    )
    .unwrap();
    let plain = build_knowledge(dir.path(), &input, None);
    let extended = build_knowledge(dir.path(), &input, Some(&lexicon));
    assert!(!entity_labels(&plain).contains(&"蓝精灵".to_string()));
    assert!(entity_labels(&extended).contains(&"蓝精灵".to_string()));
    assert!(entity_labels(&extended).contains(&"雷霆扫毒".to_string()));
    assert_eq!(
        (
            statistic_rows(&plain).len(),
            statistic_rows(&extended).len()
        ),
        (0, 1)
    );

    fails_with(
        &[
            "build",
            input.to_str().unwrap(),
            "--lexicon",
            "/nonexistent/lexicon",
        ],
        "/nonexistent/lexicon",
    );
}

/// A bad row of a --lexicon folder's file is reported by that file's path
/// and its own line there, not by a line counted after the embedded file's
/// rows, and not as a panic.
#[test]
fn lexicon_folder_errors_name_the_file_and_its_line() {
    let (dir, input, lexicon) = page_and_lexicon("勐海县公安局查获鸦片3两。");
    let units = lexicon.join("units.tsv");
    std::fs::write(&units, "两\t50\n斤\tmany\n").unwrap();
    let at = format!("{} line 2: expected unit, factor", units.display());
    assert_lexicon_error(&input, &lexicon, &at, "jindu: error: ");
    let store = dir.path().join("store");
    let bad = jindu(&[
        "build",
        input.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--lexicon",
        lexicon.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    let err = stderr(&bad);
    assert!(err.contains(&at) && !err.contains("(embedded)"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Rows that were skipped or cut without a word are errors too, each
    // named by its file and line.
    std::fs::remove_file(&units).unwrap();
    for (file, text, said) in [
        (
            "context_blockers.tsv",
            "# prefix\tcharacters\n区\t新\n市\n",
            "line 3: row \"市\": expected prefix, characters",
        ),
        (
            "t2s.tsv",
            "緝\t缉\n乾\n",
            "line 2: row \"乾\": expected traditional, simplified",
        ),
        (
            "gap_stopchars.txt",
            "的 和\n与 及 # 连词\n",
            "line 2: '#' cannot stand in a free name",
        ),
        (
            "topic_words.txt",
            "毒品\n禁毒\t宣传\n",
            "line 2: row \"禁毒\\t宣传\": expected one word a line",
        ),
    ] {
        let path = lexicon.join(file);
        std::fs::write(&path, text).unwrap();
        let at = format!("{} {said}", path.display());
        assert_lexicon_error(&input, &lexicon, &at, "jindu: error: ");
        std::fs::remove_file(&path).unwrap();
    }
}

/// `dump` in every format and `load` back: the data graph survives the trip
/// through TriG unchanged, and the quad count through every format.
#[test]
fn dumps_load_back_into_an_equal_store() {
    let dir = tempfile::tempdir().unwrap();
    let source = seed_store().to_str().unwrap().to_string();
    let data_of = |store: &str| -> Vec<u8> {
        let out = jindu(&["dump", "--store", store, "--format", "ntriples"]);
        assert!(out.status.success(), "{}", stderr(&out));
        out.stdout
    };
    let original = data_of(&source);
    assert!(original.len() > 10_000);
    for (format, ext) in [("trig", "trig"), ("nquads", "nq"), ("turtle", "ttl")] {
        let file = dir.path().join(format!("dump.{ext}"));
        let out = jindu(&[
            "dump",
            "--store",
            &source,
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let copy = dir.path().join(format!("copy-{format}"));
        let copy = copy.to_str().unwrap();
        let out = jindu(&["load", file.to_str().unwrap(), "--store", copy]);
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert!(stdout(&out).contains("quads added"), "{}", stdout(&out));
        assert!(
            data_of(copy) == original,
            "{format}: the data graph changed"
        );
    }
    let bad = dir.path().join("bad.ttl");
    std::fs::write(&bad, "<a> <b> .").unwrap();
    let out = jindu(&[
        "load",
        bad.to_str().unwrap(),
        "--store",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("bad.ttl"), "{}", stderr(&out));
}
