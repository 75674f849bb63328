//! Lexicons, gazetteers and patterns, loaded from data files.
//!
//! In: the files of `data/` (embedded in the binary as defaults) and any
//! folders given with `--lexicon DIR`, whose files of the same names add
//! rows. Out: a [`Lexicon`] with the region gazetteer, the agency terms, the
//! drug and campaign lexicons, the statistics patterns and one Aho-Corasick
//! automaton over every dictionary surface form, used by the mention finder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use aho_corasick::AhoCorasick;
use anyhow::{Context, Result, bail};
use daachorse::{
    CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder,
    MatchKind as DaachorseMatchKind,
};
use regex::Regex;
// Lookups per character and per token: FxHash is several times cheaper than
// SipHash, and these keys do not come from an adversary.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::clean::{DatelinePattern, LayoutWords};
use crate::mention::{CasePatterns, FigureGrammar};
use crate::period::PeriodGrammar;

/// The data files and their embedded default contents.
const DEFAULT_FILES: &[(&str, &str)] = &[
    ("regions.tsv", include_str!("../data/regions.tsv")),
    ("townships.tsv", include_str!("../data/townships.tsv")),
    (
        "region_aliases.tsv",
        include_str!("../data/region_aliases.tsv"),
    ),
    (
        "foreign_regions.tsv",
        include_str!("../data/foreign_regions.tsv"),
    ),
    (
        "region_stopwords.txt",
        include_str!("../data/region_stopwords.txt"),
    ),
    ("agency_terms.tsv", include_str!("../data/agency_terms.tsv")),
    (
        "agencies_national.tsv",
        include_str!("../data/agencies_national.tsv"),
    ),
    ("context_refs.tsv", include_str!("../data/context_refs.tsv")),
    ("drugs.tsv", include_str!("../data/drugs.tsv")),
    ("campaigns.tsv", include_str!("../data/campaigns.tsv")),
    (
        "campaign_suffixes.txt",
        include_str!("../data/campaign_suffixes.txt"),
    ),
    (
        "campaign_endings.txt",
        include_str!("../data/campaign_endings.txt"),
    ),
    ("weight_leads.txt", include_str!("../data/weight_leads.txt")),
    ("layout_words.tsv", include_str!("../data/layout_words.tsv")),
    (
        "demonstrative_bodies.txt",
        include_str!("../data/demonstrative_bodies.txt"),
    ),
    ("metrics.tsv", include_str!("../data/metrics.tsv")),
    ("units.tsv", include_str!("../data/units.tsv")),
    ("figure_words.tsv", include_str!("../data/figure_words.tsv")),
    ("period_words.tsv", include_str!("../data/period_words.tsv")),
    ("case_endings.txt", include_str!("../data/case_endings.txt")),
    ("topic_words.txt", include_str!("../data/topic_words.txt")),
    (
        "cooperation_words.txt",
        include_str!("../data/cooperation_words.txt"),
    ),
    (
        "gap_stopchars.txt",
        include_str!("../data/gap_stopchars.txt"),
    ),
    (
        "supervision_words.txt",
        include_str!("../data/supervision_words.txt"),
    ),
    (
        "weak_initials.txt",
        include_str!("../data/weak_initials.txt"),
    ),
    (
        "place_markers.txt",
        include_str!("../data/place_markers.txt"),
    ),
    (
        "unit_lead_words.txt",
        include_str!("../data/unit_lead_words.txt"),
    ),
    (
        "case_references.txt",
        include_str!("../data/case_references.txt"),
    ),
    (
        "handling_verbs.txt",
        include_str!("../data/handling_verbs.txt"),
    ),
    (
        "campaign_blockers.txt",
        include_str!("../data/campaign_blockers.txt"),
    ),
    (
        "enumeration_cues.txt",
        include_str!("../data/enumeration_cues.txt"),
    ),
    (
        "context_blockers.tsv",
        include_str!("../data/context_blockers.tsv"),
    ),
    ("t2s.tsv", include_str!("../data/t2s.tsv")),
];

/// Administrative level of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Country,
    Province,
    Prefecture,
    County,
    /// 乡, 镇, 街道, 苏木: below the GB/T 2260 table, with 9-digit statistical codes.
    Township,
    Area,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Country => "country",
            Level::Province => "province",
            Level::Prefecture => "prefecture",
            Level::County => "county",
            Level::Township => "township",
            Level::Area => "area",
        }
    }
    fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "country" => Level::Country,
            "province" => Level::Province,
            "prefecture" => Level::Prefecture,
            "county" => Level::County,
            "township" => Level::Township,
            "area" => Level::Area,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct RegionEntry {
    pub name: String,
    pub code: Option<String>,
    pub level: Level,
    pub parent: Option<usize>,
}

/// How a surface form names a region; decides when it may be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FormKind {
    /// The official name.
    Full,
    /// A short form derived from it (开鲁 for 开鲁县) or listed as `short`.
    Short,
    /// A renamed or abolished name (日喀则地区).
    Former,
    /// A banner abbreviation (察右中旗).
    Banner,
    /// A literary name (八桂).
    Literary,
    /// A one-character abbreviation (川, 滇): only inside enumerations.
    Abbrev,
    /// A group of regions (两广).
    Group,
    /// A township's full name: counts only when its county or city is named.
    Township,
}

#[derive(Debug, Clone)]
pub struct AgencyTerm {
    pub term: String,
    pub is_body: bool,
    pub is_unit: bool,
    /// After a region inside a longer name, starts a name of its own.
    pub restarts: bool,
    /// The region before it stays as written in the label (深圳海关).
    pub keeps_written_region: bool,
    pub kind: String,
    /// The form used in labels.
    pub canonical: String,
}

/// Which home region a context word stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextLevel {
    Province,
    /// The province when it is an autonomous region, else the district.
    ProvinceOrDistrict,
    /// Only an autonomous region (自治区).
    AutonomousProvince,
    Prefecture,
    /// The city the article is most about, prefecture- or county-level.
    City,
    County,
}

#[derive(Debug, Clone)]
pub struct ContextRef {
    pub word: String,
    pub level: ContextLevel,
    /// True when the word may stand alone; false: only before an agency body.
    pub alone: bool,
}

#[derive(Debug, Clone)]
pub struct LexEntry {
    pub label: String,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct MetricRule {
    pub metric: Arc<str>,
    pub verbs: Regex,
    /// `(?:VERB)…(?:OBJECT)` then filler, anchored at the end of the text
    /// before the number.
    pub with_verb: Regex,
    /// `(?:OBJECT)` then filler, anchored at the end.
    pub object_only: Regex,
    pub units: Vec<String>,
    /// Bit i: a figure in the figure grammar's unit i fits the rule, its
    /// unit being one of `units` or a multiplier and one of them (万元 of
    /// 元). Read off `units` once instead of comparing strings for every
    /// figure.
    pub figure_units: u64,
    /// `statistic-METRIC`, the rule the evidence of the metric's figures
    /// names: made once (see [`intern`]) so that each evidence borrows it.
    pub evidence_rule: &'static str,
}

/// The one `'static` copy of a string: leaked on its first call, handed
/// out again on the next ones, so that loading the lexicon again leaks
/// nothing more.
pub fn intern(s: &str) -> &'static str {
    static INTERNED: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    let mut set = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&found) = set.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.into());
    set.insert(leaked);
    leaked
}

/// What one dictionary surface form can mean. A form can mean several
/// things (吉林: a province and a city).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    Region {
        index: usize,
        form: FormKind,
    },
    /// A group form: all these regions.
    RegionGroup {
        indices: Vec<usize>,
        form: FormKind,
    },
    AgencyTerm(usize),
    National(usize),
    Context(usize),
    Drug(usize),
    Campaign(usize),
    /// 该 (this): a reference to an agency named before.
    Demonstrative,
    /// A word matched only so that no name is read across it: 联合 before
    /// 阳高县 must not leave 合阳 (a county) to match, nor 高县 after it.
    Word,
}

/// A word list of a data file as one automaton over all its words, so a
/// sentence is read once rather than once per word.
#[derive(Debug, Clone)]
pub struct WordSet {
    matcher: AhoCorasick,
    /// The same words for [`WordSet::any_in`] and [`WordSet::count_in`]:
    /// leftmost matching lets the automaton skip through a text with a
    /// literal prefilter, which the overlapping kind of `matcher` cannot
    /// have.
    any: AnyWords,
    /// The longest word's length in bytes.
    longest: usize,
}

/// A leftmost search for any of a few words, which finds a match exactly
/// when an overlapping search of the same words finds one (see
/// [`any_word_matcher`]).
///
/// Where the CPU and the word count allow, it is aho-corasick's packed
/// searcher (SIMD Teddy), which screens 16 or 32 bytes a step on the words'
/// first bytes; the automaton's own prefilter picks one rare byte, and
/// every byte value is common in Chinese UTF-8, so it stopped every few
/// bytes on the topic words (all of which hold 毒).
#[derive(Debug, Clone)]
pub struct AnyWords {
    packed: Option<aho_corasick::packed::Searcher>,
    automaton: AhoCorasick,
}

impl AnyWords {
    /// True when `text` holds any of the words.
    pub fn is_match(&self, text: &str) -> bool {
        self.find_from(text.as_bytes(), 0).is_some()
    }

    /// The leftmost match starting at or after `from`, as its byte span.
    pub fn find_from(&self, text: &[u8], from: usize) -> Option<(usize, usize)> {
        let span = aho_corasick::Span {
            start: from,
            end: text.len(),
        };
        let found = match &self.packed {
            Some(packed) => packed.find_in(text, span),
            None => self
                .automaton
                .find(aho_corasick::Input::new(text).span(span)),
        };
        found.map(|m| (m.start(), m.end()))
    }
}

/// A searcher that tells whether a text holds any of `words` (leftmost
/// matching, so that it searches with a literal prefilter); it finds a
/// match exactly when an overlapping search of the same words finds one.
pub fn any_word_matcher<I, P>(words: I) -> std::result::Result<AnyWords, aho_corasick::BuildError>
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    let words: Vec<P> = words.into_iter().collect();
    let automaton = AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(&words)?;
    // The packed searcher has no empty word; it refuses more than it can
    // hold by returning None.
    let packed = if words.iter().any(|w| w.as_ref().is_empty()) {
        None
    } else {
        aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&words)
            .build()
    };
    Ok(AnyWords { packed, automaton })
}

impl WordSet {
    pub fn new(file: &str, words: Vec<String>) -> Result<WordSet> {
        // It would match everywhere (and leave no span to count within).
        if words.iter().any(String::is_empty) {
            bail!("{file}: an empty word");
        }
        let matcher =
            AhoCorasick::new(&words).with_context(|| format!("{file}: word automaton"))?;
        let any = any_word_matcher(&words).with_context(|| format!("{file}: word automaton"))?;
        let longest = words.iter().map(String::len).max().unwrap_or(0);
        Ok(WordSet {
            matcher,
            any,
            longest,
        })
    }

    /// True when `text` contains any of the words.
    pub fn any_in(&self, text: &str) -> bool {
        self.any.is_match(text)
    }

    /// Occurrences of the words in `text`, overlapping ones included (each
    /// word's own occurrences, as if each word were searched apart), up to `limit`.
    ///
    /// The leftmost search skips the text between matches with its
    /// prefilter; the overlapping automaton reads only the window of each
    /// match. That finds them all: every occurrence starts within the span
    /// of a leftmost match (one starting at or after a leftmost match's end
    /// would have been the next leftmost match, or started within it).
    pub fn count_in(&self, text: &str, limit: usize) -> usize {
        let mut count = 0;
        let mut from = 0;
        while let Some((start, end)) = self.any.find_from(text.as_bytes(), from) {
            // The occurrences starting within this match's span, and only
            // those: the ones starting later belong to the next window.
            from = end;
            let window_end = (end + self.longest.saturating_sub(1)).min(text.len());
            count += self
                .matcher
                .find_overlapping_iter(&text.as_bytes()[start..window_end])
                .filter(|m| m.start() < end - start)
                .count();
            if count >= limit {
                return limit;
            }
        }
        count
    }
}

/// The word a sentence is searched for, for a cooperation-word entry: `与建立`
/// states joint work by 建立 after 与/同/和 in its clause, so 建立 is searched.
pub fn cooperation_search_word(entry: &str) -> &str {
    match entry.strip_prefix('与') {
        Some(verb) if !verb.is_empty() => verb,
        _ => entry,
    }
}

pub struct Lexicon {
    pub regions: Vec<RegionEntry>,
    pub region_by_code: HashMap<String, usize>,
    pub region_by_name: HashMap<String, Vec<usize>>,
    pub agency_terms: Vec<AgencyTerm>,
    pub national: Vec<LexEntry>,
    pub context_refs: Vec<ContextRef>,
    pub drugs: Vec<LexEntry>,
    pub campaigns: Vec<LexEntry>,
    /// Campaign forms that count only when quoted (their index in `campaigns`).
    pub quoted_campaigns: HashMap<String, usize>,
    /// Trailing generic words of campaign names, longest first, with whether
    /// they are stripped from the label.
    pub campaign_suffixes: Vec<(String, bool)>,
    /// The first chars of `campaign_suffixes`, sorted: most quoted names
    /// are followed by none of them, which one look tells.
    pub campaign_suffix_leads: Vec<char>,
    /// Words that end a quoted campaign name not in the lexicon (“扫雷行动”).
    pub campaign_endings: Vec<String>,
    /// Whole clauses that only introduce a weight (重达, 共计).
    pub weight_leads: HashSet<String>,
    /// What 该… can stand for (该局, 该支队), longest first.
    pub demonstrative_bodies: Vec<String>,
    /// Datelines, bylines, block starts and credits (`layout_words.tsv`).
    pub layout: LayoutWords,
    /// The datelines sentences start with, with the outlets of `layout`.
    pub dateline: DatelinePattern,
    pub metrics: Vec<MetricRule>,
    pub units: HashMap<String, u64>,
    /// The pattern of figures (number and unit), from `figure_words.tsv`
    /// and the units of `units.tsv`.
    pub figure_grammar: FigureGrammar,
    /// The factor of `units` for each of the figure grammar's units, by
    /// index.
    pub figure_unit_factors: Vec<u64>,
    /// The words of periods before figures (`period_words.tsv`).
    pub periods: PeriodGrammar,
    /// The patterns of named cases, with the endings of `case_endings.txt`.
    pub cases: CasePatterns,
    pub topic_words: WordSet,
    pub cooperation_words: Vec<String>,
    /// The cooperation words as a sentence is searched for them (`与建立`
    /// as 建立), pattern i standing for `cooperation_words[i]`.
    pub cooperation_matcher: AhoCorasick,
    /// The same search words, to tell at the cost of a literal prefilter
    /// whether a sentence holds any (see [`any_word_matcher`]).
    pub cooperation_any: AnyWords,
    pub supervision_words: WordSet,
    pub enumeration_cues: Vec<String>,
    pub campaign_blockers: Vec<String>,
    pub weak_initials: HashSet<char>,
    pub handling_verbs: WordSet,
    pub place_markers: Vec<String>,
    pub case_references: WordSet,
    pub unit_lead_words: Vec<String>,
    /// Context prefix → characters that may not stand before it.
    pub context_blockers: HashMap<String, HashSet<char>>,
    pub gap_stopchars: HashSet<char>,
    pub t2s: HashMap<char, char>,
    /// The smallest character `t2s` maps: below it no lookup is needed.
    pub t2s_floor: char,
    /// The keys of `t2s` in the Basic Multilingual Plane as a bit set (bit
    /// `c % 64` of word `c / 64`): a page's chars are tested for a
    /// Traditional form without hashing each.
    pub t2s_bmp: Vec<u64>,
    /// Traditional-table keys that the lexicons use as they are (乾 of 乾县):
    /// left alone in text that reads as Simplified.
    pub t2s_protected: HashSet<char>,
    /// Surface forms of the automaton and their meanings.
    pub forms: FormList,
    /// The forms of `forms` with a campaign meaning → the first such
    /// campaign (an index into `campaigns`): a campaign name is resolved by
    /// one hash instead of a search through every form.
    pub campaign_forms: HashMap<String, usize>,
    pub automaton: CharwiseDoubleArrayAhoCorasick<u32>,
}

/// One file's text as read: an embedded default or a `--lexicon` folder's
/// file. A data file is its segments in order (see [`load_text`]).
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// What errors call the file: `units.tsv (embedded)` for a default,
    /// the path as given for a folder's file.
    pub origin: String,
    pub text: String,
}

impl Segment {
    /// The embedded default `name` with `text`.
    pub(crate) fn embedded(name: &str, text: &str) -> Segment {
        Segment {
            origin: format!("{name} (embedded)"),
            text: text.to_string(),
        }
    }

    /// The file at `path`, named by its path; `what` says what kind of file
    /// it is when it cannot be read.
    pub(crate) fn read(path: &Path, what: &str) -> Result<Segment> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {what} {}", path.display()))?;
        Ok(Segment {
            origin: path.display().to_string(),
            text,
        })
    }

    /// Every line with where it is: its line number in this file (not in
    /// the concatenation of the segments) and the `# [section: NAME]`
    /// marker above it in this file, if any: a comment line that starts
    /// with `[section:` (a comment that only mentions one is no marker).
    /// A section ends at the end of its file, so an extension file's rows
    /// are under no section until a marker of their own.
    pub(crate) fn lines(&self) -> impl Iterator<Item = (Location<'_>, &str)> {
        let mut section = None;
        self.text.lines().enumerate().map(move |(i, line)| {
            if let Some(rest) = line
                .trim()
                .strip_prefix('#')
                .and_then(|comment| comment.trim_start().strip_prefix("[section:"))
            {
                section = Some(rest.split(']').next().unwrap_or_default().trim());
            }
            let at = Location {
                origin: &self.origin,
                line: i + 1,
                section,
            };
            (at, line)
        })
    }
}

/// Where a row of a data file is. Shown as `PATH line N`, N counted in
/// that file alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location<'a> {
    /// The segment's [`Segment::origin`].
    pub origin: &'a str,
    /// 1-based.
    pub line: usize,
    /// The name of the last `# [section: NAME]` marker above the row in
    /// its file.
    pub section: Option<&'a str>,
}

impl std::fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}", self.origin, self.line)
    }
}

/// Reads one data file: the embedded default (empty when there is none)
/// followed by the file of that name in each extension folder that has one.
pub(crate) fn load_text(name: &str, extra_dirs: &[PathBuf]) -> Result<Vec<Segment>> {
    let embedded = DEFAULT_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_default();
    let mut segments = vec![Segment::embedded(name, embedded)];
    for dir in extra_dirs {
        let path = dir.join(name);
        if path.exists() {
            segments.push(Segment::read(&path, "lexicon file")?);
        }
    }
    Ok(segments)
}

/// The segments' texts joined by newlines: what [`fingerprint`] hashes,
/// the same bytes as when a data file was read as one string, so that
/// stores keep their fingerprints.
fn joined(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hashes every data file as loaded (embedded text plus extensions) with
/// the crate version: two builds with the same fingerprint extract the same
/// facts from the same bytes (`sync::extractor_identity` adds the layout of
/// the quads written for them). Much cheaper than [`Lexicon::load`], so a
/// rebuild with nothing to extract need not build the automaton.
pub fn fingerprint(extra_dirs: &[PathBuf]) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, _) in DEFAULT_FILES {
        let text = joined(&load_text(name, extra_dirs)?);
        h.update(name.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!(
        "jindu {}; lexicon {hex}",
        env!("CARGO_PKG_VERSION")
    ))
}

/// Data rows of a data file: trimmed lines that are neither empty nor
/// comments, each with where it is and its tab-separated fields.
pub(crate) fn rows(segments: &[Segment]) -> impl Iterator<Item = (Location<'_>, Vec<&str>)> {
    segments
        .iter()
        .flat_map(Segment::lines)
        .filter_map(|(at, line)| {
            let line = line.trim_end_matches(['\r', '\n']);
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                None
            } else {
                Some((at, line.split('\t').map(str::trim).collect()))
            }
        })
}

/// The section of `campaigns.tsv` a row is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CampaignSection {
    /// Matched anywhere; also a row under no marker of its file.
    Core,
    /// Everyday words too: only when quoted or before a campaign word.
    Quoted,
    /// Slogans and models, matched anywhere, optional in gold files.
    Generic,
}

/// The section of the `campaigns.tsv` row at `at` (see
/// [`Segment::lines`]): a row under a marker of another name is an error
/// naming it.
pub(crate) fn campaign_section(at: Location) -> Result<CampaignSection> {
    Ok(match at.section {
        None | Some("core") => CampaignSection::Core,
        Some("quoted") => CampaignSection::Quoted,
        Some("generic") => CampaignSection::Generic,
        Some(other) => {
            bail!("{at}: the row is under an unknown section {other:?} (core, quoted or generic)")
        }
    })
}

/// Reads rows `label<TAB>kind<TAB>aliases` and puts each label and alias
/// into the automaton with the meaning `make(row index)`.
fn load_labelled(
    name: &str,
    extra_dirs: &[PathBuf],
    builder: &mut FormTable,
    make: impl Fn(usize) -> Meaning,
) -> Result<Vec<LexEntry>> {
    let mut entries = Vec::new();
    for (at, f) in rows(&load_text(name, extra_dirs)?) {
        require(at, &f, "label, kind")?;
        let index = entries.len();
        entries.push(LexEntry {
            label: f[0].to_string(),
            kind: f[1].to_string(),
        });
        builder.push(f[0], make(index));
        for alias in split_list(f.get(2), ',') {
            builder.push(&alias, make(index));
        }
    }
    Ok(entries)
}

/// Checks that a row has a field for each of the comma-separated `names`
/// and that none of them is empty: an error naming the row otherwise (an
/// empty field was read as a word of no characters, an empty pattern as
/// one that matches anywhere).
fn require(at: Location, f: &[&str], names: &str) -> Result<()> {
    for (i, name) in names.split(", ").enumerate() {
        match f.get(i) {
            None => bail!("{at}: expected {names}"),
            Some(&"") => bail!("{at}: empty {name} (expected {names})"),
            Some(_) => {}
        }
    }
    Ok(())
}

fn split_list(field: Option<&&str>, sep: char) -> Vec<String> {
    field
        .map(|f| {
            f.split(sep)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The rows of `units.tsv`: unit and factor, in file order (a unit given
/// again takes the later factor, in the earlier place).
fn load_units(extra_dirs: &[PathBuf]) -> Result<Vec<(String, u64)>> {
    units_of(&load_text("units.tsv", extra_dirs)?)
}

/// The rows of the segments of `units.tsv` (see [`load_units`]).
fn units_of(segments: &[Segment]) -> Result<Vec<(String, u64)>> {
    let mut units: Vec<(String, u64)> = Vec::new();
    for (at, f) in rows(segments) {
        let factor: u64 = f
            .get(1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{at}: expected unit, factor"))?;
        FigureGrammar::check_tail_word(f[0]).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        match units.iter_mut().find(|(u, _)| u == f[0]) {
            Some(known) => known.1 = factor,
            None => units.push((f[0].to_string(), factor)),
        }
    }
    Ok(units)
}

/// The word of a row of a word list (`topic_words.txt`,
/// `region_stopwords.txt` …): its one field. A row with an empty word or a
/// second word after a tab is an error naming it (it was cut to its first
/// field).
fn word_of<'r>(at: Location, f: &[&'r str]) -> Result<&'r str> {
    match f {
        [word, rest @ ..] if !word.is_empty() && rest.iter().all(|r| r.is_empty()) => Ok(word),
        _ => bail!("{at}: row {:?}: expected one word a line", f.join("\t")),
    }
}

/// The words of a word list, one a row (see [`word_of`]).
fn words_of(segments: &[Segment]) -> Result<Vec<String>> {
    rows(segments)
        .map(|(at, f)| word_of(at, &f).map(String::from))
        .collect()
}

/// The characters of `weak_initials.txt`, one a row: a row of several
/// characters is an error naming it (it was cut to its first).
fn weak_initials_of(segments: &[Segment]) -> Result<HashSet<char>> {
    let mut initials = HashSet::default();
    for (at, f) in rows(segments) {
        let word = word_of(at, &f)?;
        let mut chars = word.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            bail!("{at}: row {word:?}: expected one character a line");
        };
        initials.insert(c);
    }
    Ok(initials)
}

/// Whether `c` may stand in the free name part of an agency's name (白音锡勒
/// in 白音锡勒派出所): a Chinese letter or an ASCII digit.
pub fn free_name_char(c: char) -> bool {
    (crate::clean::is_cjk(c) && c.is_alphanumeric()) || c.is_ascii_digit()
}

/// The characters of the segments of `gap_stopchars.txt`: every character
/// of a row but white space. A character no free name holds would stop
/// none, so it is an error naming its row: a comment after the
/// characters (`的 和 # common`), Latin letters, punctuation.
fn gap_stopchars_of(segments: &[Segment]) -> Result<HashSet<char>> {
    let mut stopchars = HashSet::default();
    for (at, f) in rows(segments) {
        for c in f.iter().flat_map(|field| field.chars()) {
            if c.is_whitespace() {
                continue;
            }
            if !free_name_char(c) {
                bail!(
                    "{at}: {c:?} cannot stand in a free name, so it stops none \
                     (Chinese characters and digits; a comment is a line of its own)"
                );
            }
            stopchars.insert(c);
        }
    }
    Ok(stopchars)
}

/// The character rows of the segments of `t2s.tsv`: Traditional →
/// Simplified, one character to one. Text is converted character by
/// character so that offsets stay aligned, so the phrase rows of the
/// generated file (a key of several characters: 乾隆, 一目瞭然) are left
/// out by design; a Simplified text keeps the lexicons' own characters
/// another way (see [`Lexicon::to_simplified_mixed`]). A row without two
/// fields, a character mapped to other than one character and a
/// character mapped again to another are errors naming the row.
fn t2s_of(segments: &[Segment]) -> Result<HashMap<char, char>> {
    let mut t2s = HashMap::default();
    let mut first_at: HashMap<char, Location> = HashMap::default();
    for (at, f) in rows(segments) {
        let row = f.join("\t");
        let (from, to) = match f.as_slice() {
            [from, to, ..] if !from.is_empty() && !to.is_empty() => (*from, *to),
            _ => bail!("{at}: row {row:?}: expected traditional, simplified"),
        };
        let mut from = from.chars();
        let (Some(a), None) = (from.next(), from.next()) else {
            // A phrase row.
            continue;
        };
        let mut to = to.chars();
        let (Some(b), None) = (to.next(), to.next()) else {
            bail!("{at}: row {row:?}: a character maps to one character (phrases are not read)");
        };
        match t2s.get(&a) {
            None => {
                t2s.insert(a, b);
                first_at.insert(a, at);
            }
            Some(&known) if known == b => {}
            Some(&known) => bail!(
                "{at}: row {row:?}: {a} is mapped to {known} already, at {}",
                first_at[&a]
            ),
        }
    }
    Ok(t2s)
}

/// The period words of `period_words.tsv`.
pub fn period_grammar(extra_dirs: &[PathBuf]) -> Result<PeriodGrammar> {
    PeriodGrammar::from_rows(rows(&load_text("period_words.tsv", extra_dirs)?))
}

/// The figure pattern of `figure_words.tsv` with the units of `units.tsv`.
pub fn figure_grammar(extra_dirs: &[PathBuf]) -> Result<FigureGrammar> {
    figure_grammar_of(&load_units(extra_dirs)?, extra_dirs)
}

fn figure_grammar_of(units: &[(String, u64)], extra_dirs: &[PathBuf]) -> Result<FigureGrammar> {
    const FILE: &str = "figure_words.tsv";
    let (mut leads, mut abouts, mut multipliers) = (Vec::new(), Vec::new(), Vec::new());
    // Errors name the row's file and line and quote the row.
    for (at, f) in rows(&load_text(FILE, extra_dirs)?) {
        let row = f.join("\t");
        let word = f.get(1).copied().unwrap_or_default().to_string();
        if word.is_empty() {
            bail!("{at}: row {row:?}: expected kind, word, value");
        }
        let value = f.get(2).copied().unwrap_or_default();
        // The word is checked here as FigureGrammar::new would, so that
        // the error says where it is.
        let checked = match (f[0], value) {
            ("lead", "approximate" | "exact") => {
                leads.push((word.clone(), value == "approximate"));
                FigureGrammar::check_lead(&word)
            }
            ("lead", _) => bail!("{at}: row {row:?}: a lead's value is approximate or exact"),
            ("about", _) => {
                abouts.push(word.clone());
                FigureGrammar::check_tail_word(&word)
            }
            ("multiplier", factor) => match factor.parse::<f64>() {
                Ok(factor) => {
                    multipliers.push((word.clone(), factor));
                    FigureGrammar::check_tail_word(&word)
                        .and_then(|()| FigureGrammar::check_factor(&word, factor))
                }
                Err(_) => bail!("{at}: row {row:?}: a multiplier's value is its factor"),
            },
            (kind, _) => {
                bail!("{at}: row {row:?}: unknown kind {kind:?} (lead, about or multiplier)")
            }
        };
        checked.map_err(|e| anyhow::anyhow!("{at}: row {row:?}: {e}"))?;
    }
    let units = units.iter().map(|(u, _)| u.clone()).collect();
    FigureGrammar::new(leads, abouts, multipliers, units)
        .map_err(|e| anyhow::anyhow!("{FILE} and units.tsv: {e}"))
}

/// The words of `layout_words.tsv`, in file order by role.
pub fn layout_words(extra_dirs: &[PathBuf]) -> Result<LayoutWords> {
    const FILE: &str = "layout_words.tsv";
    let mut layout = LayoutWords::default();
    for (at, f) in rows(&load_text(FILE, extra_dirs)?) {
        let row = f.join("\t");
        let (word, roles) = match f.as_slice() {
            [word, roles, ..] if !word.is_empty() && !roles.is_empty() => (*word, *roles),
            _ => bail!("{at}: row {row:?}: expected word, roles"),
        };
        for role in roles.split(',').map(str::trim) {
            let list = match role {
                "dateline" => &mut layout.datelines,
                "byline" => &mut layout.bylines,
                "block" => &mut layout.blocks,
                "credit" => &mut layout.credits,
                "photo" => &mut layout.photo_credits,
                "outlet" => &mut layout.outlets,
                "not-dateline" => {
                    if !word.contains('讯') {
                        bail!("{at}: row {row:?}: a not-dateline word holds 讯");
                    }
                    &mut layout.xun_words
                }
                _ => bail!(
                    "{at}: row {row:?}: unknown role {role:?} (dateline, byline, block, credit, photo, outlet or not-dateline)"
                ),
            };
            if !list.iter().any(|w| w == word) {
                list.push(word.to_string());
            }
        }
    }
    Ok(layout)
}

impl Lexicon {
    /// The lexicon of the embedded data files alone.
    pub fn embedded() -> Result<Lexicon> {
        Lexicon::load(&[])
    }

    /// Loads the embedded data files extended by those in `extra_dirs`.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Lexicon> {
        for dir in extra_dirs {
            if !dir.is_dir() {
                bail!("lexicon folder {} does not exist", dir.display());
            }
        }
        let mut builder = FormTable::default();
        let word_list = |name: &str| words_of(&load_text(name, extra_dirs)?);
        let stop: HashSet<String> = word_list("region_stopwords.txt")?.into_iter().collect();

        // Regions: the gazetteer, then foreign places, then aliases.
        let mut regions: Vec<RegionEntry> = Vec::new();
        let mut region_by_code = HashMap::default();
        // Each region's parent code, with where it is written.
        let mut parents: Vec<Option<(String, String)>> = Vec::new();
        let mut shorts: Vec<Vec<String>> = Vec::new();
        for (at, f) in rows(&load_text("regions.tsv", extra_dirs)?) {
            require(at, &f, "code, name, level")?;
            let level =
                Level::parse(f[2]).with_context(|| format!("{at}: unknown level {}", f[2]))?;
            region_by_code.insert(f[0].to_string(), regions.len());
            regions.push(RegionEntry {
                name: f[1].to_string(),
                code: Some(f[0].to_string()),
                level,
                parent: None,
            });
            parents.push(
                f.get(3)
                    .filter(|p| !p.is_empty())
                    .map(|p| (p.to_string(), at.to_string())),
            );
            shorts.push(split_list(f.get(4), ','));
        }
        // A parent code may stand before its region's row, or in a later
        // file; one of no row at all is an error (it made a root).
        for (i, parent) in parents.iter().enumerate() {
            if let Some((p, at)) = parent {
                let parent = region_by_code
                    .get(p)
                    .copied()
                    .with_context(|| format!("{at}: unknown parent code {p}"))?;
                regions[i].parent = Some(parent);
            }
        }
        for (i, region) in regions.iter().enumerate() {
            builder.add_region(&region.name, i, FormKind::Full, &stop);
            for short in &shorts[i] {
                builder.add_region(short, i, FormKind::Short, &stop);
            }
        }
        // Townships: full names only, told apart and confirmed by their
        // county (see FormKind::Township).
        for (at, f) in rows(&load_text("townships.tsv", extra_dirs)?) {
            require(at, &f, "code, name, county code")?;
            let parent = region_by_code
                .get(f[2])
                .copied()
                .with_context(|| format!("{at}: unknown county code {}", f[2]))?;
            let index = regions.len();
            regions.push(RegionEntry {
                name: f[1].to_string(),
                code: Some(f[0].to_string()),
                level: Level::Township,
                parent: Some(parent),
            });
            if f[1].chars().count() >= 3 {
                builder.add_region(f[1], index, FormKind::Township, &stop);
            }
        }
        let mut foreign_by_name = HashMap::default();
        for (at, f) in rows(&load_text("foreign_regions.tsv", extra_dirs)?) {
            require(at, &f, "name, level")?;
            let level =
                Level::parse(f[1]).with_context(|| format!("{at}: unknown level {}", f[1]))?;
            let index = regions.len();
            regions.push(RegionEntry {
                name: f[0].to_string(),
                code: None,
                level,
                parent: None,
            });
            foreign_by_name.insert(f[0].to_string(), index);
            builder.add_region(f[0], index, FormKind::Full, &stop);
            for alias in split_list(f.get(2), ',') {
                builder.add_region(&alias, index, FormKind::Short, &stop);
            }
        }
        for (at, f) in rows(&load_text("region_aliases.tsv", extra_dirs)?) {
            require(at, &f, "alias, targets, kind")?;
            let form = match f[2] {
                "abbrev" => FormKind::Abbrev,
                "literary" => FormKind::Literary,
                "group" => FormKind::Group,
                "former" => FormKind::Former,
                "banner" => FormKind::Banner,
                "short" => FormKind::Short,
                other => bail!("{at}: unknown kind {other}"),
            };
            let mut indices = Vec::new();
            for target in f[1].split('|').map(str::trim) {
                let index = region_by_code
                    .get(target)
                    .or_else(|| foreign_by_name.get(target))
                    .copied()
                    .with_context(|| format!("{at}: unknown region {target}"))?;
                indices.push(index);
            }
            if indices.len() == 1 && form != FormKind::Group {
                builder.add_region(f[0], indices[0], form, &stop);
            } else {
                builder.push(f[0], Meaning::RegionGroup { indices, form });
            }
        }
        let mut region_by_name: HashMap<String, Vec<usize>> = HashMap::default();
        for (i, r) in regions.iter().enumerate() {
            region_by_name.entry(r.name.clone()).or_default().push(i);
        }

        // Agencies.
        let mut agency_terms = Vec::new();
        for (at, f) in rows(&load_text("agency_terms.tsv", extra_dirs)?) {
            require(at, &f, "term, role, kind")?;
            let (is_body, is_unit, restarts) = match f[1] {
                "body" => (true, false, true),
                "unit" => (false, true, false),
                "both" => (true, true, true),
                "branch" => (true, true, false),
                other => bail!("{at}: unknown role {other}"),
            };
            let canonical = f
                .get(3)
                .filter(|c| !c.is_empty())
                .unwrap_or(&f[0])
                .to_string();
            let keeps_written_region = match f.get(4).copied().unwrap_or_default() {
                "" => false,
                "as-written" => true,
                other => bail!("{at}: unknown naming {other} (as-written or none)"),
            };
            builder.push(f[0], Meaning::AgencyTerm(agency_terms.len()));
            agency_terms.push(AgencyTerm {
                term: f[0].to_string(),
                is_body,
                is_unit,
                restarts,
                keeps_written_region,
                kind: f[2].to_string(),
                canonical,
            });
        }
        let national = load_labelled(
            "agencies_national.tsv",
            extra_dirs,
            &mut builder,
            Meaning::National,
        )?;
        let mut context_refs = Vec::new();
        for (at, f) in rows(&load_text("context_refs.tsv", extra_dirs)?) {
            require(at, &f, "word, level, use")?;
            let level = match f[1] {
                "province" => ContextLevel::Province,
                "province-or-district" => ContextLevel::ProvinceOrDistrict,
                "autonomous-province" => ContextLevel::AutonomousProvince,
                "prefecture" => ContextLevel::Prefecture,
                "city" => ContextLevel::City,
                "county" => ContextLevel::County,
                other => bail!("{at}: unknown level {other}"),
            };
            let alone = match f[2] {
                "alone" => true,
                "prefix" => false,
                other => bail!("{at}: unknown use {other} (alone or prefix)"),
            };
            builder.push(f[0], Meaning::Context(context_refs.len()));
            context_refs.push(ContextRef {
                word: f[0].to_string(),
                level,
                alone,
            });
        }
        builder.push("该", Meaning::Demonstrative);

        // Drugs and campaigns.
        let drugs = load_labelled("drugs.tsv", extra_dirs, &mut builder, Meaning::Drug)?;
        let mut campaigns = Vec::new();
        let mut quoted_campaigns = HashMap::default();
        // Names of the `quoted` section are ordinary words as well (雷霆,
        // 利剑): they count only when quoted before a campaign word. A
        // section ends with its file: an extension file's rows are quoted
        // only under a `quoted` marker of that file.
        for (at, f) in rows(&load_text("campaigns.tsv", extra_dirs)?) {
            require(at, &f, "label, kind")?;
            let index = campaigns.len();
            campaigns.push(LexEntry {
                label: f[0].to_string(),
                kind: f[1].to_string(),
            });
            let quoted = campaign_section(at)? == CampaignSection::Quoted;
            let mut forms = vec![f[0].to_string()];
            forms.extend(split_list(f.get(2), ','));
            for form in forms {
                if quoted {
                    quoted_campaigns.insert(form, index);
                } else {
                    builder.push(&form, Meaning::Campaign(index));
                }
            }
        }
        let mut campaign_suffixes = Vec::new();
        for (at, f) in rows(&load_text("campaign_suffixes.txt", extra_dirs)?) {
            let row = f.join("\t");
            let strip = match f.as_slice() {
                [suffix, what, ..] if !suffix.is_empty() => match *what {
                    "strip" => true,
                    "keep" => false,
                    _ => bail!("{at}: row {row:?}: a suffix is strip or keep"),
                },
                _ => bail!("{at}: row {row:?}: expected suffix, strip or keep"),
            };
            campaign_suffixes.push((f[0].to_string(), strip));
        }
        campaign_suffixes.sort_by_key(|s| std::cmp::Reverse(s.0.chars().count()));
        let mut campaign_suffix_leads: Vec<char> = campaign_suffixes
            .iter()
            .filter_map(|(s, _)| s.chars().next())
            .collect();
        campaign_suffix_leads.sort_unstable();
        campaign_suffix_leads.dedup();

        // Statistics.
        // `{drug}`, `{precursor}`, `{plant}`, `{category}` in an objects
        // pattern stand for every form of drugs.tsv of that kind, so that a
        // drug added there is counted in seizures without editing patterns.
        let drug_forms = |kind: &str| -> String {
            let mut forms: Vec<&String> = builder
                .forms
                .iter()
                .filter(|(_, meanings)| {
                    meanings.iter().any(
                        |m| matches!(m, Meaning::Drug(i) if drugs.get(*i).is_some_and(|d| d.kind == kind)),
                    )
                })
                .map(|(form, _)| form)
                .collect();
            // Longest first: the regex alternation takes the first that fits.
            forms.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
            let alternatives: Vec<String> = forms.iter().map(|f| regex::escape(f)).collect();
            format!("(?:{})", alternatives.join("|"))
        };
        let placeholders: Vec<(String, String)> = ["drug", "precursor", "plant", "category"]
            .iter()
            .map(|k| (format!("{{{k}}}"), drug_forms(k)))
            .collect();
        let units = load_units(extra_dirs)?;
        let figure_grammar = figure_grammar_of(&units, extra_dirs)?;
        let mut metrics = Vec::new();
        for (at, f) in rows(&load_text("metrics.tsv", extra_dirs)?) {
            require(at, &f, "metric, verbs, objects, units")?;
            let mut objects = f[2].to_string();
            for (name, alternation) in &placeholders {
                objects = objects.replace(name.as_str(), alternation);
            }
            let f: Vec<&str> = vec![f[0], f[1], &objects, f[3]];
            let filler = r"[^,;。!?]{0,14}?";
            let compile = |pattern: String| {
                Regex::new(&pattern).with_context(|| format!("{at}: bad pattern {pattern}"))
            };
            let units = split_list(f.get(3), '|');
            let fits = |u: &str, fu: &str| {
                u == fu
                    || figure_grammar
                        .multipliers()
                        .iter()
                        .any(|m| fu.strip_prefix(m) == Some(u))
            };
            // A unit no figure has would leave the row's figures in it
            // uncounted.
            if let Some(u) = units
                .iter()
                .find(|u| !figure_grammar.units().iter().any(|fu| fits(u, fu)))
            {
                bail!("{at}: unit {u} is not a unit of units.tsv, so no figure has it");
            }
            let figure_units = figure_grammar
                .units()
                .iter()
                .enumerate()
                .filter(|(_, fu)| units.iter().any(|u| fits(u, fu)))
                .fold(0, |bits, (i, _)| bits | 1 << i);
            metrics.push(MetricRule {
                metric: Arc::from(f[0]),
                verbs: compile(format!("(?:{})", f[1]))?,
                with_verb: compile(format!(
                    "(?:{})[^,;。!?]{{0,8}}?(?:{}){filler}$",
                    f[1], f[2]
                ))?,
                object_only: compile(format!("(?:{}){filler}$", f[2]))?,
                units,
                figure_units,
                evidence_rule: intern(&format!("statistic-{}", f[0])),
            });
        }
        let units: HashMap<String, u64> = units.into_iter().collect();
        let topic_words = WordSet::new("topic_words.txt", word_list("topic_words.txt")?)?;
        let cooperation_words = word_list("cooperation_words.txt")?;
        let supervision_words =
            WordSet::new("supervision_words.txt", word_list("supervision_words.txt")?)?;
        let campaign_blockers = word_list("campaign_blockers.txt")?;
        let handling_verbs = WordSet::new("handling_verbs.txt", word_list("handling_verbs.txt")?)?;
        let place_markers = word_list("place_markers.txt")?;
        let case_references =
            WordSet::new("case_references.txt", word_list("case_references.txt")?)?;
        let unit_lead_words = word_list("unit_lead_words.txt")?;
        let weak_initials = weak_initials_of(&load_text("weak_initials.txt", extra_dirs)?)?;
        let mut enumeration_cues = word_list("enumeration_cues.txt")?;
        let campaign_endings = word_list("campaign_endings.txt")?;
        let weight_leads = word_list("weight_leads.txt")?.into_iter().collect();
        let layout = layout_words(extra_dirs)?;
        let mut demonstrative_bodies = word_list("demonstrative_bodies.txt")?;
        demonstrative_bodies.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        enumeration_cues.sort_by_key(|c| std::cmp::Reverse(c.chars().count()));
        let mut context_blockers: HashMap<String, HashSet<char>> = HashMap::default();
        // A row blocks a context word of context_refs.tsv with at least
        // one character: any other row would block nothing.
        for (at, f) in rows(&load_text("context_blockers.tsv", extra_dirs)?) {
            let row = f.join("\t");
            let (prefix, chars) = match f.as_slice() {
                [prefix, chars, ..] if !prefix.is_empty() && !chars.is_empty() => (*prefix, *chars),
                _ => bail!("{at}: row {row:?}: expected prefix, characters"),
            };
            if !context_refs.iter().any(|c| c.word == prefix) {
                bail!("{at}: row {row:?}: {prefix:?} is not a word of context_refs.tsv");
            }
            context_blockers
                .entry(prefix.to_string())
                .or_default()
                .extend(chars.chars().filter(|c| !c.is_whitespace()));
        }
        let gap_stopchars = gap_stopchars_of(&load_text("gap_stopchars.txt", extra_dirs)?)?;
        let t2s = t2s_of(&load_text("t2s.tsv", extra_dirs)?)?;

        // Cooperation words (not the 与… patterns) become words of the
        // automaton: leftmost-longest then reads 联合|阳高县 rather than
        // 联|合阳|高县, while a longer name starting there still wins
        // (会同县 over 会同).
        for word in cooperation_words.iter().filter(|w| !w.starts_with('与')) {
            builder.push(word, Meaning::Word);
        }
        let (forms, automaton) = builder.build()?;
        let campaign_forms = forms
            .iter()
            .filter_map(|(form, meanings)| {
                meanings.iter().find_map(|m| match m {
                    Meaning::Campaign(c) => Some((form.clone(), *c)),
                    _ => None,
                })
            })
            .collect();
        let t2s_protected = forms
            .iter()
            .flat_map(|(f, _)| f.chars())
            .filter(|c| t2s.contains_key(c))
            .collect();
        Ok(Lexicon {
            regions,
            region_by_code,
            region_by_name,
            agency_terms,
            national,
            context_refs,
            drugs,
            campaigns,
            quoted_campaigns,
            campaign_suffixes,
            campaign_suffix_leads,
            campaign_endings,
            weight_leads,
            demonstrative_bodies,
            dateline: DatelinePattern::new(&layout.outlets)
                .context("layout_words.tsv: the outlets make no dateline pattern")?,
            layout,
            metrics,
            figure_unit_factors: figure_grammar
                .units()
                .iter()
                .map(|u| units.get(*u).copied().unwrap_or(1))
                .collect(),
            figure_grammar,
            periods: period_grammar(extra_dirs)?,
            cases: CasePatterns::new(&word_list("case_endings.txt")?)?,
            units,
            topic_words,
            cooperation_matcher: AhoCorasick::new(
                cooperation_words.iter().map(|w| cooperation_search_word(w)),
            )
            .map_err(|e| anyhow::anyhow!("cooperation_words.txt: {e}"))?,
            cooperation_any: any_word_matcher(
                cooperation_words.iter().map(|w| cooperation_search_word(w)),
            )
            .map_err(|e| anyhow::anyhow!("cooperation_words.txt: {e}"))?,
            cooperation_words,
            supervision_words,
            enumeration_cues,
            campaign_blockers,
            weak_initials,
            handling_verbs,
            place_markers,
            case_references,
            unit_lead_words,
            context_blockers,
            gap_stopchars,
            t2s_floor: t2s.keys().min().copied().unwrap_or(char::MAX),
            t2s_bmp: {
                let mut bits = vec![0u64; 0x10000 / 64];
                for &c in t2s.keys() {
                    let u = c as usize;
                    if u < 0x10000 {
                        bits[u / 64] |= 1 << (u % 64);
                    }
                }
                bits
            },
            t2s,
            t2s_protected,
            forms,
            campaign_forms,
            automaton,
        })
    }

    /// The chain of ancestors of a region, nearest first.
    pub fn ancestors(&self, index: usize) -> Vec<usize> {
        // Sized for the deepest chains (township, county, prefecture,
        // province, country): one allocation, never grown.
        let mut out = Vec::with_capacity(8);
        self.ancestors_into(index, &mut out);
        out
    }

    /// As [`Lexicon::ancestors`], into `out` (cleared first): a caller
    /// walking many regions reuses one buffer instead of a vector per region.
    pub fn ancestors_into(&self, mut index: usize, out: &mut Vec<usize>) {
        out.clear();
        while let Some(parent) = self.regions[index].parent {
            if out.contains(&parent) {
                break;
            }
            out.push(parent);
            index = parent;
        }
    }

    /// True when `descendant` lies under `ancestor` (or is it).
    pub fn is_within(&self, descendant: usize, ancestor: usize) -> bool {
        self.lineage(descendant).any(|r| r == ancestor)
    }

    /// The province a region belongs to (itself for a province).
    pub fn province_of(&self, index: usize) -> Option<usize> {
        self.lineage(index)
            .find(|&r| self.regions[r].level == Level::Province)
    }

    /// A region and then its ancestors, walked without allocating (these
    /// run per token and per candidate). The registry is a tree, but a
    /// user's data file could loop: the walk stops after `MAX_DEPTH` steps.
    fn lineage(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        const MAX_DEPTH: usize = 16;
        std::iter::successors(Some(index), move |&r| self.regions[r].parent).take(MAX_DEPTH)
    }

    /// Converts Traditional characters to Simplified, char by char (so that
    /// offsets stay aligned); returns the count of changed chars.
    pub fn to_simplified(&self, text: &str) -> (String, usize) {
        self.convert(text, false)
    }

    /// Converts the stray Traditional characters of a Simplified text (冲堆二級
    /// 检查站), leaving those the lexicons use as they are.
    pub fn to_simplified_mixed(&self, text: &str) -> (String, usize) {
        self.convert(text, true)
    }

    /// Whether the T→S table changes `c` (`t2s.contains_key`, read from the
    /// bit set below U+10000).
    pub fn t2s_changes(&self, c: char) -> bool {
        let u = c as usize;
        if u < 0x10000 {
            self.t2s_bmp[u / 64] >> (u % 64) & 1 == 1
        } else {
            self.t2s.contains_key(&c)
        }
    }

    fn convert(&self, text: &str, protect: bool) -> (String, usize) {
        let mut changed = 0;
        let mut out = String::with_capacity(text.len());
        // The text between changed chars is copied a run at a time; the
        // bit set tells most chars apart without a hash lookup.
        let mut run_start = 0;
        for (i, c) in text.char_indices() {
            // ASCII, digits and punctuation have no Traditional forms.
            if c < self.t2s_floor || !self.t2s_changes(c) {
                continue;
            }
            match self.t2s.get(&c) {
                Some(&s) if !(protect && self.t2s_protected.contains(&c)) => {
                    changed += 1;
                    out.push_str(&text[run_start..i]);
                    out.push(s);
                    run_start = i + c.len_utf8();
                }
                _ => {}
            }
        }
        out.push_str(&text[run_start..]);
        (out, changed)
    }
}

/// Surface forms with their meanings, sorted by form.
type FormList = Vec<(String, Vec<Meaning>)>;

/// Collects surface forms and their meanings before building the automaton.
#[derive(Default)]
struct FormTable {
    forms: BTreeMap<String, Vec<Meaning>>,
}

impl FormTable {
    fn push(&mut self, form: &str, meaning: Meaning) {
        let form = form.trim();
        if form.is_empty() {
            return;
        }
        let meanings = self.forms.entry(form.to_string()).or_default();
        if !meanings.contains(&meaning) {
            meanings.push(meaning);
        }
    }

    fn add_region(&mut self, form: &str, index: usize, kind: FormKind, stop: &HashSet<String>) {
        if stop.contains(form) {
            return;
        }
        // One-char forms are only meaningful as listed abbreviations.
        if form.chars().count() < 2 && kind != FormKind::Abbrev {
            return;
        }
        self.push(form, Meaning::Region { index, form: kind });
    }

    /// A character-wise double-array Aho-Corasick automaton (daachorse),
    /// leftmost-longest: several times faster over CJK text than a byte
    /// automaton, and pattern i is form i.
    fn build(self) -> Result<(FormList, CharwiseDoubleArrayAhoCorasick<u32>)> {
        let forms: Vec<(String, Vec<Meaning>)> = self
            .forms
            .into_iter()
            .filter(|(f, _)| !f.is_empty())
            .collect();
        let automaton = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(DaachorseMatchKind::LeftmostLongest)
            .build(forms.iter().map(|(f, _)| f.as_str()))
            .map_err(|e| anyhow::anyhow!("cannot build the dictionary automaton: {e}"))?;
        Ok((forms, automaton))
    }
}

/// Writes the embedded data files into `dir` (for `jindu lexicon export`).
pub fn export_defaults(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in DEFAULT_FILES {
        std::fs::write(dir.join(name), text)
            .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_t2s_bit_set_holds_exactly_the_table_keys() {
        let lex = Lexicon::embedded().unwrap();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            assert_eq!(lex.t2s_changes(c), lex.t2s.contains_key(&c), "{c:?}");
        }
    }

    #[test]
    fn ancestors_into_a_reused_buffer_is_the_chain_of_ancestors() {
        let lex = Lexicon::embedded().unwrap();
        let mut out = vec![usize::MAX; 3];
        for index in (0..lex.regions.len()).rev() {
            lex.ancestors_into(index, &mut out);
            let chain: Vec<usize> = lex.lineage(index).skip(1).collect();
            assert_eq!(out, chain, "{}", lex.regions[index].name);
            assert_eq!(out, lex.ancestors(index));
        }
    }

    #[test]
    fn embedded_lexicon_loads_with_known_regions() {
        let lex = Lexicon::embedded().unwrap();
        let nm = lex.region_by_code["150000"];
        assert_eq!(lex.regions[nm].name, "内蒙古自治区");
        let kailu = lex.region_by_code["150523"];
        assert_eq!(lex.regions[kailu].name, "开鲁县");
        assert_eq!(lex.province_of(kailu), Some(nm));
        assert!(lex.is_within(kailu, lex.region_by_code["150500"]));
        assert!(lex.metrics.iter().any(|m| &*m.metric == "casesSolved"));
        assert!(lex.units["公斤"] == 1000);
    }

    #[test]
    fn figure_grammar_rows_are_checked_and_units_come_from_units_tsv() {
        let dir = tempfile::tempdir().unwrap();
        let folders = [dir.path().to_path_buf()];
        let with = |rows: &str| {
            std::fs::write(dir.path().join("figure_words.tsv"), rows).unwrap();
            figure_grammar(&folders)
        };
        for (rows, said) in [
            ("lead\t多达\tmaybe\n", "approximate or exact"),
            ("multiplier\t千万\tmany\n", "factor"),
            ("suffix\t许\t\n", "unknown kind"),
            ("about\n", "expected kind, word, value"),
            ("multiplier\t兆\t-1\n", "positive"),
            ("lead\t一共\texact\n", "not a numeral"),
            ("about\t.5\t\n", "cannot start with a digit"),
        ] {
            let err = format!("{:#}", with(rows).unwrap_err());
            assert!(err.contains(said), "{rows:?}: {err}");
        }
        // The word the scanner cannot read is named by its file and line,
        // a unit of units.tsv too.
        let figure_words = dir.path().join("figure_words.tsv");
        let err = format!(
            "{:#}",
            with("lead\t多达\texact\nlead\t一共\texact\n").unwrap_err()
        );
        let at = format!(
            "{} line 2: row \"lead\\t一共\\texact\": lead word",
            figure_words.display()
        );
        assert!(err.starts_with(&at), "{err}");
        let units = dir.path().join("units.tsv");
        std::fs::write(&units, "两\t50\n5斤\t500\n").unwrap();
        let err = format!("{:#}", with("").unwrap_err());
        let at = format!("{} line 2: word \"5斤\"", units.display());
        assert!(err.starts_with(&at), "{err}");
        std::fs::remove_file(&units).unwrap();
        let grammar = with("lead\t多达\texact\nmultiplier\t千万\t10000000\n").unwrap();
        assert_eq!(grammar.multipliers(), ["千万", "万", "亿"]);
        // Every unit of units.tsv, longest first; a unit added there is one too.
        let embedded = figure_grammar(&[]).unwrap();
        assert_eq!(embedded.units().len(), load_units(&[]).unwrap().len());
        assert_eq!(embedded.units()[0].chars().count(), 2);
        std::fs::write(dir.path().join("units.tsv"), "两\t50\n").unwrap();
        assert!(with("").unwrap().units().contains(&"两"));
    }

    /// The error of loading the lexicon extended by `dirs`, with its causes.
    fn load_error(dirs: &[PathBuf]) -> String {
        match Lexicon::load(dirs) {
            Ok(_) => panic!("{dirs:?} loaded"),
            Err(e) => format!("{e:#}"),
        }
    }

    /// The lexicon with a folder holding `files` (name, text) added.
    fn folder_lexicon(files: &[(&str, &str)]) -> Lexicon {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Lexicon::load(&[dir.path().to_path_buf()]).unwrap()
    }

    /// The error of loading the lexicon extended by a folder whose `file`
    /// holds `text`, and that file's path as errors name it.
    fn folder_error(file: &str, text: &str) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        (
            load_error(&[dir.path().to_path_buf()]),
            path.display().to_string(),
        )
    }

    #[test]
    fn a_context_blocker_row_blocks_a_context_word_with_characters() {
        // Rows without characters were skipped.
        for text in ["区\t新城\n市\n", "区\t新城\n市\t\n"] {
            let (err, path) = folder_error("context_blockers.tsv", text);
            assert!(
                err.starts_with(&format!("{path} line 2: row ")),
                "{text:?}: {err}"
            );
            assert!(err.ends_with(": expected prefix, characters"), "{err}");
        }
        let (err, path) = folder_error("context_blockers.tsv", "# prefix\tchars\n局\t分\n");
        assert_eq!(
            err,
            format!("{path} line 2: row \"局\\t分\": \"局\" is not a word of context_refs.tsv")
        );
        // A good row is read.
        let lex = folder_lexicon(&[("context_blockers.tsv", "县\t邻 外\n")]);
        let blockers = &lex.context_blockers["县"];
        assert!(blockers.contains(&'邻') && blockers.contains(&'郡'));
        assert!(!blockers.contains(&' '));
    }

    #[test]
    fn t2s_rows_map_one_character_to_one_and_phrase_rows_are_left_out() {
        // The embedded file's phrase rows are not read, by design; its
        // character rows are.
        let embedded = t2s_of(&load_text("t2s.tsv", &[]).unwrap()).unwrap();
        let characters = include_str!("../data/t2s.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| l.split('\t').next().is_some_and(|k| k.chars().count() == 1))
            .count();
        assert_eq!(embedded.len(), characters);
        assert_eq!(embedded[&'緝'], '缉');
        assert!(include_str!("../data/t2s.tsv").contains("\n一目瞭然\t一目了然\n"));
        // Malformed rows were skipped; they are errors now.
        for (text, said) in [
            (
                "緝\t缉\n乾\n",
                "line 2: row \"乾\": expected traditional, simplified",
            ),
            (
                "乾\t\n",
                "line 1: row \"乾\\t\": expected traditional, simplified",
            ),
            (
                "# t\ts\n乾\t干乾\n",
                "line 2: row \"乾\\t干乾\": a character maps to one character",
            ),
        ] {
            let (err, path) = folder_error("t2s.tsv", text);
            assert!(
                err.starts_with(&format!("{path} {said}")),
                "{text:?}: {err}"
            );
        }
        // A character mapped again: the same mapping is no error, another is.
        let (err, path) = folder_error("t2s.tsv", "甲\t乙\n\n甲\t丙\n");
        assert_eq!(
            err,
            format!("{path} line 3: row \"甲\\t丙\": 甲 is mapped to 乙 already, at {path} line 1")
        );
        let (err, _) = folder_error("t2s.tsv", "緝\t缉\n緝毒\t缉毒\n乾\t乾\n");
        assert!(
            err.contains("乾 is mapped to 干 already, at t2s.tsv (embedded) line "),
            "{err}"
        );
        let lex = folder_lexicon(&[("t2s.tsv", "緝\t缉\n緝毒\t缉毒\n")]);
        assert_eq!(lex.t2s, embedded);
    }

    #[test]
    fn gap_stopchars_are_characters_a_free_name_can_hold() {
        let embedded = gap_stopchars_of(&load_text("gap_stopchars.txt", &[]).unwrap()).unwrap();
        // As read before: every character of the lines but comments' and
        // white space.
        let before: HashSet<char> = include_str!("../data/gap_stopchars.txt")
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        assert_eq!(embedded, before);
        assert!(embedded.contains(&'的'));
        for (text, said) in [
            (
                "召 开\n的 和 # 常用\n",
                "line 2: '#' cannot stand in a free name",
            ),
            (
                "  # 注释\n\n组\t织、\n",
                "line 3: '、' cannot stand in a free name",
            ),
            ("ab\n", "line 1: 'a' cannot stand in a free name"),
        ] {
            let (err, path) = folder_error("gap_stopchars.txt", text);
            assert!(
                err.starts_with(&format!("{path} {said}")),
                "{text:?}: {err}"
            );
        }
        let lex = folder_lexicon(&[("gap_stopchars.txt", "# 更多\n 旧\t新 9\n")]);
        assert!(
            ['旧', '新', '9', '的']
                .iter()
                .all(|c| lex.gap_stopchars.contains(c))
        );
    }

    #[test]
    fn word_counts_match_an_overlapping_search() {
        // Words nested in each other (制毒 in 易制毒, 毒 in both) and
        // sharing ends (禁毒品 holds 禁毒 and 毒品): the windowed count must
        // equal the plain overlapping count, capped, for every text.
        let words: Vec<String> = ["毒品", "禁毒", "制毒", "易制毒", "毒", "品毒a"]
            .map(String::from)
            .to_vec();
        let set = WordSet::new("test", words.clone()).expect("words");
        let plain = aho_corasick::AhoCorasick::new(&words).expect("words");
        // Texts long enough for the packed searcher's vector loop as well
        // as short ones, which it reads another way.
        let pieces = ["毒", "品", "禁", "易制", "a", "x", "制", "，", "中国人民"];
        let texts = crate::testing::random_piece_texts(&pieces, 40, 0x51_7CC1_B727_220A, 20_000);
        let mut counted = [0usize; 3];
        for text in texts {
            assert_eq!(set.any_in(&text), plain.is_match(&text), "{text:?}");
            for limit in [1, 2, 3, 100] {
                let expected = plain.find_overlapping_iter(&text).take(limit).count();
                assert_eq!(
                    set.count_in(&text, limit),
                    expected,
                    "{text:?}, limit {limit}"
                );
            }
            counted[plain.find_overlapping_iter(&text).count().min(2)] += 1;
        }
        // The texts reach none, one and several occurrences.
        assert!(counted.iter().all(|&n| n > 1_000), "{counted:?}");
        // An empty word would match everywhere.
        assert!(WordSet::new("test", vec!["毒品".into(), String::new()]).is_err());
    }

    #[test]
    fn a_word_list_row_is_one_word() {
        // Every word list, read by the same loader: a second word was cut
        // off, an empty one kept (and an empty word matches everywhere).
        for file in [
            "topic_words.txt",
            "region_stopwords.txt",
            "cooperation_words.txt",
            "demonstrative_bodies.txt",
        ] {
            for (text, line, row) in [
                ("毒品\n禁毒\t宣传\n", 2, "禁毒\\t宣传"),
                ("# words\n\t毒品\n", 2, "\\t毒品"),
            ] {
                let (err, path) = folder_error(file, text);
                assert_eq!(
                    err,
                    format!("{path} line {line}: row \"{row}\": expected one word a line"),
                    "{file}"
                );
            }
        }
        // A trailing tab is no second word.
        let lex = folder_lexicon(&[
            ("topic_words.txt", "贩毒集团\t\n"),
            ("weak_initials.txt", "乃\n"),
        ]);
        assert!(lex.topic_words.any_in("一个贩毒集团"));
        assert!(lex.weak_initials.contains(&'乃') && lex.weak_initials.contains(&'和'));
        // A weak initial is one character.
        let (err, path) = folder_error("weak_initials.txt", "乃\n和平\n");
        assert_eq!(
            err,
            format!("{path} line 2: row \"和平\": expected one character a line")
        );
    }

    #[test]
    fn a_campaign_suffix_is_strip_or_keep() {
        for (text, said) in [
            (
                "集中攻坚行动\n",
                "row \"集中攻坚行动\": expected suffix, strip or keep",
            ),
            (
                "集中攻坚行动\tkept\n",
                "row \"集中攻坚行动\\tkept\": a suffix is strip or keep",
            ),
            (
                "\tstrip\n",
                "row \"\\tstrip\": expected suffix, strip or keep",
            ),
        ] {
            let (err, path) = folder_error("campaign_suffixes.txt", text);
            assert_eq!(err, format!("{path} line 1: {said}"), "{text:?}");
        }
        let lex = folder_lexicon(&[(
            "campaign_suffixes.txt",
            "集中攻坚行动\tstrip\n示范创建\tkeep\n",
        )]);
        for (suffix, strip) in [("集中攻坚行动", true), ("示范创建", false), ("工程", false)]
        {
            assert!(
                lex.campaign_suffixes.contains(&(suffix.to_string(), strip)),
                "{suffix}"
            );
        }
    }

    #[test]
    fn agency_namings_and_context_uses_are_checked() {
        // Both were read as the default: not as written, prefix only.
        let (err, path) = folder_error(
            "agency_terms.tsv",
            "# term\trole\tkind\tcanonical\tnaming\n海关缉私局\tbody\tcustoms\t\tas written\n",
        );
        assert_eq!(
            err,
            format!("{path} line 2: unknown naming as written (as-written or none)")
        );
        let (err, path) = folder_error(
            "context_refs.tsv",
            "全镇\tcounty\talone\n本镇\tcounty\tstandalone\n",
        );
        assert_eq!(
            err,
            format!("{path} line 2: unknown use standalone (alone or prefix)")
        );
        let lex = folder_lexicon(&[
            (
                "agency_terms.tsv",
                "海关缉私局\tbody\tcustoms\t\tas-written\n戒毒站\tunit\tjustice\t\t\n",
            ),
            (
                "context_refs.tsv",
                "全镇\tcounty\talone\n镇\tcounty\tprefix\n",
            ),
        ]);
        let term = |t: &str| lex.agency_terms.iter().find(|a| a.term == t).unwrap();
        assert!(term("海关缉私局").keeps_written_region);
        assert!(!term("戒毒站").keeps_written_region);
        let context = |w: &str| lex.context_refs.iter().find(|c| c.word == w).unwrap();
        assert!(context("全镇").alone && !context("镇").alone);
    }

    #[test]
    fn a_region_or_township_under_an_unknown_code_is_an_error() {
        // The region was made a root, the township skipped.
        let (err, path) = folder_error(
            "regions.tsv",
            "# code\tname\tlevel\tparent\n990100\t新城市\tprefecture\t990000\n",
        );
        assert_eq!(err, format!("{path} line 2: unknown parent code 990000"));
        let (err, path) = folder_error("townships.tsv", "990101001\t新城镇\t990101\n");
        assert_eq!(err, format!("{path} line 1: unknown county code 990101"));
        // A parent may come after its child.
        let lex = folder_lexicon(&[
            (
                "regions.tsv",
                "990101\t新城县\tcounty\t990100\n990100\t新城市\tprefecture\t150000\n",
            ),
            ("townships.tsv", "990101001\t甲乙丙镇\t990101\n"),
        ]);
        let county = lex.region_by_code["990101"];
        let town = lex.region_by_name["甲乙丙镇"][0];
        assert_eq!(lex.regions[town].parent, Some(county));
        assert!(lex.is_within(town, lex.region_by_code["150000"]));
    }

    #[test]
    fn a_required_field_left_empty_or_a_unit_no_figure_has_is_an_error() {
        // An empty label made an entry no text could name; an empty
        // pattern matched anywhere.
        for (file, text, said) in [
            (
                "drugs.tsv",
                "\tdrug\t甲基\n",
                "line 1: empty label (expected label, kind)",
            ),
            (
                "campaigns.tsv",
                "# x\n护网\t\t\n",
                "line 2: empty kind (expected label, kind)",
            ),
            (
                "metrics.tsv",
                "drugsSeized\t\t鸦片\t两\n",
                "line 1: empty verbs (expected metric, verbs, objects, units)",
            ),
            (
                "agency_terms.tsv",
                "\tbody\tpolice\t\n",
                "line 1: empty term (expected term, role, kind)",
            ),
            (
                "foreign_regions.tsv",
                "瑙鲁\n",
                "line 1: expected name, level",
            ),
            (
                "metrics.tsv",
                "drugsSeized\t缴获\t鸦片\t克|两\n",
                "line 1: unit 两 is not a unit of units.tsv, so no figure has it",
            ),
        ] {
            let (err, path) = folder_error(file, text);
            assert_eq!(err, format!("{path} {said}"), "{file} {text:?}");
        }
    }

    #[test]
    fn an_extension_files_bad_row_is_named_by_its_path_and_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let folders = [dir.path().to_path_buf()];
        let units = dir.path().join("units.tsv");
        std::fs::write(&units, "两\t50\n斤\tmany\n").unwrap();
        let err = load_error(&folders);
        assert!(
            err.starts_with(&format!("{} line 2: ", units.display())),
            "{err}"
        );
        // The same for a loader that also quotes the row, after a comment
        // and an empty line.
        std::fs::remove_file(&units).unwrap();
        let layout = dir.path().join("layout_words.tsv");
        std::fs::write(&layout, "# word\troles\n\n央视网消息\theadline\n").unwrap();
        let err = load_error(&folders);
        assert!(
            err.starts_with(&format!(
                "{} line 3: row \"央视网消息\\theadline\": ",
                layout.display()
            )),
            "{err}"
        );
        // A second folder's file counts its own lines, not the first's.
        let second = tempfile::tempdir().unwrap();
        std::fs::write(&layout, "新华社电\tdateline\n").unwrap();
        let regions = second.path().join("region_aliases.tsv");
        std::fs::write(&regions, "滇\t530000\tabbrev\n云\t539999\tabbrev\n").unwrap();
        let err = load_error(&[dir.path().to_path_buf(), second.path().to_path_buf()]);
        assert!(
            err.starts_with(&format!("{} line 2: unknown region", regions.display())),
            "{err}"
        );
    }

    #[test]
    fn an_embedded_files_rows_are_named_by_the_file_and_its_own_lines() {
        let bad = [Segment::embedded(
            "units.tsv",
            "# unit\tfactor\n公斤\t1000\n\n斤\n",
        )];
        let err = format!("{:#}", units_of(&bad).unwrap_err());
        assert_eq!(err, "units.tsv (embedded) line 4: expected unit, factor");
        // The real embedded file followed by an extension: each row's
        // location is its line in its own file.
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("units.tsv");
        std::fs::write(&extra, "\n# more\n两\t50\n").unwrap();
        let segments = load_text("units.tsv", &[dir.path().to_path_buf()]).unwrap();
        let located: Vec<String> = rows(&segments)
            .map(|(at, f)| format!("{at}: {}", f[0]))
            .collect();
        let embedded = include_str!("../data/units.tsv");
        let (line, first) = embedded
            .lines()
            .enumerate()
            .find(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
            .unwrap();
        let first = first.split('\t').next().unwrap();
        assert_eq!(
            located[0],
            format!("units.tsv (embedded) line {}: {first}", line + 1)
        );
        assert_eq!(
            located.last().unwrap(),
            &format!("{} line 3: 两", extra.display())
        );
    }

    #[test]
    fn a_section_ends_at_the_end_of_its_file() {
        let segments = [
            Segment::embedded(
                "campaigns.tsv",
                "甲\tcampaign\n# [section: quoted]\n乙\tcampaign\n",
            ),
            Segment {
                origin: "/x/campaigns.tsv".into(),
                text: "丙\tcampaign\n# [section: generic]\n丁\tcampaign\n".into(),
            },
        ];
        let sections: Vec<(&str, Option<&str>)> =
            rows(&segments).map(|(at, f)| (f[0], at.section)).collect();
        assert_eq!(
            sections,
            [
                ("甲", None),
                ("乙", Some("quoted")),
                ("丙", None),
                ("丁", Some("generic"))
            ]
        );
        // Loaded: a folder's quoted section does not make the next
        // folder's campaigns quoted.
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(
            first.path().join("campaigns.tsv"),
            "护网\tcampaign\t\n# [section: quoted]\n天盾\tcampaign\t\n",
        )
        .unwrap();
        std::fs::write(
            second.path().join("campaigns.tsv"),
            "净网行动名\tcampaign\t\n",
        )
        .unwrap();
        let lex =
            Lexicon::load(&[first.path().to_path_buf(), second.path().to_path_buf()]).unwrap();
        assert!(lex.quoted_campaigns.contains_key("天盾"));
        for unquoted in ["护网", "净网行动名"] {
            assert!(!lex.quoted_campaigns.contains_key(unquoted), "{unquoted}");
            assert!(lex.campaign_forms.contains_key(unquoted), "{unquoted}");
        }
        // The embedded file's sections hold as before.
        assert!(lex.quoted_campaigns.contains_key("雷霆"));
        assert!(lex.campaign_forms.contains_key("清源断流"));
    }

    #[test]
    fn a_section_is_one_of_three_and_marked_by_a_comment_of_its_own() {
        // A misspelt section was read as core: 雷霆 would match anywhere.
        let (err, path) = folder_error(
            "campaigns.tsv",
            "护网\tcampaign\t\n#  [section: qouted]\n\n雷霆\tcampaign\t\n",
        );
        assert_eq!(
            err,
            format!(
                "{path} line 4: the row is under an unknown section \"qouted\" (core, quoted or generic)"
            )
        );
        // A comment that only mentions a marker is none; one that starts
        // with it after white space is one.
        let segments = [Segment::embedded(
            "campaigns.tsv",
            "# rows below, as under # [section: quoted]:\n甲\tcampaign\n\t#\t[section: quoted]\n乙\tcampaign\n",
        )];
        let sections: Vec<(&str, Option<&str>)> =
            rows(&segments).map(|(at, f)| (f[0], at.section)).collect();
        assert_eq!(sections, [("甲", None), ("乙", Some("quoted"))]);
        // The embedded file's markers are its three sections.
        let segments = load_text("campaigns.tsv", &[]).unwrap();
        let mut seen: Vec<Option<&str>> = rows(&segments).map(|(at, _)| at.section).collect();
        seen.dedup();
        assert_eq!(seen, [Some("core"), Some("quoted"), Some("generic")]);
    }

    #[test]
    fn the_fingerprint_hashes_the_concatenated_files_as_before() {
        use sha2::{Digest, Sha256};
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("units.tsv"), "两\t50\n").unwrap();
        std::fs::write(dir.path().join("drugs.tsv"), "蓝精灵\tdrug\t").unwrap();
        let folders = [dir.path().to_path_buf(), dir.path().to_path_buf()];
        // What loading hashed when it read each file as one string: the
        // embedded text, then "\n" and each folder's file.
        let mut h = Sha256::new();
        for (name, embedded) in DEFAULT_FILES {
            let mut text = embedded.to_string();
            for dir in &folders {
                if let Ok(extra) = std::fs::read_to_string(dir.join(name)) {
                    text.push('\n');
                    text.push_str(&extra);
                }
            }
            h.update(name.as_bytes());
            h.update((text.len() as u64).to_le_bytes());
            h.update(text.as_bytes());
        }
        let hex: String = h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let expected = format!("jindu {}; lexicon {hex}", env!("CARGO_PKG_VERSION"));
        assert_eq!(fingerprint(&folders).unwrap(), expected);
        assert_ne!(fingerprint(&[]).unwrap(), expected);
    }

    #[test]
    fn converts_traditional_characters() {
        let lex = Lexicon::embedded().unwrap();
        let (s, changed) = lex.to_simplified("廣西邊檢總站緝毒");
        assert_eq!(s, "广西边检总站缉毒");
        assert_eq!(changed, 5);
        // Run by run, as char by char: Traditional chars, protected ones
        // (乾), ones outside the bit set's plane, ASCII and Simplified.
        let pieces = ["廣", "乾", "邊", "a", "毒", "，", "𠀀", "\u{2F800}", "緝毒"];
        for text in crate::testing::random_piece_texts(&pieces, 12, 0x6A09_E667_F3BC_C908, 5_000) {
            for protect in [false, true] {
                let mut expected = String::new();
                let mut count = 0;
                for c in text.chars() {
                    match lex.t2s.get(&c) {
                        Some(&s) if !(protect && lex.t2s_protected.contains(&c)) => {
                            expected.push(s);
                            count += 1;
                        }
                        _ => expected.push(c),
                    }
                }
                assert_eq!(lex.convert(&text, protect), (expected, count), "{text:?}");
            }
        }
    }
}
