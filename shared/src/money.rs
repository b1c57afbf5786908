//! Money: Jordanian dinars with exactly three decimals (fils), end to end — `numeric(12,3)` in
//! Postgres, `rust_decimal` in Rust, a string like `"12.500"` in JSON. Never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The largest amount `numeric(12,3)` holds.
const MAX: &str = "999999999.999";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Jod(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("the price is empty")]
    Empty,
    #[error("{0:?} is not a price; write it like 12.500 or 12.5 JD")]
    NotANumber(String),
    #[error("a price cannot be negative ({0})")]
    Negative(String),
    #[error("{0} has more than 3 decimals; dinars have 3 (fils)")]
    TooPrecise(String),
    #[error("{0} is too large")]
    TooLarge(String),
}

crate::string_schema!(
    Jod,
    "Jordanian dinars as a string with 3 decimals (fils); input also accepts forms like \"12.5\", \"12.5 JD\" or Arabic-Indic digits",
    "12.500"
);

impl Jod {
    pub const ZERO: Jod = Jod(Decimal::ZERO);

    /// Reads a price as merchants write it: `12.500`, `12.5`, `12.5 JD`, `JOD 12`, `د.أ 12.500`,
    /// `12.500 دينار`, Arabic-Indic digits (`١٢٫٥`). Refuses negatives, more than 3 decimals,
    /// and anything that is not a number.
    pub fn parse(input: &str) -> Result<Jod, MoneyError> {
        let original = input.trim();
        if original.is_empty() {
            return Err(MoneyError::Empty);
        }
        let mut s: String = original
            .chars()
            .map(|c| match c {
                '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
                '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
                '٫' => '.',
                '\u{066C}' => ',', // Arabic thousands separator
                _ => c,
            })
            .collect();
        for unit in [
            "د.أ.",
            "د.أ",
            "دينار",
            "دنانير",
            "JOD",
            "jod",
            "JD",
            "jd",
            "Jd",
        ] {
            s = s.replace(unit, " ");
        }
        let s = s.trim().trim_end_matches('.').trim();
        if s.is_empty() {
            return Err(MoneyError::NotANumber(original.to_owned()));
        }
        let negative = s.starts_with('-');
        // Thousands separators only in the 1,234.500 form.
        let plain: String = if s.contains(',') && s.contains('.') {
            s.replace(',', "")
        } else {
            s.to_owned()
        };
        if plain.contains(',') || plain.chars().any(|c| c.is_whitespace()) {
            return Err(MoneyError::NotANumber(original.to_owned()));
        }
        if !plain
            .trim_start_matches(['-', '+'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
            || plain.matches('.').count() > 1
            || !plain.chars().any(|c| c.is_ascii_digit())
        {
            return Err(MoneyError::NotANumber(original.to_owned()));
        }
        let value =
            Decimal::from_str(&plain).map_err(|_| MoneyError::NotANumber(original.to_owned()))?;
        if negative || value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative(original.to_owned()));
        }
        Jod::from_decimal(value).map_err(|e| match e {
            MoneyError::TooPrecise(_) => MoneyError::TooPrecise(original.to_owned()),
            MoneyError::TooLarge(_) => MoneyError::TooLarge(original.to_owned()),
            other => other,
        })
    }

    pub fn from_decimal(value: Decimal) -> Result<Jod, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative(value.to_string()));
        }
        let normalized = value.normalize();
        if normalized.scale() > 3 {
            return Err(MoneyError::TooPrecise(value.to_string()));
        }
        if value > Decimal::from_str(MAX).expect("constant") {
            return Err(MoneyError::TooLarge(value.to_string()));
        }
        let mut v = normalized;
        v.rescale(3);
        Ok(Jod(v))
    }

    pub fn from_fils(fils: i64) -> Result<Jod, MoneyError> {
        Jod::from_decimal(Decimal::new(fils, 3))
    }

    pub fn decimal(&self) -> Decimal {
        self.0
    }

    pub fn checked_add(self, other: Jod) -> Option<Jod> {
        self.0
            .checked_add(other.0)
            .and_then(|d| Jod::from_decimal(d).ok())
    }

    pub fn checked_mul(self, quantity: u32) -> Option<Jod> {
        self.0
            .checked_mul(Decimal::from(quantity))
            .and_then(|d| Jod::from_decimal(d).ok())
    }
}

impl fmt::Display for Jod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}", self.0)
    }
}

impl Serialize for Jod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Jod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Strings as documented; plain JSON numbers are read through their text, never a float.
        let v = serde_json::Value::deserialize(d)?;
        let text = match &v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(serde::de::Error::custom(
                    "a price is a string like \"12.500\"",
                ))
            }
        };
        Jod::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl tokio_postgres::types::ToSql for Jod {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }
    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <Decimal as tokio_postgres::types::ToSql>::accepts(ty)
    }
    tokio_postgres::types::to_sql_checked!();
}

impl<'a> tokio_postgres::types::FromSql<'a> for Jod {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let d = Decimal::from_sql(ty, raw)?;
        Ok(Jod::from_decimal(d)?)
    }
    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <Decimal as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchants_ways_of_writing_prices_are_read() {
        for (input, expected) in [
            ("12.500", "12.500"),
            ("12.5", "12.500"),
            ("12", "12.000"),
            ("12.5 JD", "12.500"),
            ("JOD 7", "7.000"),
            ("د.أ 12.500", "12.500"),
            ("12.500 د.أ", "12.500"),
            ("15 دينار", "15.000"),
            ("١٢٫٥٠٠", "12.500"),
            ("1,250.750", "1250.750"),
            ("0", "0.000"),
            (" 3.25 ", "3.250"),
        ] {
            assert_eq!(Jod::parse(input).unwrap().to_string(), expected, "{input}");
        }
    }

    #[test]
    fn bad_prices_are_refused_with_a_reason() {
        assert!(matches!(Jod::parse("-5"), Err(MoneyError::Negative(_))));
        assert!(matches!(
            Jod::parse("12.5005"),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(Jod::parse("abc"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Jod::parse("12,5"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Jod::parse("1 2"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Jod::parse("JD"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Jod::parse(""), Err(MoneyError::Empty)));
        assert!(matches!(Jod::parse("1e3"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(
            Jod::parse("1000000000"),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(Jod::parse("12.5005")
            .unwrap_err()
            .to_string()
            .contains("3 decimals"));
    }

    #[test]
    fn json_is_a_three_decimal_string() {
        let p = Jod::parse("12.5").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"12.500\"");
        assert_eq!(
            serde_json::from_str::<Jod>("\"7.250\"")
                .unwrap()
                .to_string(),
            "7.250"
        );
        assert_eq!(
            serde_json::from_str::<Jod>("7.25").unwrap().to_string(),
            "7.250"
        );
        assert!(serde_json::from_str::<Jod>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Jod>("true").is_err());
    }

    #[test]
    fn arithmetic_stays_exact() {
        let p = Jod::parse("0.1").unwrap();
        let sum = (0..10).fold(Jod::ZERO, |acc, _| acc.checked_add(p).unwrap());
        assert_eq!(sum.to_string(), "1.000");
        assert_eq!(
            Jod::parse("12.5")
                .unwrap()
                .checked_mul(3)
                .unwrap()
                .to_string(),
            "37.500"
        );
    }
}
