//! Stage 4, resolve and link.
//!
//! In: one decoded [`Source`] and the [`Lexicon`]. Out: a [`Knowledge`]
//! fragment for that source: its articles, the entities they mention under
//! their canonical names (regions by GB/T 2260 code, agencies as region +
//! body + units, campaigns, cases, drugs), the relations the text supports
//! and the statistics it reports, each with its evidence (article, offsets
//! in the decoded source, sentence, rule).
//!
//! Work goes article by article: dictionary tokens are resolved (homonyms
//! from the regions around them, context words such as 全区 from the region
//! the article is about), agency names are parsed as chains of
//! region → body → units, and relations are read within sentences.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::collections::btree_map::Entry;
use std::sync::Arc;
use std::sync::LazyLock;

use regex::Regex;
// Per-token lookups: FxHash costs a fraction of SipHash on small keys.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::article::{Article, split_articles_with};
use crate::clean::{CleanText, clean, is_cjk};
use crate::lexicon::{ContextLevel, FormKind, Level, Lexicon, Meaning, cooperation_search_word};
use crate::mention::{
    Token, figures, find_cases, find_quoted_campaigns, find_tokens, split_edition,
};
use crate::model::{
    ArticleInfo, Entity, EntityClass, EntityId, Evidence, Knowledge, Property, RelationTable,
    SourceInfo, Statistic,
};
use crate::period::PeriodMatch;
use crate::read::Source;

/// A resolved mention in an article.
#[derive(Debug, Clone)]
struct Mention {
    start: usize,
    end: usize,
    id: EntityId,
    /// True when the mention is part of an agency name (a region inside
    /// 开鲁县公安局): not a place of its own for case locations.
    in_agency: bool,
    /// True for the outer bodies of a longer name (呼伦贝尔市公安局 inside
    /// 呼伦贝尔市公安局海拉尔分局禁毒大队): named, but not the actor.
    partial: bool,
}

/// Extracts one source into a knowledge fragment with one source.
pub fn extract_source(lex: &Lexicon, source: &Source) -> Knowledge {
    let mut kn = Knowledge::default();
    // One pass over the source's chars: their offsets and the counts that
    // tell Traditional text.
    let (original, (cjk, traditional, convertible)) = Original::with_counts(lex, &source.text);
    let text: Cow<str> = if convertible == 0 {
        // Nothing to convert (most Simplified pages): skip the copy.
        Cow::Borrowed(&source.text)
    } else if cjk > 0 && traditional * 100 >= cjk * 3 {
        Cow::Owned(lex.to_simplified(&source.text).0)
    } else {
        Cow::Owned(lex.to_simplified_mixed(&source.text).0)
    };
    let cleaned = clean(&text, &lex.layout);
    kn.sources.push(SourceInfo {
        name: source.name.clone(),
        path: source.path.to_string_lossy().into_owned(),
        sha256: source.sha256.clone(),
        encoding: source.encoding.to_string(),
        char_len: original.char_starts.len() - 1,
        byte_len: source.byte_len,
    });
    // The page is read by the dictionary automaton once; every later step
    // takes the tokens of its own span.
    let page_tokens = find_tokens(lex, &cleaned.text, 0, cleaned.text.len());
    let provinces = |(start, end): (usize, usize)| -> BTreeSet<usize> {
        tokens_in(&page_tokens, start, end)
            .iter()
            .flat_map(|tok| strong_region(lex, tok))
            .filter_map(|r| lex.province_of(r))
            .collect()
    };
    // A headline naming a province the running article never names starts
    // a new article (pages without datelines still change story).
    let articles = split_articles_with(&cleaned, &lex.layout, &|heading, so_far| {
        let in_heading = provinces(heading);
        !in_heading.is_empty() && in_heading.is_disjoint(&provinces(so_far))
    });
    let page = PageContext::new(lex, &cleaned, &page_tokens);
    let mut seen_statistics = HashSet::default();
    let mut region_ids = HashMap::default();
    let mut named_ids = Default::default();
    let mut relations = RelationTable::default();
    for article in &articles {
        let index = kn.articles.len();
        let (char_start, char_end) = cleaned.orig_span(article.start, article.end);
        let date = page.article_date(&cleaned.text[article.start..article.end]);
        kn.articles.push(ArticleInfo {
            source: 0,
            index: article.index,
            title: original_title(&cleaned, &original, article),
            char_start,
            char_end,
            about_drugs: about_drugs(lex, &cleaned.text[article.start..article.end], article),
            date: date.clone(),
        });
        let mut resolver = ArticleResolver {
            lex,
            clean: &cleaned,
            original: &original,
            article,
            article_index: index,
            page: &page,
            date,
            kn: &mut kn,
            page_tokens: &page_tokens,
            mentions: Vec::new(),
            home_city: None,
            seen_statistics: &mut seen_statistics,
            region_ids: &mut region_ids,
            named_ids: &mut named_ids,
            relations: &mut relations,
            body_starts: Vec::new(),
            chain_parts: Vec::new(),
            sentence_texts: article.sentences.iter().map(|_| OnceCell::new()).collect(),
        };
        resolver.run();
    }
    kn.relations = relations.into_map();
    kn
}

/// The headline as the source writes it (the cleaned one has lost the
/// spaces between its phrases): line breaks dropped, spaces folded to one.
fn original_title(clean: &CleanText, original: &Original, article: &Article) -> Option<String> {
    let parts: Vec<String> = article
        .title_spans
        .iter()
        .map(|&(s, e)| {
            let (os, oe) = clean.orig_span(s, e);
            let raw = original.span(os, oe);
            raw.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .filter(|t| !t.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The decoded source text, addressed by char offsets (the offsets of
/// [`CleanText::orig_span`]) without a copy of its chars.
struct Original<'a> {
    text: &'a str,
    /// The byte offset of each char, and the text's length after them.
    char_starts: Vec<u32>,
}

impl<'a> Original<'a> {
    /// The text addressed by char offsets, with counts read in the same
    /// pass over its chars: the unified ideographs, those of them the T→S
    /// table changes, and all the chars it changes (of any block).
    /// Traditional text has many changed ideographs (3 % and more);
    /// Simplified text has almost none (a few shared chars map to variants
    /// of themselves).
    fn with_counts(lex: &Lexicon, text: &'a str) -> (Original<'a>, (usize, usize, usize)) {
        // A char per byte at most: sized once, never grown.
        let mut char_starts: Vec<u32> = Vec::with_capacity(text.len() + 1);
        let mut cjk = 0usize;
        let mut traditional = 0usize;
        let mut convertible = 0usize;
        let floor = lex.t2s_floor as u32;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            char_starts.push(i as u32);
            let b = bytes[i];
            // ASCII and the three-byte chars (all of the BMP ideographs)
            // are decoded here, the rest by `chars`.
            let c = if b < 0x80 {
                i += 1;
                b as u32
            } else if (0xE0..0xF0).contains(&b) && i + 2 < bytes.len() {
                let c = (b as u32 & 0x0F) << 12
                    | (bytes[i + 1] as u32 & 0x3F) << 6
                    | (bytes[i + 2] as u32 & 0x3F);
                i += 3;
                c
            } else {
                let c = text[i..].chars().next().expect("a char starts here");
                i += c.len_utf8();
                c as u32
            };
            if c < floor {
                continue;
            }
            let changes = if c < 0x10000 {
                lex.t2s_bmp[c as usize / 64] >> (c % 64) & 1 == 1
            } else {
                lex.t2s_changes(char::from_u32(c).expect("a char"))
            };
            convertible += changes as usize;
            if (0x4E00..=0x9FFF).contains(&c) {
                cjk += 1;
                traditional += changes as usize;
            }
        }
        char_starts.push(text.len() as u32);
        (
            Original { text, char_starts },
            (cjk, traditional, convertible),
        )
    }

    /// The chars `start..end` (an end past the text stops at its end).
    fn span(&self, start: usize, end: usize) -> &'a str {
        let chars = self.char_starts.len() - 1;
        let (s, e) = (self.char_starts[start], self.char_starts[end.min(chars)]);
        &self.text[s as usize..e as usize]
    }
}

/// False for a byte that cannot begin a whitespace char: every char of
/// Unicode's White_Space is an ASCII space or control, or begins with one
/// of the lead bytes C2 (U+0085, U+00A0), E1 (U+1680), E2 (U+2000–U+205F)
/// or E3 (U+3000).
const fn may_begin_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r' | 0xC2 | 0xE1 | 0xE2 | 0xE3)
}

/// For each lead byte, the length of its char, or 0 when the char may be
/// whitespace (see [`may_begin_whitespace`]).
static CHAR_STEP: [u8; 256] = {
    let mut table = [1u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = if may_begin_whitespace(byte) {
            0
        } else if byte >= 0xF0 {
            4
        } else if byte >= 0xE0 {
            3
        } else if byte >= 0xC0 {
            2
        } else {
            1
        };
        b += 1;
    }
    table
};

/// Where a text's first whitespace char starts, if it has one: read a char
/// at a time by its lead byte, decoding only the chars whose lead byte
/// may begin whitespace (most of those in names are quote marks or 、).
fn first_whitespace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let step = CHAR_STEP[bytes[i] as usize];
        if step == 0 {
            let c = text[i..].chars().next().expect("a char starts here");
            if c.is_whitespace() {
                return Some(i);
            }
            i += c.len_utf8();
        } else {
            i += step as usize;
        }
    }
    None
}

fn about_drugs(lex: &Lexicon, text: &str, article: &Article) -> bool {
    // Two topic words in the text (each occurrence of each word counts),
    // or one in the headline.
    let count = lex.topic_words.count_in(text, 2);
    let in_title = article
        .title
        .as_ref()
        .is_some_and(|t| lex.topic_words.any_in(t));
    count >= 2 || in_title
}

/// What the page as a whole is about: its dominant regions and year.
struct PageContext {
    /// Region index → weight, over the whole page (unambiguous mentions).
    anchors: HashMap<usize, usize>,
    year: Option<i32>,
    /// The byte offsets of the cleaned text's line breaks, in order.
    newlines: Vec<usize>,
}

/// A year as pages write it: 2024年, 2025-06, or 2025 before a word
/// (2025政法智能化建设典型案例); not 2000元 or 2000余人. Read by
/// [`YearMatches`] without the regex, which the tests hold it to.
#[cfg(test)]
static YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\d.])((?:19|20)\d\d)(?:\s*年|[-/.](?:0?[1-9]|1[0-2])(?:[^\d]|$)|(\p{Han}))")
        .expect("valid regex")
});

/// The matches of [`YEAR`] in a text, leftmost and not overlapping, as
/// its `find_iter` gives them. The regex has no literal to skip by, so its
/// automaton read every byte of the page; every match holds `19` or `20`,
/// and the bytes between those pairs are skipped eight at a time.
struct YearMatches<'t> {
    text: &'t str,
    /// Where the next match may start: the end of the last one.
    pos: usize,
    /// Where to look for the next `19`/`20`.
    scan: usize,
}

impl<'t> YearMatches<'t> {
    fn new(text: &'t str) -> YearMatches<'t> {
        YearMatches {
            text,
            pos: 0,
            scan: 0,
        }
    }
}

impl<'t> Iterator for YearMatches<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        while let Some(at) = next_century(self.text.as_bytes(), self.scan) {
            self.scan = at + 1;
            if let Some((start, end)) = year_match_at(self.text, at, self.pos) {
                self.pos = end;
                self.scan = end;
                return Some(&self.text[start..end]);
            }
        }
        self.scan = self.text.len();
        None
    }
}

/// The first offset from `from` on where `19` or `20` stands.
fn next_century(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether a word may hold a zero byte (exact when it holds none).
    let may_hold_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
    let is_pair = |j: usize| matches!((bytes[j - 1], bytes[j]), (b'1', b'9') | (b'2', b'0'));
    // `i` walks the pair's second byte, a 9 or a 0: words of eight bytes
    // holding neither are skipped whole. A byte is 0, 1, 8 or 9 when it is
    // 0x30 but for its bits 0 and 3: one test finds them all.
    let mut i = from + 1;
    while i + 8 <= bytes.len() {
        let word = u64::from_ne_bytes(bytes[i..i + 8].try_into().expect("eight bytes"));
        if may_hold_zero(word & (ONES * 0xF6) ^ (ONES * 0x30)) {
            if let Some(j) = (i..i + 8).find(|&j| is_pair(j)) {
                return Some(j - 1);
            }
        }
        i += 8;
    }
    (i..bytes.len()).find(|&j| is_pair(j)).map(|j| j - 1)
}

/// Whether `c` is a decimal digit (`\d`): ASCII digits, no char of the
/// blocks before the first other digit (U+0660) nor of those from general
/// punctuation to the ideographs; for the rest, the regex's Unicode class.
fn is_decimal_digit(c: char) -> bool {
    static DIGIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\A\d\z").expect("valid regex"));
    match c {
        '0'..='9' => true,
        '\0'..='\u{65F}' | '\u{2000}'..='\u{9FFF}' => false,
        _ => DIGIT.is_match(c.encode_utf8(&mut [0; 4])),
    }
}

/// Whether `c` is of the Han script (`\p{Han}`): the unified ideographs
/// are, no char before the CJK radicals (U+2E80) is; for the rest, the
/// regex's Unicode class.
fn is_han(c: char) -> bool {
    static HAN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\A\p{Han}\z").expect("valid regex"));
    match c {
        '\u{4E00}'..='\u{9FFF}' => true,
        '\0'..='\u{2E7F}' => false,
        _ => HAN.is_match(c.encode_utf8(&mut [0; 4])),
    }
}

/// The span of the [`YEAR`] match whose year is at `at` (where `19` or `20`
/// stands) and that starts at `floor` or later, if there is one.
fn year_match_at(text: &str, at: usize, floor: usize) -> Option<(usize, usize)> {
    // (?:^|[^\d.]): the text's start, or one char that is no digit or dot.
    let start = match text[..at].chars().next_back() {
        None => 0,
        Some(c) if is_decimal_digit(c) || c == '.' => return None,
        Some(c) => at - c.len_utf8(),
    };
    if start < floor {
        return None;
    }
    let char_at = |i: usize| text.get(i..).and_then(|rest| rest.chars().next());
    // Two digits (of any script) after 19 or 20.
    let mut year_end = at + 2;
    for _ in 0..2 {
        let c = char_at(year_end).filter(|&c| is_decimal_digit(c))?;
        year_end += c.len_utf8();
    }
    // \s*年
    let mut after_spaces = year_end;
    while let Some(c) = char_at(after_spaces).filter(|c| c.is_whitespace()) {
        after_spaces += c.len_utf8();
    }
    if char_at(after_spaces) == Some('年') {
        return Some((start, after_spaces + '年'.len_utf8()));
    }
    let next = char_at(year_end)?;
    // [-/.](?:0?[1-9]|1[0-2])(?:[^\d]|$), its alternatives in order.
    if matches!(next, '-' | '/' | '.') {
        let month = year_end + 1;
        let bytes = text.as_bytes();
        let digit_at = |i: usize, range: std::ops::RangeInclusive<u8>| {
            bytes.get(i).is_some_and(|b| range.contains(b))
        };
        // The end of a match whose month ends at `i`: a char that is no
        // digit is taken in, or the text ends.
        let close = |i: usize| match char_at(i) {
            None => Some(i),
            Some(c) if !is_decimal_digit(c) => Some(i + c.len_utf8()),
            Some(_) => None,
        };
        let found = (digit_at(month, b'0'..=b'0') && digit_at(month + 1, b'1'..=b'9'))
            .then(|| close(month + 2))
            .flatten()
            .or_else(|| {
                digit_at(month, b'1'..=b'9')
                    .then(|| close(month + 1))
                    .flatten()
            })
            .or_else(|| {
                (digit_at(month, b'1'..=b'1') && digit_at(month + 1, b'0'..=b'2'))
                    .then(|| close(month + 2))
                    .flatten()
            });
        if let Some(end) = found {
            return Some((start, end));
        }
    }
    // (\p{Han})
    is_han(next).then(|| (start, year_end + next.len_utf8()))
}
/// The year and the word after it (the pattern's second group) of one
/// whole match of [`YEAR`], as the regex's captures would give them; the
/// capture engine is the dearest part of a search, and the page is long.
/// None only for a text the regex would not match.
fn year_parts(m: &str) -> Option<(&str, Option<&str>)> {
    // The char before the year is no digit, so a match that starts with one
    // starts with the year.
    let lead = if m.starts_with(['1', '2']) {
        0
    } else {
        m.chars().next()?.len_utf8()
    };
    // (?:19|20)\d\d: two ASCII digits, then two digits of any script.
    let mut year_end = lead + 2;
    for _ in 0..2 {
        year_end += m.get(year_end..)?.chars().next()?.len_utf8();
    }
    let rest = m.get(year_end..)?;
    // The alternatives after the year in order: \s*年, then [-/.]…, then a
    // Han char (the second group), which is neither of the others.
    let word = (!(rest == "年"
        || rest.starts_with(|c: char| c.is_whitespace() || "-/.".contains(c))))
    .then_some(rest);
    Some((&m[lead..year_end], word))
}

/// A date as an article's head writes it: 2024年3月5日 or 3月5日. Read by
/// [`full_date`] without the regex, which the tests hold it to.
#[cfg(test)]
static FULL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:((?:19|20)\d\d)年)?(\d{1,2})月(\d{1,2})日").expect("valid regex")
});

/// The first match of [`FULL_DATE`] in `text`, as its captures: the year
/// when written, the month and the day. The regex has no literal to start
/// from and its captures need a second engine; every match holds 月, and
/// around each 月 the digits are read directly.
fn full_date(text: &str) -> Option<(Option<&str>, &str, &str)> {
    // Up to `max` digits at the end of `s`: where they start.
    let digits_before = |s: &str, max: usize| {
        s.char_indices()
            .rev()
            .take(max)
            .take_while(|&(_, c)| is_decimal_digit(c))
            .last()
            .map_or(s.len(), |(i, _)| i)
    };
    for (at, _) in text.match_indices('月') {
        // The day: one or two digits, then 日 (after two digits a third
        // digit is no 日, so the shorter reading fails too).
        let after = &text[at + '月'.len_utf8()..];
        let day_len = after
            .char_indices()
            .take(2)
            .take_while(|&(_, c)| is_decimal_digit(c))
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
        if day_len == 0 || !after[day_len..].starts_with('日') {
            continue;
        }
        // The month: the last one or two digits before 月 (a match
        // starting further left would need a third digit).
        let before = &text[..at];
        let month_start = digits_before(before, 2);
        if month_start == at {
            continue;
        }
        // The year: four digits, the first two 19 or 20, right before a 年
        // right before the month. A match starting there is the leftmost.
        let year = before[..month_start].strip_suffix('年').and_then(|head| {
            let start = digits_before(head, 4);
            let year = &head[start..];
            (year.chars().count() == 4 && (year.starts_with("19") || year.starts_with("20")))
                .then_some(year)
        });
        return Some((year, &before[month_start..], &after[..day_len]));
    }
    None
}

impl PageContext {
    fn new(lex: &Lexicon, clean: &CleanText, tokens: &[Token]) -> PageContext {
        let mut anchors = HashMap::default();
        let mut ancestors = Vec::new();
        for token in tokens {
            if let Some(index) = strong_region(lex, token) {
                *anchors.entry(index).or_insert(0) += 1;
                lex.ancestors_into(index, &mut ancestors);
                for &a in &ancestors {
                    *anchors.entry(a).or_insert(0) += 1;
                }
            }
        }
        // The page's year: the latest year it writes. A bare number before
        // a unit or count word (2000元, 2000余人) is no year.
        let year = YearMatches::new(&clean.text)
            .filter_map(year_parts)
            .filter(|(_, word)| {
                word.is_none_or(|w| {
                    !lex.units.contains_key(w) && !"万千亿余多次户份辆台张位".contains(w)
                })
            })
            .filter_map(|(year, _)| year.parse::<i32>().ok())
            .max();
        let newlines = memchr::memchr_iter(b'\n', clean.text.as_bytes()).collect();
        PageContext {
            anchors,
            year,
            newlines,
        }
    }

    /// Where the paragraph holding byte `pos` starts: after the last line
    /// break before `pos`, or at 0.
    fn paragraph_start(&self, pos: usize) -> usize {
        match self.newlines.partition_point(|&n| n < pos) {
            0 => 0,
            i => self.newlines[i - 1] + 1,
        }
    }

    /// The first full or partial date in the article's opening, completed
    /// with the page's latest year.
    fn article_date(&self, text: &str) -> Option<String> {
        let head_end = text.char_indices().nth(200).map_or(text.len(), |(i, _)| i);
        let (year, month, day) = full_date(&text[..head_end])?;
        let year: i32 = year.and_then(|y| y.parse().ok()).or(self.year)?;
        let month: u32 = month.parse().ok()?;
        let day: u32 = day.parse().ok()?;
        chrono::NaiveDate::from_ymd_opt(year, month, day).map(|d| d.to_string())
    }
}

/// The tokens lying within `start..end` of a page's tokens (sorted by start).
fn tokens_in(tokens: &[Token], start: usize, end: usize) -> &[Token] {
    let first = tokens.partition_point(|t| t.start < start);
    let last = tokens.partition_point(|t| t.end <= end).max(first);
    &tokens[first..last]
}

/// The single region an unambiguous, always-trusted token names.
fn strong_region(lex: &Lexicon, token: &Token) -> Option<usize> {
    // The token's only meaning is a region.
    let &[Meaning::Region { index, form }] = token.meanings(lex) else {
        return None;
    };
    let trusted = match form {
        FormKind::Full | FormKind::Former | FormKind::Banner | FormKind::Literary => true,
        FormKind::Short => lex.regions[index].level != Level::County,
        FormKind::Abbrev | FormKind::Group | FormKind::Township => false,
    };
    trusted.then_some(index)
}

/// One element of an agency name.
#[derive(Debug, Clone)]
enum Part<'t> {
    /// A region as the text writes it (borrowed: a chain is tried at every
    /// region token, and most tries find no body).
    Region {
        index: usize,
        surface: &'t str,
    },
    Context(usize),
    National(usize),
    /// An agency already named (what 该局 stands for).
    Existing(EntityId),
    Term(usize),
    Free(&'t str),
}

/// An entity the source has named, with some of what it holds: enough
/// to tell a mention that would change nothing (the same form again in the
/// same article, most mentions) without looking the entity up. All of it
/// only grows (no form, article or kind is ever taken from an entity), so
/// what is recorded here stays true.
struct Known {
    id: EntityId,
    /// An article the entity's `mentioned_in` holds (the latest noted),
    /// `usize::MAX` for none.
    article: usize,
    /// Forms that are the entity's label or among its alternative labels.
    forms: Vec<Box<str>>,
    /// The entity has a kind (so it takes no other).
    has_kind: bool,
}

impl Known {
    fn new(id: EntityId) -> Known {
        Known {
            id,
            article: usize::MAX,
            forms: Vec::new(),
            has_kind: false,
        }
    }

    /// Whether the entity is known to hold `form` and `article` already.
    fn holds(&self, article: usize, form: &str) -> bool {
        self.article == article && self.forms.iter().any(|f| **f == *form)
    }

    /// Records that the entity now holds `form` and `article`.
    fn note(&mut self, article: usize, form: &str) {
        self.article = article;
        if !self.forms.iter().any(|f| **f == *form) {
            self.forms.push(form.into());
        }
    }
}

struct ArticleResolver<'a> {
    lex: &'a Lexicon,
    clean: &'a CleanText,
    original: &'a Original<'a>,
    article: &'a Article,
    article_index: usize,
    page: &'a PageContext,
    date: Option<String>,
    kn: &'a mut Knowledge,
    /// The dictionary tokens of the whole page.
    page_tokens: &'a [Token],
    mentions: Vec<Mention>,
    /// The city (a region named …市 of prefecture or county level) the
    /// article is most about, for 全市, 该市, 市公安局.
    home_city: Option<usize>,
    /// The (metric, value) pairs of the source's statistics so far, the
    /// metric by the index of its rule in the lexicon, the value by its
    /// [`decimal_key`] (one for each text [`format_decimal`] writes): a
    /// figure the page already reported is not reported again. Kept across
    /// the articles so that no article has to rebuild it.
    seen_statistics: &'a mut HashSet<(usize, u64)>,
    /// The regions the source named so far, by lexicon index: the id built
    /// once, cloned (a shared key) for every later mention, and what the
    /// entity holds already.
    region_ids: &'a mut HashMap<usize, Known>,
    /// The same for the other entities the source named, by class (in
    /// [`EntityClass::ALL`] order) and label.
    named_ids: &'a mut [HashMap<Box<str>, Known>; 5],
    /// The relations the source supports so far (put in `kn` at the end).
    relations: &'a mut RelationTable,
    /// The text of each sentence of the article once a fact cites it.
    sentence_texts: Vec<OnceCell<Arc<str>>>,
    /// Where each sentence of the article starts after its dateline (see
    /// [`crate::clean::DatelinePattern`]), for the linking passes; the passes take it in turn
    /// and put it back.
    body_starts: Vec<usize>,
    /// The buffer of [`Self::agency_chain`].
    chain_parts: Vec<(usize, usize, Part<'a>)>,
}

impl<'a> ArticleResolver<'a> {
    fn text(&self) -> &str {
        &self.clean.text
    }

    fn run(&mut self) {
        // Lent from the page's tokens, which outlive the resolver (no copy).
        let tokens: &'a [Token] = tokens_in(self.page_tokens, self.article.start, self.article.end);
        let anchors = self.article_anchors(tokens);
        let homes = self.home_regions(&anchors);
        self.home_city = self
            .best_city(&anchors)
            .or_else(|| self.best_city(&self.page.anchors));
        let mut choice: Vec<Option<usize>> = tokens
            .iter()
            .map(|t| self.choose_region(t, &anchors))
            .collect();
        self.prefer_countries_in_lists(tokens, &mut choice);

        let mut consumed = vec![false; tokens.len()];
        // Agency chains first: they decide which region tokens sit inside names.
        let mut i = 0;
        while i < tokens.len() {
            if let Some(last) = self.shared_body_list(tokens, &choice, i, &homes, &anchors) {
                // The last place of the list heads an ordinary chain.
                consumed[i..last].iter_mut().for_each(|c| *c = true);
                i = last;
                continue;
            }
            if let Some(next) = self.agency_chain(tokens, &choice, i, &homes, &anchors) {
                consumed[i..next].iter_mut().for_each(|c| *c = true);
                i = next;
            } else {
                i += 1;
            }
        }
        for (i, token) in tokens.iter().enumerate() {
            if consumed[i] {
                continue;
            }
            self.plain_token(tokens, i, token, &choice, &anchors, &homes);
        }
        self.campaigns(tokens, &consumed);
        self.cases();
        self.mentions.sort_by_key(|m| (m.start, m.end));
        self.name_prefix_parents();
        // Statistics first: a sentence that reports aggregate figures is not
        // one that describes a single case.
        self.statistics();
        // Both linking passes read each sentence without its dateline.
        let text = self.text();
        self.body_starts = self
            .article
            .sentences
            .iter()
            .map(|&(ss, se)| ss + self.lex.dateline.length_in(&text[ss..se]))
            .collect();
        self.link_relations();
        self.case_paragraph_links();
    }

    /// Regions the article names unambiguously, with their ancestors, weighted.
    fn article_anchors(&self, tokens: &[Token]) -> HashMap<usize, usize> {
        let mut anchors = HashMap::default();
        let mut ancestors = Vec::new();
        for token in tokens {
            if let Some(index) = strong_region(self.lex, token) {
                *anchors.entry(index).or_insert(0) += 3;
                self.lex.ancestors_into(index, &mut ancestors);
                for &a in &ancestors {
                    *anchors.entry(a).or_insert(0) += 1;
                }
            }
        }
        anchors
    }

    /// The province, prefecture and county the article is about: the most
    /// weighted anchors of each level, falling back to the page's.
    fn home_regions(&self, anchors: &HashMap<usize, usize>) -> HashMap<Level, usize> {
        let mut homes = HashMap::default();
        for level in [Level::Province, Level::Prefecture, Level::County] {
            let best = |weights: &HashMap<usize, usize>| {
                weights
                    .iter()
                    .filter(|(i, _)| {
                        self.lex.regions[**i].level == level && self.lex.regions[**i].code.is_some()
                    })
                    .max_by_key(|(i, w)| (**w, std::cmp::Reverse(**i)))
                    .map(|(i, _)| *i)
            };
            if let Some(i) = best(anchors).or_else(|| best(&self.page.anchors)) {
                homes.insert(level, i);
            }
        }
        // A prefecture or county home must lie in the province home.
        if let Some(&p) = homes.get(&Level::Province) {
            for level in [Level::Prefecture, Level::County] {
                if let Some(&r) = homes.get(&level)
                    && !self.lex.is_within(r, p)
                {
                    homes.remove(&level);
                }
            }
        }
        homes
    }

    fn best_city(&self, weights: &HashMap<usize, usize>) -> Option<usize> {
        weights
            .iter()
            .filter(|(i, _)| {
                let r = &self.lex.regions[**i];
                r.name.ends_with('市')
                    && matches!(r.level, Level::Province | Level::Prefecture | Level::County)
                    && r.code.is_some()
            })
            .max_by_key(|(i, w)| (**w, std::cmp::Reverse(**i)))
            .map(|(i, _)| *i)
    }

    /// Picks the region a token names, when it names one: homonyms by the
    /// regions around them, then the higher level, then the smaller code.
    fn choose_region(&self, token: &Token, anchors: &HashMap<usize, usize>) -> Option<usize> {
        // The candidates are read from the token's meanings as needed (no
        // list per token: most tokens have at most one region).
        let candidates = || {
            token.meanings(self.lex).iter().filter_map(|m| match m {
                Meaning::Region { index, .. } => Some(*index),
                _ => None,
            })
        };
        let mut regions = candidates();
        let first = regions.next()?;
        if regions.next().is_none() {
            return Some(first);
        }
        // A candidate the text names outright (承德 beside 承德市税务局) beats
        // one that merely lies near named places; places above or below the
        // candidate support it too.
        let score = |c: usize| -> usize {
            let mut s = 0;
            for (&a, &w) in anchors {
                if a == c {
                    s += w * 3;
                } else if self.lex.is_within(a, c) || self.lex.is_within(c, a) {
                    s += w * 2;
                }
            }
            for (&a, &w) in &self.page.anchors {
                if a == c {
                    s += w * 2;
                } else if self.lex.is_within(a, c) || self.lex.is_within(c, a) {
                    s += w;
                }
            }
            s
        };
        candidates().max_by_key(|&c| {
            (
                score(c),
                std::cmp::Reverse(self.lex.regions[c].level),
                std::cmp::Reverse(c),
            )
        })
    }

    fn form_kind(&self, token: &Token, index: usize) -> Option<FormKind> {
        token.meanings(self.lex).iter().find_map(|m| match m {
            Meaning::Region { index: i, form } if *i == index => Some(*form),
            _ => None,
        })
    }

    fn context_region(&self, ctx: usize, homes: &HashMap<Level, usize>) -> Option<usize> {
        let province = homes.get(&Level::Province).copied();
        let autonomous = province.filter(|&p| self.lex.regions[p].name.ends_with("自治区"));
        match self.lex.context_refs[ctx].level {
            ContextLevel::Province => province,
            ContextLevel::AutonomousProvince => autonomous,
            ContextLevel::ProvinceOrDistrict => autonomous.or_else(|| {
                homes
                    .get(&Level::County)
                    .copied()
                    .filter(|&c| self.lex.regions[c].name.ends_with('区'))
            }),
            ContextLevel::Prefecture => homes.get(&Level::Prefecture).copied(),
            ContextLevel::City => self.home_city,
            ContextLevel::County => homes.get(&Level::County).copied(),
        }
    }

    /// Tries to read an agency name starting at token `i`; on success adds
    /// its agencies and regions and returns the index after its last token.
    fn agency_chain(
        &mut self,
        tokens: &[Token],
        choice: &[Option<usize>],
        i: usize,
        homes: &HashMap<Level, usize>,
        anchors: &HashMap<usize, usize>,
    ) -> Option<usize> {
        // One buffer for the parts of every try (a chain is tried at most
        // tokens), taken from the resolver and put back empty.
        let mut parts = std::mem::take(&mut self.chain_parts);
        let next = self.agency_chain_in(&mut parts, tokens, choice, i, homes, anchors);
        parts.clear();
        self.chain_parts = parts;
        next
    }

    /// [`Self::agency_chain`] with the parts read into `parts` (empty).
    fn agency_chain_in(
        &mut self,
        parts: &mut Vec<(usize, usize, Part<'a>)>,
        tokens: &[Token],
        choice: &[Option<usize>],
        i: usize,
        homes: &HashMap<Level, usize>,
        anchors: &HashMap<usize, usize>,
    ) -> Option<usize> {
        let lex = self.lex;
        let text: &'a str = &self.clean.text;
        // A name starts at a place that counts on its own (not 会同 in
        // 会同瑞丽市公安局, a county's short name without its city).
        if let Some(index) = choice[i]
            && !self.region_form_counts(tokens, i, index, anchors)
        {
            return None;
        }
        // (start, end, part)
        let mut j = i;
        let mut end = tokens[i].start;
        // Head: regions (nested, each inside the one before), or a context
        // word, or a national body.
        while j < tokens.len() && tokens[j].start == end {
            let t = &tokens[j];
            let Some(index) = choice[j] else { break };
            let form = self.form_kind(t, index);
            if matches!(form, Some(FormKind::Abbrev | FormKind::Group)) {
                break;
            }
            if let Some((_, _, Part::Region { index: prev, .. })) = parts.last()
                && !lex.is_within(index, *prev)
            {
                break;
            }
            parts.push((
                t.start,
                t.end,
                Part::Region {
                    index,
                    surface: &text[t.start..t.end],
                },
            ));
            end = t.end;
            j += 1;
        }
        if parts.is_empty()
            && let Some(bureau) = self.bare_unit_head(&tokens[i])
        {
            // 刑侦大队警犬技术中队 with no body before it: units of the bureau
            // the article last named.
            parts.push((tokens[i].start, tokens[i].start, Part::Existing(bureau)));
            end = tokens[i].start;
            j = i;
        }
        if parts.is_empty()
            && tokens[i]
                .meanings(lex)
                .iter()
                .any(|m| matches!(m, Meaning::Demonstrative))
        {
            // 该局云中路派出所: a unit of the body 该局 stands for.
            let (id, end_of_ref) = self.demonstrative_target(&tokens[i])?;
            parts.push((tokens[i].start, end_of_ref, Part::Existing(id)));
            end = end_of_ref;
            j = i + 1;
            while j < tokens.len() && tokens[j].start < end {
                j += 1;
            }
        }
        if parts.is_empty() {
            let t = &tokens[i];
            let head = t.meanings(lex).iter().find_map(|m| match m {
                Meaning::Context(c) => Some(Part::Context(*c)),
                Meaning::National(n) => Some(Part::National(*n)),
                _ => None,
            })?;
            if let Part::Context(c) = head {
                let word = &lex.context_refs[c].word;
                let before = text[..t.start].chars().next_back();
                if let (Some(blockers), Some(b)) = (lex.context_blockers.get(word), before)
                    && blockers.contains(&b)
                {
                    return None;
                }
            }
            parts.push((t.start, t.end, head));
            end = t.end;
            j = i + 1;
        }
        let head_is_national = matches!(parts[0].2, Part::National(_) | Part::Existing(_));
        // Body and units.
        let mut saw_body = head_is_national;
        // What a step adds goes on `parts` at once and is taken back when
        // the step finds no term (no list built per step): every way out of
        // the loop is a step that found none.
        let mut kept;
        loop {
            let mut k = j;
            kept = parts.len();
            let mut cursor = end;
            // An optional region of the unit (海拉尔 in 海拉尔分局), only after a body.
            if saw_body
                && k < tokens.len()
                && tokens[k].start == cursor
                && let Some(index) = choice[k]
                && parts.iter().any(|(_, _, p)| matches!(p, Part::Region { index: r, .. } if lex.is_within(index, *r)))
            {
                parts.push((
                    tokens[k].start,
                    tokens[k].end,
                    Part::Region {
                        index,
                        surface: &text[tokens[k].start..tokens[k].end],
                    },
                ));
                cursor = tokens[k].end;
                k += 1;
            }
            // One-character abbreviations inside a free name (云 and 中 of
            // 云中路派出所) are not places: look past them for the term.
            // A place outside the chain's region right before a body is part
            // of its name (内蒙古 + 大兴安岭 + 森林公安局).
            while k < tokens.len()
                && (self.is_abbreviation_only(&tokens[k])
                    || !saw_body
                        && choice[k].is_some()
                        && tokens.get(k + 1).is_some_and(|n| {
                            n.start == tokens[k].end
                                && n.meanings(lex).iter().any(|m| {
                                    matches!(m, Meaning::AgencyTerm(a) if lex.agency_terms[*a].is_body)
                                })
                        }))
            {
                k += 1;
            }
            if k >= tokens.len() {
                break;
            }
            let t = &tokens[k];
            let term = t.meanings(lex).iter().find_map(|m| match m {
                Meaning::AgencyTerm(a) => Some(*a),
                _ => None,
            });
            let Some(term) = term else { break };
            let spec = &lex.agency_terms[term];
            let allowed = if saw_body { spec.is_unit } else { spec.is_body };
            if !allowed {
                break;
            }
            if t.start > cursor {
                // A free name between (赣西 in 江西省赣西强制隔离戒毒所, 白音锡勒派出所).
                let gap = &text[cursor..t.start];
                let has_region_head = parts.iter().any(|(_, _, p)| {
                    matches!(
                        p,
                        Part::Region { .. } | Part::National(_) | Part::Existing(_)
                    )
                });
                if !has_region_head || !self.is_free_name(gap) {
                    break;
                }
                parts.push((cursor, t.start, Part::Free(gap)));
            }
            parts.push((t.start, t.end, Part::Term(term)));
            end = t.end;
            j = k + 1;
            saw_body = true;
        }
        parts.truncate(kept);
        if !saw_body || matches!(parts[0].2, Part::Existing(_)) && parts.len() == 1 {
            return None;
        }
        self.emit_chain(parts, homes)?;
        Some(j)
    }

    /// A token that is nothing but a one-character region abbreviation.
    fn is_abbreviation_only(&self, token: &Token) -> bool {
        let meanings = token.meanings(self.lex);
        !meanings.is_empty()
            && meanings.iter().all(|m| {
                matches!(
                    m,
                    Meaning::Region {
                        form: FormKind::Abbrev,
                        ..
                    }
                )
            })
    }

    /// A list of places sharing one body (成都、昆明警方, 天山区、沙依巴克区禁毒办):
    /// each place but the last gets the body too. Returns the index of the
    /// last place's token, which then heads an ordinary name.
    fn shared_body_list(
        &mut self,
        tokens: &[Token],
        choice: &[Option<usize>],
        i: usize,
        homes: &HashMap<Level, usize>,
        anchors: &HashMap<usize, usize>,
    ) -> Option<usize> {
        let lex = self.lex;
        let text: &'a str = &self.clean.text;
        let place = |k: usize| choice.get(k).copied().flatten();
        let mut members = vec![i];
        place(i)?;
        let mut k = i;
        while k + 1 < tokens.len() {
            let gap = &text[tokens[k].end..tokens[k + 1].start];
            if !matches!(gap, "、" | "和" | "及") || place(k + 1).is_none() {
                break;
            }
            k += 1;
            members.push(k);
        }
        let last = *members.last()?;
        if members.len() < 2 {
            return None;
        }
        let body = tokens
            .get(last + 1)
            .filter(|t| t.start == tokens[last].end)?;
        let term = body.meanings(lex).iter().find_map(|m| match m {
            Meaning::AgencyTerm(a) if lex.agency_terms[*a].is_body => Some(*a),
            _ => None,
        })?;
        // Every member must be a place that counts where it stands.
        if members.iter().any(|&m| {
            let index = place(m).unwrap_or_default();
            let form = self.form_kind(&tokens[m], index);
            form != Some(FormKind::Abbrev) && !self.region_form_counts(tokens, m, index, anchors)
        }) {
            return None;
        }
        for &m in &members[..members.len() - 1] {
            let index = place(m)?;
            let parts = [
                (
                    tokens[m].start,
                    tokens[m].end,
                    Part::Region {
                        index,
                        surface: &text[tokens[m].start..tokens[m].end],
                    },
                ),
                (body.start, body.end, Part::Term(term)),
            ];
            self.emit_chain(&parts, homes)?;
        }
        Some(last)
    }

    /// The name of a district's police branch without 分局: the form the
    /// page already uses (温州市公安局鹿城分局 or 武汉市公安局江汉区分局), else
    /// the district's short name (鹿城) when it has one.
    fn district_branch_label(&self, city: &str, district: &str) -> String {
        let short = district
            .strip_suffix('区')
            .filter(|s| s.chars().count() >= 2);
        let bureau = format!("{city}公安局");
        for candidate in [Some(district), short].into_iter().flatten() {
            let name = format!("{bureau}{candidate}分局");
            if self
                .kn
                .entities
                .contains_key(&EntityId::new(EntityClass::Agency, name.as_str()))
            {
                return format!("{bureau}{candidate}");
            }
        }
        format!("{bureau}{}", short.unwrap_or(district))
    }

    /// A free name: 1–8 Chinese characters or digits with no function word.
    fn is_free_name(&self, gap: &str) -> bool {
        let n = gap.chars().count();
        (1..=8).contains(&n)
            && gap.chars().all(crate::lexicon::free_name_char)
            && !gap.chars().any(|c| self.lex.gap_stopchars.contains(&c))
    }

    /// Turns a parsed chain into agencies (one per body or unit boundary) and
    /// region mentions.
    fn emit_chain(
        &mut self,
        parts: &[(usize, usize, Part<'_>)],
        homes: &HashMap<Level, usize>,
    ) -> Option<()> {
        let lex = self.lex;
        // Head label: the lowest of the leading regions in full form, or the
        // context region, or the national body.
        // The leading regions are counted and the last read, not collected
        // (a chain is parsed for most agency names).
        let leading = parts
            .iter()
            .take_while(|(_, _, p)| matches!(p, Part::Region { .. }))
            .count();
        let last_leading = leading.checked_sub(1).and_then(|i| match parts[i].2 {
            Part::Region { index, .. } => Some(index),
            _ => None,
        });
        let mut label;
        let mut located: Option<usize> = None;
        let mut kind: &str = "";
        let mut rest_start = leading;
        if let Some(lowest) = last_leading {
            let followed_by_free = matches!(parts.get(leading), Some((_, _, Part::Free(_))));
            // Places outside the GB/T table (foreign countries, Hong Kong)
            // name their bodies as written: 香港海关, 蒙古国警察总局.
            let uncoded = lex.regions[lowest].code.is_none();
            let written = matches!(parts.get(leading), Some((_, _, Part::Term(t))) if lex.agency_terms[*t].keeps_written_region);
            let head: &str = if followed_by_free || uncoded || written {
                // A name that is not a division keeps the region as written.
                match &parts[leading - 1].2 {
                    Part::Region { surface, .. } => surface,
                    _ => &lex.regions[lowest].name,
                }
            } else {
                &lex.regions[lowest].name
            };
            // Sized for the bodies and units the chain appends (an exact
            // copy would grow again on the first of them).
            label = String::with_capacity(head.len() + 32);
            label.push_str(head);
            located = Some(lowest);
        } else {
            match &parts[0].2 {
                Part::Context(c) => {
                    let region = self.context_region(*c, homes)?;
                    label = lex.regions[region].name.clone();
                    located = Some(region);
                }
                Part::National(n) => {
                    label = lex.national[*n].label.clone();
                    kind = &lex.national[*n].kind;
                }
                Part::Existing(id) => {
                    label = id.key.to_string();
                    located = self.located_in(id);
                }
                _ => return None,
            }
            rest_start = 1;
        }
        let head_is_national = matches!(parts[0].2, Part::National(_));
        let head_existing = match &parts[0].2 {
            Part::Existing(id) => Some(id.clone()),
            _ => None,
        };
        // Region mentions of the head.
        for (s, e, p) in parts.iter() {
            if let Part::Region { index, .. } = p {
                self.add_region_mention(*index, *s, *e, true);
            }
        }
        if let Some(region) = located
            && let Part::Context(_) = parts[0].2
        {
            self.add_region_mention(region, parts[0].0, parts[0].1, true);
        }

        let first_mention = self.mentions.len();
        let mut parent: Option<EntityId> = head_existing;
        let mut surface_start = parts[0].0;
        if head_is_national {
            let id = self.add_agency(
                &label,
                kind,
                None,
                parts[0].0,
                parts[0].1,
                None,
                "agency-national",
            );
            parent = Some(id);
        }
        let mut unit_prefix = String::new();
        let mut unit_region: Option<usize> = None;
        for (s, e, p) in &parts[rest_start..] {
            match p {
                Part::Region { index, surface } => {
                    unit_prefix.push_str(surface);
                    unit_region = Some(*index);
                    located = Some(*index);
                }
                Part::Free(name) => unit_prefix.push_str(name),
                Part::Term(t) => {
                    let spec = &lex.agency_terms[*t];
                    // A body named by its own region inside a longer name
                    // (崇左边境管理支队 after 广西边检总站) is named from that
                    // region, as a unit of what comes before it.
                    if let Some(region) = unit_region.take()
                        && spec.restarts
                        && parent.is_some()
                    {
                        label = lex.regions[region].name.clone();
                        unit_prefix.clear();
                        surface_start = *s;
                    }
                    let body = if spec.canonical == "@police" {
                        // Provinces and autonomous regions have a 公安厅; the
                        // municipalities (北京市, 重庆市) a 公安局 like cities.
                        // A city district's police is a branch of the city's
                        // bureau (武汉江汉警方 → 武汉市公安局江汉分局).
                        match located.map(|r| &lex.regions[r]) {
                            Some(r) if r.level == Level::Province && !r.name.ends_with('市') => {
                                "公安厅"
                            }
                            Some(r) if r.level == Level::Country => "警察局",
                            Some(r) if r.level == Level::County && r.name.ends_with('区') => {
                                match r.parent.map(|p| &lex.regions[p]) {
                                    Some(city) if city.level != Level::Province => {
                                        label = self.district_branch_label(&city.name, &r.name);
                                        "分局"
                                    }
                                    _ => "公安局",
                                }
                            }
                            _ => "公安局",
                        }
                    } else if spec.term == "法院"
                        && unit_prefix.is_empty()
                        && located.is_some_and(|r| lex.regions[r].level == Level::Province)
                    {
                        // There is no province-level 人民法院: 安徽法院, 全省法院
                        // are the province's courts as a whole.
                        kind = "collective";
                        "法院"
                    } else {
                        spec.canonical.as_str()
                    };
                    label.push_str(&unit_prefix);
                    label.push_str(body);
                    unit_prefix.clear();
                    if kind != "collective" {
                        kind = &spec.kind;
                    }
                    let rule = if parent.is_some() {
                        "agency-unit-chain"
                    } else {
                        "agency-region-body"
                    };
                    let id = self.add_agency(
                        &label,
                        kind,
                        located,
                        surface_start,
                        *e,
                        parent.clone(),
                        rule,
                    );
                    let _ = s;
                    parent = Some(id);
                }
                _ => {}
            }
        }
        // Every agency mention of the chain but the last is an outer body.
        let chain = &mut self.mentions[first_mention..];
        if let Some(last) = chain
            .iter()
            .rposition(|m| m.id.class == EntityClass::Agency)
        {
            for m in &mut chain[..last] {
                if m.id.class == EntityClass::Agency {
                    m.partial = true;
                }
            }
        }
        Some(())
    }

    /// Adds (or merges) an entity named at `start..end` of the article and
    /// records the mention; the surface form becomes an alternative label.
    fn add_named(
        &mut self,
        class: EntityClass,
        label: &str,
        (start, end): (usize, usize),
        kind: Option<&str>,
        code: Option<String>,
    ) -> EntityId {
        let surface = self.surface(start, end);
        let article = self.article_index;
        let known_ids = &mut self.named_ids[class as usize];
        // A form the entity holds, in an article it holds, with no kind or
        // code it could take: nothing to change (most mentions).
        let id = match known_ids.get_mut(label) {
            Some(known)
                if known.holds(article, &surface)
                    && (kind.is_none() || known.has_kind)
                    && code.is_none() =>
            {
                known.id.clone()
            }
            known => {
                let id = known.map_or_else(|| EntityId::new(class, label), |k| k.id.clone());
                // One search of the entities, whether the entity is there
                // or not.
                let has_kind = match self.kn.entities.entry(id.clone()) {
                    Entry::Occupied(mut found) => {
                        // What `upsert_entity` does, without building a new
                        // entity for a known one. The kind is taken only by
                        // an entity without one: copied only then.
                        let existing = found.get_mut();
                        let kind = kind.filter(|_| existing.kind.is_none()).map(str::to_string);
                        existing.note_mention(&surface, article, kind, code);
                        existing.kind.is_some()
                    }
                    Entry::Vacant(slot) => {
                        // What `upsert_entity` makes of a new entity: the
                        // label is not among its other forms.
                        let alt_labels = if *surface == *label {
                            BTreeSet::new()
                        } else {
                            [surface.to_string()].into()
                        };
                        slot.insert(Entity {
                            id: id.clone(),
                            label: label.to_string(),
                            alt_labels,
                            mentioned_in: [article].into(),
                            admin_code: None,
                            kind: kind.map(str::to_string),
                            code,
                        });
                        kind.is_some()
                    }
                };
                let known = self.named_ids[class as usize]
                    .entry(label.into())
                    .or_insert_with(|| Known::new(id.clone()));
                known.note(article, &surface);
                known.has_kind = has_kind;
                id
            }
        };
        self.mentions.push(Mention {
            start,
            end,
            id: id.clone(),
            in_agency: false,
            partial: false,
        });
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn add_agency(
        &mut self,
        label: &str,
        kind: &str,
        located: Option<usize>,
        start: usize,
        end: usize,
        parent: Option<EntityId>,
        rule: &'static str,
    ) -> EntityId {
        let id = self.add_named(
            EntityClass::Agency,
            label,
            (start, end),
            (!kind.is_empty()).then_some(kind),
            None,
        );
        // The evidence of the relations below: read only when there is one,
        // copied only when there are two.
        let mut evidence =
            (located.is_some() || parent.is_some()).then(|| self.evidence(start, end, rule));
        if let Some(region) = located {
            let region_id = self.region_entity(region, None);
            let ev = if parent.is_some() {
                evidence.clone()
            } else {
                evidence.take()
            };
            self.relations
                .add(id.clone(), Property::LocatedIn, region_id, ev);
        }
        if let Some(p) = parent {
            self.relations
                .add(id.clone(), Property::SubOrganizationOf, p, evidence);
        }
        id
    }

    /// The surface form of a cleaned span, read from the original text (so a
    /// Traditional form is kept), without line breaks and spaces.
    fn surface(&self, start: usize, end: usize) -> Cow<'a, str> {
        let (s, e) = self.clean.orig_span(start, end);
        let raw = self.original.span(s, e);
        // Most names hold no whitespace: borrowed whole (copied only by an
        // entity that has not seen the form yet). Else sized for all the
        // chars (collecting through the filter would grow the string from
        // nothing, two or three times a name), the part before the first
        // whitespace copied at once.
        let Some(first) = first_whitespace(raw) else {
            return Cow::Borrowed(raw);
        };
        let mut surface = String::with_capacity(raw.len());
        surface.push_str(&raw[..first]);
        surface.extend(raw[first..].chars().filter(|c| !c.is_whitespace()));
        Cow::Owned(surface)
    }

    /// Makes sure a region entity and its ancestors exist (with partOf links);
    /// records a mention in this article when its `surface` is given.
    fn region_entity(&mut self, index: usize, surface: Option<Cow<'_, str>>) -> EntityId {
        let lex = self.lex;
        let article = self.article_index;
        // Known already: its ancestors and partOf links came with it.
        if let Some(known) = self.region_ids.get_mut(&index) {
            if let Some(s) = surface
                && !known.holds(article, &s)
            {
                if let Some(existing) = self.kn.entities.get_mut(&known.id) {
                    if *s != existing.label && !existing.alt_labels.contains(&*s) {
                        existing.alt_labels.insert(s.to_string());
                    }
                    existing.mentioned_in.insert(article);
                }
                known.note(article, &s);
            }
            return known.id.clone();
        }
        let region = &lex.regions[index];
        let id = region_id(lex, index);
        let mut known = Known::new(id.clone());
        if let Some(s) = &surface {
            known.note(article, s);
        }
        self.region_ids.insert(index, known);
        // Another index may name the same entity (the same code).
        match self.kn.entities.entry(id.clone()) {
            Entry::Occupied(mut found) => {
                if let Some(s) = &surface {
                    let existing = found.get_mut();
                    if **s != existing.label && !existing.alt_labels.contains(&**s) {
                        existing.alt_labels.insert(s.to_string());
                    }
                    existing.mentioned_in.insert(article);
                }
                return id;
            }
            Entry::Vacant(slot) => {
                // What `upsert_entity` makes of a new entity: the label is
                // not among its other forms.
                let mut alt_labels = BTreeSet::new();
                let mut mentioned_in = BTreeSet::new();
                if let Some(s) = surface {
                    if *s != region.name {
                        alt_labels.insert(s.into_owned());
                    }
                    mentioned_in.insert(article);
                }
                slot.insert(Entity {
                    id: id.clone(),
                    label: region.name.clone(),
                    alt_labels,
                    mentioned_in,
                    // Townships' 9-digit statistical codes are not GB/T 2260 codes.
                    admin_code: region.code.clone().filter(|c| c.len() == 6),
                    kind: Some(region.level.name().to_string()),
                    code: None,
                });
            }
        }
        if let Some(parent) = region.parent {
            let parent_id = self.region_entity(parent, None);
            self.relations
                .add(id.clone(), Property::PartOf, parent_id, None);
        }
        id
    }

    fn add_region_mention(&mut self, index: usize, start: usize, end: usize, in_agency: bool) {
        let surface = self.surface(start, end);
        let id = self.region_entity(index, Some(surface));
        self.mentions.push(Mention {
            start,
            end,
            id,
            in_agency,
            partial: false,
        });
    }

    /// A token outside agency names: a region, context word, drug or 该.
    fn plain_token(
        &mut self,
        tokens: &[Token],
        i: usize,
        token: &Token,
        choice: &[Option<usize>],
        anchors: &HashMap<usize, usize>,
        homes: &HashMap<Level, usize>,
    ) {
        let lex = self.lex;
        let meanings = token.meanings(lex);
        if let Some(index) = choice[i] {
            if self.region_form_counts(tokens, i, index, anchors) {
                self.add_region_mention(index, token.start, token.end, false);
            }
            return;
        }
        for m in meanings {
            match m {
                Meaning::RegionGroup { indices, form } => {
                    if *form != FormKind::Abbrev || self.in_enumeration(tokens, i) {
                        for &index in indices {
                            self.add_region_mention(index, token.start, token.end, false);
                        }
                    }
                    return;
                }
                Meaning::Context(c) if lex.context_refs[*c].alone => {
                    if let Some(region) = self.context_region(*c, homes) {
                        self.add_region_mention(region, token.start, token.end, false);
                    }
                    return;
                }
                Meaning::Drug(d) => {
                    let entry = &lex.drugs[*d];
                    self.add_named(
                        EntityClass::Drug,
                        &entry.label,
                        (token.start, token.end),
                        Some(&entry.kind),
                        None,
                    );
                    return;
                }
                Meaning::Demonstrative => {
                    self.demonstrative(token);
                    return;
                }
                Meaning::AgencyTerm(t) => {
                    self.bare_agency_term(token, *t, homes);
                    return;
                }
                _ => {}
            }
        }
    }

    /// Whether region token `i`, read as region `index`, names a place here:
    /// official and literary names always; short names unless they start
    /// with a function character inside a word, and for counties only when
    /// the article names their city; abbreviations only in lists.
    fn region_form_counts(
        &self,
        tokens: &[Token],
        i: usize,
        index: usize,
        anchors: &HashMap<usize, usize>,
    ) -> bool {
        match self.form_kind(&tokens[i], index).unwrap_or(FormKind::Full) {
            FormKind::Full | FormKind::Former | FormKind::Banner | FormKind::Literary => true,
            FormKind::Short => {
                !self.weak_start(tokens, i)
                    && (self.lex.regions[index].level != Level::County
                        || self.parent_anchored(index, anchors))
            }
            FormKind::Abbrev => self.in_enumeration(tokens, i),
            FormKind::Group => true,
            FormKind::Township => self.parent_anchored(index, anchors),
        }
    }

    /// A short county name counts when the article names its city (or
    /// prefecture) or the county in full: 开鲁 beside 通辽市.
    fn parent_anchored(&self, index: usize, anchors: &HashMap<usize, usize>) -> bool {
        let own = anchors.get(&index).copied().unwrap_or(0) >= 3;
        let parent = self.lex.regions[index].parent.is_some_and(|p| {
            anchors.get(&p).copied().unwrap_or(0) >= 2
                || self.page.anchors.get(&p).copied().unwrap_or(0) >= 3
        });
        own || parent
    }

    /// A short name whose first character is a function word (和田 in
    /// 之处和田间) right after other text is not a place.
    fn weak_start(&self, tokens: &[Token], i: usize) -> bool {
        let text = self.text();
        let token = &tokens[i];
        let Some(first) = text[token.start..].chars().next() else {
            return false;
        };
        if !self.lex.weak_initials.contains(&first) {
            return false;
        }
        let before = text[..token.start].chars().next_back();
        let after_place = i > 0
            && tokens[i - 1].end == token.start
            && tokens[i - 1]
                .meanings(self.lex)
                .iter()
                .any(|m| matches!(m, Meaning::Region { .. }));
        before.is_some_and(|c| is_cjk(c) && c.is_alphanumeric()) && !after_place
    }

    /// An agency word with no region before it: a regulator or justice
    /// bureau named in a local article (与药监局、市场监督管理局) is the local one.
    fn bare_agency_term(&mut self, token: &Token, term: usize, homes: &HashMap<Level, usize>) {
        let lex = self.lex;
        let spec = &lex.agency_terms[term];
        let text = self.text();
        let before = text[..token.start].chars().next_back();
        let clause_start = before.is_none_or(|c| !(is_cjk(c) && c.is_alphanumeric()))
            || before.is_some_and(|c| "与和及同、对由向".contains(c))
            || lex
                .cooperation_words
                .iter()
                .any(|w| text[..token.start].ends_with(w.as_str()));
        if !clause_start {
            return;
        }
        if matches!(spec.kind.as_str(), "regulator" | "justice") && spec.is_body {
            let home = homes
                .get(&Level::County)
                .copied()
                .or(self.home_city)
                .or_else(|| homes.get(&Level::Prefecture).copied());
            if let Some(region) = home {
                let label = format!("{}{}", lex.regions[region].name, spec.canonical);
                self.add_agency(
                    &label,
                    &spec.kind,
                    Some(region),
                    token.start,
                    token.end,
                    None,
                    "agency-bare-body-home",
                );
            }
        }
    }

    /// For a police unit word with nothing before it (刑侦大队 at the start
    /// of a clause): the bureau the article last named, whose unit it is.
    fn bare_unit_head(&self, token: &Token) -> Option<EntityId> {
        let lex = self.lex;
        let term = token.meanings(lex).iter().find_map(|m| match m {
            Meaning::AgencyTerm(a) => Some(*a),
            _ => None,
        })?;
        let spec = &lex.agency_terms[term];
        let unit_word = spec.is_unit && (!spec.is_body || spec.term.ends_with('队'));
        if !unit_word || !matches!(spec.kind.as_str(), "publicSecurity" | "border") {
            return None;
        }
        let text = self.text();
        let before = text[..token.start].chars().next_back();
        let clause_start = before.is_none_or(|c| !(is_cjk(c) && c.is_alphanumeric()))
            || before.is_some_and(|c| "与和及同、对由向".contains(c))
            || lex
                .unit_lead_words
                .iter()
                .any(|w| text[..token.start].ends_with(w.as_str()));
        if !clause_start {
            return None;
        }
        self.mentions
            .iter()
            .rev()
            .filter(|m| m.start < token.start && m.id.class == EntityClass::Agency)
            .find(|m| {
                ["公安局", "分局", "公安厅"]
                    .iter()
                    .any(|e| m.id.key.ends_with(e))
            })
            .map(|m| m.id.clone())
    }

    /// Links an agency to a body whose whole name begins its own
    /// (西藏自治区禁毒委员会办公室 → 西藏自治区禁毒委员会) when both are named
    /// in the article and it has no parent yet.
    fn name_prefix_parents(&mut self) {
        // A parent is another agency of the article: none with fewer than two.
        let mut agency_ids = self
            .mentions
            .iter()
            .filter(|m| m.id.class == EntityClass::Agency)
            .map(|m| &m.id);
        let Some(first) = agency_ids.next() else {
            return;
        };
        if agency_ids.all(|id| id == first) {
            return;
        }
        // Each agency once, in id order: the repeats (most mentions) are
        // dropped by a hash before the ids are sorted by their names.
        let mut seen: HashSet<&EntityId> = HashSet::default();
        let mut agencies: Vec<EntityId> = self
            .mentions
            .iter()
            .filter(|m| m.id.class == EntityClass::Agency && seen.insert(&m.id))
            .map(|m| m.id.clone())
            .collect();
        agencies.sort_unstable();
        for unit in &agencies {
            // The name's prefix first: most agencies have none in the
            // article, and it is read without a lookup.
            let parent = agencies
                .iter()
                .filter(|p| p.key.len() < unit.key.len() && unit.key.starts_with(&*p.key))
                .max_by_key(|p| p.key.len());
            if let Some(parent) = parent
                && !self.relations.has_from(unit, Property::SubOrganizationOf)
            {
                let first = self
                    .mentions
                    .iter()
                    .find(|m| &m.id == unit)
                    .map(|m| (m.start, m.end));
                let ev = first.map(|(s, e)| self.evidence(s, e, "agency-name-prefix-parent"));
                self.relations.add(
                    unit.clone(),
                    Property::SubOrganizationOf,
                    parent.clone(),
                    ev,
                );
            }
        }
    }

    /// 俄、蒙等国: a list of abbreviations that ends in 国 names countries,
    /// so an abbreviation that can be a country (蒙古国) is one there.
    fn prefer_countries_in_lists(&self, tokens: &[Token], choice: &mut [Option<usize>]) {
        let text = self.text();
        let abbrev_countries = |t: &Token| -> Option<usize> {
            t.meanings(self.lex).iter().find_map(|m| match m {
                Meaning::Region {
                    index,
                    form: FormKind::Abbrev,
                } if self.lex.regions[*index].level == Level::Country => Some(*index),
                _ => None,
            })
        };
        let mut i = 0;
        while i < tokens.len() {
            let mut j = i;
            while j < tokens.len() && self.is_abbreviation_only(&tokens[j]) {
                let next_joined = tokens.get(j + 1).is_some_and(|n| {
                    let gap = &text[tokens[j].end..n.start];
                    gap.is_empty() || gap == "、"
                });
                if !next_joined {
                    break;
                }
                j += 1;
            }
            if j < tokens.len() && self.is_abbreviation_only(&tokens[j]) && j > i {
                let after = &text[tokens[j].end..];
                if ["等国", "两国", "三国", "国"]
                    .iter()
                    .any(|c| after.starts_with(c))
                {
                    for k in i..=j {
                        if let Some(country) = abbrev_countries(&tokens[k]) {
                            choice[k] = Some(country);
                        }
                    }
                }
            }
            i = j + 1;
        }
    }

    /// One-character abbreviations count only in lists of places: next to
    /// another region form, joined by 、 or nothing (川、滇、两广、晋冀陕甘).
    /// The run of abbreviation and group tokens around token `i` (joined by
    /// 、, 和, 及 or nothing) counts as a list of places when it has three or
    /// more members, a separator, or a cue word after it (中缅边境, 晋冀等).
    fn in_enumeration(&self, tokens: &[Token], i: usize) -> bool {
        let text = self.text();
        let is_list_token = |t: &Token| {
            t.meanings(self.lex).iter().any(|m| {
                matches!(
                    m,
                    Meaning::Region {
                        form: FormKind::Abbrev,
                        ..
                    } | Meaning::RegionGroup { .. }
                )
            })
        };
        let joined = |a: &Token, b: &Token| {
            let gap = &text[a.end..b.start];
            gap.is_empty() || gap == "、" || gap == "和" || gap == "及"
        };
        let mut first = i;
        while first > 0
            && is_list_token(&tokens[first - 1])
            && joined(&tokens[first - 1], &tokens[first])
        {
            first -= 1;
        }
        let mut last = i;
        while last + 1 < tokens.len()
            && is_list_token(&tokens[last + 1])
            && joined(&tokens[last], &tokens[last + 1])
        {
            last += 1;
        }
        let members = last - first + 1;
        if members < 2 {
            return false;
        }
        let separated = (first..last).any(|k| tokens[k].end < tokens[k + 1].start);
        let after = &text[tokens[last].end..];
        members >= 3
            || separated
            || self
                .lex
                .enumeration_cues
                .iter()
                .any(|c| after.starts_with(c.as_str()))
    }

    /// What 该局, 该支队, 该院 … stands for: the latest agency named before it
    /// whose name ends so; with the end of the reference.
    fn demonstrative_target(&self, token: &Token) -> Option<(EntityId, usize)> {
        let after = &self.clean.text[token.end..];
        let suffix = self
            .lex
            .demonstrative_bodies
            .iter()
            .find(|s| after.starts_with(s.as_str()))?;
        // The body the article is about is named most often; among equals,
        // the latest named (该局 after 开鲁县公安局 … 药监局 is the 公安局).
        let mut counts: HashMap<&EntityId, (usize, usize)> = HashMap::default();
        for (order, m) in self.mentions.iter().enumerate() {
            if m.start < token.start
                && m.id.class == EntityClass::Agency
                && !m.partial
                && m.id.key.ends_with(suffix)
            {
                let entry = counts.entry(&m.id).or_insert((0, 0));
                entry.0 += 1;
                entry.1 = order;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, (count, last))| (*count, *last))
            .map(|(id, _)| (id.clone(), token.end + suffix.len()))
    }

    /// The region an agency is located in, when known.
    fn located_in(&self, id: &EntityId) -> Option<usize> {
        let object = self.relations.first_object(id, Property::LocatedIn)?;
        match &*object.key {
            code if self.lex.region_by_code.contains_key(code) => {
                self.lex.region_by_code.get(code).copied()
            }
            name => self
                .lex
                .region_by_name
                .get(name)
                .and_then(|v| v.first().copied()),
        }
    }

    /// 该局, 该支队, 该院: the latest agency before it whose name ends so.
    fn demonstrative(&mut self, token: &Token) {
        if let Some((id, end)) = self.demonstrative_target(token) {
            let surface = self.surface(token.start, end);
            if let Some(e) = self.kn.entities.get_mut(&id)
                && !e.alt_labels.contains(&*surface)
            {
                e.alt_labels.insert(surface.into_owned());
            }
            self.mentions.push(Mention {
                start: token.start,
                end,
                id,
                in_agency: false,
                partial: false,
            });
        }
    }

    /// Campaigns: quoted names with a campaign word, and lexicon names.
    fn campaigns(&mut self, tokens: &[Token], consumed: &[bool]) {
        let lex = self.lex;
        let text: &'a str = &self.clean.text;
        let quoted = find_quoted_campaigns(lex, text, self.article.start, self.article.end);
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for cand in &quoted {
            let label = self.campaign_label(&cand.name);
            let id = self.add_campaign(label, cand.start, cand.end);
            if let Some(base) = &cand.edition_of {
                let base_label = self.campaign_label(base);
                // The base campaign is named inside the edition's name, but
                // it is the edition that the text speaks of: no mention of
                // its own, so it gets no participation or case links here.
                let before = self.mentions.len();
                let base_id = self.add_campaign(base_label, cand.start, cand.end);
                self.mentions.truncate(before);
                let ev = self.evidence(cand.start, cand.end, "campaign-edition");
                self.relations
                    .add(id.clone(), Property::PartOf, base_id, Some(ev));
                if let Some(e) = self.kn.entities.get_mut(&id) {
                    e.code = split_edition(&cand.name).1.map(|y| y.to_string());
                }
            }
            taken.push((cand.start, cand.end));
        }
        for (i, token) in tokens.iter().enumerate() {
            if consumed[i]
                || taken
                    .iter()
                    .any(|&(s, e)| s <= token.start && token.end <= e)
            {
                continue;
            }
            for m in token.meanings(lex) {
                if let Meaning::Campaign(c) = m {
                    self.add_campaign(&lex.campaigns[*c].label, token.start, token.end);
                    break;
                }
            }
        }
    }

    /// The canonical campaign label: a lexicon alias resolves to its label.
    fn campaign_label<'n>(&self, name: &'n str) -> &'n str
    where
        'a: 'n,
    {
        let lex: &'a Lexicon = self.lex;
        // A form of the dictionary with a campaign meaning first, then the
        // names that count only when quoted.
        match lex
            .campaign_forms
            .get(name)
            .or_else(|| lex.quoted_campaigns.get(name))
        {
            Some(&c) => &lex.campaigns[c].label,
            None => name,
        }
    }

    fn add_campaign(&mut self, label: &str, start: usize, end: usize) -> EntityId {
        self.add_named(EntityClass::Campaign, label, (start, end), None, None)
    }

    fn cases(&mut self) {
        let text: &'a str = &self.clean.text;
        for cand in find_cases(&self.lex.cases, text, self.article.start, self.article.end) {
            self.add_named(
                EntityClass::Case,
                &cand.name,
                (cand.start, cand.end),
                None,
                cand.code.clone(),
            );
        }
    }

    /// The index of the sentence holding `pos`, if one does.
    fn sentence_of(&self, pos: usize) -> Option<usize> {
        // Sentences are disjoint and in text order: the one holding `pos` is
        // the last that starts at or before it.
        let sentences = &self.article.sentences;
        let after = sentences.partition_point(|&(s, _)| s <= pos);
        after.checked_sub(1).filter(|&i| pos < sentences[i].1)
    }

    fn evidence(&self, start: usize, end: usize, rule: impl Into<Cow<'static, str>>) -> Evidence {
        // One search finds both the sentence's bounds and its shared text
        // (outside every sentence, the article's).
        let found = self.sentence_of(start);
        let (ss, se) = match found {
            Some(i) => self.article.sentences[i],
            None => (self.article.start, self.article.end),
        };
        let (char_start, char_end) = self.clean.orig_span(ss.min(start), se.max(end));
        // The text of a sentence of the article is copied once, on its
        // first fact, and shared by the others.
        let sentence = match found.and_then(|i| self.sentence_texts.get(i)) {
            Some(cell) => cell
                .get_or_init(|| Arc::from(&self.clean.text[ss..se]))
                .clone(),
            None => Arc::from(&self.clean.text[ss..se]),
        };
        Evidence {
            article: self.article_index,
            char_start,
            char_end,
            sentence,
            rule: rule.into(),
        }
    }

    /// Relations read within sentences: participation, case links, cooperation.
    fn link_relations(&mut self) {
        let article: &'a Article = self.article;
        let text: &'a str = &self.clean.text;
        let coop_words: &'a [String] = &self.lex.cooperation_words;
        // The acting agencies of the latest sentence that named some, and
        // the paragraph they were in: a sentence without an agency of its
        // own continues its paragraph's subject (该局…; 号召群众参与禁种铲毒).
        let mut carried: Option<(usize, Vec<Mention>)> = None;
        let body_starts = std::mem::take(&mut self.body_starts);
        for (&(_, se), &ss) in article.sentences.iter().zip(&body_starts) {
            let in_sentence = mentions_within(&self.mentions, ss, se);
            let agencies: Vec<&Mention> = in_sentence
                .iter()
                .filter(|m| m.id.class == EntityClass::Agency && !m.partial)
                .collect();
            let paragraph = self.page.paragraph_start(ss);
            // The subject is lent from `carried`, which holds the group of
            // this sentence when it names agencies (no copy per sentence).
            if !agencies.is_empty() {
                let group = self.subject_group(&agencies).into_iter().cloned().collect();
                carried = Some((paragraph, group));
            }
            let subject: &[Mention] = match &carried {
                Some((p, group)) if *p == paragraph => group,
                _ => &[],
            };
            for m in in_sentence
                .iter()
                .filter(|m| m.id.class == EntityClass::Campaign)
            {
                for a in subject {
                    let ev = self.evidence(
                        a.start.min(m.start),
                        m.end.max(a.end),
                        "participates-sentence-subject",
                    );
                    self.relations.add(
                        a.id.clone(),
                        Property::ParticipatesIn,
                        m.id.clone(),
                        Some(ev),
                    );
                }
            }
            let cases: Vec<&Mention> = in_sentence
                .iter()
                .filter(|m| m.id.class == EntityClass::Case)
                .collect();
            // A place or drug belongs to the case written nearest to it.
            // Details follow the case they describe (“8·06”案，涉及云南、陕西…，
            // 缴获海洛因…，破获“5·25”案): a place or drug belongs to the last
            // case named before it, else to the first after it.
            let nearest_case = |m: &Mention| -> Option<&EntityId> {
                cases
                    .iter()
                    .rev()
                    .find(|c| c.end <= m.start)
                    .or_else(|| cases.iter().find(|c| c.start >= m.end))
                    .map(|c| &c.id)
            };
            // A case in a paragraph that names a campaign before it, with no
            // campaign of its own sentence, is part of that campaign
            // (持续推进“清源断流”行动……先后侦破“8·12”案).
            let sentence_has_campaign = in_sentence
                .iter()
                .any(|m| m.id.class == EntityClass::Campaign);
            let paragraph_campaign = if sentence_has_campaign {
                None
            } else {
                // Mentions are sorted by start: one ending by `ss` starts by
                // it, and going back, none before one that starts before the
                // paragraph starts within it.
                let upto = self.mentions.partition_point(|m| m.start <= ss);
                self.mentions[..upto]
                    .iter()
                    .rev()
                    .take_while(|m| m.start >= paragraph)
                    .find(|m| m.id.class == EntityClass::Campaign && m.end <= ss)
            };
            for case in &cases {
                if let Some(c) = &paragraph_campaign {
                    let ev = self.evidence(c.start, case.end, "case-campaign-same-paragraph");
                    self.relations.add(
                        case.id.clone(),
                        Property::UnderCampaign,
                        c.id.clone(),
                        Some(ev),
                    );
                }
                for a in agencies.iter().filter(|a| a.end <= case.start) {
                    if self.supervises(&text[a.end..se]) {
                        let ev = self.evidence(a.start, case.end, "case-supervised-same-sentence");
                        self.relations.add(
                            case.id.clone(),
                            Property::SupervisedBy,
                            a.id.clone(),
                            Some(ev),
                        );
                        continue;
                    }
                    let ev = self.evidence(a.start, case.end, "case-handled-same-sentence");
                    self.relations.add(
                        case.id.clone(),
                        Property::HandledBy,
                        a.id.clone(),
                        Some(ev),
                    );
                }
                // Places and drugs belong to the nearest case; a campaign
                // of the sentence to each of its cases.
                let links = [
                    (
                        EntityClass::Region,
                        Property::OccurredIn,
                        "case-region-same-sentence",
                        true,
                    ),
                    (
                        EntityClass::Drug,
                        Property::InvolvesDrug,
                        "case-drug-same-sentence",
                        true,
                    ),
                    (
                        EntityClass::Campaign,
                        Property::UnderCampaign,
                        "case-campaign-same-sentence",
                        false,
                    ),
                ];
                for (class, property, rule, nearest_only) in links {
                    let targets: Vec<&Mention> = in_sentence
                        .iter()
                        .filter(|m| m.id.class == class && !m.in_agency)
                        .filter(|m| !self.is_outer_place(m, &in_sentence))
                        .filter(|m| !nearest_only || nearest_case(m) == Some(&case.id))
                        .filter(|m| {
                            class != EntityClass::Region
                                || m.start >= case.end
                                || self.place_marked(m, &in_sentence)
                        })
                        .collect();
                    for m in targets {
                        let ev = self.evidence(m.start.min(case.start), m.end.max(case.end), rule);
                        self.relations
                            .add(case.id.clone(), property, m.id.clone(), Some(ev));
                    }
                }
            }
            // Cooperation: agencies in the clause of a cooperation word
            // (none without an agency in the sentence, nor without a word).
            if agencies.is_empty() || !self.lex.cooperation_any.is_match(&text[ss..se]) {
                continue;
            }
            for found in self
                .lex
                .cooperation_matcher
                .find_overlapping_iter(&text[ss..se])
            {
                let entry = &coop_words[found.pattern().as_usize()];
                // `与建立`: 建立 states joint work only after 与/同/和 in its clause.
                let needs_with = cooperation_search_word(entry) != entry.as_str();
                {
                    let p = ss + found.start();
                    let clause_start = text[ss..p]
                        .rfind([',', ';', ':'])
                        .map(|i| ss + i + 1)
                        .unwrap_or(ss);
                    if needs_with && !text[clause_start..p].contains(['与', '同', '和']) {
                        continue;
                    }
                    let clause_end = text[p..se]
                        .find([',', ';', ':'])
                        .map(|i| p + i)
                        .unwrap_or(se);
                    let left: Vec<&&Mention> = agencies
                        .iter()
                        .filter(|a| a.start >= clause_start && a.end <= p)
                        .collect();
                    let right: Vec<&&Mention> = agencies
                        .iter()
                        .filter(|a| a.start >= p && a.end <= clause_end)
                        .collect();
                    // 与/同 before the agencies names them as partners of the
                    // sentence's subject rather than of each other.
                    let with_partner = left.first().is_some_and(|first| {
                        text[clause_start..first.start].contains(['与', '同'])
                    });
                    let mut pairs: Vec<(EntityId, EntityId)> = Vec::new();
                    if !right.is_empty() {
                        for l in &left {
                            for r in &right {
                                pairs.push((l.id.clone(), r.id.clone()));
                            }
                        }
                    } else if left.len() >= 2 && !with_partner {
                        // 由A、B联合主办: the agencies before the word work together.
                        for (x, l) in left.iter().enumerate() {
                            for r in &left[x + 1..] {
                                pairs.push((l.id.clone(), r.id.clone()));
                            }
                        }
                    } else if !left.is_empty() {
                        // 与X、Y合作, 在X协助下: they work with the sentence's subject.
                        for s in subject {
                            for l in &left {
                                if s.id != l.id {
                                    pairs.push((s.id.clone(), l.id.clone()));
                                }
                            }
                        }
                    }
                    for (a, b) in pairs {
                        if self.related_by_chain(&a, &b) {
                            continue;
                        }
                        let ev = self.evidence(clause_start, clause_end, "cooperation-clause");
                        self.relations.add(a, Property::CooperatesWith, b, Some(ev));
                    }
                }
            }
        }
        self.body_starts = body_starts;
    }

    /// True when the text right after an agency says it supervised or
    /// guided (公安部督办, 禁毒总队指导): no handling.
    fn supervises(&self, after: &str) -> bool {
        let head_end = after.char_indices().nth(6).map_or(after.len(), |(i, _)| i);
        self.lex.supervision_words.any_in(&after[..head_end])
    }

    /// A case is often named in one sentence and described in the next
    /// ones (经查，张某某等人从广州市购入冰毒，在鹤城区贩卖): the sentences after
    /// it, up to the next case and at most a few, add its places, drugs and
    /// campaigns, and the agencies that act on it with a handling verb.
    fn case_paragraph_links(&mut self) {
        const SCOPE: usize = 4;
        let article: &'a Article = self.article;
        let text: &'a str = &self.clean.text;
        // The case named last, the sentences since, and its paragraph.
        let mut current: Option<(EntityId, usize, usize)> = None;
        let body_starts = std::mem::take(&mut self.body_starts);
        for (&(ss, se), &body_start) in article.sentences.iter().zip(&body_starts) {
            let paragraph = self.page.paragraph_start(ss);
            let ss = body_start;
            let in_sentence = mentions_within(&self.mentions, ss, se);
            if let Some(case) = in_sentence
                .iter()
                .rev()
                .find(|m| m.id.class == EntityClass::Case)
            {
                current = Some((case.id.clone(), 0, paragraph));
                continue;
            }
            // The case is lent from `current`, not copied per sentence.
            let Some((case, since, case_paragraph)) = &mut current else {
                continue;
            };
            // 此案, 该案: the sentence is about the case, however far on.
            let refers_back = self.lex.case_references.any_in(&text[ss..se]);
            if refers_back {
                *since = 0;
            }
            // Campaigns of a later paragraph frame what was done then, not
            // the case, unless the sentence names the case again.
            let campaigns_count = refers_back || paragraph == *case_paragraph;
            // Past the scope the case stays known but silent: a sentence
            // that refers back to it (此案是…) revives it however far on.
            if *since >= SCOPE {
                continue;
            }
            *since += 1;
            let case: &EntityId = case;
            let (os, oe) = self.clean.orig_span(ss, se);
            // A sentence that counts cases solved (今年以来，全省共破获毒品案件
            // 32起) speaks of many cases, not of this one.
            let reports_totals = self.kn.statistics.iter().any(|st| {
                st.evidence.article == self.article_index
                    && st.evidence.char_start < oe
                    && os < st.evidence.char_end
                    && &*st.metric == "casesSolved"
            });
            if reports_totals {
                continue;
            }
            let text_after = |m: &Mention| &text[m.end..se];
            for a in in_sentence
                .iter()
                .filter(|m| m.id.class == EntityClass::Agency && !m.partial)
            {
                if self.supervises(text_after(a)) {
                    let ev = self.evidence(a.start, a.end, "case-supervised-following-sentence");
                    self.relations.add(
                        case.clone(),
                        Property::SupervisedBy,
                        a.id.clone(),
                        Some(ev),
                    );
                }
            }
            let links = [
                (
                    EntityClass::Region,
                    Property::OccurredIn,
                    "case-region-following-sentence",
                ),
                (
                    EntityClass::Drug,
                    Property::InvolvesDrug,
                    "case-drug-following-sentence",
                ),
                (
                    EntityClass::Campaign,
                    Property::UnderCampaign,
                    "case-campaign-following-sentence",
                ),
            ];
            for (class, property, rule) in links {
                if class == EntityClass::Campaign && !campaigns_count {
                    continue;
                }
                let targets: Vec<&Mention> = in_sentence
                    .iter()
                    .filter(|m| m.id.class == class && !m.in_agency)
                    .filter(|m| !self.is_outer_place(m, &in_sentence))
                    .filter(|m| class != EntityClass::Region || self.place_marked(m, &in_sentence))
                    .collect();
                for m in targets {
                    let ev = self.evidence(m.start, m.end, rule);
                    self.relations
                        .add(case.clone(), property, m.id.clone(), Some(ev));
                }
            }
            let sentence = &text[ss..se];
            if self.lex.handling_verbs.any_in(sentence) {
                let agencies: Vec<&Mention> = in_sentence
                    .iter()
                    .filter(|m| m.id.class == EntityClass::Agency && !m.partial)
                    .collect();
                // The sentence's subject, and any agency whose own clause has
                // a handling verb (该案由A侦破，B提起公诉).
                let mut handlers = self.subject_group(&agencies);
                for a in &agencies {
                    let clause_end = text[a.end..se]
                        .find([',', ';', '。'])
                        .map_or(se, |i| a.end + i);
                    let clause = &text[a.end..clause_end];
                    if self.lex.handling_verbs.any_in(clause)
                        && !handlers.iter().any(|h| h.id == a.id)
                    {
                        handlers.push(a);
                    }
                }
                for a in handlers {
                    // Supervisors were linked above.
                    if self.supervises(&text[a.end..se]) {
                        continue;
                    }
                    let ev = self.evidence(a.start, a.end, "case-handled-following-sentence");
                    self.relations
                        .add(case.clone(), Property::HandledBy, a.id.clone(), Some(ev));
                }
            }
        }
    }

    /// Whether a place is introduced as where something happened: a marker
    /// (在, 从, 至 …) right before it, or before the list it ends
    /// (在鹤城区、洪江市).
    fn place_marked(&self, m: &Mention, in_sentence: &[Mention]) -> bool {
        let text = self.text();
        let mut start = m.start;
        // Walk back over places written before it: nested (广东省广州市) or
        // listed with 、 (鹤城区、洪江市).
        loop {
            let before = &text[..start];
            let joint = before.strip_suffix('、').unwrap_or(before).len();
            match in_sentence
                .iter()
                .find(|p| p.end == joint && p.start < start && p.id.class == EntityClass::Region)
            {
                Some(p) => start = p.start,
                None => break,
            }
        }
        let head: String = {
            let mut chars: Vec<char> = text[..start].chars().rev().take(2).collect();
            chars.reverse();
            chars.into_iter().collect()
        };
        self.lex
            .place_markers
            .iter()
            .any(|w| head.ends_with(w.as_str()))
    }

    /// A place written just before a place inside it (六盘水市 of
    /// 六盘水市钟山区) only locates the next one: the lower place is the one
    /// meant.
    fn is_outer_place(&self, m: &Mention, in_sentence: &[Mention]) -> bool {
        m.id.class == EntityClass::Region
            && in_sentence.iter().any(|n| {
                n.start == m.end
                    && n.id.class == EntityClass::Region
                    && self.relations.contains(&n.id, Property::PartOf, &m.id)
            })
    }

    /// The agencies a sentence is about: its first agency and those joined
    /// to it by 、, 和, 与, 及 or a cooperation word (西藏自治区禁毒办、拉萨市禁毒办联合主办).
    fn subject_group<'m>(&self, agencies: &[&'m Mention]) -> Vec<&'m Mention> {
        let text = self.text();
        let mut group: Vec<&'m Mention> = Vec::new();
        for &a in agencies {
            match group.last() {
                None => group.push(a),
                Some(prev) => {
                    let gap = text.get(prev.end..a.start).unwrap_or("");
                    let joined = gap.is_empty()
                        || ["、", "和", "与", "及", "同"].contains(&gap)
                        || self.lex.cooperation_words.iter().any(|w| w == gap);
                    if joined {
                        group.push(a);
                    } else {
                        break;
                    }
                }
            }
        }
        group
    }

    fn related_by_chain(&self, a: &EntityId, b: &EntityId) -> bool {
        let chain =
            |x: &EntityId, y: &EntityId| self.relations.contains(x, Property::SubOrganizationOf, y);
        a.key.starts_with(&*b.key) || b.key.starts_with(&*a.key) || chain(a, b) || chain(b, a)
    }

    /// Figures of the contract's metrics, with drug, reporter and period.
    fn statistics(&mut self) {
        let text: &'a str = &self.clean.text;
        let article: &'a Article = self.article;
        let lex: &'a Lexicon = self.lex;
        let grammar = &lex.figure_grammar;
        for &(ss, se) in &article.sentences {
            let mut previous_figure_end = ss;
            let mut previous_clause: Option<(usize, usize)> = None;
            let sentence = &text[ss..se];
            // The periods the sentence names, read at its first statistic.
            let mut sentence_periods = None;
            for fig in figures(grammar, text, ss, se) {
                let before = &text[ss..fig.start];
                // A clause starts after the last comma-like mark or, in a
                // list (毒品167公斤、羟亚胺2.97吨), after the previous figure.
                // The marks are ASCII bytes, which no other char's UTF-8
                // holds, and only one after the previous figure can count.
                let from = previous_figure_end - ss;
                let clause_start = before.as_bytes()[from..]
                    .iter()
                    .rposition(|b| matches!(b, b',' | b';' | b':'))
                    .map_or(from, |i| from + i + 1);
                let clause = before[clause_start..].trim_start_matches('、');
                let earlier = &before[..clause_start];
                let unit_fits =
                    |r: &crate::lexicon::MetricRule| r.figure_units >> fig.unit_index & 1 != 0;
                let mut rule = self.lex.metrics.iter().enumerate().find(|(_, r)| {
                    unit_fits(r)
                        && (r.with_verb.is_match(clause)
                            || r.object_only.is_match(clause) && r.verbs.is_match(earlier))
                });
                // 查获海洛因15块,重达5公斤: the weight of what the clause
                // before it seized.
                if rule.is_none()
                    && lex.weight_leads.contains(clause)
                    && let Some((ps, pe)) = previous_clause
                {
                    let prev = &text[ps..pe];
                    rule = self
                        .lex
                        .metrics
                        .iter()
                        .enumerate()
                        .find(|(_, r)| unit_fits(r) && r.with_verb.is_match(prev));
                }
                previous_figure_end = fig.end;
                previous_clause = Some((ss + clause_start, fig.end));
                let Some((rule_index, rule)) = rule else {
                    continue;
                };
                let factor = self.lex.figure_unit_factors[fig.unit_index] as f64;
                let rounded = round_thousandths(fig.value * factor);
                if !self
                    .seen_statistics
                    .insert((rule_index, decimal_key(rounded)))
                {
                    continue;
                }
                let value = decimal_text(rounded);
                let abs_clause = ss + clause_start;
                // The mentions (sorted by start) that start within `from..=to`:
                // those before cannot lie within a span starting at `from`,
                // those after cannot end by `to`; the first mention a search
                // finds among them is the one a search through all finds.
                let mentions: &[Mention] = &self.mentions;
                let starting_within = |from: usize, to: usize| {
                    let first = mentions.partition_point(|m| m.start < from);
                    mentions[first..].iter().take_while(move |m| m.start <= to)
                };
                // Most clauses lack even the 折, which a byte search finds.
                let drug = if clause.contains('折') && clause.contains("折算") {
                    None
                } else {
                    starting_within(abs_clause, fig.end)
                        .find(|m| m.id.class == EntityClass::Drug && m.end <= fig.end)
                        .map(|m| m.id.clone())
                };
                // Whose figure: the agency the sentence names before it, else
                // the place it names (全市共查获…), else the agency the
                // paragraph is about (the first it names).
                let paragraph = self.page.paragraph_start(ss);
                let before_figure = |m: &&Mention| m.end <= fig.start;
                let reported_by = starting_within(ss, fig.start)
                    .filter(before_figure)
                    .find(|m| m.id.class == EntityClass::Agency && !m.partial)
                    .or_else(|| {
                        starting_within(ss, fig.start)
                            .filter(before_figure)
                            .find(|m| m.id.class == EntityClass::Region && !m.in_agency)
                    })
                    .or_else(|| {
                        starting_within(paragraph, ss).find(|m| {
                            m.end <= ss && m.id.class == EntityClass::Agency && !m.partial
                        })
                    })
                    .map(|m| m.id.clone());
                let periods = sentence_periods.get_or_insert_with(|| lex.periods.all_in(sentence));
                let (period_start, period_end, period_text) =
                    self.period(sentence, periods, fig.start - ss);
                let ev = self.evidence(fig.start, fig.end, rule.evidence_rule);
                self.kn.statistics.push(Statistic {
                    metric: rule.metric.clone(),
                    value,
                    approximate: fig.approximate,
                    unit: fig.unit,
                    drug,
                    reported_by,
                    period_start,
                    period_end,
                    period_text,
                    evidence: ev,
                });
            }
        }
    }

    /// Reads the period a figure at byte `end` of a sentence covers from
    /// the text before it: the last the lexicon's period words make (see
    /// [`crate::period`]; `periods` are the sentence's), with the article's
    /// year (of its date, else of its page) and date put in.
    fn period(
        &self,
        sentence: &str,
        periods: &[PeriodMatch],
        end: usize,
    ) -> (Option<String>, Option<String>, Option<String>) {
        let Some(found) = self.lex.periods.last_before(sentence, periods, end) else {
            return (None, None, None);
        };
        let year = self
            .date
            .as_ref()
            .and_then(|d| d[..4].parse::<i32>().ok())
            .or(self.page.year);
        let (start, end) = found.dates(year, self.date.as_deref());
        (start, end, Some(found.text.to_string()))
    }
}

/// The mentions lying within `start..end`, from mentions sorted by
/// position: borrowed as one run when none of them reaches past `end`
/// (the usual case; names do not cross sentences), else copied.
fn mentions_within(mentions: &[Mention], start: usize, end: usize) -> Cow<'_, [Mention]> {
    let first = mentions.partition_point(|m| m.start < start);
    let last = first + mentions[first..].partition_point(|m| m.start < end);
    let run = &mentions[first..last];
    if run.iter().all(|m| m.end <= end) {
        Cow::Borrowed(run)
    } else {
        Cow::Owned(run.iter().filter(|m| m.end <= end).cloned().collect())
    }
}

/// The entity id of a gazetteer region.
pub fn region_id(lex: &Lexicon, index: usize) -> EntityId {
    let region = &lex.regions[index];
    EntityId::new(
        EntityClass::Region,
        region.code.as_deref().unwrap_or(&region.name),
    )
}

/// Renders a value as a plain decimal (no exponent, no trailing zeros).
pub fn format_decimal(v: f64) -> String {
    decimal_text(round_thousandths(v))
}

/// The number [`format_decimal`] writes.
fn round_thousandths(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A key for the text [`decimal_text`] writes for a number, equal for two
/// numbers exactly when their texts are: the texts differ for numbers that
/// differ (whole ones below 9e15 written as integers, the others in the
/// shortest form that reads back as the same float, which holds a point or
/// is a whole number of at least 9e15, so the two kinds never meet), but
/// for 0 and -0 (both `0`) and the NaNs (all `NaN`). Keying a set by it
/// spares a string hash and copy per figure.
fn decimal_key(rounded: f64) -> u64 {
    if rounded == 0.0 {
        0
    } else if rounded.is_nan() {
        f64::NAN.to_bits()
    } else {
        rounded.to_bits()
    }
}

/// The text [`format_decimal`] writes for a number it has rounded.
fn decimal_text(rounded: f64) -> String {
    // Whole numbers (most counts and grams) print as integers; the rest in
    // the shortest form that reads back as the same number, which for a
    // value rounded to thousandths has at most three decimals. (`{:.3}`
    // would give the same digits through a much slower exact formatter.)
    if rounded.fract() == 0.0 && rounded.abs() < 9.0e15 {
        return (rounded as i64).to_string();
    }
    format!("{rounded}")
}

/// Merges per-source fragments, in order, into one knowledge base.
pub fn merge(fragments: Vec<Knowledge>) -> Knowledge {
    let mut kn = Knowledge::default();
    for frag in fragments {
        let source_offset = kn.sources.len();
        let article_offset = kn.articles.len();
        kn.sources.extend(frag.sources);
        kn.articles.extend(frag.articles.into_iter().map(|mut a| {
            a.source += source_offset;
            a
        }));
        for (_, mut e) in frag.entities {
            e.mentioned_in = e.mentioned_in.iter().map(|a| a + article_offset).collect();
            kn.upsert_entity(e);
        }
        for (key, rel) in frag.relations {
            if rel.evidence.is_empty() {
                kn.add_relation(key.subject.clone(), key.property, key.object.clone(), None);
            }
            for mut ev in rel.evidence {
                ev.article += article_offset;
                kn.add_relation(
                    key.subject.clone(),
                    key.property,
                    key.object.clone(),
                    Some(ev),
                );
            }
        }
        kn.statistics
            .extend(frag.statistics.into_iter().map(|mut s| {
                s.evidence.article += article_offset;
                s
            }));
    }
    kn
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The char-by-char counting pass `Original::with_counts` replaced.
    fn counts_by_chars(lex: &Lexicon, text: &str) -> (Vec<u32>, (usize, usize, usize)) {
        let mut char_starts = Vec::new();
        let (mut cjk, mut traditional, mut convertible) = (0, 0, 0);
        for (i, c) in text.char_indices() {
            char_starts.push(i as u32);
            if c < lex.t2s_floor {
                continue;
            }
            let changes = lex.t2s.contains_key(&c);
            convertible += changes as usize;
            if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
                cjk += 1;
                traditional += changes as usize;
            }
        }
        char_starts.push(text.len() as u32);
        (char_starts, (cjk, traditional, convertible))
    }

    #[test]
    fn campaign_forms_give_the_first_campaign_meaning_of_a_form() {
        let lex = Lexicon::embedded().unwrap();
        // What campaign_label read by a binary search of the forms.
        let searched = |name: &str| -> Option<usize> {
            let i = lex
                .forms
                .binary_search_by(|(form, _)| form.as_str().cmp(name))
                .ok()?;
            lex.forms[i].1.iter().find_map(|m| match m {
                Meaning::Campaign(c) => Some(*c),
                _ => None,
            })
        };
        let mut campaigns = 0;
        for (form, _) in &lex.forms {
            assert_eq!(lex.campaign_forms.get(form).copied(), searched(form));
            campaigns += searched(form).is_some() as usize;
        }
        assert_eq!(lex.campaign_forms.len(), campaigns);
        assert!(campaigns > 0);
    }

    #[test]
    fn counts_read_by_bytes_are_those_read_by_chars() {
        let lex = Lexicon::embedded().unwrap();
        let alphabet: Vec<char> =
            "禁毒廳總廈門乾县一㐀䷀鿿\u{3000}\u{4DFF}\u{E000}\u{FFFF}aZ1 \n,，。é·ＡＢ𠀀𡚁\u{0}\u{7F}\u{80}\u{7FF}\u{800}"
                .chars()
                .chain(lex.t2s.keys().copied().take(40))
                .collect();
        let mut texts = crate::testing::random_texts(&alphabet, 40, 0x7E57_C0DE_0000_0003, 20_000);
        for (_, page) in crate::pipeline::SEEDS {
            texts.push(String::from_utf8_lossy(page).into_owned());
        }
        let mut traditional = 0;
        for text in &texts {
            let (original, counts) = Original::with_counts(&lex, text);
            let (starts, by_chars) = counts_by_chars(&lex, text);
            assert_eq!(original.char_starts, starts, "{text:?}");
            assert_eq!(counts, by_chars, "{text:?}");
            traditional += counts.1;
        }
        assert!(traditional > 1_000, "{traditional}");
    }

    fn extract(text: &str) -> Knowledge {
        let lex = Lexicon::embedded().unwrap();
        let source = Source::from_bytes("t.txt", text.as_bytes()).unwrap();
        extract_source(&lex, &source)
    }

    fn labels(kn: &Knowledge, class: EntityClass) -> Vec<String> {
        kn.entities
            .values()
            .filter(|e| e.id.class == class && !e.mentioned_in.is_empty())
            .map(|e| e.label.clone())
            .collect()
    }

    /// Fails with the labels found when one of `expected` is missing.
    fn assert_labels(kn: &Knowledge, class: EntityClass, expected: &[&str]) {
        let found = labels(kn, class);
        for label in expected {
            assert!(
                found.iter().any(|l| l == label),
                "{label} missing from {found:?}"
            );
        }
    }

    fn has(kn: &Knowledge, s: &str, p: Property, o: &str) -> bool {
        kn.relations.keys().any(|k| {
            k.property == p
                && kn.entities[&k.subject].label == s
                && kn.entities[&k.object].label == o
        })
    }

    #[test]
    fn every_whitespace_char_begins_with_a_listed_byte() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if c.is_whitespace() {
                let mut buf = [0u8; 4];
                let first = c.encode_utf8(&mut buf).as_bytes()[0];
                assert!(may_begin_whitespace(first), "{c:?}");
            }
        }
        let mut texts: Vec<String> = [
            "开鲁县公安局A1",
            "卡·曼",
            "开鲁县 公安局",
            "“净边”\u{3000}行动",
            "",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let alphabet: Vec<char> = "开鲁“”·、。\u{3000}\u{2003}\u{00A0}\u{0085}\u{1680} \n\taé—"
            .chars()
            .collect();
        texts.extend(crate::testing::random_texts(
            &alphabet,
            12,
            0x3C6E_F372_FE94_F82B,
            20_000,
        ));
        for text in &texts {
            assert_eq!(
                first_whitespace(text),
                text.find(char::is_whitespace),
                "{text:?}"
            );
        }
    }

    #[test]
    fn year_parts_are_the_regex_captures() {
        let texts = [
            "2024年",
            "于2023 年",
            "(2025-06",
            "2025/1,",
            "2025.12",
            "2025政法",
            "共2000元",
            "1999年至2001年",
            "编号12024年",
            "2024-13",
            "时间2024年3月,2000余人",
        ];
        for text in texts {
            for caps in YEAR.captures_iter(text) {
                let m = caps.get(0).unwrap().as_str();
                let expected = (&caps[1], caps.get(2).map(|w| w.as_str()));
                assert_eq!(year_parts(m), Some(expected), "{m}");
            }
        }
    }

    #[test]
    fn digit_and_han_classes_are_the_regex_classes() {
        let digit = Regex::new(r"\A\d\z").unwrap();
        let han = Regex::new(r"\A\p{Han}\z").unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let s = c.to_string();
            assert_eq!(is_decimal_digit(c), digit.is_match(&s), "{c:?}");
            assert_eq!(is_han(c), han.is_match(&s), "{c:?}");
        }
    }

    #[test]
    fn full_dates_are_the_regex_captures() {
        let mut texts: Vec<String> = [
            "2024年3月5日",
            "据2024年12月31日消息",
            "12024年5月3日 202412月3日 20204年5月3日",
            "123月4日 5月123日 5月12日 年5月6日 2024年105月1日",
            "１９９９年１月２日 ٢٠٢٤年٣月٤日",
            "",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let pieces = [
            "19",
            "20",
            "2",
            "0",
            "1",
            "9",
            "12",
            "2024",
            "2024年",
            "1999年5",
            "20245年",
            "年",
            "月",
            "5月",
            "12月",
            "日",
            "3日",
            " ",
            "中",
            "٣",
            "０",
            "\u{1D7CE}",
        ];
        texts.extend(crate::testing::random_piece_texts(
            &pieces,
            12,
            0x9E37_79B9_7F4A_7C15,
            200_000,
        ));
        let (mut dated, mut with_year) = (0, 0);
        for text in &texts {
            let expected = FULL_DATE.captures(text).map(|c| {
                (
                    c.get(1).map(|y| y.as_str()),
                    c.get(2).unwrap().as_str(),
                    c.get(3).unwrap().as_str(),
                )
            });
            assert_eq!(full_date(text), expected, "{text:?}");
            dated += expected.is_some() as usize;
            with_year += expected.is_some_and(|(y, _, _)| y.is_some()) as usize;
        }
        // The random texts reach dates with and without a year.
        assert!(dated > 2_000 && with_year > 200, "{dated} {with_year}");
    }

    #[test]
    fn year_matches_are_the_regex_matches() {
        let mut texts: Vec<String> = [
            "2024年",
            "2024-06 2025年",
            "于2023 年,2019/1,2020.12",
            "12024年 2024.5.1 .2024年 2024-13 2024-1",
            "2024２３年 20٣٤年 2020\u{3000}年 2020\u{85}年 2020\n年",
            "2020〇 2020々 2020㐀 2020\u{20000} 2020\u{2F800}",
            "",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        // Random texts over the pieces the pattern reads and a few others:
        // digits of other scripts, Unicode spaces, Han chars outside the
        // unified block (〇 and 々 are Han, 〡 is not). Each char of the
        // generated texts stands for the piece at its place in the list.
        let pieces = [
            "19",
            "20",
            "20",
            "0",
            "1",
            "2",
            "9",
            "12",
            "-",
            "/",
            ".",
            "年",
            "年",
            " ",
            "\n",
            "\t",
            "\u{3000}",
            "\u{85}",
            "中",
            "元",
            "余",
            "a",
            "٣",
            "０",
            "〇",
            "々",
            "〡",
            "㐀",
            "\u{20000}",
            "\u{1D7CE}",
        ];
        texts.extend(crate::testing::random_piece_texts(
            &pieces,
            10,
            0x2545_F491_4F6C_DD1D,
            400_000,
        ));
        for (_, page) in crate::pipeline::SEEDS {
            let layout = crate::lexicon::layout_words(&[]).unwrap();
            texts.push(clean(&String::from_utf8_lossy(page), &layout).text);
        }
        let mut matches = 0;
        for text in &texts {
            let expected: Vec<&str> = YEAR.find_iter(text).map(|m| m.as_str()).collect();
            let found: Vec<&str> = YearMatches::new(text).collect();
            assert_eq!(found, expected, "{text:?}");
            matches += found.len();
        }
        // The random texts reach every alternative of the pattern.
        assert!(matches > 4_000, "{matches}");
    }

    #[test]
    fn decimals_print_as_plain_numbers_rounded_to_thousandths() {
        for (v, text) in [
            (4.1, "4.1"),
            (4100.0, "4100"),
            (2.97e6, "2970000"),
            (1.23456, "1.235"),
            (0.0005, "0.001"),
            (0.0001, "0"),
            (167.25, "167.25"),
            (1.5e13, "15000000000000"),
        ] {
            assert_eq!(format_decimal(v), text, "{v}");
        }
    }

    #[test]
    fn decimal_keys_are_equal_exactly_when_the_texts_are() {
        let mut values = vec![
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9.0e15,
            9.0e15 - 1.0,
            -9.0e15,
            1.0e16,
            1.0e300,
            0.001,
            -0.001,
            0.1 + 0.2,
            0.3,
            4100.0,
            2.97e6,
        ];
        let mut state = 0x7E57_C0DE_0000_0009_u64;
        for _ in 0..3000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Neighbouring floats, whole numbers and thousandths of every size.
            let base =
                (state % 100_000_000) as f64 / 1000.0 * 10f64.powi((state >> 40) as i32 % 20);
            values.push(base);
            values.push(-base);
            values.push(f64::from_bits(base.to_bits() + 1));
            values.push(round_thousandths(base));
            values.push(round_thousandths(base).floor());
        }
        // Each key has one text and each text one key.
        let mut text_of: HashMap<u64, String> = HashMap::default();
        let mut key_of: HashMap<String, u64> = HashMap::default();
        for v in values {
            let rounded = round_thousandths(v);
            let (key, text) = (decimal_key(rounded), decimal_text(rounded));
            assert_eq!(text_of.entry(key).or_insert(text.clone()), &text, "{v}");
            assert_eq!(key_of.entry(text).or_insert(key), &key, "{v}");
        }
    }

    #[test]
    fn mentions_within_borrow_a_sentence_run_and_copy_only_across_its_end() {
        let m = |start, end| Mention {
            start,
            end,
            id: EntityId::new(EntityClass::Drug, "海洛因"),
            in_agency: false,
            partial: false,
        };
        let all = vec![m(0, 3), m(4, 9), m(9, 12), m(12, 20), m(21, 24)];
        let run = mentions_within(&all, 4, 12);
        assert!(matches!(run, Cow::Borrowed(_)));
        assert_eq!(run.iter().map(|x| x.start).collect::<Vec<_>>(), [4, 9]);
        let cut = mentions_within(&all, 9, 15);
        assert!(matches!(cut, Cow::Owned(_)));
        assert_eq!(cut.iter().map(|x| x.start).collect::<Vec<_>>(), [9]);
        assert!(mentions_within(&all, 25, 30).is_empty());
    }

    #[test]
    fn seizures_of_any_drug_in_the_lexicon_count() {
        let kn = extract(
            "本报讯 3月8日，杭州市公安局禁毒支队在一处出租屋内当场缴获甲卡西酮12.5公斤、曲马多300克。",
        );
        let stats: Vec<(&str, &str)> = kn
            .statistics
            .iter()
            .map(|s| (&*s.metric, s.value.as_str()))
            .collect();
        assert!(stats.contains(&("drugsSeized", "12500")), "{stats:?}");
    }

    #[test]
    fn a_cooperation_word_does_not_lend_its_last_character_to_a_place() {
        // 合阳 is a county: 联合 must be read first, leaving 阳高县 whole.
        let kn = extract("5月2日，大同市公安局禁毒支队联合阳高县公安局破获一起贩毒案。");
        assert_labels(&kn, EntityClass::Agency, &["阳高县公安局"]);
        assert_labels(&kn, EntityClass::Region, &["阳高县"]);
        assert!(!labels(&kn, EntityClass::Region).contains(&"合阳县".to_string()));
        assert!(
            has(
                &kn,
                "大同市公安局禁毒支队",
                Property::CooperatesWith,
                "阳高县公安局"
            ) || has(
                &kn,
                "阳高县公安局",
                Property::CooperatesWith,
                "大同市公安局禁毒支队"
            )
        );
    }

    #[test]
    fn agency_chain_with_units_and_regions() {
        let kn = extract(
            "7月3日，昭通市公安局昭阳分局禁毒大队联合昭阳区人民检察院在校园开展禁毒宣传活动。",
        );
        assert_labels(
            &kn,
            EntityClass::Agency,
            &[
                "昭通市公安局",
                "昭通市公安局昭阳分局",
                "昭通市公安局昭阳分局禁毒大队",
                "昭阳区人民检察院",
            ],
        );
        assert!(has(
            &kn,
            "昭通市公安局昭阳分局禁毒大队",
            Property::LocatedIn,
            "昭阳区"
        ));
        assert!(has(
            &kn,
            "昭通市公安局昭阳分局",
            Property::SubOrganizationOf,
            "昭通市公安局"
        ));
        assert!(
            has(
                &kn,
                "昭通市公安局昭阳分局禁毒大队",
                Property::CooperatesWith,
                "昭阳区人民检察院"
            ) || has(
                &kn,
                "昭阳区人民检察院",
                Property::CooperatesWith,
                "昭通市公安局昭阳分局禁毒大队"
            )
        );
        // The outer bodies of the name are named, but are not the actors.
        assert!(!has(
            &kn,
            "昭通市公安局",
            Property::CooperatesWith,
            "昭阳区人民检察院"
        ));
    }

    #[test]
    fn context_words_resolve_to_the_article_region() {
        let kn = extract(
            "宁夏回族自治区禁毒委员会召开全体会议。自治区公安厅通报，全区公安机关深入开展“净边”专项行动，共破获毒品案件215起，抓获犯罪嫌疑人306名，缴获各类毒品折算成海洛因2.3公斤。",
        );
        assert_labels(&kn, EntityClass::Agency, &["宁夏回族自治区公安厅"]);
        assert!(labels(&kn, EntityClass::Campaign).contains(&"净边".to_string()));
        let stats: Vec<(&str, &str)> = kn
            .statistics
            .iter()
            .map(|s| (&*s.metric, s.value.as_str()))
            .collect();
        assert_eq!(
            stats,
            vec![
                ("casesSolved", "215"),
                ("suspectsArrested", "306"),
                ("drugsSeized", "2300")
            ]
        );
        // A figure converted to heroin equivalent names no drug.
        assert!(kn.statistics[2].drug.is_none());
    }

    #[test]
    fn abbreviations_only_in_enumerations() {
        let kn = extract("与黔、两湖、苏浙沪等省市建立禁毒协作机制。队伍黔驴技穷。");
        assert_labels(
            &kn,
            EntityClass::Region,
            &["贵州省", "湖南省", "湖北省", "江苏省", "浙江省", "上海市"],
        );
        let once = extract("队伍黔驴技穷，川流不息。");
        assert!(labels(&once, EntityClass::Region).is_empty());
    }

    #[test]
    fn named_cases_link_to_agency_and_drug() {
        let kn = extract(
            "2024年，云南出入境边防检查总站德宏边境管理支队侦破“3·27”特大运输毒品案，缴获海洛因12公斤。",
        );
        assert!(labels(&kn, EntityClass::Case).contains(&"3·27特大运输毒品案".to_string()));
        let unit = "德宏傣族景颇族自治州边境管理支队";
        assert!(has(&kn, "3·27特大运输毒品案", Property::HandledBy, unit));
        assert!(has(
            &kn,
            unit,
            Property::SubOrganizationOf,
            "云南省出入境边防检查总站"
        ));
        assert!(has(
            &kn,
            "3·27特大运输毒品案",
            Property::InvolvesDrug,
            "海洛因"
        ));
    }

    #[test]
    fn traditional_text_gives_the_simplified_entities() {
        let simplified = extract("福建省公安厅禁毒总队在厦门市缴获海洛因5公斤。");
        let traditional = extract("福建省公安廳禁毒總隊在廈門市繳獲海洛因5公斤。");
        for class in EntityClass::ALL {
            assert_eq!(
                labels(&simplified, class),
                labels(&traditional, class),
                "{class:?}"
            );
        }
        let agency =
            &traditional.entities[&EntityId::new(EntityClass::Agency, "福建省公安厅禁毒总队")];
        assert!(
            agency.alt_labels.contains("福建省公安廳禁毒總隊"),
            "{:?}",
            agency.alt_labels
        );
        assert_eq!(traditional.statistics.len(), 1);
    }

    #[test]
    fn renamed_and_homonym_regions_resolve_by_context() {
        let kn = extract("日喀则地区公安处侦破一起案件。兰州市城关区禁毒大队开展宣传。");
        assert_labels(&kn, EntityClass::Region, &["日喀则市"]);
        let chengguan: Vec<&Entity> = kn
            .entities
            .values()
            .filter(|e| e.label == "城关区" && !e.mentioned_in.is_empty())
            .collect();
        assert_eq!(chengguan.len(), 1);
        assert_eq!(chengguan[0].admin_code.as_deref(), Some("620102"));
        let lhasa = extract("拉萨市城关区公安分局开展宣传。");
        assert!(
            lhasa
                .entities
                .contains_key(&EntityId::new(EntityClass::Region, "540102"))
        );
    }

    #[test]
    fn abbreviations_before_guo_are_countries() {
        let kn = extract("与俄、蒙等国开展禁毒合作。");
        assert_labels(&kn, EntityClass::Region, &["俄罗斯", "蒙古国"]);
        let regions = labels(&kn, EntityClass::Region);
        assert!(
            !regions.contains(&"内蒙古自治区".to_string()),
            "{regions:?}"
        );
    }

    #[test]
    fn district_police_and_the_lowest_place_of_a_case() {
        let kn = extract(
            "武汉江汉警方破获“4·01”贩卖毒品案。经查，嫌疑人在武汉市江汉区贩卖冰毒。该案由武汉市人民检察院提起公诉。",
        );
        assert_labels(&kn, EntityClass::Agency, &["武汉市公安局江汉分局"]);
        assert!(has(&kn, "4·01贩卖毒品案", Property::OccurredIn, "江汉区"));
        assert!(!has(&kn, "4·01贩卖毒品案", Property::OccurredIn, "武汉市"));
        assert!(has(
            &kn,
            "4·01贩卖毒品案",
            Property::HandledBy,
            "武汉市人民检察院"
        ));
    }

    #[test]
    fn places_in_a_list_share_the_body_after_them() {
        let kn = extract(
            "在成都、昆明警方协助下，重庆市公安局禁毒总队破获此案。天山区、沙依巴克区禁毒办联合开展宣传。",
        );
        assert_labels(
            &kn,
            EntityClass::Agency,
            &[
                "成都市公安局",
                "昆明市公安局",
                "天山区禁毒委员会办公室",
                "沙依巴克区禁毒委员会办公室",
            ],
        );
        assert!(has(&kn, "成都市公安局", Property::LocatedIn, "成都市"));
    }

    #[test]
    fn supervision_is_kept_apart_from_handling() {
        let kn = extract("兰州市公安局破获公安部督办“5·25”目标案件，抓获犯罪嫌疑人33名。");
        assert!(has(&kn, "5·25目标案件", Property::SupervisedBy, "公安部"));
        assert!(!has(&kn, "5·25目标案件", Property::HandledBy, "公安部"));
        assert!(has(
            &kn,
            "5·25目标案件",
            Property::HandledBy,
            "兰州市公安局"
        ));
    }

    #[test]
    fn a_case_takes_places_and_drugs_from_the_sentences_after_it() {
        let kn = extract(
            "七星关区人民检察院对杨某某等4人贩卖毒品案提起公诉。经审查，被告人多次从云南省购入冰毒，在大方县贩卖。",
        );
        assert!(has(
            &kn,
            "杨某某等4人贩卖毒品案",
            Property::OccurredIn,
            "云南省"
        ));
        assert!(has(
            &kn,
            "杨某某等4人贩卖毒品案",
            Property::InvolvesDrug,
            "冰毒"
        ));
    }

    #[test]
    fn a_sentence_that_refers_back_to_the_case_links_it_however_far_on() {
        let story = "红河州公安局破获“5·17”特大贩卖毒品案，缴获冰毒12公斤。\
            专案组连续多日蹲守。民警随后收网。犯罪嫌疑人落网后供认不讳。\
            办案民警提醒群众及时举报线索。目前案件正在审理中。";
        let close = "此案是红河州公安局开展“清源断流—2024”行动以来破获的最大一起贩毒案件。";
        let case = "5·17特大贩卖毒品案";
        let kn = extract(&format!("{story}{close}"));
        assert!(has(&kn, case, Property::UnderCampaign, "清源断流—2024"));
        // A campaign named past the case's few sentences, with no word that
        // refers back, frames other work.
        let kn = extract(&format!(
            "{story}红河州公安局开展“清源断流—2024”行动，查获吸毒人员30人。"
        ));
        assert!(!has(&kn, case, Property::UnderCampaign, "清源断流—2024"));
    }
}
