//! Stage 3, find mentions.
//!
//! In: the cleaned text of one article and the [`Lexicon`]. Out: raw
//! [`Token`]s (dictionary hits of the Aho-Corasick automaton: region forms,
//! agency terms, context words, drugs, campaigns) and pattern candidates
//! (quoted campaign names, case names, figures), each with its byte span in
//! the cleaned text. Nothing here decides what a token refers to; that is
//! the resolver's work.

use std::sync::LazyLock;

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

/// A quoted name that itself ends in an operation word (“扫雷行动”,
/// “夏季行动”): the name without it.
fn ends_with_strong_suffix(lex: &Lexicon, inner: &str) -> Option<String> {
    const STRONG: [&str; 4] = ["行动", "专项行动", "专项斗争", "攻坚战"];
    if STRONG.iter().any(|s| inner.ends_with(s)) && inner.chars().count() >= 4 {
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

static CASE_CODED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"[“"「]\s*(\d{1,4}(?:\s*[·.\-—]\s*\d{1,4}){1,2}[A-Za-z]{0,2})\s*[”"」]\s*(\p{Han}{0,12}?(?:专案|目标案件|案件|案))"#,
    )
    .expect("valid regex")
});

static CASE_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\p{Han}某{1,2}等\d*名?人[\p{Han}、]{2,12}?案)").expect("valid regex")
});

/// Named cases: a quoted code with a crime word (“8·12”特大运输毒品案,
/// “2017-311A”毒品目标案件), or 〈person〉等人〈crime〉案.
pub fn find_cases(text: &str, start: usize, end: usize) -> Vec<CaseCandidate> {
    let slice = &text[start..end];
    let mut out = Vec::new();
    // Both patterns end in 案 (and the second holds 某): most articles name
    // no case, and a scan for the char says so sooner than the patterns.
    if !slice.contains('案') {
        return out;
    }
    for caps in CASE_CODED.captures_iter(slice) {
        let whole = caps.get(0).expect("match");
        let code: String = caps[1]
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if c == '.' { '·' } else { c })
            .collect();
        let crime = &caps[2];
        // Keep the crime words only from the severity/crime part (drop leading
        // verbs that the lazy class may have caught, none by construction).
        out.push(CaseCandidate {
            start: start + whole.start(),
            end: start + whole.end(),
            name: format!("{code}{crime}"),
            code: Some(code),
        });
    }
    if slice.contains('某') {
        for caps in CASE_PERSON.captures_iter(slice) {
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
    /// Value in the written unit times the multiplier (万/亿), as a decimal string.
    pub value: f64,
    pub approximate: bool,
    /// One of [`FIGURE_UNITS`].
    pub unit: &'static str,
    /// The index of `unit` in [`FIGURE_UNITS`].
    pub unit_index: usize,
}

/// The pattern of a figure. Read by [`FigureSpans`] and [`figure_parts`]
/// without the regex, which the tests hold them to.
#[cfg(test)]
static FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(约|近|逾|超过|超|达|将近)?([0-9][0-9,]*(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百千]+)(余|多)?(万|亿)?(余|多)?(人次|公斤|千克|万元|亿元|kg|起|宗|件|名|人|个|伙|处|家|株|棵|克|g|吨|元)",
    )
    .expect("valid regex")
});

/// The leading words of [`FIGURE`], in its order.
const FIGURE_LEADS: [&str; 7] = ["约", "近", "逾", "超过", "超", "达", "将近"];
/// The units of [`FIGURE`], in its order (the first that fits wins).
pub const FIGURE_UNITS: [&str; 21] = [
    "人次", "公斤", "千克", "万元", "亿元", "kg", "起", "宗", "件", "名", "人", "个", "伙", "处",
    "家", "株", "棵", "克", "g", "吨", "元",
];

fn is_chinese_numeral(c: char) -> bool {
    matches!(
        c,
        '零' | '〇'
            | '一'
            | '二'
            | '两'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '十'
            | '百'
            | '千'
    )
}

/// The groups of one whole match of [`FIGURE`], as byte ranges of it.
#[derive(Debug, PartialEq, Eq)]
struct FigureParts {
    lead: Option<(usize, usize)>,
    number: (usize, usize),
    about_before: bool,
    multiplier: Option<(usize, usize)>,
    about_after: bool,
    unit: (usize, usize),
    /// The unit's index in [`FIGURE_UNITS`].
    unit_index: usize,
}

/// Splits a text that [`FIGURE`] matches whole into its groups, as the
/// regex's own captures would (each group greedy, alternatives in order).
/// Finding the match is the regex's job; reading its groups this way spares
/// the capture engine, the dearest part of the search. None is only for a
/// text the regex would not match.
fn figure_parts(m: &str) -> Option<FigureParts> {
    // Most figures start with their digits, which no leading word does.
    let lead = if m.starts_with(|c: char| c.is_ascii_digit()) {
        None
    } else {
        FIGURE_LEADS
            .iter()
            .find(|w| m.starts_with(*w))
            .map(|w| (0, w.len()))
    };
    let start = lead.map_or(0, |l| l.1);
    let rest = &m[start..];
    // [0-9][0-9,]*(?:\.[0-9]+)? or [零〇一二两三四五六七八九十百千]+; none of
    // what may follow the number is a digit, a comma or a numeral (千 of
    // 千克 aside, which the greedy numerals keep, as the regex does).
    // Digits, commas and the point are ASCII bytes, read as bytes.
    let bytes = rest.as_bytes();
    let number_len = if bytes.first().is_some_and(u8::is_ascii_digit) {
        let int = bytes
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b','))
            .unwrap_or(bytes.len());
        let fraction = match bytes.get(int) {
            Some(b'.') => {
                let digits = bytes[int + 1..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(bytes.len() - int - 1);
                if digits > 0 { digits + 1 } else { 0 }
            }
            _ => 0,
        };
        int + fraction
    } else {
        rest.find(|c: char| !is_chinese_numeral(c))
            .unwrap_or(rest.len())
    };
    if number_len == 0 {
        return None;
    }
    let mut pos = start + number_len;
    let number = (start, pos);
    let mut optional = |words: &[&'static str]| {
        let word: &'static str = words.iter().find(|w| m[pos..].starts_with(*w))?;
        let range = (pos, pos + word.len());
        pos = range.1;
        Some((range, word))
    };
    let about_before = optional(&["余", "多"]).is_some();
    let multiplier = optional(&["万", "亿"]).map(|(range, _)| range);
    let about_after = optional(&["余", "多"]).is_some();
    let unit_index = FIGURE_UNITS.iter().position(|w| m[pos..].starts_with(w))?;
    let unit = (pos, pos + FIGURE_UNITS[unit_index].len());
    Some(FigureParts {
        lead,
        number,
        about_before,
        multiplier,
        about_after,
        unit,
        unit_index,
    })
}

/// The matches of [`FIGURE`] in a text, as `FIGURE.find_iter(text)` gives
/// their byte spans, read without the regex: a number can only start at an
/// ASCII digit, a Chinese numeral or a leading word, so the scan decodes
/// each char once and tries the pattern only there, in the order the
/// regex's leftmost-first search prefers its alternatives. After a failed
/// try at the first char of a run of digits (or of numerals) no later char
/// of the run can start a match either (the number ends where the run
/// ends, before the same text), so the scan goes on after the run.
/// The chars that can start a figure other than ASCII digits: the Chinese
/// numerals and the first chars of [`FIGURE_LEADS`], as a bit set of code
/// points (all of them below U+10000).
static FIGURE_STARTS: [u64; 1024] = {
    let starts = [
        '零', '〇', '一', '二', '两', '三', '四', '五', '六', '七', '八', '九', '十', '百', '千',
        '约', '近', '逾', '超', '达', '将',
    ];
    let mut bits = [0u64; 1024];
    let mut i = 0;
    while i < starts.len() {
        let code = starts[i] as usize;
        bits[code / 64] |= 1 << (code % 64);
        i += 1;
    }
    bits
};

/// The low six bits of the last two bytes of the chars of
/// [`FIGURE_STARTS`] (bit `b2 & 0x3F` of entry `b1 & 0x3F`): a three-byte
/// char whose pair is not here cannot start a figure, which the scan tells
/// from a small table without the lead byte (a char whose pair is here may
/// still not start one: [`FIGURE_STARTS`] says).
static FIGURE_START_TAILS: [u64; 64] = {
    let mut bits = [0u64; 64];
    let mut word = 0;
    while word < FIGURE_STARTS.len() {
        let mut bit = 0;
        while bit < 64 {
            if FIGURE_STARTS[word] >> bit & 1 == 1 {
                let code = word * 64 + bit;
                bits[(code >> 6) & 0x3F] |= 1 << (code & 0x3F);
            }
            bit += 1;
        }
        word += 1;
    }
    bits
};

struct FigureSpans<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> FigureSpans<'t> {
    fn new(text: &'t str) -> FigureSpans<'t> {
        FigureSpans { text, pos: 0 }
    }
}

impl Iterator for FigureSpans<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = self.pos;
        while pos < bytes.len() {
            // Most chars are three-byte ones that cannot start a figure:
            // passed over in a tight loop by a bit of their last two bytes
            // (FIGURE_START_TAILS), without decoding them; the few others
            // are told apart below.
            let passed = |b: u8, b1: u8, b2: u8| {
                b & 0xF0 == 0xE0 && FIGURE_START_TAILS[b1 as usize & 0x3F] >> (b2 & 0x3F) & 1 == 0
            };
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
                    if let Some(end) = figure_at(text, pos, 0) {
                        self.pos = end;
                        return Some((pos, end));
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
            if FIGURE_STARTS[code >> 6] >> (code & 63) & 1 == 0 {
                pos += 3;
                continue;
            }
            let c = text[pos..].chars().next().expect("a char starts here");
            if is_chinese_numeral(c) {
                if let Some(end) = figure_at(text, pos, 0) {
                    self.pos = end;
                    return Some((pos, end));
                }
                pos = numeral_run_end(text, pos);
                continue;
            }
            let rest = &text[pos..];
            let end = FIGURE_LEADS
                .iter()
                .filter(|lead| rest.starts_with(*lead))
                .find_map(|lead| figure_at(text, pos, lead.len()));
            if let Some(end) = end {
                self.pos = end;
                return Some((pos, end));
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

/// The end of the match of [`FIGURE`] that starts at `start` with a
/// leading word of `lead` bytes (0 for none), trying the number's lengths
/// longest first and the optional parts present first, as the regex
/// prefers them.
fn figure_at(text: &str, start: usize, lead: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let number = start + lead;
    if bytes.get(number).is_some_and(u8::is_ascii_digit) {
        // [0-9][0-9,]*(?:\.[0-9]+)?, tried only whole: a shorter integer
        // part or fraction leaves a digit or a comma (or the point) where
        // the tail should start, and no tail starts with one.
        let int_end = digit_run_end(bytes, number + 1);
        if bytes.get(int_end) == Some(&b'.') {
            let mut frac_end = int_end + 1;
            while frac_end < bytes.len() && bytes[frac_end].is_ascii_digit() {
                frac_end += 1;
            }
            if frac_end >= int_end + 2 {
                return figure_tail(text, frac_end);
            }
            return None;
        }
        return figure_tail(text, int_end);
    }
    // [零〇一二两三四五六七八九十百千]+
    let run_end = numeral_run_end(text, number);
    text[number..run_end]
        .char_indices()
        .rev()
        .find_map(|(i, c)| figure_tail(text, number + i + c.len_utf8()))
}

/// The end of `(余|多)?(万|亿)?(余|多)?(UNIT)` read at `pos`, the optional
/// parts present first and the units in their order.
fn figure_tail(text: &str, pos: usize) -> Option<usize> {
    let rest = &text[pos..];
    // The first char of any of them: most numbers are followed by none
    // (年, 月, 日), which says so before the words are tried.
    let first = rest.chars().next()?;
    if !matches!(
        first,
        '余' | '多'
            | '万'
            | '亿'
            | '人'
            | '公'
            | '千'
            | 'k'
            | '起'
            | '宗'
            | '件'
            | '名'
            | '个'
            | '伙'
            | '处'
            | '家'
            | '株'
            | '棵'
            | '克'
            | 'g'
            | '吨'
            | '元'
    ) {
        return None;
    }
    let word = |at: usize, words: &[&str]| -> Option<usize> {
        words
            .iter()
            .find(|w| rest[at..].starts_with(*w))
            .map(|w| at + w.len())
    };
    let about = |at: usize| word(at, &["余", "多"]);
    let unit = |at: usize| word(at, &FIGURE_UNITS);
    // Each optional part tried present, then absent, a part read only when
    // the one before it has been: as the regex backtracks.
    let after_multiplier = |m: usize| about(m).and_then(unit).or_else(|| unit(m));
    let after_about = |a: usize| {
        word(a, &["万", "亿"])
            .and_then(after_multiplier)
            .or_else(|| after_multiplier(a))
    };
    about(0)
        .and_then(after_about)
        .or_else(|| after_about(0))
        .map(|end| pos + end)
}

/// Figures (number + unit) in a span.
pub fn find_figures(text: &str, start: usize, end: usize) -> Vec<Figure> {
    figures(text, start, end).collect()
}

/// The figures [`find_figures`] gives, in order, one at a time (a caller
/// that reads them once needs no vector).
pub fn figures(text: &str, start: usize, end: usize) -> impl Iterator<Item = Figure> + '_ {
    let slice = &text[start..end];
    FigureSpans::new(slice).filter_map(move |(whole_start, whole_end)| {
        let m = &slice[whole_start..whole_end];
        let parts = figure_parts(m)?;
        let number = &m[parts.number.0..parts.number.1];
        let mut value = parse_number(number)?;
        // A single item of a story (一起, 一个) is not a figure.
        if number == "一" && parts.multiplier.is_none() {
            return None;
        }
        match parts.multiplier.map(|(s, e)| &m[s..e]) {
            Some("万") => value *= 10_000.0,
            Some("亿") => value *= 100_000_000.0,
            _ => {}
        }
        let approximate = parts.lead.is_some_and(|(s, e)| &m[s..e] != "达")
            || parts.about_before
            || parts.about_after;
        // Skip numbers glued to a preceding digit or letter (dates, codes).
        let num_start = whole_start + parts.lead.map_or(0, |l| l.1);
        if slice[..num_start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '·')
        {
            return None;
        }
        Some(Figure {
            start: start + whole_start,
            end: start + whole_end,
            value,
            approximate,
            unit: FIGURE_UNITS[parts.unit_index],
            unit_index: parts.unit_index,
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

    #[test]
    fn finds_figures_with_multipliers_and_approximation() {
        let text = "铲除毒品原植物1.9万余株,抓获犯罪嫌疑人240余人,查扣毒资170余万元,破获三起";
        let figs = find_figures(text, 0, text.len());
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
                (3.0, false, "起")
            ]
        );
    }

    #[test]
    fn figure_parts_are_the_regex_captures() {
        let texts = [
            "约5人",
            "超过1,200余万元",
            "超3起",
            "将近三千克",
            "5千克",
            "两千千克",
            "达2.5公斤",
            "12.kg",
            "七百余名",
            "1.9万余株",
            "3人次",
            "近百余万元",
            "30余亿元",
            "查获4吨,抓获嫌疑人十二名,毒品2g",
        ];
        let mut texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        // Random texts over the chars the pattern reads and a few others.
        let alphabet: Vec<char> = "0123456789,.约近逾超过达将零〇一二两三四五六七八九十百千余多万亿人次公斤克元kg起宗件名个伙处家株棵吨毒品 ,a"
            .chars()
            .collect();
        texts.extend(crate::testing::random_texts(
            &alphabet,
            16,
            0x0DDB_A11C_0FFE_E123,
            40_000,
        ));
        for text in &texts {
            for caps in FIGURE.captures_iter(text) {
                let whole = caps.get(0).unwrap();
                let m = whole.as_str();
                let range = |i: usize| {
                    caps.get(i)
                        .map(|g| (g.start() - whole.start(), g.end() - whole.start()))
                };
                let expected = FigureParts {
                    lead: range(1),
                    number: range(2).unwrap(),
                    about_before: caps.get(3).is_some(),
                    multiplier: range(4),
                    about_after: caps.get(5).is_some(),
                    unit: range(6).unwrap(),
                    unit_index: FIGURE_UNITS.iter().position(|u| *u == &caps[6]).unwrap(),
                };
                assert_eq!(figure_parts(m), Some(expected), "{m}");
            }
        }
    }

    #[test]
    fn every_figure_tail_word_starts_with_a_listed_char() {
        // figure_tail rejects any other first char: each word it reads must
        // start with one it lets through.
        for w in FIGURE_UNITS.iter().chain(&["余", "多", "万", "亿"]) {
            let text = format!("{w}人");
            assert!(figure_tail(&text, 0).is_some(), "{w}");
        }
    }

    #[test]
    fn figure_start_tails_hold_every_figure_start() {
        for c in ('\u{800}'..='\u{FFFF}').filter(|c| c.len_utf8() == 3) {
            let code = c as usize;
            let start = FIGURE_STARTS[code / 64] >> (code % 64) & 1 == 1;
            let mut utf8 = [0; 3];
            c.encode_utf8(&mut utf8);
            let tail = FIGURE_START_TAILS[utf8[1] as usize & 0x3F] >> (utf8[2] & 0x3F) & 1 == 1;
            assert!(tail || !start, "{c}");
        }
    }

    #[test]
    fn figure_start_bits_are_the_numerals_and_leading_chars() {
        for c in ('\u{800}'..='\u{FFFF}').filter(|c| c.len_utf8() == 3) {
            let code = c as usize;
            let bit = FIGURE_STARTS[code / 64] >> (code % 64) & 1 == 1;
            let lead = FIGURE_LEADS.iter().any(|l| l.starts_with(c));
            assert_eq!(bit, is_chinese_numeral(c) || lead, "{c}");
        }
    }

    #[test]
    fn figure_spans_are_the_regex_matches() {
        let mut texts: Vec<String> = [
            "约5人",
            "超过1,200余万元,超3起,将近三千克",
            "1,2.5.3人",
            "12.kg 12.5.kg 3.g",
            "两千千克 千克 三千 克",
            "近百余万元、30余亿元、5多、5余多人",
            "将近将近五人,超超过6名,达达7个",
            "123456789012345678901234567890",
            "一二三四五六七八九十百千万亿",
            "",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        // Random texts over the chars the pattern reads and a few others.
        let alphabet: Vec<char> = "0123456789,.约近逾超过达将零〇一二两三四五六七八九十百千余多万亿人次公斤克元kg起宗件名个伙处家株棵吨毒品 ,a"
            .chars()
            .collect();
        texts.extend(crate::testing::random_texts(
            &alphabet,
            12,
            0x9E37_79B9_7F4A_7C15,
            20_000,
        ));
        for text in &texts {
            let expected: Vec<(usize, usize)> = FIGURE
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect();
            let found: Vec<(usize, usize)> = FigureSpans::new(text).collect();
            assert_eq!(found, expected, "{text}");
        }
    }

    #[test]
    fn finds_coded_and_person_cases() {
        let text = "成功侦破“10·09”特大运输毒品案,“2021-052B”毒品目标案件和张某等3人贩卖毒品案。";
        let cases = find_cases(text, 0, text.len());
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
