//! Stage 2a, clean.
//!
//! In: the decoded text of a source and the [`LayoutWords`] of the lexicon
//! (which lines open a block). Out: [`CleanText`], a text fit for
//! matching: full-width ASCII folded to ASCII, stray spaces between Chinese
//! characters dropped (`整 治 违 规` → `整治违规`), line breaks that OCR put
//! inside a sentence joined (`自治区\n公安厅` → `自治区公安厅`), one paragraph
//! a line, with a map from every character back to its offset in the
//! original text, so every fact can point at the characters it came from.

/// Text after cleaning, with its map back to the original.
#[derive(Debug, Clone, Default)]
pub struct CleanText {
    /// The cleaned text: paragraphs separated by a single `\n`.
    pub text: String,
    /// For each byte of `text`, the Unicode-scalar offset in the original of
    /// the char starting there (of the char after it, for a byte inside a
    /// char); one extra entry at the end (the original's length). A table
    /// by byte rather than a search through the char starts: spans are
    /// mapped back for every name and every fact.
    byte_origins: Vec<u32>,
}

impl CleanText {
    /// The original char offset of the cleaned byte offset `byte` (a char
    /// boundary of `text`, or its end).
    pub fn orig_offset(&self, byte: usize) -> usize {
        self.byte_origins[byte.min(self.byte_origins.len() - 1)] as usize
    }

    /// The original char span `[start, end)` of the cleaned byte span.
    pub fn orig_span(&self, start: usize, end: usize) -> (usize, usize) {
        if end <= start {
            let s = self.orig_offset(start);
            return (s, s);
        }
        // The end is one past the original of the span's last char, so that a
        // joined line break inside the span stays inside it.
        let last_char_start = self.text[..end]
            .char_indices()
            .next_back()
            .map(|(i, _)| i)
            .unwrap_or(start);
        (
            self.orig_offset(start),
            self.orig_offset(last_char_start) + 1,
        )
    }
}

/// True for the characters of Chinese text (ideographs, CJK punctuation and
/// full-width forms), where a space or a line break carries no meaning.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F   // CJK symbols and punctuation
        | 0x3400..=0x4DBF // extension A
        | 0x4E00..=0x9FFF // unified ideographs
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xFF00..=0xFFEF // half- and full-width forms
        | 0x20000..=0x2FA1F
        | 0x2018..=0x201F // curly quotes, used as Chinese quotation marks
        | 0x2014 | 0x2026 | 0x00B7 | 0x2022 | 0x30FB
    )
}

/// Punctuation that closes a sentence or a paragraph: a line ending in one of
/// these is not broken in the middle of a sentence.
pub fn is_terminal(c: char) -> bool {
    matches!(
        c,
        '。' | '！'
            | '？'
            | '!'
            | '?'
            | '；'
            | ';'
            | '…'
            | '”'
            | '」'
            | '』'
            | ':'
            | '：'
            | '）'
            | ')'
    )
}

/// Folds one char for matching: full-width ASCII to ASCII, ideographic and
/// no-break spaces to a space, the many middle dots to `·`.
pub fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' => ' ',
        '\u{2022}' | '\u{30FB}' | '\u{2027}' | '\u{FF65}' | '\u{2219}' | '\u{22C5}' => '·',
        '\u{FE58}' | '\u{2012}' | '\u{2015}' => '—',
        _ => c,
    }
}

/// One input line after folding and space removal: its text and the
/// origins of its bytes, slices of the buffers [`fold_lines`] folds every
/// line into. The join decisions read the text as text, and the output
/// copies both whole.
struct Line<'a> {
    text: &'a str,
    /// For each byte of `text`, the origin as in [`CleanText::byte_origins`]
    /// (the inner bytes of the line's last char read the origin of the
    /// first char of the next line that is not empty, or the original's
    /// length: the char after it in the output, which is that line's first
    /// char or a separator at its origin).
    origins: &'a [u32],
    /// The number of chars of `text`.
    chars: usize,
}

impl Line<'_> {
    fn len(&self) -> usize {
        self.chars
    }
    fn first(&self) -> Option<(char, u32)> {
        Some((self.text.chars().next()?, self.origins[0]))
    }
    fn last(&self) -> Option<char> {
        self.text.chars().next_back()
    }
}

/// The words of a page's layout (`layout_words.tsv`): what opens an
/// article, what a byline starts with, what starts a block that joining
/// broken lines never crosses, and what ends a credit or a photo credit.
#[derive(Debug, Clone, Default)]
pub struct LayoutWords {
    /// A paragraph starting with one opens an article (本报讯).
    pub datelines: Vec<String>,
    /// A short paragraph starting with one is a byline (本报记者).
    pub bylines: Vec<String>,
    /// A line starting with one is never joined to the line before it.
    pub blocks: Vec<String>,
    /// A paragraph ending with one (or with one and `)`) closes an article.
    pub credits: Vec<String>,
    /// A short paragraph ending with one (or with one and `)`) is a photo
    /// credit; a line ending with one is not joined to the next.
    pub photo_credits: Vec<String>,
    /// News outlets that may open a dateline before its place (新华社,
    /// 本报): see [`DatelinePattern`].
    pub outlets: Vec<String>,
    /// Ordinary words with 讯 (审讯, 通讯员): a line whose 讯 belongs to
    /// one is no dateline (在审讯室里, 本报通讯员).
    pub xun_words: Vec<String>,
}

/// The dateline a sentence may start with (本报毕节9月12日电(通讯员 罗敏),
/// 新华社呼和浩特6月25日电, 呼和浩特讯): an outlet of `layout_words.tsv`,
/// up to 8 Chinese chars of place, a date, 电 or 讯, and a parenthesis. A
/// place there says where the report was filed, not what it is about.
#[derive(Debug, Clone)]
pub struct DatelinePattern {
    regex: regex::Regex,
    /// 电 or 讯 lies within this many chars of a dateline's start.
    window: usize,
}

impl DatelinePattern {
    /// The pattern with these outlets (the longest tried first).
    pub fn new(outlets: &[String]) -> Result<DatelinePattern, regex::Error> {
        let mut sorted: Vec<&String> = outlets.iter().collect();
        sorted.sort_by_key(|o| std::cmp::Reverse(o.chars().count()));
        let alternatives: Vec<String> = sorted.iter().map(|o| regex::escape(o)).collect();
        let outlet = if alternatives.is_empty() {
            String::new()
        } else {
            format!("(?:{})?", alternatives.join("|"))
        };
        let regex = regex::Regex::new(&format!(
            r"^{outlet}\p{{Han}}{{0,8}}?(?:\d{{1,2}}月\d{{1,2}}日)?(?:电|讯)(?:\([^)]{{0,30}}\))?"
        ))?;
        // The outlet, 8 chars of place, 6 of date (12月31日) and the mark.
        let longest = sorted.first().map_or(0, |o| o.chars().count());
        Ok(DatelinePattern {
            regex,
            window: longest + 8 + 6 + 1,
        })
    }

    /// The length in bytes of the dateline `sentence` starts with (0 for
    /// none).
    pub fn length_in(&self, sentence: &str) -> usize {
        // Most sentences are no dateline: a search of the first bytes for
        // the mark says so without the regex. `window` chars take at most
        // four bytes each; a mark found past them only costs the regex.
        const DIAN: &[u8] = "电".as_bytes();
        const XUN: &[u8] = "讯".as_bytes();
        let bytes = sentence.as_bytes();
        let head = &bytes[..bytes.len().min(self.window * 4)];
        let marked = memchr::memchr2_iter(DIAN[2], XUN[2], head)
            .any(|i| i >= 2 && (head[i - 2..=i] == *DIAN || head[i - 2..=i] == *XUN));
        if !marked {
            return 0;
        }
        self.regex.find(sentence).map_or(0, |m| m.end())
    }
}

impl LayoutWords {
    /// Whether `text` starts with one of `words`.
    pub fn starts(words: &[String], text: &str) -> bool {
        // The word's last byte is compared first, where the text would hold
        // it: for most lines and words it differs (the last byte of a
        // Chinese char takes 64 values), and the check spares the call
        // comparing the whole word. (An empty word, which the data files
        // refuse, still matches, as with `starts_with`.)
        let t = text.as_bytes();
        words.iter().any(|w| {
            let w = w.as_bytes();
            t.get(w.len().wrapping_sub(1)) == w.last() && t.starts_with(w)
        })
    }

    /// Whether `text` ends with one of `words`.
    pub fn ends(words: &[String], text: &str) -> bool {
        // As in `starts`: the last bytes are compared first.
        let t = text.as_bytes();
        words.iter().any(|w| {
            let w = w.as_bytes();
            (w.is_empty() || t.last() == w.last()) && t.ends_with(w)
        })
    }

    /// Whether `text` ends with one of `words` and then `)`.
    pub fn ends_in_parenthesis(words: &[String], text: &str) -> bool {
        text.strip_suffix(')')
            .is_some_and(|inner| LayoutWords::ends(words, inner))
    }

    /// `呼和浩特讯`, `拉萨6月1日讯`: a place (and date) then 讯 near the
    /// start ([`dateline_xun`]), where 讯 is not part of an ordinary word
    /// (在审讯室里, 本报通讯员).
    pub fn is_dateline(&self, line: &str) -> bool {
        let Some(at) = dateline_xun(line) else {
            return false;
        };
        let (before, after) = (&line[..at], &line[at + '讯'.len_utf8()..]);
        !self.xun_words.iter().any(|word| {
            let (pre, post) = word.split_once('讯').unwrap_or((word, ""));
            before.ends_with(pre) && after.starts_with(post)
        })
    }
}

/// A line that opens a new block (dateline, byline, credit, list marker)
/// is never joined to the line before it.
fn starts_block(line: &str, layout: &LayoutWords) -> bool {
    LayoutWords::starts(&layout.blocks, line)
        || line.starts_with('(') && line.ends_with(')')
        || layout.is_dateline(line)
}

/// Whether the line opens as a dateline by position alone (for the tests,
/// which compare the byte reading with a search).
#[cfg(test)]
fn is_dateline(line: &str) -> bool {
    dateline_xun(line).is_some()
}

/// `呼和浩特讯`, `拉萨6月1日讯`: the byte offset of a dateline's 讯, the
/// first 讯 of the line, after 2 to 12 chars that are Chinese, digits or
/// spaces.
///
/// Most lines hold no 讯 near their start: the bytes of the first 13
/// chars (讯 comes after 2 to 12) are searched for its last byte with
/// memchr, and the chars before a 讯 are read only when there is one.
/// (Its lead byte, E8, starts a third of the common ideographs; a last
/// byte takes 64 values.)
fn dateline_xun(line: &str) -> Option<usize> {
    const XUN: &[u8] = "讯".as_bytes();
    let bytes = line.as_bytes();
    // 讯 as the 13th char at the latest ends by byte 13 × 4 − 1. Three
    // bytes ending in its last byte are 讯 in valid UTF-8, and the first
    // such end is that of the first 讯 of the line.
    let head = &bytes[..bytes.len().min(13 * 4)];
    let at = memchr::memchr_iter(XUN[2], head)
        .find_map(|i| (i >= 2 && head[i - 2..=i] == *XUN).then(|| i - 2))?;
    let before = &line[..at];
    let n = before.chars().count();
    let placed = (2..=12).contains(&n)
        && before
            .chars()
            .all(|c| is_cjk(c) || c.is_ascii_digit() || c == ' ')
        && !before.contains(['，', ',', '。']);
    placed.then_some(at)
}

/// Cleans a decoded text. Deterministic and linear in the input.
pub fn clean(original: &str, layout: &LayoutWords) -> CleanText {
    let folded = fold_lines(original);
    let lines = folded.lines();
    let width = wrap_width(&lines);
    // Sized once (the text plus a separator a line): the buffers never grow.
    let bytes = folded.text.len() + lines.len();
    let mut out = CleanText {
        text: String::with_capacity(bytes),
        byte_origins: Vec::with_capacity(bytes + 1),
    };

    let mut i = 0;
    let mut paragraph_open = false;
    while i < lines.len() {
        let line = &lines[i];
        if line.len() == 0 {
            i += 1;
            continue;
        }
        if paragraph_open {
            push(&mut out, b'\n', line.origins[0]);
        }
        push_line(&mut out, line);
        paragraph_open = true;
        // Join the following lines into this paragraph while the break is an
        // OCR wrap rather than the end of a paragraph.
        let mut current = i;
        loop {
            let mut next = current + 1;
            while next < lines.len() && lines[next].len() == 0 {
                next += 1;
            }
            if next >= lines.len() {
                i = next;
                break;
            }
            let blank_between = next > current + 1;
            if should_join(
                &lines[current],
                &lines[next],
                blank_between,
                width,
                &lines,
                next,
                layout,
            ) {
                let prev_last = lines[current].last().unwrap_or(' ');
                let (next_first, next_origin) = lines[next].first().unwrap_or((' ', 0));
                if !is_cjk(prev_last) && !is_cjk(next_first) {
                    push(&mut out, b' ', next_origin);
                }
                push_line(&mut out, &lines[next]);
                current = next;
            } else {
                i = next;
                break;
            }
        }
    }
    out.byte_origins.push(folded.total_chars);
    out
}

/// Appends a one-byte separator (a line break or a space) and its origin.
fn push(out: &mut CleanText, separator: u8, orig: u32) {
    out.text.push(separator as char);
    out.byte_origins.push(orig);
}

fn push_line(out: &mut CleanText, line: &Line) {
    out.text.push_str(line.text);
    out.byte_origins.extend_from_slice(line.origins);
}

/// Every line of a text folded into one buffer, with the origins of its
/// bytes.
struct Folded {
    text: String,
    /// For each byte of `text`, its origin (see [`Line::origins`]).
    origins: Vec<u32>,
    /// Each line's byte range in `text` and its number of chars.
    lines: Vec<(usize, usize, usize)>,
    /// The original's length in chars.
    total_chars: u32,
}

impl Folded {
    fn lines(&self) -> Vec<Line<'_>> {
        self.lines
            .iter()
            .map(|&(start, end, chars)| Line {
                text: &self.text[start..end],
                origins: &self.origins[start..end],
                chars,
            })
            .collect()
    }
}

/// Splits into lines, folds chars and drops spaces that sit next to Chinese
/// text, trimming each line.
///
/// One pass: a run of spaces is held back (as the origin of its first
/// space) until the char after it shows whether it stays, so no line is
/// built twice.
fn fold_lines(original: &str) -> Folded {
    // Folding never lengthens a char: sized so, the buffers never grow.
    let mut line = LineBuilder {
        text: String::with_capacity(original.len()),
        origins: Vec::with_capacity(original.len()),
        ..LineBuilder::default()
    };
    let bytes = original.as_bytes();
    let mut pos = 0;
    let mut idx = 0u32;
    while pos < bytes.len() {
        // Most of a Chinese page is runs of plain Chinese chars (see
        // [`is_plain_chinese`]): never folded, never controls, always
        // Chinese. They are copied a run at a time instead of char by char.
        let run_start = pos;
        while pos < bytes.len() && is_plain_chinese(bytes, pos) {
            pos += 3;
        }
        if pos > run_start {
            idx += line.push_ideographs(&original[run_start..pos], idx);
            continue;
        }
        let c = original[pos..].chars().next().expect("a char starts here");
        pos += c.len_utf8();
        match c {
            '\n' | '\u{2028}' | '\u{2029}' | '\u{0B}' | '\u{0C}' => line.finish(),
            '\r' => {}
            '\t' => line.push(' ', idx),
            c if c.is_control() || c == '\u{FEFF}' || c == '\u{200B}' => {}
            c => line.push(fold_char(c), idx),
        }
        idx += 1;
    }
    line.finish();
    // The inner bytes of the last char read the original's length.
    line.origins[line.inner..].fill(idx);
    Folded {
        text: line.text,
        origins: line.origins,
        lines: line.lines,
        total_chars: idx,
    }
}

/// Whether the char starting at `bytes[pos]` (of valid UTF-8) is one of the
/// three-byte Chinese chars that fold to themselves: the ideographs U+4E00
/// to U+9FFF and extension A from U+4000 (lead byte E4 to E9; the hexagrams
/// U+4DC0 to U+4DFF, E4 B7 xx, are not Chinese) and the CJK punctuation
/// U+3001 to U+303F (E3 80 xx; U+3000, the ideographic space, folds to a
/// space).
#[inline]
fn is_plain_chinese(bytes: &[u8], pos: usize) -> bool {
    match bytes[pos] {
        0xE5..=0xE9 => true,
        0xE4 => bytes[pos + 1] != 0xB7,
        0xE3 => bytes[pos + 1] == 0x80 && bytes[pos + 2] != 0x80,
        _ => false,
    }
}

/// The lines being folded: runs of spaces at both ends and those touching
/// Chinese text on either side are removed; a run between two non-Chinese
/// chars becomes one space (at the origin of the run's first space).
#[derive(Default)]
struct LineBuilder {
    /// The text of all lines so far.
    text: String,
    /// The origin of each byte of `text`; those from `inner` on (the inner
    /// bytes of the last char) are set when the next char comes.
    origins: Vec<u32>,
    inner: usize,
    /// The lines finished so far (see [`Folded::lines`]).
    lines: Vec<(usize, usize, usize)>,
    /// Where the current line starts in `text`, and its chars so far.
    start: usize,
    chars: usize,
    /// The last char kept on this line, when there is one.
    last: Option<char>,
    /// The origin of the first space of the run of spaces just read.
    pending_space: Option<u32>,
}

impl LineBuilder {
    fn push(&mut self, c: char, origin: u32) {
        if c == ' ' {
            self.pending_space.get_or_insert(origin);
            return;
        }
        if let Some(space) = self.pending_space.take()
            && let Some(before) = self.last
            && !is_cjk(before)
            && !is_cjk(c)
        {
            self.emit(' ', space);
        }
        self.emit(c, origin);
        self.last = Some(c);
    }

    /// Appends a char kept, at `origin`.
    fn emit(&mut self, c: char, origin: u32) {
        self.origins[self.inner..].fill(origin);
        self.text.push(c);
        self.origins.push(origin);
        self.inner = self.origins.len();
        self.origins
            .extend_from_slice(&[origin; 3][..c.len_utf8() - 1]);
        self.chars += 1;
    }

    /// Appends a run of chars that are all Chinese, three bytes long and
    /// fold to themselves, the first at origin `first`; returns their
    /// number. A space held back before the run is dropped (it touches
    /// Chinese text).
    fn push_ideographs(&mut self, run: &str, first: u32) -> u32 {
        self.pending_space = None;
        let n = (run.len() / 3) as u32;
        self.origins[self.inner..].fill(first);
        self.text.push_str(run);
        let from = self.origins.len();
        self.origins.resize(from + run.len(), 0);
        // The inner bytes of each char read the origin of the next.
        for (k, char_origins) in (first..).zip(self.origins[from..].chunks_exact_mut(3)) {
            char_origins[0] = k;
            char_origins[1] = k + 1;
            char_origins[2] = k + 1;
        }
        self.inner = self.origins.len() - 2;
        self.chars += n as usize;
        self.last = run.chars().next_back();
        n
    }

    /// Ends the line (a trailing run of spaces dropped); starts the next.
    fn finish(&mut self) {
        self.lines.push((self.start, self.text.len(), self.chars));
        self.start = self.text.len();
        self.chars = 0;
        self.last = None;
        self.pending_space = None;
    }
}

/// The width of a wrapped column: the most common line length, when enough
/// lines share it to say the text was laid out in columns; 0 otherwise.
fn wrap_width(lines: &[Line]) -> usize {
    let mut lengths: Vec<usize> = lines.iter().map(|l| l.len()).filter(|&n| n > 0).collect();
    let non_empty = lengths.len();
    lengths.sort_unstable();
    // Each length with the number of lines of that length, in order.
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for w in lengths {
        match counts.last_mut() {
            Some((last, n)) if *last == w => *n += 1,
            _ => counts.push((w, 1)),
        }
    }
    // Count lengths within one char of each other together: OCR columns vary a little.
    let best = (0..counts.len())
        .map(|i| {
            let (w, mut n) = counts[i];
            if i > 0 && counts[i - 1].0 + 1 == w {
                n += counts[i - 1].1;
            }
            if i + 1 < counts.len() && counts[i + 1].0 == w + 1 {
                n += counts[i + 1].1;
            }
            (n, w)
        })
        .max();
    match best {
        Some((n, w)) if (6..=48).contains(&w) && n * 4 >= non_empty && n >= 6 => w,
        _ => 0,
    }
}

/// Decides whether the break between `prev` and `next` is inside a sentence.
fn should_join(
    prev: &Line,
    next: &Line,
    blank_between: bool,
    width: usize,
    lines: &[Line],
    next_index: usize,
    layout: &LayoutWords,
) -> bool {
    let Some(last) = prev.last() else {
        return false;
    };
    if is_terminal(last) {
        return false;
    }
    let prev_text = prev.text;
    // The line lengths first: they settle most breaks, and the word and
    // dateline tests below only ever forbid a join.
    let by_layout = if width > 0 {
        // A wrapped column: a line shorter than the column ended its block
        // (a headline, a caption); a full line was cut by the layout.
        // Across a blank line, also require that the next line is not a
        // short headline of its own.
        prev.len() * 4 >= width * 3
            && !(blank_between
                && next.len() * 4 < width * 3
                && next.last().is_some_and(|c| !is_terminal(c))
                && lines.get(next_index + 1).is_none_or(|l| l.len() == 0))
    } else {
        // Paragraph-per-line text: a long line without an ending was cut
        // (by a page or column break); so was a line that already reads as
        // running text (it holds a comma) when nothing but a line break
        // follows. Short lines without commas are headings.
        let running = prev_text.contains([',', '、']) && !blank_between;
        (prev.len() >= 40 || running) && !prev_text.contains(' ')
    };
    if !by_layout {
        return false;
    }
    let blocked = starts_block(next.text, layout)
        || LayoutWords::ends(&layout.photo_credits, prev_text)
        || prev.len() < 12 && layout.is_dateline(prev_text);
    !blocked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_match_as_plain_prefix_and_suffix_tests() {
        // The byte checks before the comparison must never change the answer.
        let words: Vec<String> = ["本报讯", "记者", "摄", "a", "报道)", "新华社电"]
            .map(String::from)
            .to_vec();
        let texts = [
            "",
            "本",
            "本报讯 记者",
            "记者王某摄",
            "王某 摄",
            "a",
            "ba",
            "ab",
            "(记者 报道)",
            "报道",
            "新华社电",
            "新华社",
            "讯",
            "本报讯",
        ];
        for text in texts {
            for n in 0..=words.len() {
                let list = &words[..n];
                assert_eq!(
                    LayoutWords::starts(list, text),
                    list.iter().any(|w| text.starts_with(w.as_str())),
                    "{text:?} {list:?}"
                );
                assert_eq!(
                    LayoutWords::ends(list, text),
                    list.iter().any(|w| text.ends_with(w.as_str())),
                    "{text:?} {list:?}"
                );
            }
        }
        let empty = [String::new()];
        assert!(LayoutWords::starts(&empty, "x") && LayoutWords::ends(&empty, ""));
    }

    #[test]
    fn an_added_outlet_extends_datelines() {
        let sentence = "法治日报社锡林浩特市6月25日电 开鲁县公安局侦破一起贩毒案。";
        let mut outlets = crate::lexicon::layout_words(&[]).unwrap().outlets;
        // 5 chars of outlet and 5 of place: more than the 8 a place may have.
        assert_eq!(
            DatelinePattern::new(&outlets).unwrap().length_in(sentence),
            0
        );
        outlets.push("法治日报社".into());
        let pattern = DatelinePattern::new(&outlets).unwrap();
        let length = pattern.length_in(sentence);
        assert_eq!(&sentence[..length], "法治日报社锡林浩特市6月25日电");
        // With no outlets at all, a place and a date still make one.
        let bare = DatelinePattern::new(&[]).unwrap();
        assert_eq!(bare.length_in("呼和浩特讯 近日"), "呼和浩特讯".len());
    }

    #[test]
    fn datelines_are_the_regex_matches() {
        // The pattern of the embedded outlets, and the regular expression it
        // stands for, as written out before the outlets were data.
        let outlets = crate::lexicon::layout_words(&[]).unwrap().outlets;
        let pattern = DatelinePattern::new(&outlets).unwrap();
        let regex = regex::Regex::new(
            r"^(?:本报|新华社|新华网|人民网|中新网)?\p{Han}{0,8}?(?:\d{1,2}月\d{1,2}日)?(?:电|讯)(?:\([^)]{0,30}\))?",
        )
        .unwrap();
        let sentences = [
            "本报毕节9月12日电(通讯员 罗敏)禁毒大队破获案件。",
            "呼和浩特讯 近日,市公安局破获一起案件。",
            "新华社昆明5月3日电",
            "新华社北京电",
            "中新网云南德宏州芒市瑞丽市陇川县12月31日电记者",
            "云南德宏州芒市瑞丽市陇川县盈江12月31日电",
            "云南德宏州芒市瑞丽市陇川县盈江梁12月31日电",
            "一二三四五六七八九十一二三四五六七电",
            "一二三四五六七八九十一二三四五六七八电",
            "一二三四五六七八九十一二三四五六七八九电",
            "据介绍,该局来电称",
            "电话",
            "讯",
            "",
            "2024年6月1日电",
        ];
        let mut texts: Vec<String> = sentences.iter().map(|s| s.to_string()).collect();
        // Random sentences: the marks at every position around the 18th
        // char, after one-, two-, three- and four-byte chars.
        let alphabet: Vec<char> = "电讯本报新华社1月日()a é禁𠀀,".chars().collect();
        texts.extend(crate::testing::random_texts(
            &alphabet,
            30,
            0xDA7E_11AE_0000_0001,
            50_000,
        ));
        let mut datelines = 0;
        for sentence in &texts {
            let expected = regex.find(sentence).map_or(0, |m| m.end());
            assert_eq!(pattern.length_in(sentence), expected, "{sentence}");
            datelines += usize::from(expected > 0);
        }
        assert!(datelines > 1_000, "{datelines}");
    }

    /// The layout words of the embedded data files.
    fn layout() -> LayoutWords {
        crate::lexicon::layout_words(&[]).unwrap()
    }

    /// The two-pass folding `fold_lines` replaced: chars with origins
    /// first, then the spaces dropped from each line.
    fn fold_lines_two_pass(original: &str) -> (Vec<(String, Vec<u32>)>, u32) {
        fn drop_spaces(raw: &[(char, u32)]) -> (String, Vec<u32>) {
            let mut text = String::new();
            let mut origins: Vec<u32> = Vec::new();
            let mut i = 0;
            while i < raw.len() {
                if raw[i].0 == ' ' {
                    let start = i;
                    while i < raw.len() && raw[i].0 == ' ' {
                        i += 1;
                    }
                    let before = text.chars().next_back();
                    let after = raw.get(i).map(|c| c.0);
                    if let (Some(b), Some(a)) = (before, after)
                        && !is_cjk(b)
                        && !is_cjk(a)
                    {
                        text.push(' ');
                        origins.push(raw[start].1);
                    }
                } else {
                    text.push(raw[i].0);
                    origins.push(raw[i].1);
                    i += 1;
                }
            }
            (text, origins)
        }
        let mut lines = Vec::new();
        let mut raw: Vec<(char, u32)> = Vec::new();
        let mut count = 0u32;
        for (idx, c) in original.chars().enumerate() {
            count = idx as u32 + 1;
            match c {
                '\n' | '\u{2028}' | '\u{2029}' | '\u{0B}' | '\u{0C}' => {
                    lines.push(drop_spaces(&raw));
                    raw.clear();
                }
                '\r' => {}
                '\t' => raw.push((' ', idx as u32)),
                c if c.is_control() || c == '\u{FEFF}' || c == '\u{200B}' => {}
                c => raw.push((fold_char(c), idx as u32)),
            }
        }
        lines.push(drop_spaces(&raw));
        (lines, count)
    }

    #[test]
    fn plain_chinese_chars_are_chinese_and_fold_to_themselves() {
        let mut plain = 0;
        for c in ('\u{800}'..='\u{FFFF}').filter(|c| c.len_utf8() == 3) {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            if is_plain_chinese(bytes, 0) {
                plain += 1;
                assert!(is_cjk(c) && fold_char(c) == c, "{c:?}");
                assert!(
                    !c.is_control() && c != '\u{FEFF}' && c != '\u{200B}',
                    "{c:?}"
                );
            }
        }
        // Every unified ideograph, extension A from U+4000, and U+3001 to U+303F.
        assert_eq!(plain, (0x9FFF - 0x4E00 + 1) + (0x4DBF - 0x4000 + 1) + 0x3F);
    }

    #[test]
    fn one_pass_folding_is_the_two_pass_folding() {
        let mut texts: Vec<String> = [
            "",
            " ",
            "\n\n",
            "  整 治 违 规  \n  ab  cd  \n\t中\t文\t",
            "a \r b\u{3000}\u{3000}c 中 d\u{00A0}e ，f",
            " x\u{FEFF} \u{200B} y \u{0B}z\u{2028} w \u{2029}",
            "Ｈｅｌｌｏ　Ｗｏｒｌｄ ・ 呼和浩特讯 2024 年\r\n禁毒 大队 ",
            // Runs of common ideographs next to spaces, Latin, rarer CJK
            // (U+4E00, extension A), hexagrams (not Chinese) and the last
            // ideograph U+9FFF, at the ends of lines.
            "a 禁毒 b 一丁 ䷀ 㐀 c龥 鿿\n 禁毒大队 \n x 禁毒",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        for (_, page) in crate::pipeline::SEEDS {
            texts.push(String::from_utf8_lossy(page).into_owned());
        }
        let alphabet: Vec<char> =
            "禁毒 　\t\n\r\u{0B}\u{2028}\u{FEFF}aZ1,，。·・一㐀鿿䷀ＡＢ\u{00A0}\u{0}é𠀀"
                .chars()
                .collect();
        texts.extend(crate::testing::random_texts(
            &alphabet,
            40,
            0x5EED_F01D_11E5_0001,
            20_000,
        ));
        for text in &texts {
            let folded = fold_lines(text);
            let one = folded.lines();
            let (two, n2) = fold_lines_two_pass(text);
            assert_eq!(folded.total_chars, n2);
            assert_eq!(one.len(), two.len(), "{text:?}");
            for (a, b) in one.iter().zip(&two) {
                assert_eq!(a.text, b.0, "{text:?}");
                assert_eq!(a.len(), b.1.len(), "{text:?}");
                let origins: Vec<u32> = a.text.char_indices().map(|(i, _)| a.origins[i]).collect();
                assert_eq!(origins, b.1, "{text:?}");
            }
        }
    }

    /// The column width by a map of line lengths, which `wrap_width`
    /// replaced with a sorted list.
    fn wrap_width_by_map(lengths: &[usize]) -> usize {
        let mut counts = std::collections::BTreeMap::new();
        let mut non_empty = 0;
        for &len in lengths.iter().filter(|&&l| l > 0) {
            non_empty += 1;
            *counts.entry(len).or_insert(0usize) += 1;
        }
        let best = counts
            .keys()
            .map(|&w| {
                let n: usize = (w.saturating_sub(1)..=w + 1)
                    .map(|k| counts.get(&k).copied().unwrap_or(0))
                    .sum();
                (n, w)
            })
            .max();
        match best {
            Some((n, w)) if (6..=48).contains(&w) && n * 4 >= non_empty && n >= 6 => w,
            _ => 0,
        }
    }

    #[test]
    fn wrap_width_is_the_width_by_map() {
        let mut state = 0x00C0_FFEE_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut widths = 0;
        for _ in 0..20_000 {
            let count = (next() % 40) as usize;
            let spread = 1 + next() % 60;
            let base = next() % 50;
            let lengths: Vec<usize> = (0..count)
                .map(|_| match next() % 4 {
                    0 => 0,
                    _ => (base + next() % spread) as usize,
                })
                .collect();
            let lines: Vec<Line> = lengths
                .iter()
                .map(|&chars| Line {
                    text: "",
                    origins: &[],
                    chars,
                })
                .collect();
            let w = wrap_width(&lines);
            assert_eq!(w, wrap_width_by_map(&lengths), "{lengths:?}");
            widths += usize::from(w > 0);
        }
        assert!(widths > 500, "{widths}");
    }

    /// The dateline test the byte reading replaced.
    fn is_dateline_by_search(line: &str) -> bool {
        let head_end = line.char_indices().nth(16).map_or(line.len(), |(i, _)| i);
        let head = &line[..head_end];
        if let Some(pos) = head.find('讯') {
            let before = &head[..pos];
            let n = before.chars().count();
            return (2..=12).contains(&n)
                && before
                    .chars()
                    .all(|c| is_cjk(c) || c.is_ascii_digit() || c == ' ')
                && !before.contains(['，', ',', '。']);
        }
        false
    }

    #[test]
    fn datelines_read_by_bytes_are_those_found_by_search() {
        let alphabet: Vec<char> = "讯讯中中中中中中1 ，,。aé𠀀".chars().collect();
        let mut texts = vec!["呼和浩特讯".to_string(), "拉萨6月1日讯".to_string()];
        texts.extend(crate::testing::random_texts(
            &alphabet,
            20,
            0x0DDB_1A5E_5BAD_5EED,
            100_000,
        ));
        let mut datelines = 0;
        for text in &texts {
            assert_eq!(is_dateline(text), is_dateline_by_search(text), "{text}");
            datelines += usize::from(is_dateline(text));
        }
        assert!(datelines > 1_000, "{datelines}");
    }

    /// What the table replaced: a search through the char starts, a byte
    /// inside a char reading as the char after it.
    fn orig_offset_by_search(clean: &CleanText, byte: usize) -> usize {
        let mut starts: Vec<u32> = clean.text.char_indices().map(|(i, _)| i as u32).collect();
        starts.push(clean.text.len() as u32);
        let origins: Vec<u32> = starts
            .iter()
            .map(|&b| clean.byte_origins[b as usize])
            .collect();
        let idx = match starts.binary_search(&(byte as u32)) {
            Ok(i) => i,
            Err(i) => i.min(starts.len() - 1),
        };
        origins[idx] as usize
    }

    #[test]
    fn every_byte_maps_as_the_search_through_char_starts() {
        let mut texts = vec![String::new(), "自治区\n公安厅 ab  cd\n\n中 文".to_string()];
        for (_, page) in crate::pipeline::SEEDS {
            texts.push(String::from_utf8_lossy(page).into_owned());
        }
        let alphabet: Vec<char> = "禁毒 　\n\n\r\u{FEFF}a1,，。·・一鿿ＡＢé𠀀"
            .chars()
            .collect();
        texts.extend(crate::testing::random_texts(
            &alphabet,
            40,
            0x0B1C_0DE5_F00D_0002,
            20_000,
        ));
        for text in &texts {
            let cleaned = clean(text, &layout());
            assert_eq!(cleaned.byte_origins.len(), cleaned.text.len() + 1);
            assert_eq!(
                cleaned.orig_offset(cleaned.text.len()),
                text.chars().count()
            );
            for byte in 0..=cleaned.text.len() + 2 {
                assert_eq!(
                    cleaned.orig_offset(byte),
                    orig_offset_by_search(&cleaned, byte),
                    "byte {byte}"
                );
            }
        }
    }

    #[test]
    fn joins_broken_lines_and_maps_offsets_back() {
        let original = "本报讯 3月 12日，省公安\n厅召开禁毒工作会议，部署全年任务。";
        let cleaned = clean(original, &layout());
        assert_eq!(
            cleaned.text,
            "本报讯3月12日,省公安厅召开禁毒工作会议,部署全年任务。"
        );
        let byte = cleaned.text.find("厅召开").unwrap();
        let orig = cleaned.orig_offset(byte);
        let orig_chars: Vec<char> = original.chars().collect();
        assert_eq!(orig_chars[orig], '厅');
        let (s, e) = cleaned.orig_span(cleaned.text.find("省公安").unwrap(), byte + "厅".len());
        let span: String = orig_chars[s..e].iter().collect();
        assert_eq!(span, "省公安\n厅");
    }

    #[test]
    fn drops_spaces_between_chinese_and_folds_full_width() {
        let cleaned = clean(
            "深 入 开 展 禁 毒 宣 传 。破获案件４６５起，Ｋ粉 2 kg",
            &layout(),
        );
        assert_eq!(cleaned.text, "深入开展禁毒宣传。破获案件465起,K粉2 kg");
    }

    #[test]
    fn keeps_headlines_and_paragraphs_apart() {
        let text = "织密防控网络 守护一方平安\n\n5月8日，禁毒宣传周启动。\n\n多措并举强化管控\n\n今年以来，全市各级禁毒部门狠抓落实。";
        let cleaned = clean(text, &layout());
        let paragraphs: Vec<&str> = cleaned.text.split('\n').collect();
        assert_eq!(
            paragraphs,
            vec![
                "织密防控网络守护一方平安",
                "5月8日,禁毒宣传周启动。",
                "多措并举强化管控",
                "今年以来,全市各级禁毒部门狠抓落实。"
            ]
        );
    }

    #[test]
    fn joins_wrapped_columns_but_not_their_headlines() {
        let col = [
            "全市公安机关以净边行动为抓手，持",
            "续推进智慧禁毒平台与缉毒实战相融",
            "合，建立多部门参与的联合打击毒品",
            "犯罪工作机制，与周边城市建立禁毒",
            "协作机制。",
            "",
            "我市今年以来破获毒品案件215起",
            "",
            "本报讯（记者李明）近日，在市商务局",
            "和市市场监管局共同推动下，跨境电商",
            "服务中心正式运营，标志着本市跨境电",
            "商服务实现一站式办理。",
        ];
        let cleaned = clean(&col.join("\n"), &layout());
        let paragraphs: Vec<&str> = cleaned.text.split('\n').collect();
        assert_eq!(paragraphs.len(), 3, "{paragraphs:?}");
        assert!(paragraphs[0].contains("为抓手,持续"));
        assert_eq!(paragraphs[1], "我市今年以来破获毒品案件215起");
    }
}
