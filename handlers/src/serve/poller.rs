//! The local stand-in for the Functions host's Service Bus trigger: lease a message, run the
//! `agent` function's code, complete on success, abandon (with back-off) on failure.

use shared::app::App;
use shared::queue::{AbandonOutcome, LeasedMessage, PostgresQueue};
use std::time::Duration;
use tokio::sync::watch;

const IDLE_POLL: Duration = Duration::from_millis(300);
/// How long shutdown waits for a message in flight before giving it back to the queue.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub async fn run(app: App, queue: PostgresQueue, mut stop: watch::Receiver<bool>) {
    let visibility = Duration::from_secs(app.settings.queue.visibility_timeout_secs);
    tracing::info!(queue = queue.name(), "local queue poller started");
    while !*stop.borrow() {
        match queue.lease(visibility).await {
            Ok(Some(message)) => process(&app, &queue, message, &mut stop).await,
            Ok(None) => idle(&mut stop, IDLE_POLL).await,
            Err(e) => {
                tracing::warn!(error = %e, "could not lease from the local queue");
                idle(&mut stop, Duration::from_secs(2)).await;
            }
        }
    }
    tracing::info!("local queue poller stopped");
}

async fn idle(stop: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {},
        _ = stop.changed() => {},
    }
}

async fn process(
    app: &App,
    queue: &PostgresQueue,
    message: LeasedMessage,
    stop: &mut watch::Receiver<bool>,
) {
    let span = tracing::info_span!("agent", message_id = %message.message_id, delivery = message.delivery_count);
    let _enter = span.enter();
    let work = shared::work::handle_queue_message(app, &message.body, message.delivery_count);
    tokio::pin!(work);
    let outcome = tokio::select! {
        r = &mut work => Some(r),
        _ = async {
            let _ = stop.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => None,
    };
    match outcome {
        Some(Ok(())) => {
            if let Err(e) = queue.complete(&message).await {
                tracing::warn!(error = %e, "could not complete message");
            }
        }
        Some(Err(e)) => {
            let retry = backoff(message.delivery_count);
            match queue.abandon(&message, &e.to_string(), retry).await {
                Ok(AbandonOutcome::DeadLettered) => {
                    tracing::error!(error = %e, "message dead-lettered after its last delivery")
                }
                Ok(AbandonOutcome::Requeued) => {
                    tracing::warn!(error = %e, retry_in_s = retry.as_secs(), "message failed; will be delivered again")
                }
                Err(qe) => tracing::warn!(error = %qe, "could not abandon message"),
            }
        }
        None => {
            let _ = queue
                .abandon(&message, "released at shutdown", Duration::ZERO)
                .await;
            tracing::warn!("released an unfinished message at shutdown");
        }
    }
}

/// 2, 4, 8 … seconds, at most five minutes.
fn backoff(delivery_count: i32) -> Duration {
    let exp = delivery_count.clamp(1, 9) as u32;
    Duration::from_secs((1u64 << exp).min(300))
}
