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
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
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
    }
}
