//! The Postgres queue behaves like Service Bus: one consumer per message at a time,
//! redelivery after a lost lease, dead letters after the maximum delivery count.

use serde_json::json;
use shared::queue::{enqueue_in, AbandonOutcome, PostgresQueue, Queue, QueueError, QueueMessage};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use testkit::TestDb;

fn msg(i: usize) -> QueueMessage {
    QueueMessage {
        message_id: format!("m-{i}"),
        body: json!({ "n": i, "text": "بدي أطلب" }),
    }
}

const LONG: Duration = Duration::from_secs(300);

#[tokio::test]
async fn two_concurrent_consumers_never_lease_the_same_message() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    const N: usize = 300;
    for i in 0..N {
        q.send(&msg(i)).await.unwrap();
    }
    let consume = |q: PostgresQueue| async move {
        let mut seen = Vec::new();
        while let Some(m) = q.lease(LONG).await.unwrap() {
            assert_eq!(m.delivery_count, 1);
            seen.push(m.message_id.clone());
            tokio::task::yield_now().await;
            q.complete(&m).await.unwrap();
        }
        seen
    };
    let (a, b) = tokio::join!(
        tokio::spawn(consume(q.clone())),
        tokio::spawn(consume(q.clone()))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let sa: HashSet<_> = a.iter().cloned().collect();
    let sb: HashSet<_> = b.iter().cloned().collect();
    assert!(
        sa.is_disjoint(&sb),
        "a message was leased by both consumers"
    );
    assert_eq!(
        a.len() + b.len(),
        N,
        "every message was consumed exactly once"
    );
    assert_eq!(sa.len() + sb.len(), N);
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both consumers took part ({} / {})",
        a.len(),
        b.len()
    );
    assert_eq!(q.depth().await.unwrap(), 0);
}

#[tokio::test]
async fn a_message_whose_consumer_died_is_delivered_again_after_the_timeout() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    q.send(&msg(1)).await.unwrap();

    let first = q
        .lease(Duration::from_millis(800))
        .await
        .unwrap()
        .expect("the message");
    assert_eq!(first.delivery_count, 1);
    // The consumer "dies": it never completes. While the lease runs, nobody else gets it.
    assert!(q.lease(LONG).await.unwrap().is_none());

    let deadline = Instant::now() + Duration::from_secs(20);
    let second = loop {
        if let Some(m) = q.lease(LONG).await.unwrap() {
            break m;
        }
        assert!(Instant::now() < deadline, "the message never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(second.message_id, first.message_id);
    assert_eq!(second.delivery_count, 2);
    assert_eq!(second.body, first.body);
    // The dead consumer's late completion must not remove the message from the new one.
    assert!(matches!(
        q.complete(&first).await,
        Err(QueueError::LeaseLost(_))
    ));
    q.complete(&second).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), 0);
}

#[tokio::test]
async fn abandoned_messages_dead_letter_at_the_maximum_delivery_count() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 3);
    q.send(&msg(1)).await.unwrap();
    q.send(&msg(2)).await.unwrap();

    let mut outcomes = Vec::new();
    for delivery in 1..=3 {
        let m = q.lease(LONG).await.unwrap().expect("message 1 again");
        assert_eq!((m.message_id.as_str(), m.delivery_count), ("m-1", delivery));
        outcomes.push(
            q.abandon(&m, "model unavailable", Duration::ZERO)
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        outcomes,
        vec![
            AbandonOutcome::Requeued,
            AbandonOutcome::Requeued,
            AbandonOutcome::DeadLettered
        ]
    );
    assert_eq!(q.dead_letter_count().await.unwrap(), 1);

    // The other message is unaffected and comes next.
    let m2 = q.lease(LONG).await.unwrap().expect("message 2");
    assert_eq!(m2.message_id, "m-2");
    q.complete(&m2).await.unwrap();
    assert!(
        q.lease(LONG).await.unwrap().is_none(),
        "a dead letter was delivered"
    );
    assert_eq!(q.dead_letter_count().await.unwrap(), 1);
    assert_eq!(q.depth().await.unwrap(), 0);
}

#[tokio::test]
async fn a_lease_that_expires_on_the_last_delivery_dead_letters() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 1);
    q.send(&msg(1)).await.unwrap();
    let m = q.lease(Duration::from_millis(300)).await.unwrap().unwrap();
    assert_eq!(m.delivery_count, 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while q.dead_letter_count().await.unwrap() == 0 {
        assert!(
            q.lease(LONG).await.unwrap().is_none(),
            "delivered past the maximum"
        );
        assert!(Instant::now() < deadline, "never dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(q.dead_letter_count().await.unwrap(), 1);
}

#[tokio::test]
async fn abandon_with_a_delay_hides_the_message_until_then() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    q.send(&msg(1)).await.unwrap();
    let m = q.lease(LONG).await.unwrap().unwrap();
    assert_eq!(
        q.abandon(&m, "busy", Duration::from_secs(600))
            .await
            .unwrap(),
        AbandonOutcome::Requeued
    );
    assert!(
        q.lease(LONG).await.unwrap().is_none(),
        "visible before its retry time"
    );
    assert_eq!(q.depth().await.unwrap(), 1);
}

#[tokio::test]
async fn sending_is_idempotent_and_in_order() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    for i in [1, 2, 1, 3, 2] {
        q.send(&msg(i)).await.unwrap();
    }
    assert_eq!(
        q.depth().await.unwrap(),
        3,
        "the same message id is stored once"
    );
    let mut order = Vec::new();
    while let Some(m) = q.lease(LONG).await.unwrap() {
        order.push(m.message_id.clone());
        q.complete(&m).await.unwrap();
    }
    assert_eq!(order, vec!["m-1", "m-2", "m-3"]);
}

#[tokio::test]
async fn a_message_sent_in_a_rolled_back_transaction_is_never_delivered() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    let mut c = t.db.app().await.unwrap();
    let tx = c.transaction().await.unwrap();
    assert!(enqueue_in(&tx, "dm-inbound", &msg(7)).await.unwrap());
    tx.rollback().await.unwrap();
    assert!(q.lease(LONG).await.unwrap().is_none());

    let tx = c.transaction().await.unwrap();
    enqueue_in(&tx, "dm-inbound", &msg(8)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(q.lease(LONG).await.unwrap().unwrap().message_id, "m-8");
}

#[tokio::test]
async fn queues_do_not_see_each_others_messages() {
    let t = TestDb::new().await;
    let a = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    let b = PostgresQueue::new(t.db.clone(), "kb-ingest", 10);
    a.send(&msg(1)).await.unwrap();
    assert!(b.lease(LONG).await.unwrap().is_none());
    assert!(a.lease(LONG).await.unwrap().is_some());
}

#[tokio::test]
async fn a_renewed_lease_keeps_the_message_and_a_lapsed_one_brings_it_back_in_seconds() {
    let t = TestDb::new().await;
    let q = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    q.send(&msg(1)).await.unwrap();
    let short = Duration::from_millis(600);
    let m = q.lease(short).await.unwrap().unwrap();
    // Renewed while the work goes on, past several lease lengths: nobody else gets it.
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        q.renew(&m, short).await.unwrap();
        assert!(
            q.lease(short).await.unwrap().is_none(),
            "a renewed lease was taken"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // The worker dies (no more renewals): the message comes back within the short lease.
    let died = Instant::now();
    let again = loop {
        if let Some(m) = q.lease(short).await.unwrap() {
            break m;
        }
        assert!(
            died.elapsed() < Duration::from_secs(5),
            "the message never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(again.delivery_count, 2);
    assert!(
        died.elapsed() < Duration::from_secs(2),
        "{:?}",
        died.elapsed()
    );
    // The dead worker's renewal is refused: the new consumer's lease stands.
    assert!(matches!(
        q.renew(&m, short).await,
        Err(QueueError::LeaseLost(_))
    ));
    q.complete(&again).await.unwrap();
}
