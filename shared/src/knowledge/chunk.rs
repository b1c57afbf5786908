//! Cutting extracted sections into overlapping chunks for retrieval.
//!
//! A section's text is cut between words (never inside a word or a grapheme), and where it can
//! be, at the strongest boundary near the end of a chunk: a blank line, then a sentence end
//! (`.` `!` `?` `؟` `؛` `…` or a line break), then a comma (`،` `,` `;` `:`). A chunk is at
//! most `target_chars` characters, overlap included. The next chunk of the same section starts
//! with the last words (at most `overlap_chars` characters, from a sentence start when one is
//! that close) of the one before, so a fact cut at a boundary is whole in one of them. A single
//! word longer than a chunk (a URL, a run of symbols) is cut between graphemes.
//!
//! Every chunk carries its section's heading path (or, for a section without one such as a PDF
//! page, the document title). Chunks never span two sections, are never empty, and the same
//! input always gives the same chunks.

use unicode_segmentation::UnicodeSegmentation;

use super::extract::ExtractedText;

/// Characters per chunk when the caller has no reason to choose.
pub const DEFAULT_TARGET_CHARS: usize = 1000;
/// Characters repeated from the previous chunk when the caller has no reason to choose.
pub const DEFAULT_OVERLAP_CHARS: usize = 150;

/// A piece of a document, ready to embed and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the document, from 0.
    pub ordinal: i32,
    /// The section's heading path (`"التوصيل > عمّان"`), the title for a section without a
    /// heading, or empty when there is neither.
    pub heading: String,
    pub content: String,
}

/// Boundary strengths, weakest first.
const INSIDE_WORD: u8 = 0;
const WORD: u8 = 1;
const CLAUSE: u8 = 2;
const SENTENCE: u8 = 3;
const PARAGRAPH: u8 = 4;
const END: u8 = 5;

/// A word with the whitespace after it: `text[start..end]`, `chars` characters, followed by a
/// boundary of `strength`.
#[derive(Debug, Clone, Copy)]
struct Atom {
    start: usize,
    end: usize,
    chars: usize,
    strength: u8,
}

/// The chunks of `doc`: about `target_chars` characters each (0 means
/// [`DEFAULT_TARGET_CHARS`]), consecutive chunks of a section sharing up to `overlap_chars`
/// (at most half a chunk).
pub fn chunk(doc: &ExtractedText, target_chars: usize, overlap_chars: usize) -> Vec<Chunk> {
    let target = if target_chars == 0 {
        DEFAULT_TARGET_CHARS
    } else {
        target_chars
    };
    let overlap = overlap_chars.min(target / 2);
    let mut chunks = Vec::new();
    for section in &doc.sections {
        let heading = section
            .heading
            .clone()
            .or_else(|| doc.title.clone())
            .unwrap_or_default();
        for content in chunk_text(&section.text, target, overlap) {
            chunks.push(Chunk {
                ordinal: chunks.len() as i32,
                heading: heading.clone(),
                content,
            });
        }
    }
    chunks
}

fn chunk_text(text: &str, target: usize, overlap: usize) -> Vec<String> {
    let atoms = atoms(text, (target - overlap).max(1));
    let mut out = Vec::new();
    let mut body_start = 0; // first atom not yet in a chunk
    let mut previous: Option<(usize, usize)> = None; // atoms of the previous chunk's body
    while body_start < atoms.len() {
        let start = match previous {
            Some((prev_start, prev_end)) => overlap_start(&atoms, prev_start, prev_end, overlap),
            None => body_start,
        };
        let mut used: usize = atoms[start..body_start].iter().map(|a| a.chars).sum();
        let mut end = body_start;
        while end < atoms.len() && (end == body_start || used + atoms[end].chars <= target) {
            used += atoms[end].chars;
            end += 1;
        }
        // At least one atom always fits (atoms are at most target - overlap long), except a
        // single grapheme longer than that: it goes alone.
        if used > target && end - body_start > 1 {
            end -= 1;
        }
        if end < atoms.len() {
            end = best_break(&atoms, start, body_start, end, target);
        }
        let content = text[atoms[start].start..atoms[end - 1].end].trim();
        if !content.is_empty() {
            out.push(content.to_owned());
        }
        previous = Some((body_start, end));
        body_start = end;
    }
    out
}

/// Among the chunk's possible ends (after atom `k`, for `k` in `body_start..end`), the one after
/// the strongest boundary that leaves the chunk at least half full; the latest such on a tie.
fn best_break(atoms: &[Atom], start: usize, body_start: usize, end: usize, target: usize) -> usize {
    let mut used: usize = atoms[start..body_start].iter().map(|a| a.chars).sum();
    let mut best = end;
    let mut best_strength = atoms[end - 1].strength;
    for (k, atom) in atoms.iter().enumerate().take(end).skip(body_start) {
        used += atom.chars;
        if used * 2 >= target && atom.strength >= best_strength {
            best = k + 1;
            best_strength = atom.strength;
        }
    }
    best
}

/// Where the next chunk starts so that it repeats the end of the previous body
/// (`atoms[prev_start..prev_end]`): the longest run of whole words of at most `overlap`
/// characters, or the longest one that starts a sentence if that is at least a third of it.
fn overlap_start(atoms: &[Atom], prev_start: usize, prev_end: usize, overlap: usize) -> usize {
    let mut used = 0;
    let mut longest = prev_end;
    let mut sentence = None;
    let mut k = prev_end;
    while k > prev_start && used + atoms[k - 1].chars <= overlap {
        used += atoms[k - 1].chars;
        k -= 1;
        longest = k;
        if k == 0 || atoms[k - 1].strength >= SENTENCE {
            sentence = Some((k, used));
        }
    }
    // Never start inside a word cut between graphemes.
    while longest < prev_end && longest > 0 && atoms[longest - 1].strength == INSIDE_WORD {
        longest += 1;
    }
    match sentence {
        Some((k, chars)) if chars * 3 >= overlap => k,
        _ => longest,
    }
}

/// The words of `text`, each with its trailing whitespace and the strength of the boundary
/// after it; a word longer than `max_chars` is cut between graphemes into pieces no longer.
fn atoms(text: &str, max_chars: usize) -> Vec<Atom> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut chars = 0;
    let mut seen_word = false;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        chars += 1;
        if !c.is_whitespace() {
            seen_word = true;
            continue;
        }
        let word_end = i;
        let mut newlines = usize::from(c == '\n');
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = iter.peek() {
            if !d.is_whitespace() {
                break;
            }
            newlines += usize::from(d == '\n');
            end = j + d.len_utf8();
            chars += 1;
            iter.next();
        }
        // Whitespace before the first word joins that word.
        if !seen_word {
            continue;
        }
        let last = text[start..word_end]
            .trim_end_matches(['"', '\'', '”', '’', '»', ')', ']', '}'])
            .chars()
            .next_back();
        let strength = if newlines >= 2 {
            PARAGRAPH
        } else if newlines == 1
            || last.is_some_and(|c| matches!(c, '.' | '!' | '?' | '؟' | '؛' | '…' | '۔'))
        {
            SENTENCE
        } else if last.is_some_and(|c| matches!(c, '،' | ',' | ';' | ':')) {
            CLAUSE
        } else {
            WORD
        };
        words.push(Atom {
            start,
            end,
            chars,
            strength,
        });
        start = end;
        chars = 0;
        seen_word = false;
    }
    if seen_word {
        words.push(Atom {
            start,
            end: text.len(),
            chars,
            strength: END,
        });
    } else if let Some(last) = words.last_mut() {
        // Only whitespace after the last word.
        last.end = text.len();
        last.chars += chars;
        last.strength = END;
    }

    let mut atoms = Vec::with_capacity(words.len());
    for word in words {
        if word.chars <= max_chars {
            atoms.push(word);
            continue;
        }
        let mut piece_start = word.start;
        let mut piece_chars = 0;
        for (offset, grapheme) in text[word.start..word.end].grapheme_indices(true) {
            let at = word.start + offset;
            let n = grapheme.chars().count();
            if piece_chars > 0 && piece_chars + n > max_chars {
                atoms.push(Atom {
                    start: piece_start,
                    end: at,
                    chars: piece_chars,
                    strength: INSIDE_WORD,
                });
                piece_start = at;
                piece_chars = 0;
            }
            piece_chars += n;
        }
        atoms.push(Atom {
            start: piece_start,
            end: word.end,
            chars: piece_chars,
            strength: word.strength,
        });
    }
    atoms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::extract::Section;

    fn doc(sections: &[(Option<&str>, &str)]) -> ExtractedText {
        ExtractedText {
            title: Some("سياسات المتجر".into()),
            sections: sections
                .iter()
                .map(|(h, t)| Section {
                    heading: h.map(str::to_owned),
                    text: (*t).to_owned(),
                })
                .collect(),
            truncated: false,
        }
    }

    /// Arabic sentences of about 60–70 characters, numbered so each is distinct.
    fn arabic_sentences(n: usize) -> Vec<String> {
        (1..=n)
            .map(|i| match i % 3 {
                0 => format!("الطلب رقم {i} يصل خلال يومين إلى كل محافظات الأردن بدون رسوم إضافية."),
                1 => format!("هل يمكن تبديل المقاس رقم {i} بعد الاستلام؟ نعم، خلال أسبوع من التوصيل."),
                _ => format!("الدفع عند الاستلام متاح للطلب {i}، ويمكن الدفع أيضاً بالبطاقة أو كليك!"),
            })
            .collect()
    }

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn headings_are_kept_and_the_title_stands_in_for_a_missing_one() {
        let d = doc(&[
            (Some("التوصيل > عمّان"), "خلال يوم واحد."),
            (None, "صفحة بلا عنوان."),
            (Some("Returns"), "14 days."),
        ]);
        let chunks = chunk(&d, DEFAULT_TARGET_CHARS, DEFAULT_OVERLAP_CHARS);
        let got: Vec<(i32, &str, &str)> = chunks
            .iter()
            .map(|c| (c.ordinal, c.heading.as_str(), c.content.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "التوصيل > عمّان", "خلال يوم واحد."),
                (1, "سياسات المتجر", "صفحة بلا عنوان."),
                (2, "Returns", "14 days.")
            ]
        );
    }

    #[test]
    fn sizes_are_bounded_and_chunks_follow_sentences() {
        let text = arabic_sentences(60).join(" ");
        let chunks = chunk(&doc(&[(Some("الأسئلة"), &text)]), 300, 60);
        assert!(chunks.len() >= 10, "{}", chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            assert!(
                i + 1 == chunks.len() || chars(&c.content) >= 150,
                "too small: {}",
                c.content
            );
            assert!(
                chars(&c.content) <= 300,
                "{} chars: {}",
                chars(&c.content),
                c.content
            );
            assert!(
                c.content.ends_with(['.', '؟', '!']),
                "does not end a sentence: {}",
                c.content
            );
            assert_eq!(c.heading, "الأسئلة");
        }
    }

    #[test]
    fn consecutive_chunks_overlap() {
        let text = arabic_sentences(40).join(" ");
        let chunks = chunk(&doc(&[(None, &text)]), 400, 150);
        assert!(chunks.len() >= 3);
        for pair in chunks.windows(2) {
            let (a, b) = (&pair[0].content, &pair[1].content);
            // The next chunk starts with a suffix of the previous one.
            let shared = (1..=a.len().min(b.len()))
                .rev()
                .filter(|n| a.is_char_boundary(a.len() - n) && b.is_char_boundary(*n))
                .find(|n| a[a.len() - n..] == b[..*n])
                .unwrap_or(0);
            let shared_chars = chars(&b[..shared]);
            assert!(
                (20..=150).contains(&shared_chars),
                "overlap of {shared_chars} chars between\n{a}\n---\n{b}"
            );
        }
        // Without overlap nothing repeats: the chunks put back together are the text.
        let plain = chunk(&doc(&[(None, &text)]), 400, 0);
        assert_eq!(
            plain
                .iter()
                .map(|c| c.content.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            text
        );
    }

    #[test]
    fn arabic_words_are_never_cut() {
        let text = arabic_sentences(30).join("\n");
        let words: std::collections::HashSet<&str> = text.split_whitespace().collect();
        for (target, overlap) in [(120, 30), (250, 100), (1000, 150), (77, 38)] {
            for c in chunk(&doc(&[(None, &text)]), target, overlap) {
                assert!(
                    text.contains(&c.content),
                    "not a slice of the text: {}",
                    c.content
                );
                for w in c.content.split_whitespace() {
                    assert!(
                        words.contains(w),
                        "cut word {w:?} in {:?} (target {target})",
                        c.content
                    );
                }
            }
        }
    }

    #[test]
    fn paragraphs_are_preferred_boundaries() {
        let first = arabic_sentences(4).join(" ");
        let second = arabic_sentences(3).join(" ");
        let text = format!("{first}\n\n{second}");
        let chunks = chunk(&doc(&[(None, &text)]), chars(&first) + 100, 0);
        assert_eq!(chunks[0].content, first);
        assert_eq!(chunks[1].content, second);
    }

    #[test]
    fn long_words_are_cut_between_graphemes_and_nothing_is_empty() {
        // A 25-character "word" of family emoji (each one grapheme of 7 chars) and Arabic with
        // diacritics.
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
        let word = family.repeat(10) + &"بِّ".repeat(20);
        let chunks = chunk(&doc(&[(None, &word), (Some("فارغ"), "   \n\n  ")]), 20, 5);
        assert!(chunks.iter().all(|c| !c.content.is_empty()));
        let joined: String = chunks.iter().map(|c| c.content.as_str()).collect();
        // Graphemes whole: every chunk is a sequence of whole family emoji or whole letters.
        for c in &chunks {
            assert!(chars(&c.content) <= 20, "{}", c.content);
            let rest = c.content.replace(family, "").replace("بِّ", "");
            assert!(rest.is_empty(), "cut grapheme in {:?}", c.content);
        }
        assert!(joined.contains(family));
    }

    #[test]
    fn chunking_is_deterministic_and_ordinals_run_through_the_document() {
        let text = arabic_sentences(25).join(" ");
        let d = doc(&[(Some("أ"), &text), (Some("ب"), &text)]);
        let a = chunk(&d, 300, 50);
        assert_eq!(a, chunk(&d, 300, 50));
        assert_eq!(
            a.iter().map(|c| c.ordinal).collect::<Vec<_>>(),
            (0..a.len() as i32).collect::<Vec<_>>()
        );
        assert!(a.iter().any(|c| c.heading == "ب"));
    }
}
