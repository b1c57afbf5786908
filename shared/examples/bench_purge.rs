//! Benchmark: the nightly GDPR purge over 1,000,000 messages of which 30 % are older than 30
//! days, against the real Postgres (`scripts/bench` runs it). Prints the time, the batches and
//! this process's peak memory (the purge streams nothing into memory: it is batched SQL).

use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let total: i64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let old = total * 3 / 10;
    let t = testkit::TestDb::new().await;
    let tenant = t.tenant("bench_shop").await;
    let mut env = t.env();
    env.push((
        "AZURE_STORAGE_CONNECTION_STRING".into(),
        std::env::var("AZURE_STORAGE_CONNECTION_STRING")
            .unwrap_or_else(|_| "UseDevelopmentStorage=true".into()),
    ));
    let app = shared::app::App::build(
        shared::settings::Settings::from_source(&shared::settings::Source::from_map(env)).unwrap(),
    )
    .unwrap();
    let c = t.db.platform().await.unwrap();
    let setup = Instant::now();
    c.execute(
        "INSERT INTO conversations (tenant_id, customer_ig_id) SELECT $1, 'igsid-' || i FROM generate_series(1, 1000) i",
        &[&tenant.as_uuid()],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at)
         SELECT $1, cv.id, CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END, CASE WHEN i % 2 = 0 THEN 'customer' ELSE 'ai' END,
                'mid-' || i, 'مرحبا، بدي أسأل عن الفستان الأزرق، قديش سعره؟ رقم ' || i,
                CASE WHEN i <= $2 THEN now() - interval '40 days' + (i % 86400) * interval '1 second'
                     ELSE now() - (i % 29) * interval '1 day' END
           FROM generate_series(1, $3::bigint) i
           JOIN conversations cv ON cv.tenant_id = $1 AND cv.customer_ig_id = 'igsid-' || (1 + i % 1000)",
        &[&tenant.as_uuid(), &old, &total],
    )
    .await
    .unwrap();
    c.batch_execute("VACUUM ANALYZE messages").await.unwrap();
    println!(
        "GDPR purge benchmark: {total} messages ({old} older than 30 days) set up in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let cutoff = chrono::Utc::now() - chrono::Duration::days(30);
    let started = Instant::now();
    let r =
        shared::jobs::nightly::purge_message_text(&app, cutoff, shared::jobs::nightly::PURGE_BATCH)
            .await
            .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let left: i64 = c
        .query_one("SELECT count(*) FROM messages WHERE text IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(r.messages as i64, old);
    assert_eq!(left, total - old);
    let again = Instant::now();
    let r2 =
        shared::jobs::nightly::purge_message_text(&app, cutoff, shared::jobs::nightly::PURGE_BATCH)
            .await
            .unwrap();
    println!(
        "GDPR purge: {} messages purged in {secs:.1} s ({:.0} messages/s, {} batches of {}), {} kept; second run {} purged in {:.0} ms; peak memory of this process {:.1} MB",
        r.messages,
        r.messages as f64 / secs,
        r.batches,
        shared::jobs::nightly::PURGE_BATCH,
        left,
        r2.messages,
        again.elapsed().as_secs_f64() * 1000.0,
        peak_rss_mb()
    );
}
