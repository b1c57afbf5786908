//! Timer schedules in the Functions host's NCRONTAB form (six fields, seconds first, UTC), so
//! `handler serve` fires `nightly` and `sweeper` on the same schedules as `function.json`.

use chrono::{DateTime, Utc};
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct Schedule {
    inner: cron::Schedule,
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Self, String> {
        let fields = expression.split_whitespace().count();
        if fields != 6 {
            return Err(format!(
                "expected six NCRONTAB fields (second minute hour day month weekday), got {fields} in {expression:?}"
            ));
        }
        let inner = cron::Schedule::from_str(expression)
            .map_err(|e| format!("not a valid NCRONTAB expression {expression:?}: {e}"))?;
        Ok(Schedule { inner })
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.inner.after(&after).next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn nightly_fires_at_two_utc() {
        let s = Schedule::parse("0 0 2 * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 13, 5, 0).unwrap();
        assert_eq!(
            s.next_after(t).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
        );
    }

    #[test]
    fn every_three_minutes() {
        let s = Schedule::parse("0 */3 * * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 13, 4, 10).unwrap();
        assert_eq!(
            s.next_after(t).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 23, 13, 6, 0).unwrap()
        );
    }

    #[test]
    fn five_field_unix_cron_is_refused() {
        assert!(Schedule::parse("0 2 * * *").unwrap_err().contains("six"));
        assert!(Schedule::parse("0 0 25 * * *").is_err());
    }
}
