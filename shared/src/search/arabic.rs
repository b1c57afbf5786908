//! Arabic text normalisation for search. One implementation, used for documents and queries
//! alike, by both backends (the Postgres backend stores its output in `search_text`; the Azure
//! backend sends it as `content_normalized` and as the query text).
//!
//! Customers write the same word many ways: with or without hamza on the alef, taa marbuta as
//! haa, alef maqsura as yaa, with diacritics or tatweel for emphasis, with Arabic-Indic digits.
//! [`normalize`] folds those spellings together; [`search_form`] additionally splits on
//! punctuation and strips the definite article, which is what gets indexed and matched.

/// Folds the spelling variants of Arabic (and the case of Latin) together:
///
/// * Latin (and any cased script) is lower-cased; Arabizi ("3andkom", "7elo") stays as written.
/// * Diacritics are removed: tashkeel U+064B–U+0652, the other combining marks U+0653–U+065F
///   (maddah, hamza above/below), superscript alef U+0670, Quranic marks U+06D6–U+06ED.
/// * Tatweel U+0640 and invisible format characters (ZWNJ, ZWJ, LRM, RLM, ALM, BOM) are removed.
/// * Alef forms أ إ آ ٱ (and the wavy-hamza alefs ٲ ٳ) become ا.
/// * ؤ becomes و, ئ becomes ي.
/// * The standalone hamza ء is **dropped**: people write شيء and شي, ماء and ما, أزياء and
///   ازيا; dropping it makes those meet. (The rare collision it causes, ماء/ما, costs less.)
/// * ة (taa marbuta) becomes ه; ى (alef maqsura) and the Persian yeh ی become ي; keheh ک
///   becomes ك.
/// * Arabic-Indic digits ٠–٩ and Persian digits ۰–۹ become 0–9; the Arabic decimal separator
///   ٫ becomes `.`, the thousands separator ٬ and the Arabic comma ، become `,`, ؛ becomes `;`
///   and ؟ becomes `?`.
/// * Runs of whitespace become one space; leading and trailing whitespace is removed.
///
/// Punctuation is otherwise kept (see [`search_form`] for the indexed form).
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        let Some(mapped) = fold(c) else { continue };
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(mapped.to_lowercase());
    }
    out
}

/// The form that is indexed and matched: [`normalize`], then every character that is not a
/// letter or digit becomes a space (so `sku-12`, `(القميص)` and `قميص،` split into words the
/// same way on both sides), then the definite article and its attached prepositions
/// (ال، وال، بال، كال، فال، لل) are stripped from words that keep at least three letters:
/// "القميص الأزرق" and "قميص ازرق" meet.
pub fn search_form(text: &str) -> String {
    let normalized = normalize(text);
    let spaced: String = normalized
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut out = String::with_capacity(spaced.len());
    for word in spaced.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(strip_article(word));
    }
    out
}

/// Prefixes taken off a word by [`search_form`], longest first.
const ARTICLE_PREFIXES: [&str; 6] = ["وال", "بال", "كال", "فال", "لل", "ال"];
/// A word keeps at least this many characters after its article is stripped.
const MIN_STEM_CHARS: usize = 3;

fn strip_article(word: &str) -> &str {
    for prefix in ARTICLE_PREFIXES {
        if let Some(rest) = word.strip_prefix(prefix) {
            if rest.chars().count() >= MIN_STEM_CHARS {
                return rest;
            }
        }
    }
    word
}

/// One character: `None` drops it, otherwise its folded form.
fn fold(c: char) -> Option<char> {
    Some(match c {
        // diacritics: tashkeel, other combining marks, superscript alef, Quranic annotation
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}' => return None,
        // tatweel and invisible format characters
        '\u{0640}'
        | '\u{200B}'..='\u{200F}'
        | '\u{061C}'
        | '\u{FEFF}'
        | '\u{2066}'..='\u{2069}' => return None,
        // standalone hamza
        'ء' => return None,
        'أ' | 'إ' | 'آ' | 'ٱ' | 'ٲ' | 'ٳ' => 'ا',
        'ؤ' => 'و',
        'ئ' => 'ي',
        'ة' => 'ه',
        'ى' | 'ی' => 'ي',
        'ک' => 'ك',
        '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
        '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
        '٫' => '.',
        '٬' | '،' => ',',
        '؛' => ';',
        '؟' => '?',
        other => other,
    })
}

/// The words of a [`search_form`] text, without duplicates, at most `max` of them.
pub(crate) fn terms(search_form: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in search_form.split_whitespace() {
        let word: String = word.chars().take(64).collect();
        if !out.contains(&word) {
            out.push(word);
            if out.len() == max {
                break;
            }
        }
    }
    out
}

/// Words that say nothing about what is searched for: Jordanian/MSA function words and
/// shopping phrases, English and Arabizi ones, all in [`search_form`]. They are left out of a
/// query's terms unless the query has nothing else.
const STOPWORDS: &[&str] = &[
    // Arabic, in search form (normalised, article stripped where the rule strips it)
    "في",
    "فيه",
    "فيها",
    "من",
    "علي",
    "عن",
    "الي",
    "مع",
    "او",
    "و",
    "يا",
    "ما",
    "شو",
    "ايش",
    "هل",
    "كم",
    "بكم",
    "قديش",
    "بدي",
    "بدنا",
    "بدك",
    "عندكم",
    "عندك",
    "عنا",
    "عندي",
    "لو",
    "سمحت",
    "ممكن",
    "انا",
    "انت",
    "انتو",
    "احنا",
    "هاد",
    "هاي",
    "هذا",
    "هذه",
    "هذي",
    "ذلك",
    "تلك",
    "اللي",
    "الذي",
    "التي",
    "كيف",
    "وين",
    "متي",
    "ليش",
    "لي",
    "له",
    "لها",
    "لك",
    "لكم",
    "هو",
    "هي",
    "هم",
    "كان",
    "بس",
    "كمان",
    "اي",
    "شي",
    "مرحبا",
    "سلام",
    "عليكم",
    "اهلا",
    "يعطيك",
    "عافيه",
    // English
    "a",
    "an",
    "the",
    "is",
    "are",
    "do",
    "does",
    "you",
    "your",
    "have",
    "has",
    "i",
    "me",
    "my",
    "we",
    "want",
    "need",
    "for",
    "of",
    "in",
    "on",
    "to",
    "and",
    "or",
    "with",
    "please",
    "any",
    "some",
    "what",
    "how",
    "much",
    "it",
    "there",
    "can",
    "hi",
    "hello",
    // Arabizi
    "fi",
    "fe",
    "bade",
    "badi",
    "baddi",
    "bdi",
    "3andkom",
    "3ndkom",
    "3indkom",
    "shu",
    "sho",
    "kam",
    "ma3",
];

/// Query terms worth matching: the words of `search_form` minus [`STOPWORDS`] (all of them if
/// every word is a stopword), at most `max`.
pub(crate) fn query_terms(search_form: &str, max: usize) -> Vec<String> {
    let all = terms(search_form, usize::MAX);
    let content: Vec<String> = all
        .iter()
        .filter(|t| !STOPWORDS.contains(&t.as_str()))
        .cloned()
        .collect();
    let mut chosen = if content.is_empty() { all } else { content };
    chosen.truncate(max);
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_is_lower_cased_and_arabizi_kept() {
        assert_eq!(normalize("Blue SHIRT"), "blue shirt");
        assert_eq!(normalize("3andkom Qamees 7elo?"), "3andkom qamees 7elo?");
    }

    #[test]
    fn diacritics_are_removed() {
        assert_eq!(normalize("قَمِيصٌ"), "قميص");
        assert_eq!(normalize("مُحَمَّدٌ"), "محمد");
        // tanween fath, kasra, sukun, shadda with fatha
        assert_eq!(normalize("كِتَابًا مُسْتَعْمَلٌّ"), "كتابا مستعمل");
        // superscript alef (as in هٰذا) and Quranic marks
        assert_eq!(normalize("هٰذا"), "هذا");
        assert_eq!(normalize("الرحيم\u{06D6}"), "الرحيم");
        // hamza above / below and maddah as combining marks
        assert_eq!(normalize("ا\u{0654}زرق"), "ازرق");
        assert_eq!(normalize("ا\u{0653}"), "ا");
    }

    #[test]
    fn tatweel_and_invisible_characters_are_removed() {
        assert_eq!(normalize("جمـــيل"), "جميل");
        assert_eq!(normalize("قميص\u{200C}ات"), "قميصات");
        assert_eq!(normalize("\u{200F}سعر\u{200E}"), "سعر");
        assert_eq!(normalize("\u{FEFF}نعم"), "نعم");
    }

    #[test]
    fn alef_forms_are_unified() {
        assert_eq!(normalize("أ إ آ ٱ ا"), "ا ا ا ا ا");
        assert_eq!(normalize("أزرق"), "ازرق");
        assert_eq!(normalize("إسوارة"), "اسواره");
        assert_eq!(normalize("آخر"), "اخر");
        assert_eq!(normalize("ٱلله"), "الله");
    }

    #[test]
    fn hamza_on_waw_and_yaa_and_standalone_hamza() {
        assert_eq!(normalize("مؤسسة"), "موسسه");
        assert_eq!(normalize("سائق"), "سايق");
        assert_eq!(normalize("شيء"), "شي");
        assert_eq!(normalize("أزياء"), "ازيا");
        assert_eq!(normalize("أزياء"), normalize("ازيا"));
    }

    #[test]
    fn taa_marbuta_and_alef_maqsura() {
        assert_eq!(normalize("مكتبة"), "مكتبه");
        assert_eq!(normalize("مكتبة"), normalize("مكتبه"));
        assert_eq!(normalize("مستشفى"), "مستشفي");
        assert_eq!(normalize("على"), normalize("علي"));
        // Persian yeh and keheh, from some keyboards
        assert_eq!(normalize("کتابی"), "كتابي");
    }

    #[test]
    fn arabic_indic_and_persian_digits() {
        assert_eq!(normalize("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(normalize("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
        assert_eq!(normalize("١٢٫٥"), "12.5");
        assert_eq!(normalize("١٬٠٠٠ دينار"), "1,000 دينار");
        assert_eq!(normalize("مقاس ٤٢؟"), "مقاس 42?");
        assert_eq!(normalize("أحمر، أزرق؛"), "احمر, ازرق;");
    }

    #[test]
    fn whitespace_is_collapsed() {
        assert_eq!(normalize("  قميص \t\n  أزرق  "), "قميص ازرق");
        assert_eq!(normalize("a\u{00A0}\u{00A0}b"), "a b");
        assert_eq!(normalize("   "), "");
        assert_eq!(normalize(""), "");
        // a dropped character between spaces leaves one space
        assert_eq!(normalize("ا ـ ب"), "ا ب");
    }

    #[test]
    fn spelling_variants_normalise_equal() {
        let a = normalize("قميص أزرق");
        assert_eq!(a, normalize("قميص ازرق"));
        assert_eq!(a, normalize("قَمِيصٌ أزرق"));
        assert_eq!(a, normalize("قـــميص   أَزْرَق"));
        assert_eq!(a, "قميص ازرق");
    }

    #[test]
    fn normalize_is_idempotent() {
        for s in ["قَمِيصٌ أزرق", "مكتبة ١٢٫٥", "Shirt XL", "مؤسسة شيء", "ٱلْحَمْدُ"]
        {
            let once = normalize(s);
            assert_eq!(normalize(&once), once, "{s}");
            let form = search_form(s);
            assert_eq!(search_form(&form), form, "{s}");
        }
    }

    #[test]
    fn search_form_splits_punctuation_and_strips_the_article() {
        assert_eq!(search_form("القميص الأزرق"), "قميص ازرق");
        assert_eq!(search_form("(القميص)، الأزرق!"), "قميص ازرق");
        assert_eq!(search_form("والقميص بالأزرق للأطفال"), "قميص ازرق اطفال");
        assert_eq!(search_form("SKU-12/B"), "sku 12 b");
        // short words keep their letters: الله, الو, بال
        assert_eq!(search_form("الله الو بال"), "الله الو بال");
        assert_eq!(search_form("١٢٫٥"), "12 5");
    }

    #[test]
    fn stopwords_are_written_in_search_form() {
        let wrong: Vec<_> = STOPWORDS.iter().filter(|w| search_form(w) != **w).collect();
        assert!(
            wrong.is_empty(),
            "stopwords that would never match a query term: {wrong:?}"
        );
    }

    #[test]
    fn query_terms_drop_stopwords_unless_nothing_else_is_left() {
        assert_eq!(
            query_terms(&search_form("بدي قميص أزرق لو سمحت"), 32),
            vec!["قميص", "ازرق"]
        );
        assert_eq!(
            query_terms(&search_form("do you have a blue shirt"), 32),
            vec!["blue", "shirt"]
        );
        assert_eq!(query_terms(&search_form("في"), 32), vec!["في"]);
        assert_eq!(
            query_terms(&search_form("قميص قميص ازرق"), 32),
            vec!["قميص", "ازرق"]
        );
        assert_eq!(query_terms(&search_form("a b c d"), 2), vec!["b", "c"]);
    }
}
