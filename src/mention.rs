//! Stage 3, find mentions.
//!
//! In: the cleaned text of one article and the [`Lexicon`]. Out: raw
//! [`Token`]s (dictionary hits of the Aho-Corasick automaton: region forms,
//! agency terms, context words, drugs, campaigns) and pattern candidates
//! (quoted campaign names, case names, figures), each with its byte span in
//! the cleaned text. Nothing here decides what a token refers to; that is
//! the resolver's work.

use std::sync::LazyLock;

use anyhow::Result;
use regex::Regex;

use crate::lexicon::{Lexicon, Meaning};

/// One dictionary hit.
#[derive(Debug, Clone)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    /// Index into [`Lexicon::forms`].
    pub form: usize,
}

impl Token {
    pub fn meanings<'a>(&self, lex: &'a Lexicon) -> &'a [Meaning] {
        &lex.forms[self.form].1
    }
}

/// Finds every dictionary form in `text[start..end]`, leftmost-longest, not
/// overlapping.
pub fn find_tokens(lex: &Lexicon, text: &str, start: usize, end: usize) -> Vec<Token> {
    lex.automaton
        .leftmost_find_iter(&text[start..end])
        .map(|m| Token {
            start: start + m.start(),
            end: start + m.end(),
            form: m.value() as usize,
        })
        .collect()
}

/// A quoted or lexicon campaign name found by pattern.
#[derive(Debug, Clone)]
pub struct CampaignCandidate {
    pub start: usize,
    pub end: usize,
    /// The name without quotes and without a stripped generic suffix.
    pub name: String,
    /// The edition year when written as `清源断流—2023`.
    pub edition_of: Option<String>,
}

/// The spans `[“"「『]([^“”"「」『』,。;!?]{2,24})[”"」』]` finds in `text`
/// (leftmost-first, not overlapping), read by bytes: the regex's counted
/// class cost it many lazy-DFA states and a verification at each opening
/// mark. Every quote mark is outside the inner class, so the name is the
/// whole run of inner chars after an opening mark, and it matches only when
/// that run holds 2 to 24 chars and a closing mark ends it; no opening mark
/// can start inside such a run, so a failed try resumes where its run
/// stopped.
fn quoted_spans(text: &str, out: &mut Vec<(usize, usize)>) {
    let b = text.as_bytes();
    // The length of the mark at `i` when it is one the inner class leaves
    // out (0 for any other char).
    let excluded = |i: usize| -> usize {
        match b[i] {
            b',' | b';' | b'!' | b'?' | b'"' => 1,
            0xE2 => usize::from(b[i + 1] == 0x80 && matches!(b[i + 2], 0x9C | 0x9D)) * 3,
            0xE3 => usize::from(b[i + 1] == 0x80 && matches!(b[i + 2], 0x82 | 0x8C..=0x8F)) * 3,
            _ => 0,
        }
    };
    let mut at = 0;
    while let Some(found) = memchr::memchr3(b'"', 0xE2, 0xE3, &b[at..]) {
        let p = at + found;
        // “ is E2 80 9C; 「 and 『 are E3 80 8C and E3 80 8E.
        let open = match b[p] {
            b'"' => 1,
            0xE2 if b[p + 1] == 0x80 && b[p + 2] == 0x9C => 3,
            0xE3 if b[p + 1] == 0x80 && matches!(b[p + 2], 0x8C | 0x8E) => 3,
            _ => {
                at = p + 1;
                continue;
            }
        };
        let mut q = p + open;
        let mut chars = 0;
        while q < b.len() && chars <= 24 && excluded(q) == 0 {
            chars += 1;
            q += match b[q] {
                0x00..=0x7F => 1,
                0x80..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
        }
        if (2..=24).contains(&chars) && q < b.len() {
            // ” is E2 80 9D; 」 and 』 are E3 80 8D and E3 80 8F.
            let close = match b[q] {
                b'"' => 1,
                0xE2 if b[q + 2] == 0x9D => 3,
                0xE3 if matches!(b[q + 2], 0x8D | 0x8F) => 3,
                _ => 0,
            };
            if close > 0 {
                out.push((p, q + close));
                at = q + close;
                continue;
            }
        }
        at = q;
    }
}

/// Quoted names that are campaigns: followed by a campaign word
/// (“清源断流”行动, “清源断流—2023”专项行动), in a run of quoted names that
/// ends with one (“清源断流”“集群打零”“夏季行动”等专项行动), or ending in
/// one inside the quotes (“扫雷行动”).
pub fn find_quoted_campaigns(
    lex: &Lexicon,
    text: &str,
    start: usize,
    end: usize,
) -> Vec<CampaignCandidate> {
    let slice = &text[start..end];
    // The name is the match without its two quote marks (one char each):
    // read so, the match needs no capture engine.
    let mut spans = Vec::new();
    quoted_spans(slice, &mut spans);
    let quoted: Vec<(usize, usize, &str)> = spans
        .into_iter()
        .map(|(s, e)| {
            let m = &slice[s..e];
            let open = m.chars().next().map_or(0, char::len_utf8);
            let close = m.chars().next_back().map_or(0, char::len_utf8);
            (s, e, m[open..m.len() - close].trim())
        })
        .collect();
    let suffix_at = |pos: usize| -> Option<&(String, bool)> {
        let after = &slice[pos..];
        let lead = after.chars().next()?;
        lex.campaign_suffix_leads.binary_search(&lead).ok()?;
        let found = lex
            .campaign_suffixes
            .iter()
            .find(|(s, _)| after.starts_with(s.as_str()))?;
        let rest = &after[found.0.len()..];
        if lex
            .campaign_blockers
            .iter()
            .any(|b| rest.starts_with(b.as_str()))
        {
            return None;
        }
        Some(found)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < quoted.len() {
        // The run of quoted names joined by nothing, 、, 和 or 及.
        let mut j = i;
        while j + 1 < quoted.len() {
            let gap = &slice[quoted[j].1..quoted[j + 1].0];
            if gap.is_empty() || gap == "、" || gap == "和" || gap == "及" {
                j += 1;
            } else {
                break;
            }
        }
        let run_end = quoted[j].1;
        let after_run = if slice[run_end..].starts_with('等') {
            run_end + '等'.len_utf8()
        } else {
            run_end
        };
        let run_suffix = suffix_at(after_run);
        for (k, &(qs, qe, inner)) in quoted[i..=j].iter().enumerate() {
            if inner.ends_with('案')
                || inner.ends_with("案件")
                || !inner.chars().any(|c| !c.is_ascii_digit())
            {
                continue;
            }
            let is_last = i + k == j;
            let (name, end_pos) = if let Some((suffix, strip)) = run_suffix {
                let mut name = strip_campaign_suffixes(lex, inner);
                if !strip && is_last && j == i {
                    name.push_str(suffix);
                }
                let end_pos = if is_last {
                    after_run + suffix.len()
                } else {
                    qe
                };
                (name, end_pos)
            } else if let Some(stripped) = ends_with_strong_suffix(lex, inner) {
                (stripped, qe)
            } else {
                continue;
            };
            let (base, edition) = split_edition(&name);
            out.push(CampaignCandidate {
                start: start + qs,
                end: start + end_pos,
                name: name.clone(),
                edition_of: edition.map(|_| base.to_string()),
            });
        }
        i = j + 1;
    }
    out
}

/// Removes trailing generic words marked `strip` (禁种铲毒专项行动 → 禁种铲毒),
/// never leaving less than two characters.
pub fn strip_campaign_suffixes(lex: &Lexicon, name: &str) -> String {
    // Shortened as a slice and copied once at the end. The last byte is
    // compared first: most suffixes end in another byte, and the check
    // spares the call comparing the whole suffix (an empty suffix still
    // ends every name).
    let mut name = name;
    while let Some((suffix, _)) = lex.campaign_suffixes.iter().find(|(s, strip)| {
        *strip
            && (s.is_empty() || s.as_bytes().last() == name.as_bytes().last())
            && name.ends_with(s.as_str())
    }) {
        let rest = &name[..name.len() - suffix.len()];
        if rest.chars().count() < 2 {
            break;
        }
        name = rest;
    }
    name.to_string()
}

/// A quoted name that itself ends in an operation word of
/// `campaign_endings.txt` (“扫雷行动”, “夏季行动”): the name without it.
fn ends_with_strong_suffix(lex: &Lexicon, inner: &str) -> Option<String> {
    if lex
        .campaign_endings
        .iter()
        .any(|s| inner.ends_with(s.as_str()))
        && inner.chars().count() >= 4
    {
        Some(strip_campaign_suffixes(lex, inner))
    } else {
        None
    }
}

/// `清源断流—2023` → (`清源断流`, Some(2023)).
pub fn split_edition(name: &str) -> (&str, Option<u32>) {
    static EDITION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(.+?)[—\-–·]?((?:19|20)\d\d)$").expect("valid regex"));
    // Most names end in no digit, so in no year: say so without the regex
    // (`is_numeric` takes in every char `\d` does).
    if !name.chars().next_back().is_some_and(char::is_numeric) {
        return (name, None);
    }
    // A year of ASCII digits (nearly all) is read without the capture
    // engine; other digits `\d` takes in are left to the regex.
    if let Some((base, year)) = ascii_edition(name) {
        if base.chars().count() >= 2 {
            return (base, Some(year));
        }
        return (name, None);
    }
    if let Some(c) = EDITION.captures(name) {
        let base = c.get(1).expect("group").as_str();
        if base.chars().count() >= 2 {
            return (base, c[2].parse().ok());
        }
    }
    (name, None)
}

/// What `^(.+?)[—\-–·]?((?:19|20)\d\d)$` captures of a name ending in an
/// ASCII year: the name before the year (and before one dash or dot
/// between them, which the lazy group leaves to the class) and the year.
/// None when the name does not end in four ASCII digits of a year, or
/// when the regex would not match (a line break before the year).
fn ascii_edition(name: &str) -> Option<(&str, u32)> {
    let year_at = name.len().checked_sub(4)?;
    let year = name.get(year_at..)?;
    if !(year.starts_with("19") || year.starts_with("20"))
        || !year.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let before = &name[..year_at];
    let base = match before.strip_suffix(['—', '-', '–', '·']) {
        Some(shorter) if !shorter.is_empty() => shorter,
        _ => before,
    };
    // `.` takes no line break, and the group takes at least one char.
    if base.is_empty() || base.contains('\n') {
        return None;
    }
    Some((base, year.parse().ok()?))
}

/// A named criminal case.
#[derive(Debug, Clone)]
pub struct CaseCandidate {
    pub start: usize,
    pub end: usize,
    pub name: String,
    pub code: Option<String>,
}

/// The patterns of named cases: a quoted code with its crime words and
/// one of the endings of `case_endings.txt` (“8·12”特大运输毒品案,
/// “2017-311A”毒品目标案件), or 〈person〉等人〈crime〉案.
#[derive(Debug, Clone)]
pub struct CasePatterns {
    /// The coded pattern anchored at its start: it is tried only where a
    /// quote opens before a digit (see [`coded_case_starts`]).
    coded: Regex,
    person: Regex,
    /// A char of each ending (案 where it holds one), as text: a text
    /// holding none names no coded case. (A search for a `&str` runs on
    /// SIMD; one for a set of chars decodes every char.)
    marks: Vec<String>,
}

/// The pattern of a coded case (“8·12”特大运输毒品案) with these endings, as
/// alternatives tried in the given order.
fn coded_case_pattern(endings: &[&String]) -> String {
    let alternatives: Vec<String> = endings.iter().map(|e| regex::escape(e)).collect();
    format!(
        r#"[“"「]\s*(\d{{1,4}}(?:\s*[·.\-—]\s*\d{{1,4}}){{1,2}}[A-Za-z]{{0,2}})\s*[”"」]\s*(\p{{Han}}{{0,12}}?(?:{}))"#,
        alternatives.join("|")
    )
}

/// Where a coded case may start in `text`, in order: an opening quote
/// (“, " or 「) before a digit, spaces between allowed. Every match of the
/// coded pattern starts at one of them; most quotes in news open a name or
/// a slogan, and are passed over here without the regex.
fn coded_case_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    // '"' and the last bytes of “ (E2 80 9C) and 「 (E3 80 8C).
    memchr::memchr3_iter(b'"', 0x9C, 0x8C, bytes).filter_map(move |i| {
        let start = match bytes[i] {
            b'"' => i,
            0x9C if i >= 2 && bytes[i - 2..i] == [0xE2, 0x80] => i - 2,
            0x8C if i >= 2 && bytes[i - 2..i] == [0xE3, 0x80] => i - 2,
            _ => return None,
        };
        // `is_numeric` takes every digit `\d` does (and a few more, which
        // only cost the regex a try); `is_whitespace` is `\s`.
        let digit_follows = text[i + 1..]
            .chars()
            .find(|c| !c.is_whitespace())
            .is_some_and(|c| c.is_numeric());
        digit_follows.then_some(start)
    })
}

impl CasePatterns {
    /// The patterns with these endings (tried longest first at each place).
    pub fn new(endings: &[String]) -> Result<CasePatterns> {
        if endings.is_empty() {
            anyhow::bail!("case_endings.txt: no endings, so no coded case could be read");
        }
        let mut sorted: Vec<&String> = endings.iter().collect();
        sorted.sort_by_key(|e| std::cmp::Reverse(e.chars().count()));
        let coded = Regex::new(&format!(r"\A(?:{})", coded_case_pattern(&sorted)))?;
        let person = Regex::new(r"(\p{Han}某{1,2}等\d*名?人[\p{Han}、]{2,12}?案)")?;
        let mut marks = Vec::new();
        for ending in endings {
            let mark = if ending.contains('案') {
                '案'
            } else {
                ending.chars().last().expect("a non-empty ending")
            };
            let mark = mark.to_string();
            if !marks.contains(&mark) {
                marks.push(mark);
            }
        }
        Ok(CasePatterns {
            coded,
            person,
            marks,
        })
    }
}

/// Named cases: a quoted code with a crime word (“8·12”特大运输毒品案,
/// “2017-311A”毒品目标案件), or 〈person〉等人〈crime〉案.
pub fn find_cases(
    patterns: &CasePatterns,
    text: &str,
    start: usize,
    end: usize,
) -> Vec<CaseCandidate> {
    let slice = &text[start..end];
    let mut out = Vec::new();
    // Most articles name no case, and a scan for the endings' chars (案)
    // says so sooner than the patterns.
    if !patterns.marks.iter().any(|m| slice.contains(m.as_str())) {
        return out;
    }
    // The regex's leftmost matches, not overlapping: each start is tried
    // in order, anchored, from the end of the last match on. (The pattern
    // looks at nothing before its start, so the slice from there is read
    // as the whole text would be.)
    let mut next_free = 0;
    for at in coded_case_starts(slice) {
        if at < next_free {
            continue;
        }
        let Some(caps) = patterns.coded.captures(&slice[at..]) else {
            continue;
        };
        let whole = caps.get(0).expect("match");
        next_free = at + whole.end();
        let whole = at + whole.start()..at + whole.end();
        let code: String = caps[1]
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if c == '.' { '·' } else { c })
            .collect();
        let crime = &caps[2];
        // Keep the crime words only from the severity/crime part (drop leading
        // verbs that the lazy class may have caught, none by construction).
        out.push(CaseCandidate {
            start: start + whole.start,
            end: start + whole.end,
            name: format!("{code}{crime}"),
            code: Some(code),
        });
    }
    // Every match of the person pattern holds 某等 and 案; an article
    // that names a suspect 张某某 without 等 has none.
    if slice.contains("某等") && slice.contains('案') {
        for caps in patterns.person.captures_iter(slice) {
            let m = caps.get(1).expect("group");
            if out
                .iter()
                .any(|c| c.start <= start + m.start() && start + m.end() <= c.end)
            {
                continue;
            }
            out.push(CaseCandidate {
                start: start + m.start(),
                end: start + m.end(),
                name: m.as_str().to_string(),
                code: None,
            });
        }
    }
    out.sort_by_key(|c| c.start);
    out
}

/// A number with its unit as written.
#[derive(Debug, Clone)]
pub struct Figure {
    pub start: usize,
    pub end: usize,
    /// The number in the written unit times its multiplier's factor (万, 亿).
    pub value: f64,
    pub approximate: bool,
    /// One of the grammar's units ([`FigureGrammar::units`]).
    pub unit: &'static str,
    /// The index of `unit` among the grammar's units.
    pub unit_index: usize,
}

/// The most units a grammar holds: a metric rule keeps a bit per unit in a
/// `u64` (`MetricRule::figure_units`).
pub const MAX_FIGURE_UNITS: usize = u64::BITS as usize;

/// A set of chars: a bit per code point below U+10000, a list above.
#[derive(Debug, Clone)]
struct CharBits {
    bmp: Box<[u64]>,
    other: Vec<char>,
}

impl CharBits {
    fn new(chars: impl IntoIterator<Item = char>) -> CharBits {
        let mut bits = CharBits {
            bmp: vec![0u64; 0x10000 / 64].into_boxed_slice(),
            other: Vec::new(),
        };
        for c in chars {
            let code = c as usize;
            if code < 0x10000 {
                bits.bmp[code / 64] |= 1 << (code % 64);
            } else if !bits.other.contains(&c) {
                bits.other.push(c);
            }
        }
        bits
    }

    #[inline]
    fn contains(&self, c: char) -> bool {
        let code = c as usize;
        if code < 0x10000 {
            self.bmp[code / 64] >> (code % 64) & 1 == 1
        } else {
            self.other.contains(&c)
        }
    }
}

/// The pattern of a figure, read from `figure_words.tsv` and `units.tsv`:
///
/// `[LEAD] NUMBER [ABOUT] [MULTIPLIER] [ABOUT] UNIT`
///
/// with NUMBER `[0-9][0-9,]*(?:\.[0-9]+)?` or a run of Chinese numerals.
/// The figures are those the regular expression of the same parts finds
/// (see [`FigureGrammar::regex`]; the tests hold the scanner to it), each
/// part's words tried longest first, every optional part present before
/// absent; the scanner reads them without the regex engine, whose capture
/// search was the dearest part of finding figures.
#[derive(Debug, Clone)]
pub struct FigureGrammar {
    /// Leading words.
    leads: WordList,
    /// Whether each lead makes a figure approximate, by index.
    lead_approximate: Vec<bool>,
    /// Words after the number or multiplier that make it approximate.
    abouts: WordList,
    /// Multiplier words.
    multipliers: WordList,
    /// The factor of each multiplier, by index.
    multiplier_factors: Vec<f64>,
    /// The units (the first that fits wins).
    units: WordList,
    /// The chars other than ASCII digits that can start a figure: the
    /// Chinese numerals and the first chars of the leads, as a bit per code
    /// point (all of them three-byte chars).
    starts: Box<[u64]>,
    /// The low six bits of the last two bytes of the chars of `starts`
    /// (bit `b2 & 0x3F` of entry `b1 & 0x3F`): a three-byte char whose pair
    /// is not here cannot start a figure, which the scan tells from a small
    /// table without the lead byte (a char whose pair is here may still not
    /// start one: `starts` says).
    start_tails: [u64; 64],
    /// The first chars of the abouts, multipliers and units: a number
    /// followed by any other char (年, 月, 日) is no figure.
    tail_firsts: CharBits,
}

/// Longest first, then in the order given; the same word once.
fn longest_first<T>(mut words: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut seen = std::collections::HashSet::new();
    words.retain(|(w, _)| seen.insert(w.clone()));
    words.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
    words
}

/// Words in the order they are tried, with their first chars beside them:
/// the words that fit at a place are found by comparing one char with
/// each first char, and only those that share it are compared whole.
#[derive(Debug, Clone)]
struct WordList {
    words: Vec<&'static str>,
    firsts: Vec<char>,
}

impl WordList {
    fn new(words: impl IntoIterator<Item = String>) -> WordList {
        let words: Vec<&'static str> = words
            .into_iter()
            .map(|w| crate::lexicon::intern(&w))
            .collect();
        let firsts = words
            .iter()
            .map(|w| w.chars().next().unwrap_or('\0'))
            .collect();
        WordList { words, firsts }
    }

    /// The words that `text` starts with, in order: each index and length.
    #[inline]
    fn starting(&self, text: &str) -> impl Iterator<Item = (usize, usize)> {
        let first = text.chars().next();
        self.firsts
            .iter()
            .enumerate()
            .filter(move |&(_, &c)| Some(c) == first)
            .map(|(i, _)| (i, self.words[i]))
            .filter(move |(_, w)| text.starts_with(w))
            .map(|(i, w)| (i, w.len()))
    }

    /// The regex alternation of the words, in order.
    fn alternation(&self) -> String {
        let escaped: Vec<String> = self.words.iter().map(|w| regex::escape(w)).collect();
        escaped.join("|")
    }
}

impl FigureGrammar {
    /// The grammar of these words: `leads` with whether each makes a figure
    /// approximate, `multipliers` with their factors. Word lists are sorted
    /// longest first (a word given twice counts once). An error names the
    /// word that the scanner cannot read.
    pub fn new(
        leads: Vec<(String, bool)>,
        abouts: Vec<String>,
        multipliers: Vec<(String, f64)>,
        units: Vec<String>,
    ) -> Result<FigureGrammar, String> {
        let leads = longest_first(leads);
        let abouts: Vec<String> = longest_first(abouts.into_iter().map(|w| (w, ())).collect())
            .into_iter()
            .map(|(w, ())| w)
            .collect();
        let multipliers = longest_first(multipliers);
        let units: Vec<String> = longest_first(units.into_iter().map(|u| (u, ())).collect())
            .into_iter()
            .map(|(u, ())| u)
            .collect();
        if units.len() > MAX_FIGURE_UNITS {
            return Err(format!(
                "{} figure units; at most {MAX_FIGURE_UNITS} are supported",
                units.len()
            ));
        }
        for (lead, _) in &leads {
            FigureGrammar::check_lead(lead)?;
        }
        let tail_words = abouts
            .iter()
            .map(String::as_str)
            .chain(multipliers.iter().map(|(w, _)| w.as_str()))
            .chain(units.iter().map(String::as_str));
        for word in tail_words.clone() {
            FigureGrammar::check_tail_word(word)?;
        }
        for (word, factor) in &multipliers {
            FigureGrammar::check_factor(word, *factor)?;
        }
        let start_chars = NUMERALS
            .iter()
            .copied()
            .chain(leads.iter().filter_map(|(w, _)| w.chars().next()));
        let mut starts = vec![0u64; 0x10000 / 64].into_boxed_slice();
        let mut start_tails = [0u64; 64];
        for c in start_chars {
            let code = c as usize;
            starts[code / 64] |= 1 << (code % 64);
            start_tails[(code >> 6) & 0x3F] |= 1 << (code & 0x3F);
        }
        let tail_firsts = CharBits::new(tail_words.filter_map(|w| w.chars().next()));
        Ok(FigureGrammar {
            lead_approximate: leads.iter().map(|(_, approximate)| *approximate).collect(),
            leads: WordList::new(leads.into_iter().map(|(w, _)| w)),
            abouts: WordList::new(abouts),
            multiplier_factors: multipliers.iter().map(|(_, factor)| *factor).collect(),
            multipliers: WordList::new(multipliers.into_iter().map(|(w, _)| w)),
            units: WordList::new(units),
            starts,
            start_tails,
            tail_firsts,
        })
    }

    /// Why the scanner cannot read `lead` as a lead word (多达, 约), if it
    /// cannot: [`FigureGrammar::new`] checks every lead so, and a loader
    /// can check a row first to say where it is.
    pub fn check_lead(lead: &str) -> Result<(), String> {
        match lead.chars().next() {
            Some(c) if c.len_utf8() == 3 && !is_chinese_numeral(c) => Ok(()),
            _ => Err(format!(
                "lead word {lead:?}: it must start with a Chinese char that is not a numeral"
            )),
        }
    }

    /// Why the scanner cannot read `word` as an about, multiplier or unit
    /// word, if it cannot (see [`FigureGrammar::check_lead`]).
    pub fn check_tail_word(word: &str) -> Result<(), String> {
        match word.chars().next() {
            None => Err("an empty about, multiplier or unit word".to_string()),
            Some(c) if c.is_ascii_digit() || c == ',' || c == '.' => Err(format!(
                "word {word:?}: an about, multiplier or unit word cannot start with a digit, a comma or a point"
            )),
            Some(_) => Ok(()),
        }
    }

    /// Why `factor` cannot be the factor of the multiplier `word`, if it
    /// cannot (see [`FigureGrammar::check_lead`]).
    pub fn check_factor(word: &str, factor: f64) -> Result<(), String> {
        if factor.is_finite() && factor > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "multiplier {word:?}: factor {factor} is not a positive number"
            ))
        }
    }

    /// The units, longest first: a figure's `unit_index` is its place here.
    pub fn units(&self) -> &[&'static str] {
        &self.units.words
    }

    /// The multiplier words, longest first.
    pub fn multipliers(&self) -> &[&'static str] {
        &self.multipliers.words
    }

    /// The regular expression this grammar reads, groups 1 to 6 being the
    /// lead, the number, the first about, the multiplier, the second about
    /// and the unit. The scanner does not use it; tests and readers do.
    pub fn regex(&self) -> String {
        let numerals: String = NUMERALS.iter().collect();
        format!(
            "({})?([0-9][0-9,]*(?:\\.[0-9]+)?|[{numerals}]+)({})?({})?({})?({})",
            self.leads.alternation(),
            self.abouts.alternation(),
            self.multipliers.alternation(),
            self.abouts.alternation(),
            self.units.alternation(),
        )
    }

    /// Whether a three-byte char (its UTF-8 bytes) may start a figure, by
    /// its last two bytes only: false means it cannot.
    #[inline]
    fn may_start(&self, b1: u8, b2: u8) -> bool {
        self.start_tails[b1 as usize & 0x3F] >> (b2 & 0x3F) & 1 == 1
    }

    /// Whether the char of this code point (below U+10000) starts a figure
    /// other than by a digit.
    #[inline]
    fn starts(&self, code: usize) -> bool {
        self.starts[code >> 6] >> (code & 63) & 1 == 1
    }

    /// The match of the pattern that starts at `start`, if any: the leads
    /// tried first (each that fits, in order), then the number alone.
    fn figure_at(&self, text: &str, start: usize) -> Option<FigureMatch> {
        self.leads
            .starting(&text[start..])
            .find_map(|(index, len)| {
                let found = self.number_at(text, start, start + len)?;
                Some(FigureMatch {
                    lead: Some(index),
                    ..found
                })
            })
            .or_else(|| self.number_at(text, start, start))
    }

    /// The match whose number starts at `number` (after a lead from
    /// `start`), trying the number's lengths longest first, as the regex
    /// prefers them.
    fn number_at(&self, text: &str, start: usize, number: usize) -> Option<FigureMatch> {
        let bytes = text.as_bytes();
        let found = |end: usize, tail: Tail| FigureMatch {
            start,
            end: tail.end,
            lead: None,
            number: (number, end),
            about_before: tail.about_before,
            multiplier: tail.multiplier,
            about_after: tail.about_after,
            unit_index: tail.unit_index,
        };
        if bytes.get(number).is_some_and(u8::is_ascii_digit) {
            // [0-9][0-9,]*(?:\.[0-9]+)?, tried only whole: a shorter integer
            // part or fraction leaves a digit or a comma (or the point) where
            // the tail should start, and no tail word starts with one.
            let int_end = digit_run_end(bytes, number + 1);
            let end = if bytes.get(int_end) == Some(&b'.') {
                let mut frac_end = int_end + 1;
                while frac_end < bytes.len() && bytes[frac_end].is_ascii_digit() {
                    frac_end += 1;
                }
                if frac_end < int_end + 2 {
                    return None;
                }
                frac_end
            } else {
                int_end
            };
            return self.tail(text, end).map(|tail| found(end, tail));
        }
        // [零〇一二两三四五六七八九十百千]+
        let run_end = numeral_run_end(text, number);
        text[number..run_end]
            .char_indices()
            .rev()
            .find_map(|(i, c)| {
                let end = number + i + c.len_utf8();
                self.tail(text, end).map(|tail| found(end, tail))
            })
    }

    /// `(ABOUT)?(MULTIPLIER)?(ABOUT)?(UNIT)` read at `pos`: each optional
    /// part tried present (each word that fits, in order) before absent,
    /// as the regex backtracks; the first unit that fits ends it.
    fn tail(&self, text: &str, pos: usize) -> Option<Tail> {
        let rest = &text[pos..];
        // Most numbers are followed by none of the words (年, 月, 日),
        // which their first char says before any word is tried.
        if !self.tail_firsts.contains(rest.chars().next()?) {
            return None;
        }
        let unit = |at: usize| {
            let (index, len) = self.units.starting(&rest[at..]).next()?;
            Some((index, at + len))
        };
        let abouts_at = |at: usize| {
            self.abouts
                .starting(&rest[at..])
                .map(move |(_, len)| at + len)
        };
        let after_multiplier = |at: usize| {
            abouts_at(at)
                .find_map(|a| unit(a).map(|u| (true, u)))
                .or_else(|| unit(at).map(|u| (false, u)))
        };
        let after_about = |at: usize| {
            self.multipliers
                .starting(&rest[at..])
                .find_map(|(i, len)| after_multiplier(at + len).map(|r| (Some(i), r)))
                .or_else(|| after_multiplier(at).map(|r| (None, r)))
        };
        abouts_at(0)
            .find_map(|a| after_about(a).map(|r| (true, r)))
            .or_else(|| after_about(0).map(|r| (false, r)))
            .map(
                |(about_before, (multiplier, (about_after, (unit_index, end))))| Tail {
                    about_before,
                    multiplier,
                    about_after,
                    unit_index,
                    end: pos + end,
                },
            )
    }
}

/// What follows a figure's number.
struct Tail {
    about_before: bool,
    multiplier: Option<usize>,
    about_after: bool,
    unit_index: usize,
    /// The byte offset after the unit.
    end: usize,
}

/// One match of the figure pattern: byte offsets into the text searched,
/// the words as indices into the grammar's lists.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct FigureMatch {
    start: usize,
    end: usize,
    lead: Option<usize>,
    number: (usize, usize),
    about_before: bool,
    multiplier: Option<usize>,
    about_after: bool,
    unit_index: usize,
}

/// The Chinese numerals a number may be written in.
const NUMERALS: [char; 15] = [
    '零', '〇', '一', '二', '两', '三', '四', '五', '六', '七', '八', '九', '十', '百', '千',
];

fn is_chinese_numeral(c: char) -> bool {
    NUMERALS.contains(&c)
}

/// The matches of the grammar's pattern in a text, as a regex search for
/// it finds them (leftmost first, not overlapping), read without the
/// regex: a number can only start at an ASCII digit, a Chinese numeral or
/// a leading word, so the scan decodes each char once and tries the
/// pattern only there. After a failed try at the first char of a run of
/// digits (or of numerals) no later char of the run can start a match
/// either (the number ends where the run ends, before the same text; no
/// lead starts with a numeral), so the scan goes on after the run.
struct FigureMatches<'t> {
    grammar: &'t FigureGrammar,
    text: &'t str,
    pos: usize,
}

impl<'t> FigureMatches<'t> {
    fn new(grammar: &'t FigureGrammar, text: &'t str) -> FigureMatches<'t> {
        FigureMatches {
            grammar,
            text,
            pos: 0,
        }
    }
}

impl Iterator for FigureMatches<'_> {
    type Item = FigureMatch;

    fn next(&mut self) -> Option<FigureMatch> {
        let grammar = self.grammar;
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = self.pos;
        while pos < bytes.len() {
            // Most chars are three-byte ones that cannot start a figure:
            // passed over in a tight loop by a bit of their last two bytes,
            // without decoding them; the few others are told apart below.
            let passed = |b: u8, b1: u8, b2: u8| b & 0xF0 == 0xE0 && !grammar.may_start(b1, b2);
            let mut rest = &bytes[pos..];
            // Two chars a turn; then the one that may be left.
            'pass: {
                while let [b, b1, b2, c, c1, c2, ..] = *rest {
                    if !passed(b, b1, b2) {
                        break 'pass;
                    }
                    if !passed(c, c1, c2) {
                        rest = &rest[3..];
                        break 'pass;
                    }
                    rest = &rest[6..];
                }
                if let [b, b1, b2, ..] = *rest
                    && passed(b, b1, b2)
                {
                    rest = &rest[3..];
                }
            }
            pos = bytes.len() - rest.len();
            let Some(&b) = bytes.get(pos) else {
                break;
            };
            if b < 0x80 {
                if b.is_ascii_digit() {
                    if let Some(found) = grammar.number_at(text, pos, pos) {
                        self.pos = found.end;
                        return Some(found);
                    }
                    pos = digit_run_end(bytes, pos + 1);
                } else {
                    pos += 1;
                }
                continue;
            }
            // Every char that can start a figure is a three-byte one: the
            // others are passed over by their lead byte, and three-byte
            // chars by a bit of their code point, without decoding them.
            if !(0xE0..0xF0).contains(&b) {
                pos += if b >= 0xF0 { 4 } else { 2 };
                continue;
            }
            let Some(&[b1, b2]) = bytes.get(pos + 1..pos + 3) else {
                break;
            };
            let code = (b as usize & 0x0F) << 12 | (b1 as usize & 0x3F) << 6 | (b2 as usize & 0x3F);
            if !grammar.starts(code) {
                pos += 3;
                continue;
            }
            let c = text[pos..].chars().next().expect("a char starts here");
            if is_chinese_numeral(c) {
                if let Some(found) = grammar.number_at(text, pos, pos) {
                    self.pos = found.end;
                    return Some(found);
                }
                pos = numeral_run_end(text, pos);
                continue;
            }
            if let Some(found) = grammar.figure_at(text, pos) {
                self.pos = found.end;
                return Some(found);
            }
            pos += 3;
        }
        self.pos = bytes.len();
        None
    }
}

/// The end of `[0-9,]*` from `pos`.
fn digit_run_end(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && (bytes[pos].is_ascii_digit() || bytes[pos] == b',') {
        pos += 1;
    }
    pos
}

/// The end of the run of Chinese numerals starting at `pos`.
fn numeral_run_end(text: &str, pos: usize) -> usize {
    text[pos..]
        .char_indices()
        .find(|&(_, c)| !is_chinese_numeral(c))
        .map_or(text.len(), |(i, _)| pos + i)
}

/// Figures (number + unit) in a span.
pub fn find_figures(grammar: &FigureGrammar, text: &str, start: usize, end: usize) -> Vec<Figure> {
    figures(grammar, text, start, end).collect()
}

/// The figures [`find_figures`] gives, in order, one at a time (a caller
/// that reads them once needs no vector).
pub fn figures<'t>(
    grammar: &'t FigureGrammar,
    text: &'t str,
    start: usize,
    end: usize,
) -> impl Iterator<Item = Figure> + 't {
    let slice = &text[start..end];
    FigureMatches::new(grammar, slice).filter_map(move |found| {
        let number = &slice[found.number.0..found.number.1];
        let mut value = parse_number(number)?;
        // A single item of a story (一起, 一个) is not a figure.
        if number == "一" && found.multiplier.is_none() {
            return None;
        }
        if let Some(m) = found.multiplier {
            value *= grammar.multiplier_factors[m];
        }
        let approximate = found.lead.is_some_and(|l| grammar.lead_approximate[l])
            || found.about_before
            || found.about_after;
        // Skip numbers glued to a preceding digit or letter (dates, codes).
        if slice[..found.number.0]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '·')
        {
            return None;
        }
        Some(Figure {
            start: start + found.start,
            end: start + found.end,
            value,
            approximate,
            unit: grammar.units.words[found.unit_index],
            unit_index: found.unit_index,
        })
    })
}

/// The value of a text of ASCII digits and commas holding at most 15
/// digits (so below 2^53), the commas skipped; None for any other text.
fn whole_number(s: &str) -> Option<u64> {
    let mut value = 0u64;
    let mut digits = 0;
    for &b in s.as_bytes() {
        match b {
            b'0'..=b'9' => {
                value = value * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b',' => {}
            _ => return None,
        }
    }
    (digits <= 15).then_some(value)
}

/// Parses Arabic (with thousands commas) or Chinese numerals.
pub fn parse_number(s: &str) -> Option<f64> {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        // Most numbers are whole ones of a few digits: read here, exactly
        // as the float parser reads them (below 2^53 every integer is a
        // float of its own), thousands commas skipped as below.
        if let Some(whole) = whole_number(s) {
            return Some(whole as f64);
        }
        // Most numbers have no thousands comma: parsed without a copy.
        if !s.contains(',') {
            return s.parse().ok();
        }
        return s.replace(',', "").parse().ok();
    }
    let digit = |c: char| -> Option<u64> {
        Some(match c {
            '零' | '〇' => 0,
            '一' => 1,
            '二' | '两' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            _ => return None,
        })
    };
    let mut total = 0u64;
    let mut current = 0u64;
    let mut seen = false;
    for c in s.chars() {
        match c {
            '十' | '百' | '千' => {
                let unit = match c {
                    '十' => 10,
                    '百' => 100,
                    _ => 1000,
                };
                total += current.max(1) * unit;
                current = 0;
                seen = true;
            }
            c => {
                current = current * 10 + digit(c)?;
                seen = true;
            }
        }
    }
    seen.then_some((total + current) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripped_suffixes_are_the_copying_loop_s() {
        // strip_campaign_suffixes as it was, copying the name at each step.
        let by_copies = |lex: &Lexicon, name: &str| -> String {
            let mut name = name.to_string();
            while let Some((suffix, _)) = lex
                .campaign_suffixes
                .iter()
                .find(|(s, strip)| *strip && name.ends_with(s.as_str()))
            {
                let rest = &name[..name.len() - suffix.len()];
                if rest.chars().count() < 2 {
                    break;
                }
                name = rest.to_string();
            }
            name
        };
        let mut lex = Lexicon::embedded().unwrap();
        let mut alphabet: Vec<char> = "清源a1".chars().collect();
        for (s, _) in &lex.campaign_suffixes {
            alphabet.extend(s.chars());
        }
        let mut texts = crate::testing::random_texts(&alphabet, 12, 0x5DEE_CE66_D1CE_4E5B, 50_000);
        for (s, _) in &lex.campaign_suffixes {
            texts.push(format!("清源{s}"));
            texts.push(format!("清{s}{s}"));
            texts.push(s.clone());
        }
        for text in &texts {
            assert_eq!(
                strip_campaign_suffixes(&lex, text),
                by_copies(&lex, text),
                "{text:?}"
            );
        }
        // A suffix of no byte ends every name (longer names would loop
        // forever, before as now).
        lex.campaign_suffixes.push((String::new(), true));
        for text in ["", "清"] {
            assert_eq!(
                strip_campaign_suffixes(&lex, text),
                by_copies(&lex, text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn quoted_spans_are_the_quoted_regex_matches() {
        let quoted =
            Regex::new(r#"[“"「『]([^“”"「」『』,。;!?]{2,24})[”"」』]"#).expect("valid regex");
        let mut texts: Vec<String> = [
            "“清源断流”行动",
            "\"ab\"\"cd\"",
            "「『一二』」",
            "“一”“二三”",
            "“一二三四五六七八九十一二三四五六七八九十一二三四”",
            "“一二三四五六七八九十一二三四五六七八九十一二三四五”",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let marks: Vec<char> = "“”\"「」『』,。;!?、，".chars().collect();
        let mut alphabet = marks.clone();
        alphabet.extend("清源断流行动a1 \né€𝄞—‘".chars());
        texts.extend(crate::testing::random_texts(
            &alphabet,
            40,
            0x9E37_79B9_7F4A_7C15,
            100_000,
        ));
        // Long runs between marks, around the 24-char bound.
        let mut sparse = marks;
        sparse.extend(std::iter::repeat_n('清', 60));
        sparse.extend(std::iter::repeat_n('a', 20));
        texts.extend(crate::testing::random_texts(
            &sparse,
            120,
            0xD1B5_4A32_D192_ED03,
            100_000,
        ));
        for text in &texts {
            let want: Vec<(usize, usize)> = quoted
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect();
            let mut got = Vec::new();
            quoted_spans(text, &mut got);
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn whole_numbers_parse_as_the_float_parser_reads_them() {
        // parse_number as it was before its whole-number shortcut.
        let by_parser = |s: &str| -> Option<f64> {
            if !s.contains(',') {
                return s.parse().ok();
            }
            s.replace(',', "").parse().ok()
        };
        let mut texts: Vec<String> = [
            "0",
            "007",
            "1,139",
            "1,,2,",
            "999999999999999",
            "9999999999999999",
            "9007199254740993",
            "123456789012345678901234567890",
            "4.1",
            "12.",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let alphabet: Vec<char> = "0123456789999,.".chars().collect();
        texts.extend(crate::testing::random_texts(
            &alphabet,
            24,
            0x51AB_D00D_0000_0007,
            50_000,
        ));
        for text in texts
            .iter()
            .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        {
            let got = parse_number(text).map(f64::to_bits);
            assert_eq!(got, by_parser(text).map(f64::to_bits), "{text}");
        }
    }

    #[test]
    fn parses_numbers() {
        assert_eq!(parse_number("783"), Some(783.0));
        assert_eq!(parse_number("1,139"), Some(1139.0));
        assert_eq!(parse_number("两"), Some(2.0));
        assert_eq!(parse_number("十二"), Some(12.0));
        assert_eq!(parse_number("三百二十"), Some(320.0));
        assert_eq!(parse_number("4.1"), Some(4.1));
    }

    /// The grammar of the embedded data files.
    fn grammar() -> FigureGrammar {
        crate::lexicon::figure_grammar(&[]).unwrap()
    }

    #[test]
    fn finds_figures_with_multipliers_and_approximation() {
        let text =
            "铲除毒品原植物1.9万余株,抓获犯罪嫌疑人240余人,查扣毒资170余万元,破获三起,达5公斤";
        let figs = find_figures(&grammar(), text, 0, text.len());
        let got: Vec<(f64, bool, &str)> = figs
            .iter()
            .map(|f| (f.value, f.approximate, f.unit))
            .collect();
        assert_eq!(
            got,
            vec![
                (19000.0, true, "株"),
                (240.0, true, "人"),
                (1700000.0, true, "元"),
                (3.0, false, "起"),
                (5.0, false, "公斤")
            ]
        );
    }

    /// The matches of `grammar`'s regex in `text`, as [`FigureMatches`]
    /// gives them.
    fn regex_matches(grammar: &FigureGrammar, re: &Regex, text: &str) -> Vec<FigureMatch> {
        let index = |words: Vec<&str>, group: Option<regex::Match>| {
            group.map(|g| words.iter().position(|w| *w == g.as_str()).unwrap())
        };
        re.captures_iter(text)
            .map(|caps| {
                let whole = caps.get(0).unwrap();
                let number = caps.get(2).unwrap();
                FigureMatch {
                    start: whole.start(),
                    end: whole.end(),
                    lead: index(grammar.leads.words.clone(), caps.get(1)),
                    number: (number.start(), number.end()),
                    about_before: caps.get(3).is_some(),
                    multiplier: index(grammar.multipliers.words.clone(), caps.get(4)),
                    about_after: caps.get(5).is_some(),
                    unit_index: index(grammar.units.words.clone(), caps.get(6)).unwrap(),
                }
            })
            .collect()
    }

    /// Holds the scanner to the regex of `grammar` on `texts` and on
    /// `count` random texts over `alphabet`.
    fn assert_scanner_is_the_regex(
        grammar: &FigureGrammar,
        mut texts: Vec<String>,
        alphabet: &str,
        seed: u64,
        count: usize,
    ) {
        let re = Regex::new(&grammar.regex()).unwrap();
        let alphabet: Vec<char> = alphabet.chars().collect();
        texts.extend(crate::testing::random_texts(&alphabet, 16, seed, count));
        for text in &texts {
            let found: Vec<FigureMatch> = FigureMatches::new(grammar, text).collect();
            assert_eq!(found, regex_matches(grammar, &re, text), "{text}");
        }
    }

    #[test]
    fn figure_matches_are_the_regex_captures() {
        let texts = [
            "约5人",
            "超过1,200余万元,超3起,将近三千克",
            "超3起",
            "将近三千克",
            "5千克",
            "两千千克 千克 三千 克",
            "达2.5公斤",
            "1,2.5.3人",
            "12.kg 12.5.kg 3.g",
            "七百余名",
            "1.9万余株",
            "3人次",
            "近百余万元、30余亿元、5多、5余多人",
            "将近将近五人,超超过6名,达达7个",
            "123456789012345678901234567890",
            "一二三四五六七八九十百千万亿",
            "查获4吨,抓获嫌疑人十二名,毒品2g",
            "",
        ];
        assert_scanner_is_the_regex(
            &grammar(),
            texts.iter().map(|t| t.to_string()).collect(),
            "0123456789,.约近逾超过达将零〇一二两三四五六七八九十百千余多万亿人次公斤克元kg起宗件名个伙处家株棵吨毒品 ,a",
            0x0DDB_A11C_0FFE_E123,
            60_000,
        );
    }

    #[test]
    fn an_extended_grammar_is_read_as_its_regex() {
        // Words a user might add: leads sharing a first char, an about word
        // that is also the start of a unit, a multiplier and a unit starting
        // with a numeral, a unit with a char above U+FFFF.
        let words = |ws: &[&str]| ws.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let grammar = FigureGrammar::new(
            vec![
                ("约".into(), true),
                ("约合".into(), true),
                ("多达".into(), false),
                ("高达".into(), false),
            ],
            words(&["余", "多", "来"]),
            vec![("万".into(), 1e4), ("千万".into(), 1e7), ("亿".into(), 1e8)],
            words(&["支", "来复枪", "千瓦", "克", "公斤", "𠀾", "人", "人次"]),
        )
        .unwrap();
        assert_scanner_is_the_regex(
            &grammar,
            vec!["多达5支,约合3千万元,高达两千瓦,约十来复枪,七千万余人次".to_string()],
            "0123456789,.约合多达高来余万亿千瓦支枪复克公斤𠀾人次一二三五十百 a",
            0x5EED_F16E_0F00,
            60_000,
        );
        let text = "多达5支,约合3千万余人";
        let figs = find_figures(&grammar, text, 0, text.len());
        let got: Vec<(f64, bool, &str)> = figs
            .iter()
            .map(|f| (f.value, f.approximate, f.unit))
            .collect();
        assert_eq!(got, vec![(5.0, false, "支"), (3e7, true, "人")]);
    }

    #[test]
    fn a_grammar_the_scanner_cannot_read_is_an_error() {
        let units = || vec!["人".to_string()];
        let new = |leads: Vec<(String, bool)>, abouts: Vec<String>, units: Vec<String>| {
            FigureGrammar::new(leads, abouts, vec![], units)
        };
        let err = new(vec![("一共".into(), false)], vec![], units()).unwrap_err();
        assert!(err.contains("一共"), "{err}");
        let err = new(vec![("about".into(), true)], vec![], units()).unwrap_err();
        assert!(err.contains("about"), "{err}");
        let err = new(vec![], vec![",余".into()], units()).unwrap_err();
        assert!(err.contains(",余"), "{err}");
        let err = new(vec![], vec![], vec!["3克".into()]).unwrap_err();
        assert!(err.contains("3克"), "{err}");
        let many = (0..65).map(|i| format!("单位{i}")).collect();
        let err = new(vec![], vec![], many).unwrap_err();
        assert!(err.contains("65"), "{err}");
        assert!(new(vec![], vec![], units()).is_ok());
    }

    #[test]
    fn every_figure_tail_word_starts_with_a_listed_char() {
        // The tail rejects any other first char: each word it reads must
        // start with one it lets through.
        let grammar = grammar();
        let words = grammar
            .abouts
            .words
            .iter()
            .chain(&grammar.multipliers.words)
            .chain(&grammar.units.words);
        for w in words {
            let text = format!("{w}人");
            assert!(grammar.tail(&text, 0).is_some(), "{w}");
        }
    }

    #[test]
    fn figure_start_bits_are_the_numerals_and_leading_chars() {
        let grammar = grammar();
        for c in ('\u{800}'..='\u{FFFF}').filter(|c| c.len_utf8() == 3) {
            let code = c as usize;
            let lead = grammar.leads.words.iter().any(|l| l.starts_with(c));
            assert_eq!(grammar.starts(code), is_chinese_numeral(c) || lead, "{c}");
            // A start's last two bytes are in the pair table.
            let mut utf8 = [0; 3];
            c.encode_utf8(&mut utf8);
            assert!(
                grammar.may_start(utf8[1], utf8[2]) || !grammar.starts(code),
                "{c}"
            );
        }
    }

    #[test]
    fn coded_cases_are_the_unanchored_regex_matches() {
        // The anchored tries at the quote-and-digit starts must find what
        // the pattern finds searching the whole text.
        let endings: Vec<String> = ["案", "专案", "目标案件"].map(String::from).to_vec();
        let patterns = CasePatterns::new(&endings).unwrap();
        let sorted: Vec<&String> = vec![&endings[2], &endings[1], &endings[0]];
        let whole = Regex::new(&coded_case_pattern(&sorted)).unwrap();
        let pieces = [
            "“",
            "\"",
            "「",
            "”",
            "」",
            "8",
            "12",
            "·",
            "-",
            " ",
            "\u{3000}",
            "A",
            "毒品",
            "案",
            "专案",
            "目标案件",
            "，",
            "٣",
            "“8·12",
            "\"12-8",
            "「8.1」",
            "”毒品案",
            "12A”",
            "“ 8 — 1 ”",
        ];
        let mut found = 0;
        for text in crate::testing::random_piece_texts(&pieces, 14, 0x2F1E_8C3B_5D47_9A61, 300_000)
        {
            // Spans and names as the search through the whole text gives them.
            let expected: Vec<(usize, usize, String)> = whole
                .captures_iter(&text)
                .map(|c| {
                    let m = c.get(0).unwrap();
                    let code: String = c[1]
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .map(|c| if c == '.' { '·' } else { c })
                        .collect();
                    (m.start(), m.end(), format!("{code}{}", &c[2]))
                })
                .collect();
            let cases: Vec<(usize, usize, String)> = find_cases(&patterns, &text, 0, text.len())
                .into_iter()
                .filter(|c| c.code.is_some())
                .map(|c| (c.start, c.end, c.name))
                .collect();
            assert_eq!(cases, expected, "{text:?}");
            found += expected.len();
        }
        assert!(found > 1_000, "{found}");
    }

    #[test]
    fn finds_coded_and_person_cases() {
        let text = "成功侦破“10·09”特大运输毒品案,“2021-052B”毒品目标案件和张某等3人贩卖毒品案。";
        let patterns =
            CasePatterns::new(&["案".into(), "案件".into(), "专案".into(), "目标案件".into()])
                .unwrap();
        let cases = find_cases(&patterns, text, 0, text.len());
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "10·09特大运输毒品案",
                "2021-052B毒品目标案件",
                "张某等3人贩卖毒品案"
            ]
        );
    }

    #[test]
    fn case_endings_are_data() {
        let text = "打掉“3·15”贩毒团伙,侦破“8·12”特大运输毒品案。";
        let names = |endings: &[&str]| -> Vec<String> {
            let endings: Vec<String> = endings.iter().map(|e| e.to_string()).collect();
            let patterns = CasePatterns::new(&endings).unwrap();
            find_cases(&patterns, text, 0, text.len())
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names(&["案"]), ["8·12特大运输毒品案"]);
        assert_eq!(
            names(&["案", "团伙"]),
            ["3·15贩毒团伙", "8·12特大运输毒品案"]
        );
        // Without 案 among the endings the text is still searched.
        assert_eq!(names(&["团伙"]), ["3·15贩毒团伙"]);
        assert!(CasePatterns::new(&[]).is_err());
    }

    #[test]
    fn ascii_editions_are_the_regex_captures() {
        let edition = Regex::new(r"^(.+?)[—\-–·]?((?:19|20)\d\d)$").unwrap();
        let names = [
            "清源断流—2023",
            "清源断流-2023",
            "清源断流–2023",
            "清源断流·2023",
            "清源断流2023",
            "清源断流——2023",
            "清源断流—-2023",
            "净边2019",
            "—2023",
            "-2023",
            "a-2023",
            "ab2023",
            "2023",
            "12023",
            "x1999",
            "x2100",
            "x1899",
            "雷霆\n2023",
            "雷霆\n—2023",
            "\n2023",
            "\n-2023",
            "清源断流 2023",
            "清源2023年",
            "清源20２3",
            "清源２０23",
            "清源断流—20２3",
        ];
        for name in names {
            let by_regex = edition.captures(name).map(|c| {
                (
                    c.get(1).unwrap().as_str(),
                    c[2].parse::<u32>().unwrap_or(u32::MAX),
                )
            });
            match ascii_edition(name) {
                Some(read) => assert_eq!(Some(read), by_regex, "{name:?}"),
                // Left to the regex: then not four ASCII digits of a year,
                // or no match.
                None => assert!(
                    by_regex.is_none_or(|(_, year)| year == u32::MAX),
                    "{name:?}: {by_regex:?}"
                ),
            }
        }
    }

    #[test]
    fn splits_campaign_editions() {
        assert_eq!(split_edition("清源断流—2023"), ("清源断流", Some(2023)));
        assert_eq!(split_edition("净边2024"), ("净边", Some(2024)));
        assert_eq!(split_edition("平安关爱"), ("平安关爱", None));
    }
}
