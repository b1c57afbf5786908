//! A fetched web page's text, as Markdown, so the Markdown reader of [`super::extract`] makes
//! its sections: `<h1>`–`<h3>` become headings, block elements paragraphs, list items lines,
//! `<script>`, `<style>`, `<noscript>`, `<template>`, `<svg>` and the page's `<head>` (but its
//! `<title>`) are left out, and the common character references are decoded.
//!
//! This is a tolerant scanner, not an HTML parser: shop pages (policies, FAQs) are simple, and
//! a misread tag costs a stray word, never a failure.

/// Whether a fetched body is an HTML page (by content type, else by its first bytes).
pub fn is_html(content_type: Option<&str>, bytes: &[u8]) -> bool {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if mime == "text/html" || mime == "application/xhtml+xml" {
        return true;
    }
    if !mime.is_empty() && mime != "application/octet-stream" && mime != "text/plain" {
        return false;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// Elements whose content is never text.
const SKIPPED: [&str; 7] = [
    "script", "style", "noscript", "template", "svg", "iframe", "head",
];
/// Elements that end a paragraph.
const BLOCKS: [&str; 22] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "nav",
    "aside",
    "ul",
    "ol",
    "table",
    "tr",
    "blockquote",
    "pre",
    "form",
    "dl",
    "dt",
    "dd",
    "figure",
    "h4",
    "h5",
];

/// The page as Markdown text.
pub fn to_markdown(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut title = String::new();
    let mut rest = html;
    let mut skipping: Option<String> = None;
    let mut in_title = false;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut out, &mut title, in_title, skipping.is_some(), rest);
            break;
        };
        push_text(
            &mut out,
            &mut title,
            in_title,
            skipping.is_some(),
            &rest[..lt],
        );
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name == "title" {
            in_title = !closing;
            continue;
        }
        if let Some(skipped) = &skipping {
            if closing && &name == skipped {
                skipping = None;
            }
            continue;
        }
        if !closing && SKIPPED.contains(&name.as_str()) && !tag.ends_with('/') {
            skipping = Some(name);
            continue;
        }
        match name.as_str() {
            "h1" | "h2" | "h3" => {
                out.push_str("\n\n");
                if !closing {
                    let level = name[1..].parse::<usize>().unwrap_or(1);
                    out.push_str(&"#".repeat(level));
                    out.push(' ');
                }
            }
            "br" => out.push('\n'),
            "li" if !closing => out.push_str("\n- "),
            "td" | "th" if closing => out.push_str(" | "),
            n if BLOCKS.contains(&n) => out.push_str("\n\n"),
            _ => {}
        }
    }
    let body = tidy(&out);
    let title = collapse(&decode_entities(&title));
    if !title.is_empty() && !body.trim_start().starts_with("# ") {
        format!("# {title}\n\n{body}")
    } else {
        body
    }
}

fn push_text(out: &mut String, title: &mut String, in_title: bool, skipping: bool, text: &str) {
    if in_title {
        title.push_str(text);
    } else if !skipping {
        // Whitespace in HTML text is one space; line structure comes from the tags.
        let decoded = decode_entities(text);
        let mut last_space = out.ends_with([' ', '\n']);
        for c in decoded.chars() {
            if c.is_whitespace() {
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            } else {
                out.push(c);
                last_space = false;
            }
        }
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trims each line and keeps at most one blank line between paragraphs.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = true;
    for line in s.lines() {
        let line = line.trim().trim_end_matches('|').trim_end();
        if line.is_empty() || line == "-" {
            if !blank {
                out.push('\n');
                blank = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        blank = false;
    }
    out.trim().to_owned()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[..rest.len().min(12)].find(';');
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_becomes_markdown_with_headings() {
        let page = r#"<!DOCTYPE html><html><head><title>سياسة المتجر</title>
            <style>h1 { color: red }</style><script>var x = "<h1>no</h1>";</script></head>
            <body><nav><a href="/">الرئيسية</a></nav>
            <h1>التوصيل</h1><p>نوصل داخل   عمّان خلال <b>يومين</b>.</p>
            <h2>الإرجاع</h2><ul><li>خلال 7 أيام</li><li>مع الفاتورة &amp; العلبة</li></ul>
            <!-- <h2>hidden</h2> --><table><tr><td>عمّان</td><td>2 دينار</td></tr></table>
            </body></html>"#;
        let md = to_markdown(page);
        assert!(md.starts_with("الرئيسية") || md.starts_with("# "), "{md}");
        assert!(md.contains("# التوصيل\n"), "{md}");
        assert!(md.contains("نوصل داخل عمّان خلال يومين."), "{md}");
        assert!(md.contains("## الإرجاع"), "{md}");
        assert!(md.contains("- مع الفاتورة & العلبة"), "{md}");
        assert!(md.contains("عمّان | 2 دينار"), "{md}");
        assert!(
            !md.contains("color") && !md.contains("no") && !md.contains("hidden"),
            "{md}"
        );
    }

    #[test]
    fn html_is_recognised_by_type_or_start() {
        assert!(is_html(Some("text/html; charset=utf-8"), b"x"));
        assert!(is_html(None, b"  <!DOCTYPE html><html>"));
        assert!(!is_html(Some("application/pdf"), b"<html>"));
        assert!(!is_html(None, b"# Markdown"));
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            decode_entities("a &lt;b&gt; &#1593; &#x639; &bogus; &"),
            "a <b> ع ع &bogus; &"
        );
    }
}
