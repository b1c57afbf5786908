//! Benchmark: a 10,000-row catalog CSV, parsed, previewed and committed against the real
//! Postgres (`scripts/bench` runs it). Prints figures; the target is under 3 s in all.

use shared::catalog::csv_import;
use shared::db::begin_for_tenant;
use std::collections::HashMap;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let t = testkit::TestDb::new().await;
    let tenant = t.tenant("bench_shop").await;
    let mut file =
        String::from("\u{FEFF}sku,name,description,category,price,stock,image_url,active,المقاس\n");
    for i in 0..rows {
        file.push_str(&format!(
            "SKU-{i:05},\"قميص قطن رقم {i}، لون {}\",\"وصف المنتج {i}\nسطر ثاني\",{},{}.{:03} JD,{},https://cdn.example/{i}.jpg,yes,{}\n",
            ["أزرق", "أحمر", "أسود"][i % 3],
            ["قمصان", "بناطيل", "أحذية", "إكسسوارات"][i % 4],
            5 + i % 50,
            i % 1000,
            i % 30,
            ["S", "M", "L", "XL"][i % 4]
        ));
    }
    let mut c = t.db.app().await.unwrap();
    let changed_file = file.replace(",yes,", ",no,");
    for (round, file) in [
        ("first import (all new)", &file),
        ("second import (every row changed)", &changed_file),
        ("third import (same file again)", &changed_file),
    ] {
        let started = Instant::now();
        let parsed = csv_import::parse(file.as_bytes(), &HashMap::new()).unwrap();
        let parse_ms = started.elapsed().as_secs_f64() * 1000.0;
        assert!(parsed.errors.is_empty());
        let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
        let p0 = Instant::now();
        let preview = csv_import::preview(&tx, &parsed).await.unwrap();
        let preview_ms = p0.elapsed().as_secs_f64() * 1000.0;
        let c0 = Instant::now();
        let report = csv_import::commit(
            &tx,
            tenant,
            &parsed,
            true,
            csv_import::ImportMode::AllOrNothing,
            shared::catalog::ProductIndex::SearchText,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let commit_ms = c0.elapsed().as_secs_f64() * 1000.0;
        println!(
            "CSV import, {rows} rows ({:.1} MB), {round}: parse {parse_ms:.0} ms, preview {preview_ms:.0} ms, commit {commit_ms:.0} ms, total {:.0} ms (target < 3000 ms); created {} updated {} unchanged {} (preview said {}/{})",
            file.len() as f64 / 1e6,
            started.elapsed().as_secs_f64() * 1000.0,
            report.created,
            report.updated,
            report.unchanged,
            preview.to_create,
            preview.to_update
        );
    }
}
