//! Periods: the span of time a reported figure covers.
//!
//! In: the text of a sentence before a figure (今年以来，全省共破获…), the
//! words of `data/period_words.tsv` (a [`PeriodGrammar`]) and the article's
//! year and date. Out: the last period the text names ([`PeriodMatch`]) and
//! its first and last day as ISO dates ([`PeriodMatch::dates`]).
//!
//! The grammar around the words is fixed: a year is `19xx年` or `20xx年`
//! in digits, or a year word (今年); after a year come a since word
//! (2023年以来, 2024年3月以来), a span word (今年上半年), or a range of
//! months joined by a range word (2024年1至6月, 2023年1月至2024年3月); two
//! years joined by a range word make a range of years (2019年至2023年). A
//! range of months or a month with a since word may stand without a year
//! (1至10月, 6月以来: the article's year). A year in digits on its own is
//! that whole year; a year word on its own is no period (今年6月 says when
//! something happened, not over which span it was counted). Phrases stand
//! on their own (年初以来, 党的十八大以来).

use anyhow::{Result, bail};

/// One end of a span or phrase as the data file gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSpec {
    /// Not known (an empty field).
    Unknown,
    /// The article's date (`date`).
    ArticleDate,
    /// A day of the period's year (`MM-DD`).
    InYear { month: u32, day: u32 },
    /// A fixed day (`YYYY-MM-DD`).
    Absolute { year: i32, month: u32, day: u32 },
}

impl DateSpec {
    /// Reads `date`, `MM-DD`, `YYYY-MM-DD` or an empty field; a day that
    /// no year has (02-30, 13-01) is an error.
    fn parse(field: &str, absolute_allowed: bool) -> Option<DateSpec> {
        let field = field.trim();
        if field.is_empty() {
            return Some(DateSpec::Unknown);
        }
        if field == "date" {
            return Some(DateSpec::ArticleDate);
        }
        let parts: Vec<&str> = field.split('-').collect();
        let number = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        match parts[..] {
            [m, d] if m.len() == 2 && d.len() == 2 => {
                let (month, day) = (number(m)?, number(d)?);
                // 2000 is a leap year: every MM-DD some year has.
                chrono::NaiveDate::from_ymd_opt(2000, month, day)?;
                Some(DateSpec::InYear { month, day })
            }
            [y, m, d] if absolute_allowed && y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                let (year, month, day) = (number(y)? as i32, number(m)?, number(d)?);
                chrono::NaiveDate::from_ymd_opt(year, month, day)?;
                Some(DateSpec::Absolute { year, month, day })
            }
            _ => None,
        }
    }

    /// The day this end stands for in `year` (None when the year is needed
    /// and unknown), the article's date given.
    fn date(self, year: Option<i32>, article_date: Option<&str>) -> Option<String> {
        match self {
            DateSpec::Unknown => None,
            DateSpec::ArticleDate => article_date.map(str::to_string),
            DateSpec::InYear { month, day } => iso_date(year?, month, day),
            DateSpec::Absolute { year, month, day } => iso_date(year, month, day),
        }
    }
}

/// A word with the first and last day it stands for.
#[derive(Debug, Clone)]
struct DatedWord {
    word: String,
    start: DateSpec,
    end: DateSpec,
}

/// The words of `period_words.tsv`, each list longest first (a longer
/// word wins over a shorter one it starts with: 第一季度 over 一季度 is
/// not a question, but 至今 over 至 is).
#[derive(Debug, Clone)]
pub struct PeriodGrammar {
    /// Year words and their offsets from the article's year.
    years: Vec<(String, i32)>,
    since: Vec<String>,
    spans: Vec<DatedWord>,
    ranges: Vec<String>,
    phrases: Vec<DatedWord>,
    /// The first chars a period can start with besides ASCII digits.
    first_chars: Vec<char>,
    /// The chars periods are found by: 年 and 月, which every form holds
    /// but for the year words and phrases that hold neither, whose first
    /// chars are the rest.
    anchors: AnchorChars,
    /// How far before a 年 or 月 a period holding it can start, in bytes.
    reach: usize,
}

/// A set of chars found in a text, each by a memchr substring search
/// (prebuilt; one SIMD pass a char, with few false starts: the common
/// continuation bytes of Chinese text make a byte search stop often, and an
/// automaton costs more to set up than these texts, sentences, take to
/// search).
#[derive(Debug, Clone)]
struct AnchorChars {
    /// A finder for each char, and whether it is 年 or 月 (a period may
    /// start before it) rather than the first char of a word (a period may
    /// start there only).
    finders: Vec<(memchr::memmem::Finder<'static>, bool)>,
}

impl AnchorChars {
    /// 年, 月 and `firsts`.
    fn new(firsts: &[char]) -> AnchorChars {
        let mut chars: Vec<(char, bool)> = Vec::new();
        let near = ['年', '月'].into_iter().map(|c| (c, true));
        for (c, is_near) in near.chain(firsts.iter().map(|&c| (c, false))) {
            match chars.iter_mut().find(|(k, _)| *k == c) {
                Some(known) => known.1 |= is_near,
                None => chars.push((c, is_near)),
            }
        }
        let finders = chars
            .into_iter()
            .map(|(c, near)| {
                let finder = memchr::memmem::Finder::new(c.to_string().as_bytes()).into_owned();
                (finder, near)
            })
            .collect();
        AnchorChars { finders }
    }

    /// Puts into `out` the byte offset of each char of the set in `text`,
    /// with whether it is 年 or 月 (in no particular order).
    fn find_into(&self, text: &str, out: &mut Vec<(usize, bool)>) {
        for (finder, near) in &self.finders {
            out.extend(finder.find_iter(text.as_bytes()).map(|at| (at, *near)));
        }
    }
}

/// Where a period's year comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearRef {
    /// Written in digits.
    Written(i32),
    /// The article's year plus an offset (今年 0, 去年 -1).
    Relative(i32),
}

impl YearRef {
    fn resolve(self, article_year: Option<i32>) -> Option<i32> {
        match self {
            YearRef::Written(y) => Some(y),
            YearRef::Relative(offset) => article_year.map(|y| y + offset),
        }
    }
}

/// What a matched period says, before the article's year and date are
/// put in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    /// From a year's day (its month and day, January 1 when not written)
    /// to the article's date: 2023年以来, 2024年3月以来, 6月以来.
    Since { year: YearRef, month: u32, day: u32 },
    /// A span of a year: 今年上半年, or a whole written year (2023年).
    Span {
        year: YearRef,
        start: DateSpec,
        end: DateSpec,
    },
    /// From one month (and day) to another: 2024年1至6月 (the last day of
    /// the last month when no day is written).
    Months {
        year: YearRef,
        month: u32,
        day: Option<u32>,
        end_year: YearRef,
        end_month: u32,
        end_day: Option<u32>,
    },
    /// From the first day of a year to the last of another: 2019年至2023年.
    Years { year: YearRef, end_year: YearRef },
    /// A phrase with its own days (年初以来).
    Phrase { start: DateSpec, end: DateSpec },
}

/// A period found in a text: the words that name it and what they say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodMatch<'t> {
    /// Where the words start in the text searched, in bytes.
    pub start: usize,
    pub text: &'t str,
    pub kind: PeriodKind,
}

impl PeriodMatch<'_> {
    /// The period's first and last day, given the article's year (of its
    /// date, else of its page) and date; either is None when the text and
    /// the article do not tell it.
    pub fn dates(
        &self,
        article_year: Option<i32>,
        article_date: Option<&str>,
    ) -> (Option<String>, Option<String>) {
        match self.kind {
            PeriodKind::Since { year, month, day } => (
                year.resolve(article_year)
                    .and_then(|y| iso_date(y, month, day)),
                article_date.map(str::to_string),
            ),
            PeriodKind::Span { year, start, end } => {
                let year = year.resolve(article_year);
                // A span of an unknown year says nothing.
                if year.is_none() {
                    return (None, None);
                }
                (start.date(year, article_date), end.date(year, article_date))
            }
            PeriodKind::Months {
                year,
                month,
                day,
                end_year,
                end_month,
                end_day,
            } => {
                let (Some(y1), Some(y2)) =
                    (year.resolve(article_year), end_year.resolve(article_year))
                else {
                    return (None, None);
                };
                let end_day = end_day.unwrap_or_else(|| last_day(y2, end_month));
                (
                    iso_date(y1, month, day.unwrap_or(1)),
                    iso_date(y2, end_month, end_day),
                )
            }
            PeriodKind::Years { year, end_year } => (
                year.resolve(article_year).and_then(|y| iso_date(y, 1, 1)),
                end_year
                    .resolve(article_year)
                    .and_then(|y| iso_date(y, 12, 31)),
            ),
            PeriodKind::Phrase { start, end } => (
                start.date(article_year, article_date),
                end.date(article_year, article_date),
            ),
        }
    }
}

impl PeriodGrammar {
    /// Builds the grammar from the rows of `period_words.tsv`, each with
    /// where it is (`FILE line N`) and its fields (split at tabs and
    /// trimmed); an error names where the row is and quotes it.
    pub fn from_rows<'r, L: std::fmt::Display>(
        rows: impl IntoIterator<Item = (L, Vec<&'r str>)>,
    ) -> Result<PeriodGrammar> {
        let (mut years, mut since, mut spans, mut ranges, mut phrases) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (at, f) in rows {
            let row = f.join("\t");
            let word = f.get(1).copied().unwrap_or_default();
            if word.is_empty() {
                bail!("{at}: row {row:?}: expected kind, word and the kind's values");
            }
            let field = |i: usize| f.get(i).copied().unwrap_or_default();
            let dated = |absolute_allowed: bool| -> Result<DatedWord> {
                let parse = |i: usize| {
                    DateSpec::parse(field(i), absolute_allowed).ok_or_else(|| {
                        anyhow::anyhow!(
                            "{at}: row {row:?}: {:?} is no day ({})",
                            field(i),
                            if absolute_allowed {
                                "MM-DD, YYYY-MM-DD, date or empty"
                            } else {
                                "MM-DD, date or empty"
                            }
                        )
                    })
                };
                Ok(DatedWord {
                    word: word.to_string(),
                    start: parse(2)?,
                    end: parse(3)?,
                })
            };
            match f[0] {
                "year" => match field(2).parse::<i32>() {
                    Ok(offset) if offset.abs() <= 100 => years.push((word.to_string(), offset)),
                    _ => bail!(
                        "{at}: row {row:?}: a year word's value is its offset from the article's year (今年 0, 去年 -1)"
                    ),
                },
                "since" => since.push(word.to_string()),
                "span" => spans.push(dated(false)?),
                "range" => ranges.push(word.to_string()),
                "phrase" => phrases.push(dated(true)?),
                kind => bail!(
                    "{at}: row {row:?}: unknown kind {kind:?} (year, since, span, range or phrase)"
                ),
            }
        }
        // Longest first; a word given twice keeps its first row (stable sort).
        let by_length = |a: &str, b: &str| b.chars().count().cmp(&a.chars().count());
        years.sort_by(|a: &(String, i32), b| by_length(&a.0, &b.0));
        since.sort_by(|a: &String, b| by_length(a, b));
        spans.sort_by(|a: &DatedWord, b| by_length(&a.word, &b.word));
        ranges.sort_by(|a: &String, b| by_length(a, b));
        phrases.sort_by(|a: &DatedWord, b| by_length(&a.word, &b.word));
        let starters = || {
            years
                .iter()
                .map(|(w, _)| w.as_str())
                .chain(phrases.iter().map(|p| p.word.as_str()))
        };
        let mut first_chars = Vec::new();
        let mut unanchored_firsts = Vec::new();
        for word in starters() {
            let Some(c) = word.chars().next() else {
                continue;
            };
            if !c.is_ascii_digit() && !first_chars.contains(&c) {
                first_chars.push(c);
            }
            if !word.contains(['年', '月']) {
                unanchored_firsts.push(c);
            }
        }
        // How far a form's first 年 or 月 can lie after its start, in
        // bytes: in a word, where its first 年 or 月 is (今年 3); before a
        // year in digits, four digits (2024年); before a month, two digits
        // (12月); before a year after a range, two digits and the range word
        // (1至2024年, 1至今年).
        let anchor_offset = |w: &str| w.find(['年', '月']);
        let year_word_offset = years
            .iter()
            // A word holding neither: two digits and 月 may follow it (1至今岁3月).
            .map(|(w, _)| anchor_offset(w).unwrap_or(w.len() + 2))
            .max()
            .unwrap_or(0);
        let phrase_offset = phrases
            .iter()
            .filter_map(|p| anchor_offset(&p.word))
            .max()
            .unwrap_or(0);
        let longest_range = ranges.iter().map(String::len).max().unwrap_or(0);
        let reach = [
            4,
            year_word_offset,
            phrase_offset,
            2 + longest_range + year_word_offset.max(4),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let anchors = AnchorChars::new(&unanchored_firsts);
        Ok(PeriodGrammar {
            years,
            since,
            spans,
            ranges,
            phrases,
            first_chars,
            anchors,
            reach,
        })
    }

    /// The last period the text names: matches are taken from the left,
    /// the longest at each place, each search going on after the last
    /// match.
    pub fn last_in<'t>(&self, text: &'t str) -> Option<PeriodMatch<'t>> {
        let mut last = None;
        self.scan(text, |m| last = Some(m));
        last
    }

    /// Every period the text names, in order, as [`Self::last_in`] reads
    /// them.
    pub fn all_in<'t>(&self, text: &'t str) -> Vec<PeriodMatch<'t>> {
        let mut all = Vec::new();
        self.scan(text, |m| all.push(m));
        all
    }

    /// The last period a text names before byte `end`, from the periods
    /// of the whole text ([`Self::all_in`]): the same as `last_in` of the
    /// text up to `end`, read once for a sentence with several figures
    /// instead of once for each. (A period of the whole text that ends
    /// before `end` is one of the part too: each is the longest at its
    /// place, and whatever the part reads there the whole reads; one that
    /// runs past `end` leaves the part to be read again.)
    pub fn last_before<'t>(
        &self,
        text: &'t str,
        all: &[PeriodMatch<'t>],
        end: usize,
    ) -> Option<PeriodMatch<'t>> {
        let starting_before = &all[..all.partition_point(|m| m.start < end)];
        match starting_before.last() {
            Some(m) if m.start + m.text.len() > end => self.last_in(&text[..end]),
            last => last.copied(),
        }
    }

    /// Hands `found` each period of the text in order. Only the places near
    /// a 年 or 月, or at a word holding neither, are tried (most text before
    /// a figure has no period).
    fn scan<'t>(&self, text: &'t str, mut found: impl FnMut(PeriodMatch<'t>)) {
        // The places to try: before each 年 or 月 as far as a form holding
        // it can start, and at the first char of each word holding neither
        // (a window there may lie before the one of an earlier 年, so they
        // are sorted and merged before the places are tried in order).
        let mut anchors = Vec::new();
        self.anchors.find_into(text, &mut anchors);
        let mut windows: Vec<(usize, usize)> = anchors
            .into_iter()
            .map(|(to, near)| {
                (
                    if near {
                        to.saturating_sub(self.reach)
                    } else {
                        to
                    },
                    to,
                )
            })
            .collect();
        windows.sort_unstable();
        // Where the next match may start (after the last) and where the
        // places tried end.
        let mut pos = 0;
        let mut tried = 0;
        for (from, to) in windows {
            let mut from = from.max(tried);
            while !text.is_char_boundary(from) {
                from += 1;
            }
            if from > to {
                continue;
            }
            tried = to + 1;
            let mut prev = text[..from].chars().next_back();
            for (i, c) in text[from..].char_indices() {
                let at = from + i;
                if at > to {
                    break;
                }
                let before = prev.replace(c);
                if at < pos || !(c.is_ascii_digit() || self.first_chars.contains(&c)) {
                    continue;
                }
                if let Some(m) = self.longest_at(text, at, before) {
                    pos = at + m.text.len();
                    found(m);
                }
            }
        }
    }

    /// The longest period starting at byte `at` (`prev` the char before).
    fn longest_at<'t>(
        &self,
        text: &'t str,
        at: usize,
        prev: Option<char>,
    ) -> Option<PeriodMatch<'t>> {
        let rest = &text[at..];
        let mut best = None;
        let mut offer = |len: usize, kind: PeriodKind| keep_longer(&mut best, len, kind);
        if let Some((len, year)) = self.year_at(rest) {
            if let Some((more, kind)) = self.after_year(&rest[len..], year) {
                offer(len + more, kind);
            } else if let YearRef::Written(_) = year {
                // A year in digits on its own: the whole year.
                offer(
                    len,
                    PeriodKind::Span {
                        year,
                        start: DateSpec::InYear { month: 1, day: 1 },
                        end: DateSpec::InYear { month: 12, day: 31 },
                    },
                );
            }
        }
        // A month without a year (6月以来, 1至10月): not inside a number.
        if !prev.is_some_and(|p| p.is_ascii_digit() || p == '.')
            && let Some((len, kind)) = self.months_at(rest, YearRef::Relative(0))
        {
            offer(len, kind);
        }
        for phrase in &self.phrases {
            if rest.starts_with(phrase.word.as_str()) {
                offer(
                    phrase.word.len(),
                    PeriodKind::Phrase {
                        start: phrase.start,
                        end: phrase.end,
                    },
                );
                break;
            }
        }
        best.map(|(len, kind)| PeriodMatch {
            start: at,
            text: &rest[..len],
            kind,
        })
    }

    /// A year at the start of `text`: `19xx年`/`20xx年` or a year word, with
    /// its length in bytes.
    fn year_at(&self, text: &str) -> Option<(usize, YearRef)> {
        let b = text.as_bytes();
        if b.len() >= 4 + '年'.len_utf8()
            && (b.starts_with(b"19") || b.starts_with(b"20"))
            && b[2].is_ascii_digit()
            && b[3].is_ascii_digit()
            && text[4..].starts_with('年')
        {
            let year = text[..4].parse().ok()?;
            return Some((4 + '年'.len_utf8(), YearRef::Written(year)));
        }
        self.years
            .iter()
            .find(|(w, _)| text.starts_with(w.as_str()))
            .map(|(w, offset)| (w.len(), YearRef::Relative(*offset)))
    }

    /// What follows a year: months, a since word, a range to another year,
    /// or a span word; the longest.
    fn after_year(&self, text: &str, year: YearRef) -> Option<(usize, PeriodKind)> {
        let mut best = self.months_at(text, year);
        let mut offer = |len: usize, kind: PeriodKind| keep_longer(&mut best, len, kind);
        if let Some(word) = self.since.iter().find(|w| text.starts_with(w.as_str())) {
            offer(
                word.len(),
                PeriodKind::Since {
                    year,
                    month: 1,
                    day: 1,
                },
            );
        }
        if let Some(span) = self
            .spans
            .iter()
            .find(|s| text.starts_with(s.word.as_str()))
        {
            offer(
                span.word.len(),
                PeriodKind::Span {
                    year,
                    start: span.start,
                    end: span.end,
                },
            );
        }
        if let Some(range) = self.ranges.iter().find(|w| text.starts_with(w.as_str()))
            && let Some((len, end_year)) = self.year_at(&text[range.len()..])
        {
            offer(range.len() + len, PeriodKind::Years { year, end_year });
        }
        best
    }

    /// Months after a year (or where the article's year is meant): `M月`
    /// or `M月D日` then a since word, or a range `M(月(D日)?)?` range word
    /// `(year)? M月(D日)?`.
    fn months_at(&self, text: &str, year: YearRef) -> Option<(usize, PeriodKind)> {
        let (month, mut i) = number_at(text, 0, 12)?;
        let mut day = None;
        let with_month_word = text[i..].starts_with('月');
        if with_month_word {
            i += '月'.len_utf8();
            if let Some((d, j)) = number_at(text, i, 31)
                && text[j..].starts_with('日')
            {
                day = Some(d);
                i = j + '日'.len_utf8();
            }
            if let Some(word) = self
                .since
                .iter()
                .find(|w| text[i..].starts_with(w.as_str()))
            {
                let kind = PeriodKind::Since {
                    year,
                    month,
                    day: day.unwrap_or(1),
                };
                return Some((i + word.len(), kind));
            }
        }
        let range = self
            .ranges
            .iter()
            .find(|w| text[i..].starts_with(w.as_str()))?;
        let mut j = i + range.len();
        let end_year = match self.year_at(&text[j..]) {
            Some((len, y)) => {
                j += len;
                y
            }
            None => year,
        };
        let (end_month, k) = number_at(text, j, 12)?;
        if !text[k..].starts_with('月') {
            return None;
        }
        let mut end = k + '月'.len_utf8();
        let mut end_day = None;
        if let Some((d, e)) = number_at(text, end, 31)
            && text[e..].starts_with('日')
        {
            end_day = Some(d);
            end = e + '日'.len_utf8();
        }
        Some((
            end,
            PeriodKind::Months {
                year,
                month,
                day,
                end_year,
                end_month,
                end_day,
            },
        ))
    }
}

/// Keeps `(len, kind)` in `best` when it is longer than what `best` holds
/// (of two readings of the same length, the first offered stays).
fn keep_longer(best: &mut Option<(usize, PeriodKind)>, len: usize, kind: PeriodKind) {
    if best.is_none_or(|(l, _)| len > l) {
        *best = Some((len, kind));
    }
}

/// One or two ASCII digits at byte `at` making a number from 1 to `max`,
/// with the byte after them; two digits are tried before one (1 in 12月 is
/// not a month of its own).
fn number_at(text: &str, at: usize, max: u32) -> Option<(u32, usize)> {
    let b = text.as_bytes().get(at..)?;
    let digits = b.iter().take(2).take_while(|c| c.is_ascii_digit()).count();
    (1..=digits).rev().find_map(|n| {
        let value: u32 = text[at..at + n].parse().ok()?;
        // Read only where the digits stop (no third digit after two).
        let next_is_digit = b.get(n).is_some_and(|c| c.is_ascii_digit());
        ((1..=max).contains(&value) && !next_is_digit).then_some((value, at + n))
    })
}

/// `YYYY-MM-DD` of a day, None for a day that does not exist.
fn iso_date(y: i32, m: u32, d: u32) -> Option<String> {
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d)?;
    if !(0..=9999).contains(&y) {
        return Some(date.to_string());
    }
    // The digits put down directly (chrono's formatter costs more than the
    // rest of a period).
    let (y, m, d) = (y as u32, m as u8, d as u8);
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let bytes = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + d / 10,
        b'0' + d % 10,
    ];
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The last day of a month (28 for a month that does not exist).
fn last_day(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|&d| chrono::NaiveDate::from_ymd_opt(year, month, d).is_some())
        .unwrap_or(28)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`PeriodGrammar::last_in`] trying every place of the text.
    fn last_by_full_scan<'t>(g: &PeriodGrammar, text: &'t str) -> Option<PeriodMatch<'t>> {
        let (mut last, mut pos, mut prev) = (None, 0, None);
        for (at, c) in text.char_indices() {
            let before = prev.replace(c);
            if at >= pos
                && let Some(found) = g.longest_at(text, at, before)
            {
                pos = at + found.text.len();
                last = Some(found);
            }
        }
        last
    }

    fn embedded() -> PeriodGrammar {
        crate::lexicon::period_grammar(&[]).unwrap()
    }

    /// A period's words, start and end.
    type Read = (String, Option<String>, Option<String>);

    /// The last period of `before` read in an article of 2025-06-26.
    fn read(g: &PeriodGrammar, before: &str) -> Option<Read> {
        g.last_in(before).map(|m| {
            let (start, end) = m.dates(Some(2025), Some("2025-06-26"));
            (m.text.to_string(), start, end)
        })
    }

    #[test]
    fn periods_of_every_kind_are_read_with_their_days() {
        let g = embedded();
        type Expected<'a> = Option<(&'a str, Option<&'a str>, Option<&'a str>)>;
        let cases: &[(&str, Expected)] = &[
            (
                "2024年以来，全区",
                Some(("2024年以来", Some("2024-01-01"), Some("2025-06-26"))),
            ),
            (
                "2024年3月以来",
                Some(("2024年3月以来", Some("2024-03-01"), Some("2025-06-26"))),
            ),
            (
                "2024年3月15日以来",
                Some(("2024年3月15日以来", Some("2024-03-15"), Some("2025-06-26"))),
            ),
            (
                "2019年至今",
                Some(("2019年至今", Some("2019-01-01"), Some("2025-06-26"))),
            ),
            (
                "自2024年3月起",
                Some(("2024年3月起", Some("2024-03-01"), Some("2025-06-26"))),
            ),
            // 起 counts cases too: after a number it is no period.
            ("破获案件3起", None),
            (
                "今年以来",
                Some(("今年以来", Some("2025-01-01"), Some("2025-06-26"))),
            ),
            (
                "去年以来",
                Some(("去年以来", Some("2024-01-01"), Some("2025-06-26"))),
            ),
            (
                "年初以来",
                Some(("年初以来", Some("2025-01-01"), Some("2025-06-26"))),
            ),
            (
                "今年上半年",
                Some(("今年上半年", Some("2025-01-01"), Some("2025-06-30"))),
            ),
            (
                "去年全年",
                Some(("去年全年", Some("2024-01-01"), Some("2024-12-31"))),
            ),
            (
                "前年下半年",
                Some(("前年下半年", Some("2023-07-01"), Some("2023-12-31"))),
            ),
            (
                "2023年前三季度",
                Some(("2023年前三季度", Some("2023-01-01"), Some("2023-09-30"))),
            ),
            (
                "今年第一季度",
                Some(("今年第一季度", Some("2025-01-01"), Some("2025-03-31"))),
            ),
            (
                "2023年",
                Some(("2023年", Some("2023-01-01"), Some("2023-12-31"))),
            ),
            (
                "2023年全年",
                Some(("2023年全年", Some("2023-01-01"), Some("2023-12-31"))),
            ),
            // A month after a year without a since or range word: the year.
            (
                "2023年6月",
                Some(("2023年", Some("2023-01-01"), Some("2023-12-31"))),
            ),
            (
                "2024年1月至6月",
                Some(("2024年1月至6月", Some("2024-01-01"), Some("2024-06-30"))),
            ),
            (
                "2024年1至2月",
                Some(("2024年1至2月", Some("2024-01-01"), Some("2024-02-29"))),
            ),
            (
                "2024年1-10月",
                Some(("2024年1-10月", Some("2024-01-01"), Some("2024-10-31"))),
            ),
            (
                "今年1至5月",
                Some(("今年1至5月", Some("2025-01-01"), Some("2025-05-31"))),
            ),
            (
                "1—5月，全市",
                Some(("1—5月", Some("2025-01-01"), Some("2025-05-31"))),
            ),
            (
                "2023年1月1日至2024年3月10日",
                Some((
                    "2023年1月1日至2024年3月10日",
                    Some("2023-01-01"),
                    Some("2024-03-10"),
                )),
            ),
            (
                "2019年至2023年",
                Some(("2019年至2023年", Some("2019-01-01"), Some("2023-12-31"))),
            ),
            (
                "6月以来",
                Some(("6月以来", Some("2025-06-01"), Some("2025-06-26"))),
            ),
            (
                "党的十八大以来",
                Some(("党的十八大以来", Some("2012-11-08"), Some("2025-06-26"))),
            ),
            (
                "“十三五”期间",
                Some(("“十三五”期间", Some("2016-01-01"), Some("2020-12-31"))),
            ),
            // The last period counts.
            (
                "2023年，…今年以来",
                Some(("今年以来", Some("2025-01-01"), Some("2025-06-26"))),
            ),
            (
                "2024年1月至6月，2025年",
                Some(("2025年", Some("2025-01-01"), Some("2025-12-31"))),
            ),
            // No period: a year word alone, a month alone, numbers.
            ("今年6月，", None),
            ("6月26日，", None),
            ("破获案件783起", None),
            ("", None),
            // A month inside a number is none (123月), nor is 13月.
            ("第123月以来", None),
            ("13月以来", None),
            // A year inside a longer number still reads, as a regular
            // expression without boundaries would.
            (
                "12024年",
                Some(("2024年", Some("2024-01-01"), Some("2024-12-31"))),
            ),
            (
                "2024年123月以来",
                Some(("2024年", Some("2024-01-01"), Some("2024-12-31"))),
            ),
        ];
        for (text, expected) in cases {
            let expected =
                expected.map(|(t, s, e)| (t.to_string(), s.map(String::from), e.map(String::from)));
            assert_eq!(read(&g, text), expected, "{text}");
        }
    }

    #[test]
    fn years_the_article_does_not_give_leave_the_days_unknown() {
        let g = embedded();
        let m = g.last_in("今年以来").unwrap();
        assert_eq!(m.dates(None, None), (None, None));
        let m = g.last_in("2023年以来").unwrap();
        assert_eq!(m.dates(None, None), (Some("2023-01-01".into()), None));
        let m = g.last_in("党的十八大以来").unwrap();
        assert_eq!(m.dates(None, None), (Some("2012-11-08".into()), None));
        let m = g.last_in("1至3月").unwrap();
        assert_eq!(m.dates(None, Some("2025-06-26")), (None, None));
    }

    #[test]
    fn added_words_extend_the_grammar() {
        let rows = [
            vec!["year", "今年", "0"],
            vec!["year", "本年度", "0"],
            vec!["since", "起"],
            vec!["span", "秋季", "09-01", "11-30"],
            vec!["range", "至"],
            vec!["phrase", "近期", "", ""],
            vec!["phrase", "“十四五”期间", "2021-01-01", "2025-12-31"],
        ];
        let g = PeriodGrammar::from_rows(rows.map(|r| ("test", r))).unwrap();
        assert_eq!(
            read(&g, "本年度秋季"),
            Some((
                "本年度秋季".into(),
                Some("2025-09-01".into()),
                Some("2025-11-30".into())
            ))
        );
        assert_eq!(
            read(&g, "2024年5月起"),
            Some((
                "2024年5月起".into(),
                Some("2024-05-01".into()),
                Some("2025-06-26".into())
            ))
        );
        // A phrase without 年 or 月 is still found.
        assert_eq!(read(&g, "近期，"), Some(("近期".into(), None, None)));
        assert_eq!(
            read(&g, "“十四五”期间"),
            Some((
                "“十四五”期间".into(),
                Some("2021-01-01".into()),
                Some("2025-12-31".into())
            ))
        );
    }

    #[test]
    fn bad_rows_are_named() {
        for (row, words) in [
            (vec!["year", "今年", "x"], "offset"),
            (vec!["span", "上半年", "01-01", "06-31"], "06-31"),
            (vec!["span", "上半年", "2024-01-01", "06-30"], "2024-01-01"),
            (vec!["phrase", "某时", "2023-02-29", ""], "2023-02-29"),
            (vec!["month", "月"], "unknown kind"),
            (vec!["since"], "expected kind, word"),
        ] {
            let e = PeriodGrammar::from_rows([("period_words.tsv line 7", row.clone())])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(words) && e.contains("period_words.tsv line 7"),
                "{row:?}: {e}"
            );
        }
    }

    #[test]
    fn any_text_reads_without_panicking() {
        let g = embedded();
        // Mostly what periods are made of, with a few chars of other widths.
        let alphabet: Vec<char> = "1202012309年年年月月日今去以来至上半全季度-—é𝄞"
            .chars()
            .collect();
        let mut texts = crate::testing::random_texts(&alphabet, 24, 0x9E37_79B9_7F4A_7C15, 40_000);
        // And texts made of the grammar's pieces, where most hold a period.
        let pieces = [
            "2023年",
            "今年",
            "去年",
            "以来",
            "至今",
            "1",
            "12",
            "3",
            "月",
            "10日",
            "至",
            "-",
            "上半年",
            "前三季度",
            "年初以来",
            "，",
            "起",
        ];
        let letters: Vec<char> = ('a'..='q').collect();
        texts.extend(
            crate::testing::random_texts(&letters, 8, 0x2545_F491_4F6C_DD1D, 40_000)
                .iter()
                .map(|t| {
                    t.chars()
                        .map(|c| pieces[(c as u8 - b'a') as usize])
                        .collect::<String>()
                }),
        );
        // The embedded words and some that hold neither 年 nor 月.
        let extended = PeriodGrammar::from_rows(
            include_str!("../data/period_words.tsv")
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .chain(["year\t今岁\t0", "phrase\t近期\t\t"])
                .map(|l| ("test", l.split('\t').map(str::trim).collect::<Vec<_>>())),
        )
        .unwrap();
        let mut found = 0;
        for text in texts {
            let with_extension = text.replace('起', "今岁").replace('，', "近期");
            assert_eq!(
                extended.last_in(&with_extension),
                last_by_full_scan(&extended, &with_extension),
                "{with_extension:?}"
            );
            assert_eq!(g.last_in(&text), last_by_full_scan(&g, &text), "{text:?}");
            // Read once for the whole text, the same at every end.
            let all = g.all_in(&text);
            for (end, _) in text.char_indices() {
                assert_eq!(
                    g.last_before(&text, &all, end),
                    g.last_in(&text[..end]),
                    "{text:?} before {end}"
                );
            }
            if let Some(m) = g.last_in(&text) {
                // The match is a part of the text, ending where the search
                // from its start ends.
                let at = m.text.as_ptr() as usize - text.as_ptr() as usize;
                assert_eq!(&text[at..at + m.text.len()], m.text);
                let _ = m.dates(Some(2025), Some("2025-06-26"));
                found += 1;
            }
        }
        assert!(found > 12_000, "{found}");
    }

    #[test]
    fn iso_dates_are_chronos() {
        let chrono_date = |y: i32, m: u32, d: u32| {
            chrono::NaiveDate::from_ymd_opt(y, m, d).map(|d| d.to_string())
        };
        for y in (-20..=120).chain(1890..=2110).chain(9990..=10_010) {
            for m in 0..=13 {
                for d in 0..=32 {
                    assert_eq!(iso_date(y, m, d), chrono_date(y, m, d), "{y} {m} {d}");
                }
            }
        }
        for (y, m, d) in [
            (i32::MAX, 1, 1),
            (i32::MIN, 1, 1),
            (2024, u32::MAX, 1),
            (-1, 1, 1),
        ] {
            assert_eq!(iso_date(y, m, d), chrono_date(y, m, d), "{y} {m} {d}");
        }
    }
}
