//! Timer-triggered jobs. Each is idempotent: running it twice, or late, does no harm.

use crate::app::App;

/// What a job did, in words for the invocation's `Logs`.
#[derive(Debug, Default)]
pub struct JobReport {
    pub lines: Vec<String>,
}

/// 02:00 UTC: GDPR purge, token refresh and expiry warnings, usage roll-up.
pub async fn nightly(app: &App) -> Result<JobReport, String> {
    let mut lines = Vec::new();
    match &app.graph {
        Some(graph) => {
            let r = crate::instagram::tokens::refresh_expiring(app, graph)
                .await
                .map_err(|e| e.to_string())?;
            lines.push(format!(
                "Instagram tokens: {} refreshed, {} failed, {} expired, {} expiring soon",
                r.refreshed, r.failed, r.expired, r.expiring_soon
            ));
        }
        None => lines.push("Instagram tokens: not refreshed (Instagram is not configured)".into()),
    }
    lines.push("GDPR purge and usage roll-up: not built yet (they land with the licences/admin/timers issue)".into());
    Ok(JobReport { lines })
}

/// Every few minutes: re-enqueue stuck inbound messages and knowledge documents, retry sends
/// and delivery hooks, push catalog changes the external search index has not taken yet.
pub async fn sweeper(app: &App) -> Result<JobReport, String> {
    let hooks =
        crate::delivery_hooks::deliver_due(app, &crate::delivery_hooks::Reach::default(), 200)
            .await
            .map_err(|e| e.to_string())?;
    let sends = crate::instagram::outbound::retry_due(app, 200)
        .await
        .map_err(|e| e.to_string())?;
    let requeued = crate::agent::requeue_stuck(app)
        .await
        .map_err(|e| e.to_string())?;
    // Longer than a queue lease, so a document being read right now is not sent twice.
    let stale =
        std::time::Duration::from_secs(app.settings.queue.visibility_timeout_secs.max(600) * 2);
    let documents = crate::knowledge::documents::requeue_stuck(app, stale, 200)
        .await
        .map_err(|e| e.to_string())?;
    let search_index = match app.search.product_index() {
        crate::search::ProductIndex::External => {
            let r = crate::search::pending::push_due(app)
                .await
                .map_err(|e| e.to_string())?;
            format!("search index: {} pushed, {} to retry", r.pushed, r.retrying)
        }
        crate::search::ProductIndex::SearchText => {
            "search index: nothing to push (Postgres indexes in each write)".to_owned()
        }
    };
    Ok(JobReport {
        lines: vec![
            format!(
                "delivery hooks: {} delivered, {} to retry, {} given up",
                hooks.delivered, hooks.retrying, hooks.given_up
            ),
            format!(
                "Instagram sends: {} sent, {} found delivered, {} to retry, {} given up",
                sends.sent, sends.confirmed, sends.retrying, sends.failed
            ),
            format!("unanswered conversations queued again: {requeued}"),
            format!("knowledge documents queued again: {documents}"),
            search_index,
        ],
    })
}
