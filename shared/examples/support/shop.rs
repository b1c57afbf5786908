//! The shop the evaluation and the agent benchmark talk to, created in a database of their
//! own (never in the product's): a small Amman fashion shop with a profile, delivery zones,
//! a catalog (plus `extra_items` generated ones) and a knowledge-base document.

#![allow(dead_code)]

use serde_json::json;
use shared::app::App;
use shared::db::begin_for_tenant;
use shared::search::PassageDoc;
use shared::tenants::TenantId;
use uuid::Uuid;

pub const ITEMS: &[(&str, &str, &str, i32, &str)] = &[
    (
        "DRS-BLK-L",
        "فستان أسود طويل",
        "35.000",
        5,
        "فستان سهرة أسود طويل، قماش كريب، مقاسات S M L",
    ),
    (
        "DRS-BLU",
        "فستان أزرق صيفي",
        "22.000",
        4,
        "فستان صيفي خفيف أزرق فاتح، قطن",
    ),
    (
        "BAG-LTH-BR",
        "شنطة جلد بنية",
        "28.000",
        6,
        "شنطة يد جلد طبيعي لون بني، brown leather bag",
    ),
    (
        "BAG-CRS",
        "شنطة كروس صغيرة",
        "15.000",
        10,
        "شنطة كروس صغيرة بسلسلة ذهبية",
    ),
    (
        "SHO-SNK-W",
        "سنيكرز أبيض",
        "30.000",
        8,
        "حذاء رياضي أبيض مريح، white sneakers",
    ),
    (
        "ABY-BLK",
        "عباية سوداء مطرزة",
        "45.000",
        3,
        "عباية سوداء بتطريز يدوي",
    ),
    (
        "SCF-SLK",
        "شال حرير",
        "9.500",
        20,
        "شال حرير ناعم بألوان متعددة",
    ),
    (
        "JNS-BLU",
        "بنطلون جينز أزرق",
        "24.000",
        7,
        "جينز أزرق قصة مستقيمة",
    ),
];

pub async fn create(app: &App, tenant: TenantId, extra_items: usize, extra_passages: usize) {
    let mut c = app.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
    let t = tenant.as_uuid();
    let profile = json!({
        "shop_name": "دار سلمى",
        "intro": "محل ملابس وإكسسوارات نسائية في عمّان، الصويفية",
        "instagram_handle": "dar.salma",
        "brand_voice": "ودودة، قريبة، بتحكي أردني",
        "delivery": "توصيل لكل المملكة",
        "returns": { "policy": "الإرجاع أو التبديل خلال ٧ أيام من الاستلام، القطعة بحالتها الأصلية", "window_days": 7 },
        "offers": ["توصيل مجاني لعمّان للطلبات فوق ٦٠ دينار"],
        "working_hours": {}
    });
    tx.execute(
        "INSERT INTO profiles (tenant_id, yaml, data) VALUES ($1, '', $2)",
        &[&t, &profile],
    )
    .await
    .unwrap();
    let rules = json!({
        "delivery_zones": [
            { "city": "عمّان", "fee_jod": "2.000", "delivery_days": 1 },
            { "city": "الزرقاء", "fee_jod": "3.000", "delivery_days": 2 },
            { "city": "إربد", "fee_jod": "3.500", "delivery_days": 3 },
            { "city": "Amman", "fee_jod": "2.000", "delivery_days": 1 },
            { "city": "Irbid", "fee_jod": "3.500", "delivery_days": 3 }
        ],
        "minimum_order_jod": "10.000"
    });
    tx.execute(
        "INSERT INTO business_rules (tenant_id, rules) VALUES ($1, $2)",
        &[&t, &rules],
    )
    .await
    .unwrap();
    let mut items: Vec<(String, String, String, i32, String)> = ITEMS
        .iter()
        .map(|(a, b, c, d, e)| {
            (
                a.to_string(),
                b.to_string(),
                c.to_string(),
                *d,
                e.to_string(),
            )
        })
        .collect();
    let kinds = [
        "بلوزة",
        "تنورة",
        "جاكيت",
        "كنزة",
        "بيجامة",
        "قميص",
        "حزام",
        "طاقية",
    ];
    let colours = ["أحمر", "أخضر", "رمادي", "بيج", "زهري", "كحلي"];
    for i in 0..extra_items {
        items.push((
            format!("GEN-{i:05}"),
            format!(
                "{} {} موديل {i}",
                kinds[i % kinds.len()],
                colours[i % colours.len()]
            ),
            format!("{}.{:03}", 5 + i % 60, (i * 250) % 1000),
            (i % 12) as i32,
            format!(
                "{} قطن {} للاستعمال اليومي",
                kinds[i % kinds.len()],
                colours[i % colours.len()]
            ),
        ));
    }
    for (sku, name, price, stock, description) in &items {
        let input: shared::catalog::ItemInput = serde_json::from_value(json!({
            "sku": sku, "name": name, "price_jod": price, "stock": stock, "description": description
        }))
        .unwrap();
        shared::catalog::create_item(
            &tx,
            tenant,
            &input,
            shared::catalog::ProductIndex::SearchText,
        )
        .await
        .unwrap();
    }
    let doc: Uuid = tx
        .query_one(
            "INSERT INTO kb_documents (tenant_id, title, source_kind, status, chunk_count) VALUES ($1, 'الشحن والتوصيل', 'upload', 'indexed', 1) RETURNING id",
            &[&t],
        )
        .await
        .unwrap()
        .get(0);
    tx.commit().await.unwrap();
    let mut passages = vec![PassageDoc {
        id: Uuid::new_v4(),
        ordinal: 0,
        heading: "مدة التوصيل".into(),
        content: "التوصيل داخل عمّان خلال 24 ساعة من تأكيد الطلب. التوصيل لإربد والزرقاء وباقي المحافظات خلال 2 إلى 3 أيام عمل. الدفع عند الاستلام نقداً. ما في توصيل يوم الجمعة.".into(),
        embedding: None,
    }];
    for i in 0..extra_passages {
        passages.push(PassageDoc {
            id: Uuid::new_v4(),
            ordinal: i as i32 + 1,
            heading: format!("سؤال متكرر {i}"),
            content: format!("جواب السؤال المتكرر رقم {i}: تفاصيل عن {} و{} والعناية بالقطع، الغسيل على حرارة منخفضة وعدم استخدام المبيض. ", kinds[i % kinds.len()], colours[i % colours.len()]).repeat(3),
            embedding: None,
        });
    }
    for batch in passages.chunks(200) {
        app.search.index_passages(tenant, doc, batch).await.unwrap();
    }
}

/// A customer message as the webhook stores it; returns the conversation.
pub async fn customer_says(app: &App, tenant: TenantId, customer: &str, text: &str) -> Uuid {
    let mut c = app.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
    let conv: Uuid = tx
        .query_one(
            "INSERT INTO conversations (tenant_id, customer_ig_id, last_customer_message_at, last_message_at)
             VALUES ($1, $2, now(), now())
             ON CONFLICT (tenant_id, kind, customer_ig_id) DO UPDATE SET last_customer_message_at = now()
             RETURNING id",
            &[&tenant.as_uuid(), &customer],
        )
        .await
        .unwrap()
        .get(0);
    tx.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at)
         VALUES ($1, $2, 'inbound', 'customer', $3, $4, now())",
        &[
            &tenant.as_uuid(),
            &conv,
            &format!("mid-{}", Uuid::new_v4()),
            &text,
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    conv
}

/// The value at quantile `p` (0..=1) of sorted figures (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
