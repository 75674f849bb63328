//! A generator of synthetic news corpora, for measuring extraction at scale.
//!
//! In: the [`Lexicon`] (regions, agency terms, campaigns, drugs), the
//! sentence patterns and fillers of `data/corpus/` (embedded; `--templates
//! DIR` extends them), a seed and a size. Out: page files of two to six
//! articles each (`OUT/pages/NNNNNNN.txt`, some with OCR-style hard line
//! breaks, some in GBK, some articles about other topics) and, for each
//! page, a manifest of what was put in, in the contract's gold format
//! (`OUT/manifest/NNNNNNN.json`), so that `jindu eval --gold OUT/manifest
//! OUT/pages` reports recall and precision; plus `OUT/corpus.json` with the
//! seed, size, counts and generator version.
//!
//! Deterministic: each page comes from its own random stream, derived from
//! the seed and the page index, so the files are the same byte for byte
//! whatever the thread count. Pages are generated in parallel batches and
//! written in index order; memory stays flat.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::Serialize;

use crate::lexicon::{self, CampaignSection, FormKind, Level, Lexicon, Location, Meaning, Segment};

/// Written into `corpus.json`: a change of the generator's output bumps it.
pub const GENERATOR_VERSION: &str = "corpus-gen 2";

const DEFAULT_FILES: &[(&str, &str)] = &[
    (
        "templates.txt",
        include_str!("../data/corpus/templates.txt"),
    ),
    (
        "background.txt",
        include_str!("../data/corpus/background.txt"),
    ),
    ("agencies.tsv", include_str!("../data/corpus/agencies.tsv")),
    ("fillers.tsv", include_str!("../data/corpus/fillers.tsv")),
];

/// Parses a size such as `300KB`, `10MB`, `1GB`, `512` (bytes); units are
/// powers of 1024, case-insensitive, `B` optional (`10M`).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .with_context(|| {
            format!("bad size {text:?}: expected a number and a unit, as 300KB, 10MB, 1GB")
        })?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        other => bail!("bad size {text:?}: unknown unit {other:?} (use B, KB, MB, GB)"),
    };
    let bytes = (value * factor as f64).round() as u64;
    if bytes == 0 {
        bail!("bad size {text:?}: must be at least one byte");
    }
    Ok(bytes)
}

/// SplitMix64: small, fast, and enough for text generation.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The stream of page `index` of a corpus made with `seed`.
    pub fn for_page(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ 0x6a09_e667_f3bc_c908);
        let a = r.next_u64();
        let mut s = Rng(a ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        s.next_u64();
        s
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The templates a page has not used yet, by kind: a page draws each
/// template once, as real pages do not repeat a sentence.
struct TemplateDraws<'g> {
    templates: &'g BTreeMap<String, Vec<Template>>,
    left: BTreeMap<&'g str, Vec<usize>>,
}

impl<'g> TemplateDraws<'g> {
    fn new(templates: &'g BTreeMap<String, Vec<Template>>) -> TemplateDraws<'g> {
        TemplateDraws {
            templates,
            left: BTreeMap::new(),
        }
    }

    /// A template of `kind` the page has not used, or none when it has
    /// used them all.
    fn try_draw(&mut self, rng: &mut Rng, kind: &str) -> Option<&'g Template> {
        let templates: &'g BTreeMap<String, Vec<Template>> = self.templates;
        let (name, all) = templates.get_key_value(kind)?;
        let left = self
            .left
            .entry(name.as_str())
            .or_insert_with(|| (0..all.len()).collect());
        if left.is_empty() {
            return None;
        }
        let i = left.swap_remove(rng.below(left.len()));
        Some(&all[i])
    }

    /// As [`Self::try_draw`], but a kind every article needs (a headline, a
    /// dateline, a lead, a close) starts over once the page has used all
    /// its templates.
    fn draw(&mut self, rng: &mut Rng, kind: &str) -> &'g Template {
        if let Some(t) = self.try_draw(rng, kind) {
            return t;
        }
        self.left.remove(kind);
        self.try_draw(rng, kind)
            .expect("every kind has a template (checked on loading)")
    }
}

// ---------------------------------------------------------------- data

#[derive(Debug, Clone)]
struct Template {
    parts: Vec<Part>,
    relations: Vec<(String, String, String)>,
    /// Drug categories its own words name (易制毒化学品): optional entities.
    optional_drugs: Vec<(String, String)>,
}

/// The parts of an article, each written from templates of kind
/// `TYPE-PART`.
const ARTICLE_PARTS: [&str; 4] = ["headline", "lead", "body", "close"];

/// The roles of `agencies.tsv`, each a template slot.
const AGENCY_ROLES: &[&str] = &["police", "procuratorate", "court", "office", "justice"];

/// The article types and whether they are about drugs.
const ARTICLE_TYPES: &[(&str, bool)] = &[
    ("case", true),
    ("report", true),
    ("court", true),
    ("filler", false),
];

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Slot(String),
    /// `[据悉|据了解|记者了解到]`: one of these is drawn each time, so
    /// that a sentence drawn again reads differently. Alternatives hold
    /// text and plain slots only.
    Choice(Vec<Vec<Part>>),
}

/// The parts of a template with every alternative of its choices: what
/// is checked must hold whichever is drawn.
fn all_parts(parts: &[Part]) -> Vec<&Part> {
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            Part::Choice(alternatives) => {
                out.extend(alternatives.iter().flat_map(|a| all_parts(a)))
            }
            _ => out.push(part),
        }
    }
    out
}

const ENTITY_SLOTS: &[&str] = &[
    "region",
    "province",
    "place",
    "police",
    "agency",
    "unit",
    "partner",
    "procuratorate",
    "court",
    "office",
    "justice",
    "campaign",
    "edition",
    "case",
    "drug",
    "drug2",
    "plant",
];
const PLAIN_SLOTS: &[&str] = &[
    "n_small",
    "year",
    "md",
    "date",
    "reporter",
    "reporter2",
    "person",
    "anon",
    "village",
];
/// The entity slots a background sentence may use: the article's own
/// region, which adds no fact to the manifest.
const BACKGROUND_SLOTS: &[&str] = &["region", "province"];
/// Figure slots: metric, lowest, highest, factor to the normalised unit,
/// decimals written.
const FIGURE_SLOTS: &[(&str, &str, u64, u64, u64, u32)] = &[
    ("n_cases", "casesSolved", 12, 960, 1, 0),
    ("n_suspects", "suspectsArrested", 3, 1500, 1, 0),
    ("n_users", "drugUsersFound", 5, 4000, 1, 0),
    ("kg", "drugsSeized", 3, 9999, 100, 1),
    ("money", "moneySeized", 2, 980, 10_000, 0),
    ("n_gangs", "gangsDestroyed", 2, 90, 1, 0),
    ("n_labs", "labsDestroyed", 2, 40, 1, 0),
    ("n_plants", "plantsEradicated", 120, 98_000, 1, 0),
    ("tons", "precursorsSeized", 2, 600, 100_000, 1),
];
/// How long an article of each type of [`ARTICLE_TYPES`] is, in chars
/// (shortest, longest): a story of one case is told in fewer words than a
/// report. About 2.3 KB an article, as the seed pages (2.4 KB).
const ARTICLE_CHARS: [(u64, u64); 4] = [(350, 1_100), (500, 1_800), (350, 1_000), (300, 1_000)];
/// The share of a report's paragraphs that state a fact, and how many
/// background sentences a paragraph has (lowest, highest): calibrated so
/// that a MB of generated text holds about as many facts as real news
/// (`scripts/bench` prints both).
const REPORT_FACT_SHARE: f64 = 0.2;
const BACKGROUND_SENTENCES: (u64, u64) = (2, 5);
/// Slots that get a new value in each paragraph.
const PARAGRAPH_SLOTS: &[&str] = &["drug", "drug2", "plant", "place", "partner"];

#[derive(Debug, Clone)]
struct AgencyForm {
    /// Written forms; the first is canonical.
    body: Vec<String>,
    units: Vec<String>,
}

/// A region usable in generated text.
#[derive(Debug, Clone)]
struct Region {
    index: usize,
    name: String,
    code: String,
    level: Level,
    /// Short forms that name only this region.
    shorts: Vec<String>,
    /// The lexicon index of its province.
    province: usize,
    /// Indices (into `Generator::regions`) of its parent and of the regions below it.
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Everything a page is made from, prepared once.
pub struct Generator {
    gbk: GbkTable,
    /// Template kinds of each article type: headline, lead, body, close,
    /// and its background sentences.
    kinds: Vec<[String; 5]>,
    templates: BTreeMap<String, Vec<Template>>,
    agencies: HashMap<(String, Level), AgencyForm>,
    reporters: Vec<String>,
    /// Composed names of people and villages that the lexicon does not read.
    persons: Vec<String>,
    villages: Vec<String>,
    /// Suspects named as news names them (张某, 张某某).
    anons: Vec<String>,
    case_types: Vec<String>,
    campaign_words: Vec<String>,
    regions: Vec<Region>,
    /// Regions by level, indices into `regions`, for the article's region.
    provinces: Vec<usize>,
    prefectures: Vec<usize>,
    counties: Vec<usize>,
    campaigns: Vec<String>,
    drugs: Vec<(String, Vec<String>)>,
    common_drugs: Vec<usize>,
    plants: Vec<String>,
}

/// Data rows of a template file: lines that are neither empty nor
/// comments, each with where it is (its file and its line there) and its
/// tab-separated fields.
fn rows(segments: &[Segment]) -> impl Iterator<Item = (Location<'_>, Vec<&str>)> {
    segments
        .iter()
        .flat_map(Segment::lines)
        .filter_map(|(at, line)| {
            let t = line.trim_end_matches('\r');
            if t.trim().is_empty() || t.trim_start().starts_with('#') {
                None
            } else {
                Some((at, t.split('\t').collect()))
            }
        })
}

/// A data file: the embedded default, then the files of the same name in
/// the folders; a folder's file whose first line is `# replace` replaces
/// what came before.
fn load_text(name: &str, dirs: &[PathBuf]) -> Result<Vec<Segment>> {
    let embedded = DEFAULT_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_default();
    let mut segments = vec![Segment::embedded(name, embedded)];
    for dir in dirs {
        let path = dir.join(name);
        if path.exists() {
            let extra = Segment::read(&path, "template file")?;
            if extra
                .text
                .lines()
                .next()
                .is_some_and(|l| l.trim() == "# replace")
            {
                segments.clear();
            }
            segments.push(extra);
        }
    }
    Ok(segments)
}

fn parse_template(at: Location, text: &str, rel: &str) -> Result<Template> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        parse_slots(at, &rest[..open], false, &mut parts)?;
        let close = rest[open..]
            .find(']')
            .with_context(|| format!("{at}: unclosed ["))?
            + open;
        let inner = &rest[open + 1..close];
        if inner.contains('[') {
            bail!("{at}: [ inside [ ]: choices do not nest");
        }
        let mut alternatives = Vec::new();
        for alternative in inner.split('|') {
            let mut alt = Vec::new();
            parse_slots(at, alternative, true, &mut alt)?;
            alternatives.push(alt);
        }
        if alternatives.len() < 2 {
            bail!("{at}: [{inner}] offers one alternative; write [a|b]");
        }
        parts.push(Part::Choice(alternatives));
        rest = &rest[close + 1..];
    }
    if rest.contains(']') {
        bail!("{at}: ] without [");
    }
    parse_slots(at, rest, false, &mut parts)?;
    let mut relations = Vec::new();
    for spec in rel.split_whitespace() {
        let f: Vec<&str> = spec.split('>').collect();
        if f.len() != 3 {
            bail!("{at}: relation {spec} is not subject>property>object");
        }
        for slot in [f[0], f[2]] {
            if !ENTITY_SLOTS.contains(&slot) {
                bail!("{at}: relation {spec} names {slot}, not an entity slot");
            }
        }
        const PROPS: &[&str] = &[
            "handledBy",
            "cooperatesWith",
            "participatesIn",
            "occurredIn",
            "involvesDrug",
            "underCampaign",
            "locatedIn",
            "subOrganizationOf",
            "partOf",
        ];
        if !PROPS.contains(&f[1]) {
            bail!("{at}: unknown property {}", f[1]);
        }
        relations.push((f[0].to_string(), f[1].to_string(), f[2].to_string()));
    }
    Ok(Template {
        parts,
        relations,
        optional_drugs: Vec::new(),
    })
}

/// Parses text with `{slot}`s into `parts`; inside a choice, only plain
/// slots (an entity or a figure drawn in one alternative only would leave
/// the manifest unsure of what the page holds).
fn parse_slots(at: Location, text: &str, in_choice: bool, parts: &mut Vec<Part>) -> Result<()> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .with_context(|| format!("{at}: unclosed {{"))?
            + open;
        let name = &rest[open + 1..close];
        let plain = PLAIN_SLOTS.contains(&name);
        let known =
            plain || ENTITY_SLOTS.contains(&name) || FIGURE_SLOTS.iter().any(|f| f.0 == name);
        if !known {
            bail!("{at}: unknown slot {{{name}}}");
        }
        if in_choice && !plain {
            bail!("{at}: slot {{{name}}} inside [ ]: choices take plain slots only");
        }
        parts.push(Part::Slot(name.to_string()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(())
}

/// The kind suffix of background sentences (`report-background`).
const BACKGROUND: &str = "background";

/// Refuses a background sentence that would state a fact: a slot other
/// than a plain one or the article's region, or fixed words the lexicon
/// reads as a name (a region, an agency, a campaign, a drug) or as a word
/// standing for the article's region (全市). A drug category (毒品) is
/// optional in the manifest, and words matched only to block a name are
/// harmless.
fn check_background(lex: &Lexicon, at: Location, t: &Template) -> Result<()> {
    for part in all_parts(&t.parts) {
        match part {
            Part::Slot(name) => {
                if !(PLAIN_SLOTS.contains(&name.as_str())
                    || BACKGROUND_SLOTS.contains(&name.as_str()))
                {
                    bail!(
                        "{at}: slot {{{name}}} states a fact; a background sentence takes plain slots and {{region}} or {{province}}"
                    );
                }
            }
            Part::Text(text) => {
                for hit in lex.automaton.leftmost_find_iter(text.as_str()) {
                    let word = &text[hit.start()..hit.end()];
                    for meaning in &lex.forms[hit.value() as usize].1 {
                        let harmless = match meaning {
                            Meaning::Word => true,
                            // 中, 川: the extractor reads these only in
                            // lists of places, which background sentences
                            // do not hold.
                            Meaning::Region { form, .. } | Meaning::RegionGroup { form, .. } => {
                                *form == FormKind::Abbrev
                            }
                            // 市, 区: only a prefix of an agency body, and
                            // background sentences name none.
                            Meaning::Context(i) => !lex.context_refs[*i].alone,
                            Meaning::Drug(i) => lex.drugs[*i].kind == "category",
                            _ => false,
                        };
                        if !harmless {
                            bail!(
                                "{at}: {word} reads as {}: a background sentence states no fact",
                                meaning_name(meaning)
                            );
                        }
                    }
                }
            }
            Part::Choice(_) => unreachable!("all_parts opens choices"),
        }
    }
    Ok(())
}

/// What a lexicon meaning is, for messages.
fn meaning_name(meaning: &Meaning) -> &'static str {
    match meaning {
        Meaning::Region { .. } | Meaning::RegionGroup { .. } => "a region",
        Meaning::AgencyTerm(_) | Meaning::National(_) => "an agency",
        Meaning::Context(_) => "a word for the article's region",
        Meaning::Drug(_) => "a drug",
        Meaning::Campaign(_) => "a campaign",
        Meaning::Demonstrative => "a reference to an agency",
        Meaning::Word => "a word",
    }
}

/// Names from parts: each part of `heads` followed by each of `tails`,
/// except those in which the lexicon finds any word, so that a composed
/// name is never read as a place, an agency or a drug.
fn compose_names(lex: &Lexicon, heads: &[String], tails: &[String]) -> Vec<String> {
    let mut names = Vec::with_capacity(heads.len() * tails.len());
    for head in heads {
        for tail in tails {
            let name = format!("{head}{tail}");
            if lex
                .automaton
                .leftmost_find_iter(name.as_str())
                .next()
                .is_none()
            {
                names.push(name);
            }
        }
    }
    names
}

impl Generator {
    /// Prepares the pools from the lexicon and the template files.
    pub fn new(
        lex: &Lexicon,
        template_dirs: &[PathBuf],
        lexicon_dirs: &[PathBuf],
    ) -> Result<Generator> {
        for dir in template_dirs {
            if !dir.is_dir() {
                bail!("template folder {} does not exist", dir.display());
            }
        }
        let mut templates: BTreeMap<String, Vec<Template>> = BTreeMap::new();
        // A template of another kind would never be drawn.
        let known_kinds: Vec<String> = ARTICLE_TYPES
            .iter()
            .flat_map(|(kind, _)| ARTICLE_PARTS.map(|part| format!("{kind}-{part}")))
            .chain(["dateline".to_string()])
            .collect();
        for (at, f) in rows(&load_text("templates.txt", template_dirs)?) {
            if f.len() < 2 || f[1].trim().is_empty() {
                bail!("{at}: expected kind, template");
            }
            let kind = f[0].trim();
            if !known_kinds.iter().any(|k| k == kind) {
                bail!(
                    "{at}: unknown kind {kind} (dateline, or TYPE-PART: TYPE case, report, court or filler, PART headline, lead, body or close)"
                );
            }
            let t = parse_template(at, f[1].trim(), f.get(2).copied().unwrap_or(""))?;
            templates.entry(kind.to_string()).or_default().push(t);
        }
        let background_kinds: Vec<String> = ARTICLE_TYPES
            .iter()
            .map(|(kind, _)| format!("{kind}-{BACKGROUND}"))
            .collect();
        for (at, f) in rows(&load_text("background.txt", template_dirs)?) {
            if f.len() != 2 || f[1].trim().is_empty() {
                bail!("{at}: expected kind, sentence (and no relations)");
            }
            let kind = f[0].trim();
            if !background_kinds.iter().any(|k| k == kind) {
                bail!(
                    "{at}: unknown kind {kind} (TYPE-background, TYPE case, report, court or filler)"
                );
            }
            let t = parse_template(at, f[1].trim(), "")?;
            check_background(lex, at, &t)?;
            templates.entry(kind.to_string()).or_default().push(t);
        }
        for kind in &background_kinds {
            if templates.get(kind).is_none_or(|t| t.is_empty()) {
                bail!("background.txt: no sentence of kind {kind}");
            }
        }
        for (kind, _) in ARTICLE_TYPES {
            for part in ARTICLE_PARTS {
                if templates
                    .get(&format!("{kind}-{part}"))
                    .is_none_or(|t| t.is_empty())
                {
                    bail!("templates.txt: no template of kind {kind}-{part}");
                }
            }
        }
        if templates.get("dateline").is_none_or(|t| t.is_empty()) {
            bail!("templates.txt: no template of kind dateline");
        }
        // Words of the templates themselves that name a drug category.
        for list in templates.values_mut() {
            for t in list {
                for part in all_parts(&t.parts) {
                    let Part::Text(text) = part else { continue };
                    for hit in lex.automaton.leftmost_find_iter(text.as_str()) {
                        for m in &lex.forms[hit.value() as usize].1 {
                            if let Meaning::Drug(i) = m
                                && lex.drugs[*i].kind == "category"
                            {
                                t.optional_drugs.push((
                                    lex.drugs[*i].label.clone(),
                                    text[hit.start()..hit.end()].to_string(),
                                ));
                            }
                        }
                    }
                }
            }
        }

        // Agency forms, checked against the agency terms.
        let term_canonical: HashMap<&str, &str> = lex
            .agency_terms
            .iter()
            .map(|t| (t.term.as_str(), t.canonical.as_str()))
            .collect();
        let mut agencies = HashMap::new();
        for (at, f) in rows(&load_text("agencies.tsv", template_dirs)?) {
            if f.len() < 3 {
                bail!("{at}: expected role, level, body, units");
            }
            let role = f[0].trim();
            if !AGENCY_ROLES.contains(&role) {
                bail!("{at}: unknown role {role} ({})", AGENCY_ROLES.join(", "));
            }
            let level = match f[1].trim() {
                "province" => Level::Province,
                "prefecture" => Level::Prefecture,
                "county" => Level::County,
                other => bail!("{at}: unknown level {other}"),
            };
            let body: Vec<String> = f[2].split('|').map(|s| s.trim().to_string()).collect();
            for form in &body {
                match term_canonical.get(form.as_str()) {
                    Some(c) if *c == body[0] => {}
                    Some(c) => bail!(
                        "{at}: {form} reads as {c} in agency_terms.tsv, not {}",
                        body[0]
                    ),
                    None => bail!("{at}: {form} is not in agency_terms.tsv"),
                }
            }
            let units: Vec<String> = f
                .get(3)
                .map(|u| {
                    u.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            for u in &units {
                if !term_canonical.contains_key(u.as_str()) {
                    bail!("{at}: unit {u} is not in agency_terms.tsv");
                }
            }
            agencies.insert((role.to_string(), level), AgencyForm { body, units });
        }
        for role in AGENCY_ROLES {
            for level in [Level::Province, Level::Prefecture, Level::County] {
                if !agencies.contains_key(&(role.to_string(), level)) {
                    bail!("agencies.tsv: no {role} body for level {}", level.name());
                }
            }
        }
        if agencies[&("police".to_string(), Level::Prefecture)]
            .units
            .is_empty()
        {
            bail!("agencies.tsv: police bodies need units");
        }

        let mut reporters = Vec::new();
        let mut case_types = Vec::new();
        let mut common = Vec::new();
        let mut campaign_words = Vec::new();
        let (mut surnames, mut given_names) = (Vec::new(), Vec::new());
        let (mut village_chars, mut village_suffixes) = (Vec::new(), Vec::new());
        for (at, f) in rows(&load_text("fillers.tsv", template_dirs)?) {
            let value = f.get(1).map(|v| v.trim().to_string()).unwrap_or_default();
            if value.is_empty() {
                bail!("{at}: expected kind, value");
            }
            match f[0].trim() {
                "reporter" => reporters.push(value),
                "case_type" => case_types.push(value),
                // Drug slots are drawn from the drugs of kind drug alone.
                "common_drug" => {
                    if !lex
                        .drugs
                        .iter()
                        .any(|d| d.kind == "drug" && d.label == value)
                    {
                        bail!("{at}: common_drug {value} is no drugs.tsv label of kind drug");
                    }
                    common.push(value)
                }
                "campaign_word" => campaign_words.push(value),
                "surname" => surnames.push(value),
                "given_name" => given_names.push(value),
                "village_char" => {
                    if value.chars().count() != 1 {
                        bail!("{at}: village_char {value} is not one character");
                    }
                    village_chars.push(value)
                }
                "village_suffix" => village_suffixes.push(value),
                other => bail!("{at}: unknown kind {other}"),
            }
        }
        if reporters.is_empty() || case_types.is_empty() || campaign_words.is_empty() {
            bail!("fillers.tsv: needs reporter, case_type and campaign_word rows");
        }
        let persons = compose_names(lex, &surnames, &given_names);
        let anons = compose_names(lex, &surnames, &["某".into(), "某某".into()]);
        // Two different characters, then the suffix: 石桥村, 柳湾社区.
        let village_heads: Vec<String> = village_chars
            .iter()
            .flat_map(|a| {
                village_chars
                    .iter()
                    .filter(move |b| *b != a)
                    .map(move |b| format!("{a}{b}"))
            })
            .collect();
        let villages = compose_names(lex, &village_heads, &village_suffixes);
        if persons.is_empty() || anons.is_empty() || villages.is_empty() {
            bail!(
                "fillers.tsv: needs surname, given_name, village_char and village_suffix rows that compose names the lexicon does not read"
            );
        }

        // Regions: every gazetteer region whose full name names it alone;
        // short forms that name it alone.
        let mut meanings: HashMap<usize, Vec<String>> = HashMap::new();
        let mut unique_full: HashSet<usize> = HashSet::new();
        for (form, ms) in &lex.forms {
            let region_meanings: Vec<&Meaning> = ms
                .iter()
                .filter(|m| matches!(m, Meaning::Region { .. } | Meaning::RegionGroup { .. }))
                .collect();
            if ms.len() != 1 || region_meanings.len() != 1 {
                continue;
            }
            if let Meaning::Region { index, form: kind } = region_meanings[0] {
                match kind {
                    crate::lexicon::FormKind::Full if lex.regions[*index].name == *form => {
                        unique_full.insert(*index);
                    }
                    crate::lexicon::FormKind::Short if form.chars().count() >= 2 => {
                        meanings.entry(*index).or_default().push(form.clone());
                    }
                    _ => {}
                }
            }
        }
        let municipalities = ["110000", "120000", "310000", "500000"];
        let mut regions: Vec<Region> = Vec::new();
        let mut by_lex: HashMap<usize, usize> = HashMap::new();
        for (i, r) in lex.regions.iter().enumerate() {
            let Some(code) = &r.code else { continue };
            if !matches!(r.level, Level::Province | Level::Prefecture | Level::County)
                || !unique_full.contains(&i)
            {
                continue;
            }
            let Some(province) = lex.province_of(i) else {
                continue;
            };
            // Municipalities name their bodies otherwise (北京市公安局, 朝阳分局).
            if lex.regions[province]
                .code
                .as_deref()
                .is_some_and(|c| municipalities.contains(&c))
            {
                continue;
            }
            let mut shorts = meanings.get(&i).cloned().unwrap_or_default();
            shorts.sort();
            by_lex.insert(i, regions.len());
            regions.push(Region {
                index: i,
                name: r.name.clone(),
                code: code.clone(),
                level: r.level,
                shorts,
                province,
                parent: None,
                children: Vec::new(),
            });
        }
        for k in 0..regions.len() {
            if let Some(parent) = lex.regions[regions[k].index].parent
                && let Some(&p) = by_lex.get(&parent)
            {
                regions[p].children.push(k);
                regions[k].parent = Some(p);
            }
        }
        // A province must be usable for its regions' agencies.
        let by_level = |level: Level| -> Vec<usize> {
            regions
                .iter()
                .enumerate()
                .filter(|(_, r)| r.level == level && by_lex.contains_key(&r.province))
                .map(|(k, _)| k)
                .collect()
        };
        let provinces = by_level(Level::Province);
        let prefectures = by_level(Level::Prefecture);
        let counties: Vec<usize> = by_level(Level::County)
            .into_iter()
            .filter(|&k| {
                lex.regions[regions[k].index]
                    .parent
                    .and_then(|p| by_lex.get(&p))
                    .is_some_and(|&p| regions[p].level == Level::Prefecture)
            })
            .collect();
        if provinces.is_empty() || prefectures.is_empty() || counties.is_empty() {
            bail!("the gazetteer has no usable regions");
        }

        // Campaigns of kind campaign of the core and quoted sections
        // (`generic` ones are optional in gold files), read again for their
        // sections as the lexicon reads them: a section ends with its file,
        // so a `--lexicon` file's rows before a marker of their own are
        // core.
        let campaign_file = lexicon::load_text("campaigns.tsv", lexicon_dirs)?;
        let mut campaigns = Vec::new();
        for (at, f) in lexicon::rows(&campaign_file) {
            if f.len() < 2 {
                bail!("{at}: expected label, kind");
            }
            if f[1] == "campaign" && lexicon::campaign_section(at)? != CampaignSection::Generic {
                campaigns.push(f[0].to_string());
            }
        }
        if campaigns.is_empty() {
            bail!("campaigns.tsv has no campaign rows");
        }

        let mut drugs = Vec::new();
        let mut plants = Vec::new();
        for d in &lex.drugs {
            match d.kind.as_str() {
                "drug" => drugs.push((d.label.clone(), Vec::new())),
                "plant" if ["罂粟", "大麻"].contains(&d.label.as_str()) => {
                    plants.push(d.label.clone())
                }
                _ => {}
            }
        }
        // Every common drug is one of `drugs` (checked as read).
        let common_drugs: Vec<usize> = common
            .iter()
            .filter_map(|c| drugs.iter().position(|(l, _)| l == c))
            .collect();
        if drugs.is_empty() || plants.is_empty() {
            bail!("drugs.tsv has no drug or plant rows");
        }

        let kinds = ARTICLE_TYPES
            .iter()
            .map(|(k, _)| {
                let [head, lead, body, close] = ARTICLE_PARTS.map(|p| format!("{k}-{p}"));
                [head, lead, body, close, format!("{k}-{BACKGROUND}")]
            })
            .collect();
        Ok(Generator {
            gbk: GbkTable::new(),
            kinds,
            templates,
            agencies,
            reporters,
            persons,
            villages,
            anons,
            case_types,
            campaign_words,
            regions,
            provinces,
            prefectures,
            counties,
            campaigns,
            drugs,
            common_drugs,
            plants,
        })
    }
}

// ---------------------------------------------------------------- manifest

#[derive(Debug, Clone, Serialize)]
pub struct GoldEntity {
    #[serde(rename = "type")]
    pub class: &'static str,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GoldStatistic {
    pub metric: &'static str,
    pub value: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drug: Option<String>,
}

/// One page's manifest, in the contract's gold format.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub source: String,
    pub entities: Vec<GoldEntity>,
    pub relations: Vec<[String; 3]>,
    pub statistics: Vec<GoldStatistic>,
}

#[derive(Default)]
struct ManifestBuilder {
    entities: Vec<GoldEntity>,
    index: HashMap<(&'static str, String), usize>,
    relations: Vec<[String; 3]>,
    rel_seen: HashSet<[String; 3]>,
    statistics: Vec<GoldStatistic>,
}

impl ManifestBuilder {
    fn entity(&mut self, class: &'static str, label: &str, code: Option<&str>, written: &str) {
        self.entity_opt(class, label, code, written, false);
    }

    fn entity_opt(
        &mut self,
        class: &'static str,
        label: &str,
        code: Option<&str>,
        written: &str,
        optional: bool,
    ) {
        let key = (class, label.to_string());
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.entities.push(GoldEntity {
                    class,
                    label: label.to_string(),
                    code: code.map(String::from),
                    accept: Vec::new(),
                    optional,
                });
                self.index.insert(key, self.entities.len() - 1);
                self.entities.len() - 1
            }
        };
        let e = &mut self.entities[i];
        e.optional &= optional;
        if written != label && !e.accept.iter().any(|a| a == written) {
            e.accept.push(written.to_string());
        }
    }
    fn relation(&mut self, s: &str, p: &str, o: &str) {
        if s == o {
            return;
        }
        let r = [s.to_string(), p.to_string(), o.to_string()];
        if self.rel_seen.insert(r.clone()) {
            self.relations.push(r);
        }
    }
}

// ---------------------------------------------------------------- pages

/// A bound entity slot: what is written and the entities it stands for.
#[derive(Clone)]
struct Bound {
    written: String,
    /// The label relations use.
    label: String,
    /// Entities and relations the name brings (region, parent body …).
    entities: Vec<(&'static str, String, Option<String>, String)>,
    relations: Vec<[String; 3]>,
}

struct ArticleState {
    region: usize,
    year: u64,
    bound: HashMap<&'static str, Bound>,
}

/// One generated page.
pub struct Page {
    pub index: u64,
    pub bytes: Vec<u8>,
    pub manifest: Vec<u8>,
    pub articles: usize,
    pub drug_articles: usize,
    pub gbk: bool,
    pub ocr: bool,
    pub entities: usize,
    pub relations: usize,
    pub statistics: usize,
}

pub fn page_name(index: u64) -> String {
    format!("{index:07}")
}

impl Generator {
    fn region_written(&self, rng: &mut Rng, k: usize, allow_short: bool) -> String {
        let r = &self.regions[k];
        if allow_short && r.level != Level::County && !r.shorts.is_empty() && rng.chance(0.3) {
            rng.pick(&r.shorts).clone()
        } else {
            r.name.clone()
        }
    }

    fn region_bound(&self, rng: &mut Rng, k: usize) -> Bound {
        let r = &self.regions[k];
        let written = self.region_written(rng, k, true);
        Bound {
            label: r.name.clone(),
            entities: vec![(
                "Region",
                r.name.clone(),
                Some(r.code.clone()),
                written.clone(),
            )],
            written,
            relations: Vec::new(),
        }
    }

    /// A body (and optionally a unit) of `role` at region `k`.
    fn agency_bound(&self, rng: &mut Rng, role: &str, k: usize, unit: bool) -> Bound {
        let r = &self.regions[k];
        let form = &self.agencies[&(role.to_string(), r.level)];
        let body_written = if form.body.len() > 1 && rng.chance(0.3) {
            rng.pick(&form.body[1..]).clone()
        } else {
            form.body[0].clone()
        };
        // The region as written: sometimes with its parent in front.
        let mut entities = Vec::new();
        let mut prefix = String::new();
        if let Some(parent) = self.parent_of(k)
            && rng.chance(if r.level == Level::County { 0.4 } else { 0.2 })
        {
            let p = &self.regions[parent];
            prefix.push_str(&p.name);
            entities.push((
                "Region",
                p.name.clone(),
                Some(p.code.clone()),
                p.name.clone(),
            ));
        }
        prefix.push_str(&r.name);
        entities.push((
            "Region",
            r.name.clone(),
            Some(r.code.clone()),
            r.name.clone(),
        ));
        let body_label = format!("{}{}", r.name, form.body[0]);
        let body_written_full = format!("{prefix}{body_written}");
        let mut relations = vec![[body_label.clone(), "locatedIn".into(), r.name.clone()]];
        let (label, written) = if unit && !form.units.is_empty() {
            let u = rng.pick(&form.units).clone();
            let label = format!("{body_label}{u}");
            entities.push((
                "Agency",
                body_label.clone(),
                None,
                body_written_full.clone(),
            ));
            relations.push([label.clone(), "locatedIn".into(), r.name.clone()]);
            relations.push([
                label.clone(),
                "subOrganizationOf".into(),
                body_label.clone(),
            ]);
            (label, format!("{body_written_full}{u}"))
        } else {
            (body_label, body_written_full)
        };
        entities.push(("Agency", label.clone(), None, written.clone()));
        Bound {
            written,
            label,
            entities,
            relations,
        }
    }

    fn parent_of(&self, k: usize) -> Option<usize> {
        self.regions[k].parent
    }

    fn pick_drug(&self, rng: &mut Rng, not: &str) -> String {
        for _ in 0..8 {
            let d = if !self.common_drugs.is_empty() && rng.chance(0.7) {
                &self.drugs[*rng.pick(&self.common_drugs)].0
            } else {
                &rng.pick(&self.drugs).0
            };
            if d != not {
                return d.clone();
            }
        }
        self.drugs[0].0.clone()
    }

    /// Binds an entity slot of the article, once.
    fn bind(&self, rng: &mut Rng, st: &mut ArticleState, slot: &'static str) {
        if st.bound.contains_key(slot) {
            return;
        }
        let k = st.region;
        let region = &self.regions[k];
        let b = match slot {
            "region" => self.region_bound(rng, k),
            "province" => {
                let mut p = k;
                while let Some(up) = self.regions[p].parent {
                    p = up;
                }
                self.region_bound(rng, p)
            }
            "place" => {
                let choices = &region.children;
                let p = if choices.is_empty() {
                    k
                } else {
                    *rng.pick(choices)
                };
                let r = &self.regions[p];
                Bound {
                    written: r.name.clone(),
                    label: r.name.clone(),
                    entities: vec![(
                        "Region",
                        r.name.clone(),
                        Some(r.code.clone()),
                        r.name.clone(),
                    )],
                    relations: Vec::new(),
                }
            }
            "police" => self.agency_bound(rng, "police", k, false),
            "agency" => {
                // The same body as {police} when that is bound.
                let unit = rng.chance(0.5);
                let b = self.agency_bound(rng, "police", k, unit);
                if let Some(p) = st.bound.get("police") {
                    let mut b = b;
                    if !b.label.starts_with(&p.label) {
                        b = p.clone();
                    }
                    b
                } else {
                    b
                }
            }
            "unit" => self.agency_bound(rng, "police", k, true),
            "partner" => {
                // Another region of the same province.
                let mut other = k;
                for _ in 0..6 {
                    let pool = if rng.chance(0.5) {
                        &self.prefectures
                    } else {
                        &self.counties
                    };
                    let c = *rng.pick(pool);
                    if self.regions[c].province == region.province && c != k {
                        other = c;
                        break;
                    }
                }
                if other == k {
                    // Fall back on a child or the parent.
                    other = region
                        .children
                        .first()
                        .copied()
                        .or_else(|| self.parent_of(k))
                        .unwrap_or(k);
                }
                if other == k {
                    self.agency_bound(rng, "procuratorate", k, false)
                } else {
                    let unit = rng.chance(0.3);
                    self.agency_bound(rng, "police", other, unit)
                }
            }
            "procuratorate" | "court" | "office" | "justice" => {
                self.agency_bound(rng, slot, k, false)
            }
            "campaign" => {
                let name = rng.pick(&self.campaigns).clone();
                let word = rng.pick(&self.campaign_words);
                Bound {
                    written: format!("“{name}”{word}"),
                    label: name.clone(),
                    entities: vec![("Campaign", name.clone(), None, name.clone())],
                    relations: Vec::new(),
                }
            }
            "edition" => {
                let base = match st.bound.get("campaign") {
                    Some(c) => c.label.clone(),
                    None => rng.pick(&self.campaigns).clone(),
                };
                let label = format!("{base}—{}", st.year);
                let word = rng.pick(&self.campaign_words);
                Bound {
                    written: format!("“{label}”{word}"),
                    label: label.clone(),
                    entities: vec![
                        ("Campaign", label.clone(), None, label.clone()),
                        ("Campaign", base.clone(), None, base.clone()),
                    ],
                    relations: vec![[label, "partOf".into(), base]],
                }
            }
            "case" => {
                let m = rng.range(1, 12);
                let d = rng.range(1, 28);
                let kind = rng.pick(&self.case_types);
                let label = format!("{m}·{d}{kind}");
                Bound {
                    written: format!("“{m}·{d}”{kind}"),
                    entities: vec![("Case", label.clone(), None, label.clone())],
                    label,
                    relations: Vec::new(),
                }
            }
            "drug" | "drug2" => {
                let other = if slot == "drug2" {
                    st.bound
                        .get("drug")
                        .map(|b| b.label.clone())
                        .unwrap_or_default()
                } else {
                    st.bound
                        .get("drug2")
                        .map(|b| b.label.clone())
                        .unwrap_or_default()
                };
                let d = self.pick_drug(rng, &other);
                Bound {
                    written: d.clone(),
                    label: d.clone(),
                    entities: vec![("Drug", d.clone(), None, d)],
                    relations: Vec::new(),
                }
            }
            "plant" => {
                let d = rng.pick(&self.plants).clone();
                Bound {
                    written: d.clone(),
                    label: d.clone(),
                    entities: vec![("Drug", d.clone(), None, d)],
                    relations: Vec::new(),
                }
            }
            _ => unreachable!("slot {slot} checked when loading"),
        };
        st.bound.insert(slot, b);
    }

    fn render(
        &self,
        rng: &mut Rng,
        st: &mut ArticleState,
        t: &Template,
        m: &mut ManifestBuilder,
        out: &mut String,
    ) {
        self.render_parts(rng, st, &t.parts, m, out);
        for (label, written) in &t.optional_drugs {
            m.entity_opt("Drug", label, None, written, true);
        }
        for (s, p, o) in &t.relations {
            let (Some(sb), Some(ob)) = (st.bound.get(s.as_str()), st.bound.get(o.as_str())) else {
                continue;
            };
            let (sl, ol) = (sb.label.clone(), ob.label.clone());
            m.relation(&sl, p, &ol);
        }
    }

    fn render_parts(
        &self,
        rng: &mut Rng,
        st: &mut ArticleState,
        parts: &[Part],
        m: &mut ManifestBuilder,
        out: &mut String,
    ) {
        for part in parts {
            match part {
                Part::Text(s) => out.push_str(s),
                Part::Choice(alternatives) => {
                    let alternative = rng.pick(alternatives);
                    self.render_parts(rng, st, alternative, m, out);
                }
                Part::Slot(name) => {
                    let name = name.as_str();
                    if let Some(&slot) = ENTITY_SLOTS.iter().find(|s| **s == name) {
                        self.bind(rng, st, slot);
                        let b = &st.bound[slot];
                        out.push_str(&b.written);
                        for (class, label, code, written) in &b.entities {
                            m.entity(class, label, code.as_deref(), written);
                        }
                        for [s, p, o] in &b.relations {
                            m.relation(s, p, o);
                        }
                    } else if let Some(f) = FIGURE_SLOTS.iter().find(|f| f.0 == name) {
                        let (_, metric, lo, hi, factor, decimals) = *f;
                        // A figure written twice is one statistic to a
                        // reader, and the scorer matches values within
                        // 0.5 %: each figure of a metric differs by more
                        // than 1 % from the others of its page.
                        let mut v = rng.range(lo, hi);
                        for _ in 0..32 {
                            let close = m.statistics.iter().any(|s| {
                                s.metric == metric
                                    && s.value.abs_diff(v * factor) * 100 <= s.value.max(v * factor)
                            });
                            if !close {
                                break;
                            }
                            v = rng.range(lo, hi);
                        }
                        if decimals == 1 {
                            // v tenths: 126 → 12.6.
                            if v.is_multiple_of(10) {
                                out.push_str(&(v / 10).to_string());
                            } else {
                                out.push_str(&format!("{}.{}", v / 10, v % 10));
                            }
                        } else {
                            out.push_str(&v.to_string());
                        }
                        m.statistics.push(GoldStatistic {
                            metric,
                            value: v * factor,
                            drug: None,
                        });
                    } else {
                        match name {
                            "n_small" => out.push_str(&rng.range(2, 30).to_string()),
                            "year" => out.push_str(&st.year.to_string()),
                            "md" => {
                                let (mo, d) = (rng.range(1, 12), rng.range(1, 28));
                                out.push_str(&format!("{mo}月{d}日"));
                            }
                            "reporter" | "reporter2" => {
                                let r = rng.pick(&self.reporters);
                                out.push_str(r);
                            }
                            "person" => out.push_str(rng.pick(&self.persons).as_str()),
                            "anon" => out.push_str(rng.pick(&self.anons).as_str()),
                            "village" => out.push_str(rng.pick(&self.villages).as_str()),
                            "date" => {
                                let (mo, d) = (rng.range(1, 12), rng.range(1, 28));
                                out.push_str(&format!("{}年{mo}月{d}日", st.year));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    fn pick_region(&self, rng: &mut Rng) -> usize {
        let x = rng.below(10);
        if x < 2 {
            *rng.pick(&self.provinces)
        } else if x < 7 {
            *rng.pick(&self.prefectures)
        } else {
            *rng.pick(&self.counties)
        }
    }

    /// Generates page `index` of the corpus made with `seed`: the text, its
    /// encoded bytes and its manifest.
    pub fn page(&self, seed: u64, index: u64) -> Page {
        let mut rng = Rng::for_page(seed, index);
        let mut m = ManifestBuilder::default();
        let n_articles = rng.range(3, 7) as usize;
        let mut text = String::with_capacity(n_articles * 3_000);
        let mut drug_articles = 0;
        // A page says each thing once: it draws each template before any
        // is drawn again.
        let mut draws = TemplateDraws::new(&self.templates);
        for a in 0..n_articles {
            if a > 0 {
                text.push('\n');
            }
            let kind = match rng.below(10) {
                0..=3 => 0,
                4..=6 => 1,
                7 => 2,
                _ => 3,
            };
            let (ty, drug) = ARTICLE_TYPES[kind];
            drug_articles += drug as usize;
            let (shortest, longest) = ARTICLE_CHARS[kind];
            let article_chars = rng.range(shortest, longest) as usize;
            let mut st = ArticleState {
                region: self.pick_region(&mut rng),
                year: rng.range(2019, 2025),
                bound: HashMap::new(),
            };
            let start = text.len();
            let [head, lead, body, close, background] = &self.kinds[kind];
            let t = draws.draw(&mut rng, head);
            self.render(&mut rng, &mut st, t, &mut m, &mut text);
            text.push('\n');
            let t = draws.draw(&mut rng, "dateline");
            self.render(&mut rng, &mut st, t, &mut m, &mut text);
            let t = draws.draw(&mut rng, lead);
            self.render(&mut rng, &mut st, t, &mut m, &mut text);
            text.push('\n');
            // A story of one case tells its facts right after the lead, as
            // the extractor (and a reader) ties sentences to the case named
            // a few sentences before; a report spreads its facts over its
            // paragraphs. Background sentences, which state no fact, fill
            // the rest: real articles hold few facts for their length.
            // An article ends early when its page has used every background
            // sentence of its type: a page does not say the same thing twice.
            let one_case = ty == "case" || ty == "court";
            let mut paragraphs = 0;
            let mut background_left = true;
            while background_left && (text.len() - start) / 3 < article_chars {
                for slot in PARAGRAPH_SLOTS {
                    st.bound.remove(slot);
                }
                let facts = if one_case {
                    if paragraphs == 0 { rng.range(1, 2) } else { 0 }
                } else {
                    u64::from(rng.chance(REPORT_FACT_SHARE))
                };
                let mut sentences = 0;
                for _ in 0..facts {
                    if let Some(t) = draws.try_draw(&mut rng, body) {
                        self.render(&mut rng, &mut st, t, &mut m, &mut text);
                        sentences += 1;
                    }
                }
                if !(one_case && paragraphs == 0) || sentences == 0 {
                    for _ in 0..rng.range(BACKGROUND_SENTENCES.0, BACKGROUND_SENTENCES.1) {
                        let Some(t) = draws.try_draw(&mut rng, background) else {
                            background_left = false;
                            break;
                        };
                        self.render(&mut rng, &mut st, t, &mut m, &mut text);
                        sentences += 1;
                    }
                }
                if sentences > 0 {
                    text.push('\n');
                    paragraphs += 1;
                }
            }
            if rng.chance(0.5) {
                let t = draws.draw(&mut rng, close);
                self.render(&mut rng, &mut st, t, &mut m, &mut text);
                text.push('\n');
            }
        }
        let ocr = rng.chance(0.1);
        if ocr {
            text = hard_wrap(&mut rng, &text);
        }
        let gbk = rng.chance(0.1);
        let bytes = if gbk {
            self.gbk.encode(&text)
        } else {
            text.into_bytes()
        };
        let name = page_name(index);
        let manifest = Manifest {
            source: format!("{name}.txt"),
            entities: m.entities,
            relations: m.relations,
            statistics: m.statistics,
        };
        let mut json = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
        json.push(b'\n');
        Page {
            index,
            bytes,
            manifest: json,
            articles: n_articles,
            drug_articles,
            gbk,
            ocr,
            entities: manifest.entities.len(),
            relations: manifest.relations.len(),
            statistics: manifest.statistics.len(),
        }
    }
}

/// A GBK encoder by table lookup (encoding_rs encodes CJK by search, slowly).
struct GbkTable {
    /// Two-byte code by BMP code point; 0 when GBK has none.
    codes: Vec<u16>,
}

impl GbkTable {
    fn new() -> GbkTable {
        let mut codes = vec![0u16; 0x10000];
        for lead in 0x81u8..=0xfe {
            for trail in (0x40u8..=0xfe).filter(|t| *t != 0x7f) {
                let bytes = [lead, trail];
                let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
                let mut chars = text.chars();
                if let (false, Some(c), None) = (had_errors, chars.next(), chars.next())
                    && (c as u32) < 0x10000
                    && codes[c as usize] == 0
                {
                    codes[c as usize] = u16::from_be_bytes(bytes);
                }
            }
        }
        GbkTable { codes }
    }

    /// GBK bytes of the text; GB18030 (a superset) when a character is not in GBK.
    fn encode(&self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c as u8);
                continue;
            }
            match self.codes.get(c as usize) {
                Some(&code) if code != 0 => out.extend_from_slice(&code.to_be_bytes()),
                _ => return encoding_rs::GB18030.encode(text).0.into_owned(),
            }
        }
        out
    }
}

/// Breaks every paragraph into lines of one width (18–30 characters a
/// page), as a newspaper column read by OCR, mid-word and mid-number; a
/// blank line now and then between paragraphs.
fn hard_wrap(rng: &mut Rng, text: &str) -> String {
    let width = rng.range(18, 30) as usize;
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for para in text.split('\n') {
        let mut n = 0;
        for c in para.chars() {
            out.push(c);
            n += 1;
            if n == width {
                out.push('\n');
                n = 0;
            }
        }
        if n > 0 {
            out.push('\n');
        }
        if rng.chance(0.3) {
            out.push('\n');
        }
    }
    out
}

// ---------------------------------------------------------------- corpus

pub struct CorpusOptions {
    pub size: u64,
    pub seed: u64,
    pub out: PathBuf,
    pub lexicons: Vec<PathBuf>,
    pub templates: Vec<PathBuf>,
}

#[derive(Debug, Default, Serialize)]
pub struct CorpusSummary {
    pub generator: String,
    pub seed: u64,
    pub size_requested: u64,
    pub bytes_written: u64,
    pub pages: u64,
    pub articles: u64,
    pub drug_articles: u64,
    pub gbk_pages: u64,
    pub ocr_pages: u64,
    pub entities: u64,
    pub relations: u64,
    pub statistics: u64,
    #[serde(skip)]
    pub seconds: f64,
}

/// Writes a corpus of at least `size` bytes of page text into `out`.
pub fn make_corpus(lex: &Lexicon, opts: &CorpusOptions) -> Result<CorpusSummary> {
    let generator = Generator::new(lex, &opts.templates, &opts.lexicons)?;
    let pages_dir = opts.out.join("pages");
    let manifest_dir = opts.out.join("manifest");
    for dir in [&pages_dir, &manifest_dir] {
        if dir.exists()
            && std::fs::read_dir(dir)
                .with_context(|| format!("cannot list {}", dir.display()))?
                .next()
                .is_some()
        {
            bail!(
                "{} is not empty: give a new or empty output folder",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let started = Instant::now();
    let summary = CorpusSummary {
        generator: GENERATOR_VERSION.into(),
        seed: opts.seed,
        size_requested: opts.size,
        ..Default::default()
    };
    // Batches are generated in parallel while a writer thread puts the
    // previous batch on disk, in index order.
    let batch = (rayon::current_num_threads() * 16) as u64;
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Page>>(2);
    let size = opts.size;
    let written = std::thread::scope(|scope| -> Result<CorpusSummary> {
        let writer = scope.spawn(move || -> Result<CorpusSummary> {
            let mut summary = summary;
            for pages in receive {
                for page in pages {
                    if summary.bytes_written >= size {
                        return Ok(summary);
                    }
                    write_page(&pages_dir, &manifest_dir, &page)?;
                    summary.bytes_written += page.bytes.len() as u64;
                    summary.pages += 1;
                    summary.articles += page.articles as u64;
                    summary.drug_articles += page.drug_articles as u64;
                    summary.gbk_pages += page.gbk as u64;
                    summary.ocr_pages += page.ocr as u64;
                    summary.entities += page.entities as u64;
                    summary.relations += page.relations as u64;
                    summary.statistics += page.statistics as u64;
                }
            }
            Ok(summary)
        });
        // Generate until the pages made cover the size (the writer stops at
        // the same page: the first one that reaches it).
        let mut next = 0u64;
        let mut made = 0u64;
        while made < size {
            let pages: Vec<Page> = (next..next + batch)
                .into_par_iter()
                .map(|i| generator.page(opts.seed, i))
                .collect();
            next += batch;
            made += pages.iter().map(|p| p.bytes.len() as u64).sum::<u64>();
            if send.send(pages).is_err() {
                break; // the writer failed; its error follows
            }
        }
        drop(send);
        writer.join().expect("the writer thread does not panic")
    })?;
    let mut summary = written;
    summary.seconds = started.elapsed().as_secs_f64();
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    std::fs::write(opts.out.join("corpus.json"), json)
        .with_context(|| format!("cannot write {}", opts.out.join("corpus.json").display()))?;
    Ok(summary)
}

fn write_page(pages: &Path, manifests: &Path, page: &Page) -> Result<()> {
    let name = page_name(page.index);
    let write = |path: PathBuf, bytes: &[u8]| -> Result<()> {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        );
        f.write_all(bytes)?;
        f.flush()?;
        Ok(())
    };
    write(pages.join(format!("{name}.txt")), &page.bytes)?;
    write(manifests.join(format!("{name}.json")), &page.manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator() -> (Lexicon, Generator) {
        let lex = Lexicon::embedded().unwrap();
        let g = Generator::new(&lex, &[], &[]).unwrap();
        (lex, g)
    }

    /// The error of a generator whose template folder holds `file` with
    /// `text`, and the file's path.
    fn template_error(file: &str, text: &str) -> (String, String) {
        let lex = Lexicon::embedded().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let err = match Generator::new(&lex, &[dir.path().to_path_buf()], &[]) {
            Ok(_) => panic!("{file} {text:?} was accepted"),
            Err(e) => format!("{e:#}"),
        };
        (err, path.display().to_string())
    }

    #[test]
    fn template_file_errors_name_the_file_and_its_own_line() {
        let (err, path) = template_error("fillers.tsv", "reporter\t张三\nweird\t值\n");
        assert_eq!(err, format!("{path} line 2: unknown kind weird"));
        // A replacing file counts from its `# replace` line.
        let (err, path) = template_error(
            "templates.txt",
            "# replace\n\nreport-lead\t{agency}破获{nonsense}。\n",
        );
        assert_eq!(err, format!("{path} line 3: unknown slot {{nonsense}}"));
        // An embedded file's rows are numbered in it.
        let embedded = load_text("agencies.tsv", &[]).unwrap();
        let (at, _) = rows(&embedded).next().unwrap();
        let line = include_str!("../data/corpus/agencies.tsv")
            .lines()
            .position(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .unwrap();
        assert_eq!(
            at.to_string(),
            format!("agencies.tsv (embedded) line {}", line + 1)
        );
    }

    #[test]
    fn campaigns_are_drawn_by_their_section_in_their_own_file() {
        let (_, g) = generator();
        // The embedded file's core and quoted campaigns, not its generic ones.
        assert!(g.campaigns.iter().any(|c| c == "清源断流"));
        assert!(g.campaigns.iter().any(|c| c == "雷霆"));
        assert!(!g.campaigns.iter().any(|c| c == "打财断血"));
        // A folder's rows before a marker of their own are core, as the
        // lexicon reads them: the embedded file's generic section ended
        // with it.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("campaigns.tsv"),
            "护网\tcampaign\t\n# [section: generic]\n净网示范\tcampaign\t\n",
        )
        .unwrap();
        let folders = [dir.path().to_path_buf()];
        let lex = Lexicon::load(&folders).unwrap();
        let extended = Generator::new(&lex, &[], &folders).unwrap();
        assert!(extended.campaigns.iter().any(|c| c == "护网"));
        assert!(!extended.campaigns.iter().any(|c| c == "净网示范"));
        assert_eq!(extended.campaigns.len(), g.campaigns.len() + 1);
        // A bad row is named by its file and line.
        let path = dir.path().join("campaigns.tsv");
        std::fs::write(&path, "# [section: quoted]\n护网\n").unwrap();
        let err = match Generator::new(&Lexicon::embedded().unwrap(), &[], &folders) {
            Ok(_) => panic!("a campaign row without a kind was accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert_eq!(
            err,
            format!("{} line 2: expected label, kind", path.display())
        );
    }

    #[test]
    fn template_rows_that_would_never_be_used_are_errors() {
        // Each of these rows was read and never drawn from.
        for (file, text, said) in [
            (
                "templates.txt",
                "case-body\t{agency}破获案件。\ncase-bdy\t{agency}破获案件。\n",
                "line 2: unknown kind case-bdy (dateline, or TYPE-PART",
            ),
            (
                "templates.txt",
                "# k\tt\ncase-body\t \n",
                "line 2: expected kind, template",
            ),
            (
                "agencies.tsv",
                "police\tcounty\t公安局\t禁毒大队\npolise\tcounty\t公安局\t\n",
                "line 2: unknown role polise (police, procuratorate, court, office, justice)",
            ),
            (
                "fillers.tsv",
                "common_drug\t冰毒\n\ncommon_drug\t大麻\n",
                "line 3: common_drug 大麻 is no drugs.tsv label of kind drug",
            ),
            (
                "fillers.tsv",
                "common_drug\t冰du\n",
                "line 1: common_drug 冰du is no drugs.tsv label of kind drug",
            ),
        ] {
            let (err, path) = template_error(file, text);
            assert!(
                err.starts_with(&format!("{path} {said}")),
                "{file} {text:?}: {err}"
            );
        }
        // The embedded fillers' common drugs are all drawn.
        let (_, g) = generator();
        let common = include_str!("../data/corpus/fillers.tsv")
            .lines()
            .filter(|l| l.starts_with("common_drug\t"))
            .count();
        assert_eq!(g.common_drugs.len(), common);
    }

    #[test]
    fn background_sentences_that_would_state_a_fact_are_errors() {
        for (text, said) in [
            (
                "report-background\t会后，昆明市公安局部署了工作。\n",
                "line 1: 昆明市 reads as a region",
            ),
            (
                "report-background\t会后，公安局部署了工作。\n",
                "line 1: 公安局 reads as an agency",
            ),
            (
                "report-background\t据悉，全市共有禁毒志愿者数千人。\n",
                "line 1: 全市 reads as a word for the article's region",
            ),
            (
                "case-background\t犯罪嫌疑人藏有冰毒。\n",
                "line 1: 冰毒 reads as a drug",
            ),
            (
                "\ncourt-background\t{court}开庭审理。\n",
                "line 2: slot {court} states a fact",
            ),
            (
                "report-background\t共缴获毒品{kg}公斤。\n",
                "line 1: slot {kg} states a fact",
            ),
            (
                "report-background\t宣传很到位。\toffice>cooperatesWith>justice\n",
                "line 1: expected kind, sentence (and no relations)",
            ),
            (
                "report-bg\t宣传很到位。\n",
                "line 1: unknown kind report-bg",
            ),
            (
                "report-background\t[据悉|{court}介绍]，宣传很到位。\n",
                "line 1: slot {court} inside [ ]: choices take plain slots only",
            ),
            (
                "report-background\t[据悉|据了解，宣传很到位。\n",
                "line 1: unclosed [",
            ),
            (
                "report-background\t[据悉]，宣传很到位。\n",
                "line 1: [据悉] offers one alternative",
            ),
            (
                "report-background\t[据悉|公安局介绍]，宣传很到位。\n",
                "line 1: 公安局 reads as an agency",
            ),
        ] {
            let (err, path) = template_error("background.txt", text);
            assert!(
                err.starts_with(&format!("{path} {said}")),
                "{text:?}: {err}"
            );
        }
        // A drug category (毒品), an abbreviation read only in lists (中)
        // and a prefix read only before an agency (区) state nothing.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("background.txt"),
            "report-background\t{village}村民{person}说，毒品危害大，中小学生和小区居民都要提高警惕。\n",
        )
        .unwrap();
        let lex = Lexicon::embedded().unwrap();
        let g = Generator::new(&lex, &[dir.path().to_path_buf()], &[]).unwrap();
        assert_eq!(
            g.templates["report-background"].len(),
            generator().1.templates["report-background"].len() + 1
        );
    }

    #[test]
    fn a_choice_draws_each_of_its_alternatives() {
        let (_, g) = generator();
        let at = Location {
            origin: "test",
            line: 1,
            section: None,
        };
        let t = parse_template(at, "[据悉|据了解|{md}]，{person}说。", "").unwrap();
        let mut rng = Rng::new(3);
        let mut openings = BTreeMap::new();
        for _ in 0..60 {
            let mut st = ArticleState {
                region: 0,
                year: 2024,
                bound: HashMap::new(),
            };
            let mut m = ManifestBuilder::default();
            let mut out = String::new();
            g.render(&mut rng, &mut st, &t, &mut m, &mut out);
            let (opening, said) = out.split_once('，').unwrap();
            assert!(said.ends_with("说。") && said.chars().count() >= 4, "{out}");
            let opening = if opening.ends_with('日') {
                "{md}"
            } else {
                opening
            };
            *openings.entry(opening.to_string()).or_insert(0) += 1;
            assert!(m.entities.is_empty() && m.statistics.is_empty());
        }
        assert_eq!(
            openings.keys().collect::<Vec<_>>(),
            ["{md}", "据了解", "据悉"]
        );
    }

    #[test]
    fn composed_names_hold_no_word_of_the_lexicon() {
        let (lex, g) = generator();
        assert!(g.persons.len() > 5_000, "{} persons", g.persons.len());
        assert!(g.villages.len() > 2_000, "{} villages", g.villages.len());
        for name in g.persons.iter().chain(&g.villages) {
            assert!(
                lex.automaton
                    .leftmost_find_iter(name.as_str())
                    .next()
                    .is_none(),
                "{name}"
            );
        }
        // Names the lexicon reads are left out: 江 and 西 make 江西.
        let heads = ["江".to_string(), "王".to_string()];
        let tails = ["西".to_string(), "建国".to_string()];
        assert_eq!(
            compose_names(&lex, &heads, &tails),
            ["江建国", "王西", "王建国"].map(String::from).to_vec()
        );
    }

    #[test]
    fn pages_read_like_news_few_facts_and_no_sentence_twice() {
        let (_, g) = generator();
        let (mut bytes, mut articles, mut statistics) = (0, 0, 0);
        let (mut sentences, mut repeated) = (0, 0);
        for i in 0..300 {
            let page = g.page(7, i);
            bytes += page.bytes.len();
            articles += page.articles;
            statistics += page.statistics;
            let text = if page.gbk {
                encoding_rs::GB18030.decode(&page.bytes).0.into_owned()
            } else {
                String::from_utf8(page.bytes).unwrap()
            };
            if page.ocr {
                continue; // its sentences are cut by line breaks
            }
            let mut seen = HashSet::new();
            for sentence in text.split(['。', '！', '？', '\n']) {
                if sentence.chars().count() > 4 {
                    sentences += 1;
                    repeated += usize::from(!seen.insert(sentence));
                }
            }
        }
        let mb = bytes as f64 / (1 << 20) as f64;
        let per_mb = |n: usize| n as f64 / mb;
        // The seed pages, real news: 432 articles and 429 statistics a MB,
        // 1 % of sentences repeating one before them on their page.
        assert!(
            (300.0..550.0).contains(&per_mb(articles)),
            "{:.0} articles a MB",
            per_mb(articles)
        );
        assert!(
            (400.0..1_500.0).contains(&per_mb(statistics)),
            "{:.0} statistics a MB",
            per_mb(statistics)
        );
        assert!(
            repeated * 100 < sentences * 2,
            "{repeated} of {sentences} sentences repeat one before them"
        );
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("300KB").unwrap(), 300 * 1024);
        assert_eq!(parse_size("10MB").unwrap(), 10 << 20);
        assert_eq!(parse_size("1GB").unwrap(), 1 << 30);
        assert_eq!(parse_size("1.5mb").unwrap(), 3 << 19);
        assert_eq!(parse_size("512").unwrap(), 512);
        for bad in ["", "MB", "10XB", "-3MB", "0KB", "ten MB"] {
            let e = parse_size(bad).unwrap_err().to_string();
            assert!(e.contains("bad size"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_gbk_table_encodes_as_encoding_rs() {
        let (_, g) = generator();
        let text = "云南省公安厅禁毒总队破获“3·15”特大贩卖毒品案——缴获冰毒12.6公斤（记者 李明）";
        assert_eq!(
            g.gbk.encode(text),
            encoding_rs::GBK.encode(text).0.into_owned()
        );
    }

    #[test]
    fn pages_are_deterministic() {
        let (_, g) = generator();
        let a = g.page(7, 3);
        let b = g.page(7, 3);
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.manifest, b.manifest);
        assert_ne!(g.page(8, 3).bytes, a.bytes);
        assert_ne!(g.page(7, 4).bytes, a.bytes);
    }

    #[test]
    fn manifest_entities_occur_in_the_page() {
        let (_, g) = generator();
        for i in 0..40 {
            let page = g.page(11, i);
            let text = if page.gbk {
                encoding_rs::GB18030.decode(&page.bytes).0.into_owned()
            } else {
                String::from_utf8(page.bytes.clone()).unwrap()
            };
            // Compared as the scorer compares labels (quotation marks out).
            let flat = crate::eval::normalize(&text, None);
            let m: serde_json::Value = serde_json::from_slice(&page.manifest).unwrap();
            let entities = m["entities"].as_array().unwrap();
            assert!(!entities.is_empty());
            for e in entities {
                let forms: Vec<String> = std::iter::once(&e["label"])
                    .chain(e["accept"].as_array().into_iter().flatten())
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
                assert!(
                    forms
                        .iter()
                        .any(|f| flat.contains(&crate::eval::normalize(f, None))),
                    "page {i}: none of {forms:?} in the text"
                );
            }
            for r in m["relations"].as_array().unwrap() {
                for end in [&r[0], &r[2]] {
                    assert!(
                        entities.iter().any(|e| e["label"] == *end),
                        "page {i}: relation end {end} not listed"
                    );
                }
            }
        }
    }
}
