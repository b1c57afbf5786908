//! Splitting a long reply into Instagram-sized text messages (at most 1000 UTF-8 bytes each).
//!
//! A long text becomes as few parts as the limit allows, of similar size: each cut is aimed
//! at an equal share of what is left and lands, in order of preference, at a paragraph
//! break, at a sentence end, at any whitespace, or — for text without spaces — between two
//! graphemes, trading a better kind of break against distance from the aim. So there is
//! never a tiny trailing part (a lone emoji). A cut never falls inside an extended grapheme
//! cluster, so a family emoji, a flag or an Arabic letter with its diacritics stays whole.

use unicode_segmentation::UnicodeSegmentation;

/// Instagram's limit for one text message, in UTF-8 bytes.
pub const MAX_TEXT_BYTES: usize = 1000;

/// Characters that end a sentence when whitespace follows them. A newline ends one too.
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '؟', '۔', '…'];

/// Closing quotes and brackets that may stand between a sentence end and the whitespace.
const CLOSERS: &[char] = &['"', '\'', ')', ']', '}', '»', '”', '’', '›'];

/// How good a place to cut is; later variants are better.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Break {
    Grapheme,
    Whitespace,
    Sentence,
    Paragraph,
}

/// Splits `text` into parts of at most `max_bytes` UTF-8 bytes each, trimmed, none empty.
///
/// A single grapheme longer than `max_bytes` (which only a pathological input has) becomes a
/// part of its own, the one case where a part exceeds the limit.
pub fn split_message(text: &str, max_bytes: usize) -> Vec<String> {
    let greedy = split_greedy(text, max_bytes);
    if greedy.len() <= 1 {
        return greedy;
    }
    let total = text.trim().len();
    let fewest = total.div_ceil(max_bytes.max(1)).max(2);
    for n in fewest..greedy.len() + 1 {
        if let Some(parts) = split_balanced(text, max_bytes, n) {
            return parts;
        }
    }
    greedy
}

/// At most `n` parts, each cut aimed at an equal share of the rest; `None` when the text
/// does not fit in `n` parts that way.
fn split_balanced(text: &str, max_bytes: usize, n: usize) -> Option<Vec<String>> {
    let graphemes: Vec<(usize, &str)> = text.grapheme_indices(true).collect();
    let count = graphemes.len();
    let mut parts = Vec::new();
    let mut start = 0;
    loop {
        while start < count && is_blank(graphemes[start].1) {
            start += 1;
        }
        if start == count {
            break;
        }
        let begin = graphemes[start].0;
        let rest = text[begin..].trim_end();
        let left = n.checked_sub(parts.len())?;
        if rest.len() <= max_bytes {
            if left == 0 {
                return None;
            }
            parts.push(rest.to_owned());
            break;
        }
        if left <= 1 {
            return None;
        }
        let target = rest.len().div_ceil(left);
        // What is left after a cut must fit in the parts left.
        let room_after = (left - 1) * max_bytes;
        let floor = target / 3;
        let mut best: Option<(f64, usize)> = None;
        let mut fallback: Option<usize> = None;
        for k in start + 1..count {
            let pos = graphemes[k].0 - begin;
            if pos > max_bytes {
                break;
            }
            if rest.len().saturating_sub(pos) > room_after || pos < floor {
                continue;
            }
            if fallback
                .is_none_or(|f| (graphemes[f].0 - begin).abs_diff(target) > pos.abs_diff(target))
            {
                fallback = Some(k);
            }
            if !is_blank(graphemes[k].1) || is_blank(graphemes[k - 1].1) {
                continue;
            }
            let kind = break_kind(&graphemes, start, k);
            let rank = kind as u8 as f64;
            let score = rank * 0.5 - pos.abs_diff(target) as f64 / target as f64;
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, k));
            }
        }
        let cut = best.map(|(_, k)| k).or(fallback)?;
        let part = text[begin..graphemes[cut].0].trim();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        start = cut;
    }
    Some(parts)
}

/// The kind of break before grapheme `k`, which starts a run of whitespace.
fn break_kind(graphemes: &[(usize, &str)], start: usize, k: usize) -> Break {
    let newlines = graphemes[k..]
        .iter()
        .take_while(|g| is_blank(g.1))
        .filter(|g| is_line_break(g.1))
        .count();
    if newlines >= 2 {
        Break::Paragraph
    } else if newlines == 1 || ends_sentence(graphemes[start..k].iter().map(|g| g.1)) {
        Break::Sentence
    } else {
        Break::Whitespace
    }
}

/// Fills each part as far as the limit allows (the count of parts the balanced split starts
/// from, and its fallback).
fn split_greedy(text: &str, max_bytes: usize) -> Vec<String> {
    let graphemes: Vec<(usize, &str)> = text.grapheme_indices(true).collect();
    let n = graphemes.len();
    let end_of = |i: usize| graphemes[i].0 + graphemes[i].1.len();
    let mut parts = Vec::new();
    let mut start = 0;
    loop {
        while start < n && is_blank(graphemes[start].1) {
            start += 1;
        }
        if start == n {
            break;
        }
        let begin = graphemes[start].0;
        let rest = text[begin..].trim_end();
        if rest.len() <= max_bytes {
            parts.push(rest.to_owned());
            break;
        }
        // `fit` = how many graphemes from `start` on stay within the limit.
        let mut fit = start;
        while fit < n && end_of(fit) - begin <= max_bytes {
            fit += 1;
        }
        let cut = if fit == start {
            start + 1
        } else {
            best_cut(&graphemes, start, fit)
        };
        let part = text[begin..graphemes.get(cut).map_or(text.len(), |g| g.0)].trim();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        start = cut;
    }
    parts
}

/// The grapheme index in `start + 1 ..= fit` to cut before: the last break of the best kind.
/// `fit < graphemes.len()`, so the grapheme at `fit` exists and may itself be whitespace.
fn best_cut(graphemes: &[(usize, &str)], start: usize, fit: usize) -> usize {
    let mut best = (Break::Grapheme, fit);
    for k in start + 1..=fit {
        if !is_blank(graphemes[k].1) || is_blank(graphemes[k - 1].1) {
            continue;
        }
        // `k` starts a run of whitespace; the run may reach past `fit`, trimming drops it.
        let kind = break_kind(graphemes, start, k);
        if kind >= best.0 {
            best = (kind, k);
        }
    }
    best.1
}

/// Whether the text made of these graphemes ends a sentence, closing quotes aside.
fn ends_sentence<'a>(graphemes: impl DoubleEndedIterator<Item = &'a str>) -> bool {
    for g in graphemes.rev() {
        let last = g.chars().next_back().unwrap_or(' ');
        if SENTENCE_ENDS.contains(&last) {
            return true;
        }
        if !CLOSERS.contains(&last) {
            return false;
        }
    }
    false
}

fn is_blank(grapheme: &str) -> bool {
    grapheme.chars().all(char::is_whitespace)
}

fn is_line_break(grapheme: &str) -> bool {
    grapheme
        .chars()
        .any(|c| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JORDANIAN: &str = "أهلين! شو بتحب تطلب اليوم؟ عنا عروض حلوة كتير.";

    /// Every part is within the limit, and the parts in order rebuild the original with only
    /// whitespace between them.
    fn assert_faithful(original: &str, parts: &[String], max: usize) {
        let mut rest = original;
        for part in parts {
            assert!(
                part.len() <= max,
                "part of {} bytes > {max}: {part:?}",
                part.len()
            );
            assert!(!part.is_empty());
            assert_eq!(part.trim(), part, "part not trimmed");
            rest = rest.trim_start();
            assert!(
                rest.starts_with(part.as_str()),
                "part {part:?} not found next in the original"
            );
            rest = &rest[part.len()..];
        }
        assert!(rest.trim().is_empty(), "text left over: {rest:?}");
    }

    fn assert_whole_graphemes(original: &str, parts: &[String]) {
        let all: Vec<&str> = original.graphemes(true).filter(|g| !is_blank(g)).collect();
        let rebuilt: Vec<String> = parts
            .iter()
            .flat_map(|p| {
                p.graphemes(true)
                    .filter(|g| !is_blank(g))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(all, rebuilt, "a grapheme was cut");
    }

    #[test]
    fn empty_and_blank_input_give_no_parts() {
        assert!(split_message("", 1000).is_empty());
        assert!(split_message("  \n\t ", 1000).is_empty());
    }

    #[test]
    fn short_text_is_one_trimmed_part() {
        assert_eq!(
            split_message("  Hello there!\n", 1000),
            vec!["Hello there!"]
        );
        assert_eq!(split_message(JORDANIAN, 1000), vec![JORDANIAN]);
    }

    #[test]
    fn long_arabic_splits_at_sentence_ends() {
        let text = vec![JORDANIAN; 35].join(" ");
        assert!(text.len() > 2900, "{}", text.len());
        let parts = split_message(&text, MAX_TEXT_BYTES);
        assert!(parts.len() >= 3, "{}", parts.len());
        assert_faithful(&text, &parts, MAX_TEXT_BYTES);
        for part in &parts {
            assert!(
                part.ends_with('.') || part.ends_with('!') || part.ends_with('؟'),
                "not a sentence end: {part:?}"
            );
        }
        // As few parts as the limit allows, of similar size.
        assert_eq!(parts.len(), text.len().div_ceil(MAX_TEXT_BYTES));
        let sizes: Vec<usize> = parts.iter().map(String::len).collect();
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(max - min <= 2 * JORDANIAN.len(), "{sizes:?}");
        assert_whole_graphemes(&text, &parts);
    }

    #[test]
    fn arabic_with_diacritics_is_never_cut_inside_a_letter() {
        // Every letter carries a harakah; with no spaces the cut falls between graphemes.
        let word = "بِسْمِ";
        let text = word.repeat(400);
        let parts = split_message(&text, 101);
        assert_faithful(&text, &parts, 101);
        assert_whole_graphemes(&text, &parts);
        for part in &parts {
            let first = part.chars().next().unwrap();
            assert!(
                !('\u{064B}'..='\u{065F}').contains(&first),
                "part starts with a diacritic: {part:?}"
            );
        }
    }

    #[test]
    fn paragraph_break_beats_a_later_sentence_end() {
        let text = format!(
            "{}\n\n{}",
            "First paragraph, long enough to be a part of its own.",
            "Second one. ".repeat(6).trim(),
        );
        let parts = split_message(&text, 100);
        assert_eq!(
            parts[0],
            "First paragraph, long enough to be a part of its own."
        );
        assert_faithful(&text, &parts, 100);
    }

    #[test]
    fn sentence_end_beats_a_later_space() {
        let text = "We have it in red. The blue one comes back next week";
        let parts = split_message(text, 40);
        assert_eq!(parts[0], "We have it in red.");
        assert_faithful(text, &parts, 40);
    }

    #[test]
    fn newline_counts_as_a_sentence_end() {
        let text = "Price list for today\nsmall one five JOD and large";
        let parts = split_message(text, 30);
        assert_eq!(parts[0], "Price list for today");
        assert_faithful(text, &parts, 30);
    }

    #[test]
    fn closing_quote_after_a_sentence_end_stays_with_it() {
        let text = "She said \"yes!\" and then we shipped the order the same afternoon";
        let parts = split_message(text, 30);
        assert_eq!(parts[0], "She said \"yes!\"");
    }

    #[test]
    fn decimal_point_is_not_a_sentence_end() {
        let text = "It costs 3.5 JOD plus delivery to Irbid or Zarqa";
        let parts = split_message(text, 20);
        assert_faithful(text, &parts, 20);
        assert!(
            parts
                .iter()
                .all(|p| !p.ends_with("3.") && !p.starts_with("5 ")),
            "{parts:?}"
        );
    }

    #[test]
    fn english_without_sentence_ends_splits_at_spaces() {
        let text = "the blue cotton shirt comes in four sizes ".repeat(60);
        let parts = split_message(&text, 100);
        assert_faithful(&text, &parts, 100);
        for part in &parts {
            assert!(text.contains(&format!("{part} ")) || text.trim_end().ends_with(part.as_str()));
            let words = [
                "the", "blue", "cotton", "shirt", "comes", "in", "four", "sizes",
            ];
            assert!(
                part.split(' ').all(|w| words.contains(&w)),
                "cut inside a word: {part:?}"
            );
        }
    }

    #[test]
    fn text_without_spaces_splits_between_graphemes() {
        let text = "abcdefghij".repeat(250);
        let parts = split_message(&text, 1000);
        assert_eq!(
            parts.iter().map(String::len).collect::<Vec<_>>(),
            vec![834, 833, 833]
        );
        assert_eq!(parts.concat(), text);

        let arabic = "مرحبا".repeat(300);
        let parts = split_message(&arabic, 1000);
        assert_faithful(&arabic, &parts, 1000);
        assert_eq!(parts.concat(), arabic);
    }

    #[test]
    fn emoji_families_and_flags_are_never_cut() {
        let family = "👨‍👩‍👧‍👦"; // 25 bytes
        let flag = "🇯🇴"; // 8 bytes
        let skin = "👍🏽"; // 8 bytes
        let unit = format!("{family}{flag}{skin}");
        let text = unit.repeat(60);
        for max in [24, 25, 30, 33, 40, 100, 1000] {
            let parts = split_message(&text, max);
            assert_faithful(&text, &parts, max.max(25));
            assert_whole_graphemes(&text, &parts);
            assert_eq!(parts.concat(), text);
        }
    }

    #[test]
    fn a_grapheme_bigger_than_the_limit_goes_alone() {
        let family = "👨‍👩‍👧‍👦";
        let parts = split_message(&format!("ab{family}cd"), 10);
        assert_eq!(parts, vec!["ab", family, "cd"]);
    }

    #[test]
    fn mixed_arabic_english_and_emoji() {
        let text = "أهلين 👋! Welcome to our shop. عنا تيشيرتات 🇯🇴 بـ 10 JOD فقط؟ Free delivery in Amman… 😍😍\n\n"
            .repeat(20);
        let parts = split_message(&text, MAX_TEXT_BYTES);
        assert!(parts.len() >= 2);
        assert_faithful(&text, &parts, MAX_TEXT_BYTES);
        assert_whole_graphemes(&text, &parts);
        // Paragraph breaks come first.
        for part in &parts {
            assert!(part.ends_with("😍😍"), "{part:?}");
        }
    }

    /// A reply that once became [964, 878, 945, 124, 4, 1000, 1000, 760] bytes: paragraphs of
    /// uneven length, a lone emoji line, and long runs without any sentence end.
    #[test]
    fn parts_are_of_similar_size_and_none_is_tiny() {
        let sentence = "عنا قمصان قطن بألوان كتير حلوة والسعر ١٢.٥٠٠ دينار. ";
        let run = "فستان صيفي خفيف مريح للطلعات والمشاوير ";
        let text = format!(
            "{}\n\n{}\n\n{}\n\n😍\n\n{}",
            sentence.repeat(10).trim(),
            sentence.repeat(9).trim(),
            sentence.repeat(2).trim(),
            run.repeat(60).trim()
        );
        assert!((5_000..6_500).contains(&text.len()), "{}", text.len());
        let greedy: Vec<usize> = split_greedy(&text, MAX_TEXT_BYTES)
            .iter()
            .map(String::len)
            .collect();
        assert!(
            greedy.iter().any(|n| *n < 200),
            "the old way made a small part: {greedy:?}"
        );
        let parts = split_message(&text, MAX_TEXT_BYTES);
        assert_faithful(&text, &parts, MAX_TEXT_BYTES);
        assert_whole_graphemes(&text, &parts);
        let sizes: Vec<usize> = parts.iter().map(String::len).collect();
        assert_eq!(
            parts.len(),
            text.len().div_ceil(MAX_TEXT_BYTES),
            "{sizes:?}"
        );
        let (min, max) = (*sizes.iter().min().unwrap(), *sizes.iter().max().unwrap());
        assert!(min * 2 >= max, "parts of very different sizes: {sizes:?}");
        assert!(parts.iter().all(|p| p != "😍"), "{sizes:?}");
        // Cuts at sentence ends or paragraphs where there are some, never inside a word.
        for part in &parts[..parts.len() - 1] {
            let last = part.chars().last().unwrap();
            assert!(
                last == '.'
                    || last == '😍'
                    || part.ends_with(run.trim().split(' ').last().unwrap())
                    || run.trim().split(' ').any(|w| part.ends_with(w)),
                "cut inside a word: …{:?}",
                part.chars().rev().take(20).collect::<String>()
            );
        }
    }

    #[test]
    fn crlf_is_one_grapheme_and_a_paragraph_break() {
        let text = "Line one is here.\r\n\r\nLine two, a bit longer.";
        let parts = split_message(text, 30);
        assert_eq!(parts[0], "Line one is here.");
        assert_faithful(text, &parts, 30);
    }
}
