//! Business rules the agent must follow, stored as structured data: delivery zones with fees
//! in JOD, a minimum order, working hours in Asia/Amman with an out-of-hours message, and when
//! to hand a conversation to a human. Also the merchant's free-text AI instructions.

use crate::money::Jod;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessRules {
    #[serde(default)]
    pub delivery_zones: Vec<DeliveryZone>,
    #[serde(default)]
    pub minimum_order_jod: Option<Jod>,
    /// Day (sunday … saturday) → "10:00-22:00" or "closed", in Asia/Amman time.
    #[serde(default)]
    pub working_hours: BTreeMap<String, String>,
    #[serde(default)]
    pub out_of_hours_message: String,
    #[serde(default)]
    pub handoff: HandoffRules,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryZone {
    /// City or area as customers write it (e.g. "عمان", "Irbid"); the name orders keep.
    pub city: String,
    pub fee_jod: Jod,
    #[serde(default)]
    pub delivery_days: Option<u8>,
    /// Other spellings customers use for this zone ("Abdoun", "عبدون"). Jordan's cities are
    /// known in Arabic, English and Arabizi without them (see [`zone_for`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffRules {
    /// Words that send the conversation to a human (e.g. "شكوى", "manager").
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default = "yes")]
    pub on_complaint: bool,
    /// Hand over when the customer asks for a human.
    #[serde(default = "yes")]
    pub on_request: bool,
}

impl Default for HandoffRules {
    fn default() -> Self {
        HandoffRules {
            keywords: vec![],
            on_complaint: true,
            on_request: true,
        }
    }
}

fn yes() -> bool {
    true
}

pub const MAX_INSTRUCTIONS_CHARS: usize = 8000;

pub fn validate(mut r: BusinessRules) -> Result<BusinessRules, Vec<crate::profile::Problem>> {
    let mut problems = Vec::new();
    let mut p =
        |field: String, message: String| problems.push(crate::profile::Problem { field, message });
    if r.delivery_zones.len() > 100 {
        p("delivery_zones".into(), "at most 100 zones".into());
    }
    let mut seen = std::collections::HashSet::new();
    for (i, z) in r.delivery_zones.iter_mut().enumerate() {
        z.city = z.city.trim().to_owned();
        z.aliases = z
            .aliases
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if z.aliases.len() > 20 || z.aliases.iter().any(|a| a.chars().count() > 80) {
            p(
                format!("delivery_zones[{}].aliases", i + 1),
                "at most 20 aliases of 1 to 80 characters".into(),
            );
        }
        if z.city.is_empty() || z.city.chars().count() > 80 {
            p(
                format!("delivery_zones[{}].city", i + 1),
                "must be 1 to 80 characters".into(),
            );
        } else if !seen.insert(crate::search::arabic::normalize(&z.city)) {
            p(
                format!("delivery_zones[{}].city", i + 1),
                format!("{} is listed twice", z.city),
            );
        }
        if z.delivery_days.is_some_and(|d| d > 30) {
            p(
                format!("delivery_zones[{}].delivery_days", i + 1),
                "must be 0 to 30".into(),
            );
        }
    }
    let days = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    for (day, hours) in &r.working_hours {
        let ok_hours = hours.eq_ignore_ascii_case("closed")
            || hours.split_once('-').is_some_and(|(a, b)| {
                chrono::NaiveTime::parse_from_str(a.trim(), "%H:%M").is_ok()
                    && chrono::NaiveTime::parse_from_str(b.trim(), "%H:%M").is_ok()
            });
        if !days.contains(&day.as_str()) {
            p(
                format!("working_hours.{day}"),
                format!("is not a day; use {}", days.join(", ")),
            );
        } else if !ok_hours {
            p(
                format!("working_hours.{day}"),
                format!("{hours:?} should look like \"10:00-22:00\" or \"closed\""),
            );
        }
    }
    if r.out_of_hours_message.chars().count() > 1000 {
        p(
            "out_of_hours_message".into(),
            "is longer than 1000 characters".into(),
        );
    }
    r.handoff.keywords.retain(|k| !k.trim().is_empty());
    if r.handoff.keywords.len() > 50 {
        p("handoff.keywords".into(), "at most 50 keywords".into());
    }
    if problems.is_empty() {
        Ok(r)
    } else {
        Err(problems)
    }
}

/// The fee for a city (see [`zone_for`]).
pub fn delivery_fee(rules: &BusinessRules, city: &str) -> Option<Jod> {
    zone_for(rules, city).map(|z| z.fee_jod)
}

/// Jordan's cities as customers write them: Arabic (any hamza, shadda or article), English
/// and Arabizi. Each line is one city; any spelling of a line matches the others.
const CITY_SPELLINGS: &[&[&str]] = &[
    &["عمان", "amman", "aman", "3amman", "3aman"],
    &["اربد", "irbid", "irbed", "erbid", "arbid"],
    &["الزرقاء", "زرقا", "zarqa", "zarka", "zarqaa", "alzarqa"],
    &["العقبه", "aqaba", "akaba", "3aqaba", "aqabah"],
    &["السلط", "salt", "alsalt", "assalt"],
    &["مادبا", "madaba", "madaba", "ma'daba"],
    &["جرش", "jerash", "jarash", "jerash"],
    &["عجلون", "ajloun", "ajlun", "3ajloun", "ajlon"],
    &["الكرك", "karak", "kerak", "alkarak"],
    &["المفرق", "mafraq", "mafrak", "almafraq"],
    &["الطفيله", "tafilah", "tafila", "tafileh", "tafilah"],
    &["معان", "maan", "ma'an", "ma3an"],
    &["الرمثا", "ramtha", "alramtha"],
    &["الرصيفه", "russeifa", "rusaifa", "ruseifa"],
];

/// One spelling folded for comparison: Arabic variants as in search, the article "ال" / "al-"
/// / "el" dropped, Arabizi digits read as letters (3 → ع dropped like a vowel, 7 → h, 5 → kh,
/// 2 → dropped), punctuation and spaces gone, doubled Latin letters single.
pub fn city_key(city: &str) -> String {
    let n = crate::search::arabic::normalize(city.trim());
    let n = n
        .strip_prefix("ال")
        .filter(|rest| rest.chars().count() >= 2)
        .unwrap_or(&n);
    let mut latin = String::with_capacity(n.len());
    for c in n.chars() {
        match c {
            '3' | '2' => {}
            '7' => latin.push('h'),
            '5' => latin.push_str("kh"),
            '8' => latin.push_str("gh"),
            '9' => latin.push('q'),
            c if c.is_alphanumeric() => latin.push(c),
            _ => {}
        }
    }
    let latin = ["al", "el"]
        .iter()
        .find_map(|a| {
            latin
                .strip_prefix(a)
                .filter(|rest| rest.len() >= 3 && rest.is_ascii() && latin.is_ascii())
        })
        .unwrap_or(&latin)
        .to_owned();
    let mut out = String::with_capacity(latin.len());
    for c in latin.chars() {
        if c.is_ascii_alphabetic() && out.ends_with(c) {
            continue;
        }
        out.push(c);
    }
    out
}

/// The line of [`CITY_SPELLINGS`] a spelling belongs to.
fn known_city(key: &str) -> Option<usize> {
    CITY_SPELLINGS
        .iter()
        .position(|line| line.iter().any(|s| city_key(s) == key))
}

/// The delivery zone for the customer's spelling of a city: the zone's name or one of its
/// aliases, folded by [`city_key`], or any known spelling of the same Jordanian city
/// ("Amman", "amman", "3amman", "عمّان" all find the zone "عمان").
pub fn zone_for<'a>(rules: &'a BusinessRules, city: &str) -> Option<&'a DeliveryZone> {
    let wanted = city_key(city);
    if wanted.is_empty() {
        return None;
    }
    let names = |z: &'a DeliveryZone| {
        std::iter::once(z.city.as_str()).chain(z.aliases.iter().map(String::as_str))
    };
    if let Some(z) = rules
        .delivery_zones
        .iter()
        .find(|z| names(z).any(|n| city_key(n) == wanted))
    {
        return Some(z);
    }
    let line = known_city(&wanted)?;
    rules
        .delivery_zones
        .iter()
        .find(|z| names(z).any(|n| known_city(&city_key(n)) == Some(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_hours_and_fees() {
        let rules: BusinessRules = serde_json::from_value(serde_json::json!({
            "delivery_zones": [{ "city": "عمّان", "fee_jod": "2.5" }, { "city": "Irbid", "fee_jod": "3" }],
            "minimum_order_jod": "10",
            "working_hours": { "friday": "closed", "saturday": "10:00-22:00" },
            "out_of_hours_message": "أهلين! رح نرد عليك الصبح."
        }))
        .unwrap();
        let rules = validate(rules).unwrap();
        assert_eq!(delivery_fee(&rules, "عمان").unwrap().to_string(), "2.500");
        assert_eq!(delivery_fee(&rules, "Zarqa"), None);
        // Arabic, English and Arabizi spellings of the same city, and aliases per zone.
        for spelling in ["Amman", "amman", "3amman", "عمّان", "عمان", " AMMAN "] {
            assert_eq!(
                zone_for(&rules, spelling).unwrap().city,
                "عمّان",
                "{spelling}"
            );
        }
        for spelling in ["اربد", "إربد", "irbid", "Irbed"] {
            assert_eq!(
                zone_for(&rules, spelling).unwrap().city,
                "Irbid",
                "{spelling}"
            );
        }
        let zarqa: BusinessRules = serde_json::from_value(serde_json::json!({
            "delivery_zones": [{ "city": "الزرقاء", "fee_jod": "3" }, { "city": "عبدون", "fee_jod": "1", "aliases": ["Abdoun", "abdoun circle"] }]
        }))
        .unwrap();
        for spelling in ["الزرقا", "الزرقاء", "زرقاء", "Zarqa", "el zarqa"] {
            assert_eq!(
                zone_for(&zarqa, spelling).unwrap().city,
                "الزرقاء",
                "{spelling}"
            );
        }
        assert_eq!(zone_for(&zarqa, "abdoun").unwrap().city, "عبدون");
        assert_eq!(zone_for(&zarqa, "Abdoun Circle").unwrap().city, "عبدون");
        assert!(zone_for(&zarqa, "Amman").is_none());
        assert!(zone_for(&zarqa, "").is_none());
        let bad: BusinessRules = serde_json::from_value(serde_json::json!({
            "delivery_zones": [{ "city": "عمان", "fee_jod": "1" }, { "city": "عمّان", "fee_jod": "2" }],
            "working_hours": { "funday": "10:00-11:00", "monday": "late" }
        }))
        .unwrap();
        let problems = validate(bad).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(
            fields.contains(&"delivery_zones[2].city")
                && fields.contains(&"working_hours.funday")
                && fields.contains(&"working_hours.monday"),
            "{fields:?}"
        );
        assert!(serde_json::from_value::<BusinessRules>(
            serde_json::json!({ "delivery_zones": [{ "city": "x", "fee_jod": "-1" }] })
        )
        .is_err());
    }
}
