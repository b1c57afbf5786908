//! The W3C trace context (`traceparent`) of one DM, followed from the webhook through the
//! queue message to the agent turn and its Graph API sends: the webhook takes the host's
//! header (or makes one under `handler serve`), the queue message carries it, the turn runs
//! inside [`scope`] and every Instagram request sends a child of it. Logs show it on the
//! spans of the request and of the turn, so one trace id joins them.

use std::future::Future;

tokio::task_local! {
    static CURRENT: Traceparent;
}

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traceparent(String);

impl Traceparent {
    /// A valid header value (version 00, ids not all zeros), lower-cased.
    pub fn parse(value: &str) -> Option<Self> {
        let v = value.trim().to_ascii_lowercase();
        let parts: Vec<&str> = v.split('-').collect();
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        let ok = parts.len() == 4
            && parts[0] == "00"
            && hex(parts[1], 32)
            && hex(parts[2], 16)
            && hex(parts[3], 2)
            && parts[1].bytes().any(|b| b != b'0')
            && parts[2].bytes().any(|b| b != b'0');
        ok.then_some(Traceparent(v))
    }

    /// A new trace (sampled).
    pub fn generate() -> Self {
        let trace = uuid::Uuid::new_v4().simple().to_string();
        Traceparent(format!("00-{trace}-{}-01", span_id()))
    }

    /// The header if it is valid, else a new trace.
    pub fn from_header_or_new(value: Option<&str>) -> Self {
        value.and_then(Self::parse).unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 32 hex digits every part of the trace shares.
    pub fn trace_id(&self) -> &str {
        &self.0[3..35]
    }

    /// The same trace with a new parent id: what an outgoing request carries.
    pub fn child(&self) -> Self {
        Traceparent(format!(
            "00-{}-{}-{}",
            self.trace_id(),
            span_id(),
            &self.0[53..55]
        ))
    }
}

impl std::fmt::Display for Traceparent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn span_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

/// Runs `f` with `trace` as the current trace context (seen by [`current`]).
pub async fn scope<F: Future>(trace: Traceparent, f: F) -> F::Output {
    CURRENT.scope(trace, f).await
}

/// The trace context of the work running now, if any.
pub fn current() -> Option<Traceparent> {
    CURRENT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked_and_children_keep_the_trace_id() {
        let t =
            Traceparent::parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(t.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let c = t.child();
        assert_eq!(c.trace_id(), t.trace_id());
        assert_ne!(c, t);
        assert!(Traceparent::parse(c.as_str()).is_some());
        for bad in [
            "",
            "00-abc-def-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ] {
            assert!(Traceparent::parse(bad).is_none(), "{bad}");
        }
        let g = Traceparent::generate();
        assert!(Traceparent::parse(g.as_str()).is_some(), "{g}");
    }
}
