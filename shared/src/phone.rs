//! Jordanian mobile numbers: `JordanMobile` holds one normalised to `+9627XXXXXXXX`
//! (operators 77, 78, 79). Customers write them in many ways: `0791234567`, `079 123 4567`,
//! `+962 79-123-4567`, `00962791234567`, Arabic-Indic digits `٠٧٩١٢٣٤٥٦٧`.

use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JordanMobile(String);

impl JordanMobile {
    /// Normalises `raw`, or says in plain words why it is not a Jordanian mobile number.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut digits = String::new();
        let mut plus = false;
        for (i, c) in raw.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '٠'..='٩' => digits.push(char::from(b'0' + (c as u32 - '٠' as u32) as u8)),
                '۰'..='۹' => digits.push(char::from(b'0' + (c as u32 - '۰' as u32) as u8)),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '(' | ')' | '.' | '\u{200f}' | '\u{200e}' => {}
                _ => {
                    return Err(format!(
                        "\"{raw}\" is not a phone number: it contains \"{c}\""
                    ))
                }
            }
        }
        let national = if let Some(rest) = digits.strip_prefix("00962") {
            rest
        } else if let Some(rest) = digits.strip_prefix("962") {
            rest
        } else if plus {
            return Err(format!(
                "\"{raw}\" is not a Jordanian number (it should start with +962)"
            ));
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest
        } else {
            &digits
        };
        let national = national.strip_prefix('0').unwrap_or(national);
        if national.len() == 8 && matches!(national.as_bytes()[0], b'2' | b'3' | b'5' | b'6') {
            return Err(format!(
                "\"{raw}\" looks like a landline; a mobile number is needed (07X XXX XXXX)"
            ));
        }
        if national.len() != 9 {
            return Err(format!(
                "\"{raw}\" does not have the right number of digits for a Jordanian mobile (07X XXX XXXX)"
            ));
        }
        if !matches!(&national[..2], "77" | "78" | "79") {
            return Err(format!(
                "\"{raw}\" is not a Jordanian mobile number (mobiles start with 077, 078 or 079)"
            ));
        }
        Ok(JordanMobile(format!("+962{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JordanMobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JordanMobile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_customers_write_numbers_are_normalised() {
        for raw in [
            "0791234567",
            "079 123 4567",
            "079-123-4567",
            "+962 79 123 4567",
            "+962791234567",
            "00962791234567",
            "962791234567",
            "791234567",
            "+962 (0)79 123 4567",
            "٠٧٩١٢٣٤٥٦٧",
        ] {
            assert_eq!(
                JordanMobile::parse(raw).map(|p| p.to_string()),
                Ok("+962791234567".to_string()),
                "{raw}"
            );
        }
        assert_eq!(
            JordanMobile::parse("0771111111").unwrap().as_str(),
            "+962771111111"
        );
        assert_eq!(
            JordanMobile::parse("0781111111").unwrap().as_str(),
            "+962781111111"
        );
    }

    #[test]
    fn other_numbers_are_refused_with_a_reason() {
        for (raw, why) in [
            ("065512345", "mobile"), // Amman landline
            ("0761234567", "077, 078 or 079"),
            ("07912345", "number of digits"),
            ("079123456789", "number of digits"),
            ("+966501234567", "+962"),
            ("call me", "contains"),
            ("", "number of digits"),
        ] {
            let err = JordanMobile::parse(raw).unwrap_err();
            assert!(err.contains(why), "{raw}: {err}");
        }
    }
}
