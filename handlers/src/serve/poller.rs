//! The local stand-in for the Functions host's Service Bus trigger: lease a message, run the
//! `agent` function's code, complete on success, abandon (with back-off) on failure.
//!
//! Up to `AGENT_CONCURRENCY` messages are worked on side by side (a slow model answer for one
//! customer does not hold up the others; the turn's advisory lock keeps one turn at a time
//! per conversation). Leases are short (`QUEUE_VISIBILITY_TIMEOUT_SECS`) and renewed while a
//! message is worked on, so the message of a process that died comes back within seconds.

use shared::app::App;
use shared::queue::{AbandonOutcome, LeasedMessage, PostgresQueue};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

const IDLE_POLL: Duration = Duration::from_millis(300);
/// How long shutdown waits for a message in flight before giving it back to the queue.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub async fn run(app: App, queue: PostgresQueue, mut stop: watch::Receiver<bool>) {
    let visibility = Duration::from_secs(app.settings.queue.visibility_timeout_secs);
    let concurrency = app.settings.agent.concurrency.max(1);
    tracing::info!(
        queue = queue.name(),
        concurrency,
        "local queue poller started"
    );
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut running = JoinSet::new();
    while !*stop.borrow() {
        // Finished workers are collected as they go.
        while running.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.changed() => continue,
        };
        match queue.lease(visibility).await {
            Ok(Some(message)) => {
                let (app, queue, stop) = (app.clone(), queue.clone(), stop.clone());
                running.spawn(async move {
                    process(&app, &queue, message, visibility, stop).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                idle(&mut stop, IDLE_POLL).await
            }
            Err(e) => {
                drop(permit);
                tracing::warn!(error = %e, "could not lease from the local queue");
                idle(&mut stop, Duration::from_secs(1)).await;
            }
        }
    }
    while running.join_next().await.is_some() {}
    tracing::info!("local queue poller stopped");
}

async fn idle(stop: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {},
        _ = stop.changed() => {},
    }
}

/// Renews the lease every third of its length until dropped; gives up when the lease is lost.
async fn keep_leased(queue: &PostgresQueue, message: &LeasedMessage, visibility: Duration) {
    let every = (visibility / 3).max(Duration::from_millis(200));
    loop {
        tokio::time::sleep(every).await;
        match queue.renew(message, visibility).await {
            Ok(()) => {}
            Err(shared::queue::QueueError::LeaseLost(_)) => {
                tracing::warn!("the lease on a message in flight was lost");
                std::future::pending::<()>().await;
            }
            // The database may be back by the next renewal.
            Err(e) => tracing::warn!(error = %e, "could not renew a lease"),
        }
    }
}

async fn process(
    app: &App,
    queue: &PostgresQueue,
    message: LeasedMessage,
    visibility: Duration,
    mut stop: watch::Receiver<bool>,
) {
    use tracing::Instrument;
    let span = tracing::info_span!("agent", message_id = %message.message_id, delivery = message.delivery_count);
    async move {
    let work = shared::work::handle_queue_message(app, &message.body, message.delivery_count);
    tokio::pin!(work);
    let outcome = tokio::select! {
        r = &mut work => Some(r),
        _ = keep_leased(queue, &message, visibility) => unreachable!("renewal never ends"),
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
            // Released at once when the database allows (a lapsed lease is the fallback).
            let mut given_back = None;
            for _ in 0..3 {
                match queue.abandon(&message, &e.to_string(), retry).await {
                    Ok(outcome) => {
                        given_back = Some(outcome);
                        break;
                    }
                    Err(shared::queue::QueueError::LeaseLost(_)) => break,
                    Err(qe) => {
                        tracing::warn!(error = %qe, "could not abandon message; trying again");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
            match given_back {
                Some(AbandonOutcome::DeadLettered) => {
                    tracing::error!(error = %e, "message dead-lettered after its last delivery")
                }
                Some(AbandonOutcome::Requeued) => {
                    tracing::warn!(error = %e, retry_in_s = retry.as_secs(), "message failed; will be delivered again")
                }
                None => tracing::warn!(error = %e, "message failed; its lease will lapse"),
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
    .instrument(span)
    .await
}

/// 1, 2, 4 … seconds, at most a minute: an interrupted turn resumes within seconds.
fn backoff(delivery_count: i32) -> Duration {
    let exp = (delivery_count.clamp(1, 7) - 1) as u32;
    Duration::from_secs((1u64 << exp).min(60))
}
