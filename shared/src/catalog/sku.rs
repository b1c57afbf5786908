//! A SKU: the merchant's own product code, the key CSV imports upsert by.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

crate::string_schema!(
    Sku,
    "The shop's own product code: 1-64 characters, no spaces",
    "TS-BLUE-M"
);

impl Sku {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Sku, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("the SKU is empty".into());
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "the SKU {s:?} is longer than {} characters",
                Self::MAX_CHARS
            ));
        }
        if let Some(what) = crate::text::first_control_character(s) {
            return Err(format!(
                "the SKU contains the control character {what}, which cannot be seen; use letters, digits, '-' or '_'"
            ));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(format!(
                "the SKU {s:?} contains spaces; use letters, digits, '-' or '_'"
            ));
        }
        Ok(Sku(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Sku::parse(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Sku;

    #[test]
    fn skus_are_trimmed_and_checked() {
        assert_eq!(Sku::parse("  TS-001 ").unwrap().as_str(), "TS-001");
        assert_eq!(Sku::parse("قميص-1").unwrap().as_str(), "قميص-1");
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("A B").is_err());
        assert!(Sku::parse(&"x".repeat(65)).is_err());
        for (raw, named) in [
            ("TS\u{202E}1", "U+202E"),
            ("TS\u{200B}1", "U+200B"),
            ("\u{200E}TS1", "U+200E"),
            ("T\tS", "U+0009"),
        ] {
            let e = Sku::parse(raw).unwrap_err();
            assert!(
                e.contains("control character") && e.contains(named),
                "{raw:?}: {e}"
            );
        }
    }
}
