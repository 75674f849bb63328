//! Stage 2b, split a cleaned page into articles and sentences.
//!
//! In: a [`CleanText`] (one paragraph a line) and the [`LayoutWords`] of
//! the lexicon (datelines, bylines, credits). Out: [`Article`]s, each with
//! its title, byte span in the cleaned text, sentences and an estimated date.
//! A page of a newspaper holds several articles: a new one starts at a
//! dateline (`本报讯`, `呼和浩特讯`) with the headline block above it, or after
//! a closing line (a credit `(自治区司法厅供稿)`, a photo credit `薛鹏博摄`).
//! Headings between body paragraphs with no dateline are section headings
//! of the running article.

use crate::clean::{CleanText, LayoutWords, is_terminal};

#[derive(Debug, Clone)]
pub struct Article {
    /// 1-based position in the page.
    pub index: usize,
    pub title: Option<String>,
    /// Byte spans of the headline lines in the cleaned text.
    pub title_spans: Vec<(usize, usize)>,
    /// Byte span in the cleaned text.
    pub start: usize,
    pub end: usize,
    /// Sentences as byte spans in the cleaned text.
    pub sentences: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Heading,
    Byline,
    Dateline,
    Closing,
    Body,
}

fn classify(p: &str, layout: &LayoutWords) -> Kind {
    // Only lengths up to 40 chars are told apart below, and a paragraph of
    // more than 160 bytes has more than 40 chars (4 bytes a char at most):
    // most paragraphs are not counted.
    let n = if p.len() > 160 { 41 } else { p.chars().count() };
    let last = p.chars().last().unwrap_or(' ');
    let is_credit = (p.starts_with('(') && p.ends_with(')') && n <= 30)
        || LayoutWords::ends_in_parenthesis(&layout.credits, p)
        || LayoutWords::ends(&layout.credits, p);
    let photos = &layout.photo_credits;
    if is_credit
        || (LayoutWords::ends(photos, p) && n <= 24)
        || LayoutWords::ends_in_parenthesis(photos, p) && n <= 30
    {
        return Kind::Closing;
    }
    if LayoutWords::starts(&layout.datelines, p) || layout.is_dateline(p) {
        return Kind::Dateline;
    }
    if n <= 40 && LayoutWords::starts(&layout.bylines, p) {
        return Kind::Byline;
    }
    if n <= 40 && !is_terminal(last) && !p.contains('。') {
        return Kind::Heading;
    }
    Kind::Body
}

/// Splits a cleaned page into articles.
pub fn split_articles(clean: &CleanText, layout: &LayoutWords) -> Vec<Article> {
    split_articles_with(clean, layout, &|_, _| false)
}

/// Splits a cleaned page into articles; `new_topic(heading, article_so_far)`,
/// given the byte spans of both in the cleaned text,
/// says when a heading between body paragraphs starts a new article rather
/// than a section of the running one (it names a place far from it, say).
pub fn split_articles_with(
    clean: &CleanText,
    layout: &LayoutWords,
    new_topic: &dyn Fn((usize, usize), (usize, usize)) -> bool,
) -> Vec<Article> {
    let text = &clean.text;
    let mut paragraphs: Vec<(usize, usize, Kind)> = Vec::new();
    let mut pos = 0;
    // The line breaks found by the memchr crate's vector search (the
    // standard library's reads a word at a time).
    let breaks = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    for end in breaks {
        let start = pos;
        let line = &text[start..end];
        pos = end + 1;
        if !line.trim().is_empty() {
            paragraphs.push((start, end, classify(line.trim(), layout)));
        }
    }

    // Group paragraphs: each article is a run of paragraphs.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut has_body = false;
    let mut closed = false;
    let mut pending: Vec<usize> = Vec::new(); // heading/byline block not yet placed
    for (i, &(start, end, kind)) in paragraphs.iter().enumerate() {
        match kind {
            Kind::Heading
                if pending.is_empty()
                    && has_body
                    && !closed
                    && !current.is_empty()
                    && new_topic(
                        (start, end),
                        (
                            paragraphs[current[0]].0,
                            paragraphs[*current.last().unwrap_or(&current[0])].1,
                        ),
                    ) =>
            {
                groups.push(std::mem::take(&mut current));
                has_body = false;
                pending.push(i);
            }
            Kind::Heading | Kind::Byline => pending.push(i),
            Kind::Dateline => {
                if has_body || closed {
                    groups.push(std::mem::take(&mut current));
                }
                current.append(&mut pending);
                current.push(i);
                has_body = true;
                closed = false;
            }
            Kind::Body => {
                if closed {
                    groups.push(std::mem::take(&mut current));
                    closed = false;
                }
                current.append(&mut pending);
                current.push(i);
                has_body = true;
            }
            Kind::Closing => {
                current.append(&mut pending);
                current.push(i);
                closed = true;
            }
        }
    }
    if !pending.is_empty() {
        if closed && has_body {
            groups.push(std::mem::take(&mut current));
        }
        current.append(&mut pending);
    }
    if !current.is_empty() {
        groups.push(current);
    }

    let mut articles = Vec::new();
    for group in groups {
        let start = paragraphs[group[0]].0;
        let end = paragraphs[*group.last().unwrap_or(&group[0])].1;
        let title_spans: Vec<(usize, usize)> = group
            .iter()
            .take_while(|&&p| matches!(paragraphs[p].2, Kind::Heading | Kind::Byline))
            .filter(|&&p| paragraphs[p].2 == Kind::Heading)
            .map(|&p| (paragraphs[p].0, paragraphs[p].1))
            .collect();
        let title: Vec<&str> = title_spans
            .iter()
            .map(|&(s, e)| text[s..e].trim())
            .collect();
        let mut sentences = Vec::new();
        for &p in &group {
            let (ps, pe, _) = paragraphs[p];
            split_sentences(text, ps, pe, &mut sentences);
        }
        articles.push(Article {
            index: articles.len() + 1,
            title: if title.is_empty() {
                None
            } else {
                Some(title.join(" "))
            },
            title_spans,
            start,
            end,
            sentences,
        });
    }
    articles
}

/// Splits a paragraph into sentences at 。！？；, keeping closing quotes with
/// the sentence they end.
fn split_sentences(text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let para = &text.as_bytes()[start..end];
    let mut sentence_start = 0;
    let mut i = 0;
    // Read by bytes, a char at a time: each mark is told by its bytes
    // without decoding the chars.
    while i < para.len() {
        // Most chars are common ideographs (lead bytes E4 to E9), none of
        // them a mark: skipped a run at a time.
        while i < para.len() && (0xE4..=0xE9).contains(&para[i]) {
            i += 3;
        }
        if i >= para.len() {
            break;
        }
        let len = sentence_end_len(&para[i..]);
        if len == 0 {
            // On to the next char, by the length its lead byte gives.
            i += match para[i] {
                0..0xC0 => 1,
                0xC0..0xE0 => 2,
                0xE0..0xF0 => 3,
                _ => 4,
            };
            continue;
        }
        let mut stop = i + len;
        loop {
            let q = closing_quote_len(&para[stop..]);
            if q == 0 {
                break;
            }
            stop += q;
        }
        if stop > sentence_start {
            out.push((start + sentence_start, start + stop));
        }
        sentence_start = stop;
        i = stop;
    }
    if sentence_start < para.len() {
        out.push((start + sentence_start, end));
    }
}

/// The length of the sentence end (。 ! ? ; ！ ？ ；) that `bytes` starts
/// with, or 0.
fn sentence_end_len(bytes: &[u8]) -> usize {
    match bytes {
        [b'!' | b'?' | b';', ..] => 1,
        // 。
        [0xE3, 0x80, 0x82, ..] => 3,
        // ！ ？ ；
        [0xEF, 0xBC, 0x81 | 0x9F | 0x9B, ..] => 3,
        _ => 0,
    }
}

/// The length of the closing quote (” ’ " 」 』 )) that `bytes` starts
/// with, or 0.
fn closing_quote_len(bytes: &[u8]) -> usize {
    match bytes {
        [b'"' | b')', ..] => 1,
        // ” ’
        [0xE2, 0x80, 0x9D | 0x99, ..] => 3,
        // 」 』
        [0xE3, 0x80, 0x8D | 0x8F, ..] => 3,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::clean;

    #[test]
    fn paragraphs_are_told_apart_by_chars_not_bytes() {
        // 40 four-byte chars (160 bytes) still make a headline; 41 do not,
        // nor do 60 three-byte ones (180 bytes).
        let layout = crate::lexicon::layout_words(&[]).unwrap();
        let classify = |p: &str| classify(p, &layout);
        assert_eq!(classify(&"𠀀".repeat(40)), Kind::Heading);
        assert_eq!(classify(&"𠀀".repeat(41)), Kind::Body);
        assert_eq!(classify(&"禁".repeat(40)), Kind::Heading);
        assert_eq!(classify(&"禁".repeat(60)), Kind::Body);
        assert_eq!(classify(&format!("({})", "禁".repeat(28))), Kind::Closing);
        assert_eq!(classify(&format!("({})", "禁".repeat(29))), Kind::Body);
    }

    #[test]
    fn splits_a_page_at_datelines_and_credits() {
        let page = "守护青春远离毒品\n\n本报讯 4月16日，省公安厅召开禁毒工作会议。会上部署了任务。\n\n(省司法厅供稿)\n\n拒绝毒品 健康生活\n\n近日，城东区人民法院开展宣传活动。\n\n李明 摄\n\n5月20日，城西分局禁毒大队举办活动。\n\n王芳 摄";
        let layout = crate::lexicon::layout_words(&[]).unwrap();
        let cleaned = clean(page, &layout);
        let articles = split_articles(&cleaned, &layout);
        assert_eq!(articles.len(), 3, "{articles:?}");
        assert_eq!(articles[0].title.as_deref(), Some("守护青春远离毒品"));
        assert_eq!(articles[1].title.as_deref(), Some("拒绝毒品健康生活"));
        assert_eq!(articles[2].title, None);
        let first: Vec<&str> = articles[0]
            .sentences
            .iter()
            .map(|&(s, e)| &cleaned.text[s..e])
            .collect();
        assert_eq!(first[1], "本报讯4月16日,省公安厅召开禁毒工作会议。");
    }

    /// The char-by-char splitting the byte reading replaced.
    fn split_sentences_by_chars(text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut sentence_start = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if matches!(c, '。' | '!' | '?' | ';' | '！' | '？' | '；') {
                let mut stop = i + c.len_utf8();
                while let Some(&(j, q)) = chars.peek() {
                    if matches!(q, '”' | '’' | '"' | '」' | '』' | ')') {
                        stop = j + q.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                if stop > sentence_start {
                    out.push((sentence_start, stop));
                }
                sentence_start = stop;
            }
        }
        if sentence_start < text.len() {
            out.push((sentence_start, text.len()));
        }
        out
    }

    #[test]
    fn sentences_read_by_bytes_are_those_read_by_chars() {
        let marks: Vec<char> = "。!?;！？；”’\"」』)“「(,，毒禁a。é𠀀".chars().collect();
        let mut texts = vec![
            String::new(),
            "他说:“好。”又说!”)。结束".to_string(),
            "。。!?”」』)".to_string(),
        ];
        texts.extend(crate::testing::random_texts(
            &marks,
            16,
            0x1234_5678_9ABC_DEF1,
            20_000,
        ));
        for text in &texts {
            let mut found = Vec::new();
            split_sentences(text, 0, text.len(), &mut found);
            assert_eq!(found, split_sentences_by_chars(text), "{text}");
        }
    }

    #[test]
    fn section_headings_stay_in_the_article() {
        let page = "标本兼治 四川禁毒工作\n\n3月5日，启动仪式在成都市举行。\n\n压实责任狠抓落实\n\n近年来，省委始终将禁毒工作纳入规划。";
        let layout = crate::lexicon::layout_words(&[]).unwrap();
        let articles = split_articles(&clean(page, &layout), &layout);
        assert_eq!(articles.len(), 1);
        assert_eq!(articles[0].sentences.len(), 4);
    }

    #[test]
    fn a_word_with_xun_opens_no_article() {
        let layout = crate::lexicon::layout_words(&[]).unwrap();
        // 审讯, 闻讯 and 通讯员 near a paragraph's start are ordinary words;
        // a place before 讯 (南通, where 通讯 would be a word) is a dateline.
        for (paragraph, dateline) in [
            ("在审讯室里，面对确凿的证据，犯罪嫌疑人低下了头。", false),
            ("附近群众闻讯赶来，协助民警维持秩序。", false),
            ("本报通讯员 李明", false),
            ("南通讯（记者 王芳）5月20日，南通市公安局召开会议。", true),
            ("拉萨6月1日讯 西藏自治区公安厅召开会议。", true),
        ] {
            assert_eq!(layout.is_dateline(paragraph), dateline, "{paragraph}");
        }
        let page = "红河州公安局破获一起贩毒案\n\n本报讯 5月17日，红河州公安局破获一起贩毒案。\n\n在审讯室里，犯罪嫌疑人交代了犯罪事实。\n\n目前，案件正在审理中。";
        let articles = split_articles(&clean(page, &layout), &layout);
        assert_eq!(articles.len(), 1, "{articles:?}");
        // The same line wrapped in a column is not cut off from the line before.
        let text: Vec<char> = "本报讯 5月17日，红河州公安局民警在审讯室里对犯罪嫌疑人进行了讯问，犯罪嫌疑人交代了其多次贩卖毒品的犯罪事实，民警随后依法对其刑事拘留。".chars().collect();
        let column: Vec<String> = text.chunks(18).map(|l| l.iter().collect()).collect();
        assert!(column[1].starts_with("在审讯室里"));
        let cleaned = clean(&column.join("\n"), &layout);
        assert!(
            cleaned.text.contains("民警在审讯室里"),
            "{:?}",
            cleaned.text
        );
    }
}
