//! What tokens cost, in USD per million, by model or deployment name. The defaults are the
//! public list prices of the models the product is set up with; `LLM_PRICES` replaces them
//! (`name=input/cached/output;...`, e.g. `gpt4o=2.50/1.25/10.00;embedding-small=0.02/0/0`).

use super::Usage;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub input: Decimal,
    pub cached_input: Decimal,
    pub output: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTable(HashMap<String, Price>);

const DEFAULTS: &str = "gpt-4o=2.50/1.25/10.00;gpt4o=2.50/1.25/10.00;\
gpt-4o-mini=0.15/0.075/0.60;gpt-4.1=2.00/0.50/8.00;gpt-4.1-mini=0.40/0.10/1.60;\
text-embedding-3-small=0.02/0/0;embedding-small=0.02/0/0;text-embedding-3-large=0.13/0/0";

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::parse(DEFAULTS).expect("the built-in price table parses")
    }
}

impl PriceTable {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for entry in raw.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, prices) = entry
                .split_once('=')
                .ok_or_else(|| format!("{entry:?}: expected name=input/cached/output"))?;
            let parts: Vec<&str> = prices.split('/').map(str::trim).collect();
            if parts.len() != 3 {
                return Err(format!(
                    "{entry:?}: expected three prices (input/cached/output, USD per million tokens)"
                ));
            }
            let num = |s: &str| {
                Decimal::from_str(s)
                    .ok()
                    .filter(|d| !d.is_sign_negative())
                    .ok_or_else(|| format!("{entry:?}: {s:?} is not a price"))
            };
            map.insert(
                name.trim().to_ascii_lowercase(),
                Price {
                    input: num(parts[0])?,
                    cached_input: num(parts[1])?,
                    output: num(parts[2])?,
                },
            );
        }
        Ok(PriceTable(map))
    }

    /// Every priced model, sorted by name (the admin console's price table).
    pub fn entries(&self) -> Vec<(String, Price)> {
        let mut v: Vec<(String, Price)> = self.0.iter().map(|(k, p)| (k.clone(), *p)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub fn get(&self, model: &str) -> Option<Price> {
        self.0.get(&model.trim().to_ascii_lowercase()).copied()
    }

    /// Uncached prompt tokens at the input price, cached ones at the cached price, completion
    /// tokens at the output price; zero for an unknown model. Rounded to 6 decimals.
    pub fn cost(&self, model: &str, u: Usage) -> Decimal {
        let Some(p) = self.get(model) else {
            return Decimal::ZERO;
        };
        let cached = u.cached_tokens.min(u.prompt_tokens);
        let fresh = u.prompt_tokens - cached;
        let total = Decimal::from(fresh) * p.input
            + Decimal::from(cached) * p.cached_input
            + Decimal::from(u.completion_tokens) * p.output;
        (total / Decimal::from(1_000_000u32)).round_dp(6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_counts_cached_tokens_at_their_own_price() {
        let t = PriceTable::default();
        let u = Usage {
            prompt_tokens: 2000,
            cached_tokens: 1024,
            completion_tokens: 100,
        };
        // 976 × 2.50 + 1024 × 1.25 + 100 × 10.00 = 2440 + 1280 + 1000 = 4720 per million
        assert_eq!(t.cost("gpt4o", u), Decimal::from_str("0.00472").unwrap());
        assert_eq!(t.cost("GPT-4o", u), t.cost("gpt-4o", u));
        assert_eq!(t.cost("some-local-model", u), Decimal::ZERO);
    }

    #[test]
    fn price_settings_are_checked() {
        let t = PriceTable::parse("m1=1/0.5/2; m2 = 0.1/0/0").unwrap();
        assert_eq!(
            t.get("m2").unwrap().input,
            Decimal::from_str("0.1").unwrap()
        );
        assert!(PriceTable::parse("m1=1/2")
            .unwrap_err()
            .contains("three prices"));
        assert!(PriceTable::parse("m1=1/x/2")
            .unwrap_err()
            .contains("not a price"));
        assert!(PriceTable::parse("m1=-1/0/2").is_err());
        assert!(PriceTable::parse("m1").is_err());
    }
}
