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
    /// City or area as customers write it (e.g. "عمان", "Irbid").
    pub city: String,
    pub fee_jod: Jod,
    #[serde(default)]
    pub delivery_days: Option<u8>,
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

/// The fee for a city, matched with Arabic spelling variants folded (عمان = عمّان).
pub fn delivery_fee(rules: &BusinessRules, city: &str) -> Option<Jod> {
    let wanted = crate::search::arabic::normalize(city.trim());
    rules
        .delivery_zones
        .iter()
        .find(|z| crate::search::arabic::normalize(&z.city) == wanted)
        .map(|z| z.fee_jod)
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
