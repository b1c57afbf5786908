//! Timer-triggered jobs. Each is idempotent: running it twice, or late, does no harm.

pub mod nightly;

use crate::app::App;

/// What a job did, in words for the invocation's `Logs`.
#[derive(Debug, Default)]
pub struct JobReport {
    pub lines: Vec<String>,
}

/// 02:00 UTC: GDPR purge, token refresh and expiry warnings, licence and budget warnings,
/// usage roll-up. Holds an advisory lock for the whole run: a second run that starts while
/// one is going (the host's timer and a late retry, two instances) does nothing.
pub async fn nightly(app: &App) -> Result<JobReport, String> {
    let lock = app.db.platform().await.map_err(|e| e.to_string())?;
    let got: bool = lock
        .query_one(
            "SELECT pg_try_advisory_lock($1)",
            &[&nightly::NIGHTLY_LOCK_KEY],
        )
        .await
        .map_err(|e| e.to_string())?
        .get(0);
    if !got {
        return Ok(JobReport {
            lines: vec!["another nightly run is in progress; this one did nothing".into()],
        });
    }
    let report = nightly_locked(app).await;
    let _ = lock
        .execute(
            "SELECT pg_advisory_unlock($1)",
            &[&nightly::NIGHTLY_LOCK_KEY],
        )
        .await;
    report
}

async fn nightly_locked(app: &App) -> Result<JobReport, String> {
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
    let cutoff = chrono::Utc::now() - chrono::Duration::days(nightly::RETENTION_DAYS);
    let p = nightly::purge_message_text(app, cutoff, nightly::PURGE_BATCH)
        .await
        .map_err(|e| e.to_string())?;
    lines.push(format!(
        "GDPR purge (older than {} days): text of {} messages, {} recorded replies, {} sent payloads removed in {} batches",
        nightly::RETENTION_DAYS, p.messages, p.turns, p.sends, p.batches
    ));
    let days = nightly::roll_up_usage(app)
        .await
        .map_err(|e| e.to_string())?;
    lines.push(format!(
        "usage roll-up: {days} shop-days of the last {} days written to usage_daily",
        nightly::ROLLUP_DAYS
    ));
    let w = nightly::raise_warnings(app)
        .await
        .map_err(|e| e.to_string())?;
    lines.push(format!(
        "warnings: {} licence expiry, {} budget",
        w.licence, w.budget
    ));
    let tidied = nightly::tidy(app).await.map_err(|e| e.to_string())?;
    lines.push(format!(
        "tidy: {tidied} old sign-in attempts and sessions removed"
    ));
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
