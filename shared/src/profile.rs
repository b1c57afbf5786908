//! The business profile: what the agent tells customers about the shop (intro, delivery,
//! returns policy with its window, offers, brand voice, Instagram handle, working hours).
//! Merchants edit it as a form or as YAML; both are validated the same way and errors name
//! the field (or the YAML line).

use crate::tenants::InstagramHandle;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub shop_name: String,
    #[serde(default)]
    pub intro: String,
    #[serde(default)]
    pub instagram_handle: Option<String>,
    #[serde(default)]
    pub brand_voice: String,
    #[serde(default)]
    pub delivery: String,
    pub returns: ReturnsPolicy,
    #[serde(default)]
    pub offers: Vec<String>,
    /// Day (sunday … saturday) → "10:00-22:00" or "closed".
    #[serde(default)]
    pub working_hours: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnsPolicy {
    #[serde(default)]
    pub policy: String,
    /// Days after delivery within which a return may be requested (0: no returns).
    pub window_days: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("{}", .problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
pub struct ProfileError {
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A field path (`returns.window_days`) or `line 7`.
    pub field: String,
    pub message: String,
}

const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

/// The starting point for a new shop: every field present, in Arabic, to be edited.
pub fn template(handle: Option<&str>) -> String {
    let handle = handle
        .map(|h| format!("\"@{h}\""))
        .unwrap_or_else(|| "\"@your.shop\"".into());
    format!(
        r#"# Business profile — the AI answers customers from this. Edit every line.
shop_name: "اسم المحل"
intro: "عرّف محلك بجملتين: شو بتبيع ولمين."
instagram_handle: {handle}
brand_voice: "ودود وقريب، باللهجة الأردنية، بدون مبالغة."
delivery: "التوصيل داخل عمّان خلال يوم عمل؛ باقي المحافظات خلال ٢-٣ أيام."
returns:
  policy: "الاسترجاع خلال المدة إذا المنتج بحالته الأصلية ومع الفاتورة."
  window_days: 7
offers: []
working_hours:
  sunday: "10:00-22:00"
  monday: "10:00-22:00"
  tuesday: "10:00-22:00"
  wednesday: "10:00-22:00"
  thursday: "10:00-22:00"
  friday: "closed"
  saturday: "10:00-22:00"
"#
    )
}

pub fn from_yaml(text: &str) -> Result<Profile, ProfileError> {
    if text.len() > 64 * 1024 {
        return Err(ProfileError {
            problems: vec![problem("profile", "is longer than 64 KB")],
        });
    }
    if let Some(line) = nests_too_deeply(text) {
        return Err(ProfileError {
            problems: vec![problem(
                &format!("line {line}"),
                format!("nests deeper than {MAX_YAML_NESTING} levels; a profile needs only a few"),
            )],
        });
    }
    if text.contains('\0') {
        return Err(ProfileError {
            problems: vec![problem("profile", crate::text::NUL_MESSAGE)],
        });
    }
    let profile: Profile = serde_yaml_ng::from_str(text).map_err(|e| {
        let field = e
            .location()
            .map(|l| format!("line {}", l.line()))
            .unwrap_or_else(|| "profile".into());
        ProfileError {
            problems: vec![problem(&field, e.to_string())],
        }
    })?;
    validate(profile)
}

/// How deeply a profile's YAML may nest (flow brackets, or block indentation counted in
/// steps of two columns and `- ` markers). The template nests 3 levels.
pub const MAX_YAML_NESTING: usize = 16;

/// The line where `text` nests deeper than [`MAX_YAML_NESTING`], found in one pass before
/// the parser sees it: a parser's cost grows faster than linearly with depth (`[[[[…]]]]`).
/// Brackets inside quotes and comments do not count.
fn nests_too_deeply(text: &str) -> Option<usize> {
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut block = 0usize;
        let mut chars = line.chars().peekable();
        // Leading indentation and sequence markers open block levels.
        let mut column = 0usize;
        while let Some(&c) = chars.peek() {
            match c {
                ' ' => column += 1,
                '-' => {
                    let mut ahead = chars.clone();
                    ahead.next();
                    if matches!(ahead.peek(), Some(' ') | None) {
                        block += 1;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
            chars.next();
        }
        if column / 2 + block > MAX_YAML_NESTING {
            return Some(n + 1);
        }
        let mut quote: Option<char> = None;
        for c in chars {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    flow += 1;
                    if flow > MAX_YAML_NESTING {
                        return Some(n + 1);
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

pub fn from_json(value: serde_json::Value) -> Result<Profile, ProfileError> {
    let profile: Profile = serde_json::from_value(value).map_err(|e| ProfileError {
        problems: vec![problem("profile", e.to_string())],
    })?;
    validate(profile)
}

pub fn to_yaml(p: &Profile) -> String {
    serde_yaml_ng::to_string(p).unwrap_or_default()
}

fn check_hours(value: &str) -> bool {
    if value.eq_ignore_ascii_case("closed") {
        return true;
    }
    let parse = |t: &str| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
    match value.split_once('-') {
        Some((a, b)) => matches!((parse(a), parse(b)), (Some(x), Some(y)) if x != y),
        None => false,
    }
}

pub fn validate(mut p: Profile) -> Result<Profile, ProfileError> {
    let mut problems = Vec::new();
    p.shop_name = p.shop_name.trim().to_owned();
    if p.shop_name.is_empty() {
        problems.push(problem("shop_name", "is empty"));
    }
    for (field, value, max) in [
        ("shop_name", &p.shop_name, 100),
        ("intro", &p.intro, 2000),
        ("brand_voice", &p.brand_voice, 1000),
        ("delivery", &p.delivery, 3000),
        ("returns.policy", &p.returns.policy, 3000),
    ] {
        if value.chars().count() > max {
            problems.push(problem(field, format!("is longer than {max} characters")));
        }
    }
    if let Some(h) = &p.instagram_handle {
        match InstagramHandle::parse(h) {
            Ok(handle) => p.instagram_handle = Some(format!("@{handle}")),
            Err(e) => problems.push(problem("instagram_handle", e)),
        }
    }
    if p.returns.window_days > 365 {
        problems.push(problem(
            "returns.window_days",
            "must be between 0 and 365 days",
        ));
    }
    if p.offers.len() > 20 {
        problems.push(problem("offers", "at most 20 offers"));
    }
    for (i, o) in p.offers.iter().enumerate() {
        if o.trim().is_empty() || o.chars().count() > 500 {
            problems.push(problem(
                &format!("offers[{}]", i + 1),
                "must be 1 to 500 characters",
            ));
        }
    }
    for (day, hours) in &p.working_hours {
        if !DAYS.contains(&day.as_str()) {
            problems.push(problem(
                &format!("working_hours.{day}"),
                format!("is not a day; use {}", DAYS.join(", ")),
            ));
        } else if !check_hours(hours) {
            problems.push(problem(
                &format!("working_hours.{day}"),
                format!("{hours:?} should look like \"10:00-22:00\" or \"closed\""),
            ));
        }
    }
    if problems.is_empty() {
        Ok(p)
    } else {
        Err(ProfileError { problems })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn deep_yaml_is_refused_before_parsing() {
        let flow = format!("shop_name: {}{}", "[".repeat(30_000), "]".repeat(30_000));
        let e = super::from_yaml(&flow).unwrap_err();
        assert_eq!(e.problems[0].field, "line 1");
        assert!(e.problems[0].message.contains("nests deeper"), "{e}");
        let block: String = (0..40)
            .map(|i| format!("{}a{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(super::from_yaml(&block).unwrap_err().problems[0]
            .message
            .contains("nests deeper"));
        let dashes = format!("{}1\n", "- ".repeat(40));
        assert!(super::nests_too_deeply(&dashes).is_some());
        assert_eq!(
            super::nests_too_deeply(&super::template(Some("my.shop"))),
            None
        );
        assert_eq!(
            super::nests_too_deeply("a: \"[[[[[[[[[[[[[[[[[[[[[[[\" # {{{{{{{{{{{{{{{{{{{{{\n"),
            None
        );
    }

    use super::*;

    #[test]
    fn the_template_is_valid_and_round_trips() {
        let p = from_yaml(&template(Some("jo.shop"))).unwrap();
        assert_eq!(p.returns.window_days, 7);
        assert_eq!(p.instagram_handle.as_deref(), Some("@jo.shop"));
        assert_eq!(from_yaml(&to_yaml(&p)).unwrap(), p);
    }

    #[test]
    fn errors_name_the_field_or_the_line() {
        let broken_yaml = "shop_name: x\nreturns:\n  window_days: [\n";
        let e = from_yaml(broken_yaml).unwrap_err();
        assert!(e.problems[0].field.starts_with("line "), "{e:?}");
        let bad = template(None)
            .replace("window_days: 7", "window_days: 400")
            .replace("friday: \"closed\"", "friday: \"all day\"")
            .replace("@your.shop", "has space");
        let e = from_yaml(&bad).unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|p| p.field.as_str()).collect();
        assert!(
            fields.contains(&"returns.window_days")
                && fields.contains(&"working_hours.friday")
                && fields.contains(&"instagram_handle"),
            "{fields:?}"
        );
        let e = from_yaml("shop_name: x\nreturns: {window_days: 3}\ncolour: red\n").unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
