//! `scripts/eval`: conversation scenarios (scripts/lib/eval_scenarios.yaml) run k times each
//! against the configured real model, through the same turn as Instagram (the test chat), in
//! a database of their own. Prints pass^1 and pass^k per scenario and overall. Without a
//! model configured it says so and exits 0 without pretending to have run.
//!
//! Usage: eval [k] [name filter]

#[path = "support/shop.rs"]
mod shop;

use regex::Regex;
use serde::Deserialize;
use shared::app::App;
use shared::db::begin_for_tenant;
use shared::settings::{Settings, Source};
use shared::tenants::TenantId;

const SCENARIOS: &str = include_str!("../../scripts/lib/eval_scenarios.yaml");

#[derive(Deserialize)]
struct File {
    scenarios: Vec<Scenario>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    turns: Vec<String>,
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    no_tools: Vec<String>,
    #[serde(default)]
    matches: Vec<String>,
    #[serde(default)]
    not_matches: Vec<String>,
    #[serde(default)]
    orders: Option<i64>,
    #[serde(default)]
    returns: Option<i64>,
    #[serde(default)]
    handoff: Option<bool>,
    #[serde(default)]
    setup: Setup,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Setup {
    #[serde(default)]
    own_order: Option<OwnOrder>,
    #[serde(default)]
    other_order: Option<i64>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct OwnOrder {
    number: i64,
    status: String,
    #[serde(default)]
    delivered_days_ago: Option<i64>,
}

fn has_arabic(s: &str) -> bool {
    s.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

#[tokio::main]
async fn main() {
    let k: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let filter = std::env::args().nth(2).unwrap_or_default();
    let t = testkit::TestDb::new().await;
    // The model settings come from the environment or local.settings.json; the database is
    // the evaluation's own.
    let mut values = t.env();
    values.push(("AGENT_QUIET_MS".into(), "0".into()));
    values.extend(testkit::licence_env());
    let source = Source::from_process()
        .expect("settings file")
        .overridden(values);
    let settings = match Settings::from_source(&source) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("eval: settings: {e}");
            std::process::exit(2);
        }
    };
    if !settings.llm.configured() {
        println!(
            "eval: no model is configured (set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server, \
             or LLM_PROVIDER=azure with AZURE_OPENAI_ENDPOINT). Nothing was run; no figures to report."
        );
        return;
    }
    let app = App::build(settings).expect("app");
    let file: File = serde_yaml_ng::from_str(SCENARIOS).expect("eval_scenarios.yaml");
    let scenarios: Vec<Scenario> = file
        .scenarios
        .into_iter()
        .filter(|s| s.name.contains(&filter))
        .collect();
    println!(
        "eval: {} scenarios × {k} runs against {} model {}",
        scenarios.len(),
        app.llm.as_ref().unwrap().provider(),
        app.llm.as_ref().unwrap().chat_model()
    );
    let mut sum_pass1 = 0.0;
    let mut all_k = 0usize;
    for (i, s) in scenarios.iter().enumerate() {
        let mut passed = 0;
        let mut failures = Vec::new();
        for run in 0..k {
            let tenant = t.tenant(&format!("eval.{i}.{run}")).await;
            testkit::license(&app, &format!("eval.{i}.{run}")).await;
            shop::create(&app, tenant, 0, 0).await;
            match run_scenario(&app, tenant, s).await {
                Ok(()) => passed += 1,
                Err(why) => failures.push(why),
            }
        }
        let pass1 = passed as f64 / k as f64;
        sum_pass1 += pass1;
        if passed == k {
            all_k += 1;
        }
        println!(
            "{:<45} pass^1 {:>5.2}  pass^{k} {}",
            s.name,
            pass1,
            if passed == k { "1" } else { "0" }
        );
        for f in failures.iter().take(2) {
            println!("    ✗ {f}");
        }
    }
    let n = scenarios.len().max(1) as f64;
    println!(
        "overall: pass^1 {:.2}, pass^{k} {:.2} ({all_k}/{} scenarios passed every run)",
        sum_pass1 / n,
        all_k as f64 / n,
        scenarios.len()
    );
}

async fn run_scenario(app: &App, tenant: TenantId, s: &Scenario) -> Result<(), String> {
    let customer = format!("playground:{}", tenant.as_uuid());
    {
        let mut c = app.db.app().await.unwrap();
        let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
        let t = tenant.as_uuid();
        if let Some(o) = &s.setup.own_order {
            let id: uuid::Uuid = tx
                .query_one(
                    "INSERT INTO orders (tenant_id, order_number, customer_ig_id, customer_name, customer_phone, city, address, subtotal_jod, delivery_fee_jod, total_jod, status)
                     VALUES ($1, $2, $3, 'سارة', '+962791234567', 'عمّان', 'الصويفية', 28, 2, 30, $4) RETURNING id",
                    &[&t, &o.number, &customer, &o.status],
                )
                .await
                .unwrap()
                .get(0);
            if let Some(days) = o.delivered_days_ago {
                tx.execute(
                    "INSERT INTO order_status_history (tenant_id, order_id, from_status, to_status, changed_by, changed_at)
                     VALUES ($1, $2, 'shipped', 'delivered', 'merchant', now() - make_interval(days => $3::int))",
                    &[&t, &id, &(days as i32)],
                )
                .await
                .unwrap();
            }
        }
        if let Some(n) = s.setup.other_order {
            tx.execute(
                "INSERT INTO orders (tenant_id, order_number, customer_ig_id, customer_name, customer_phone, city, address, subtotal_jod, total_jod)
                 VALUES ($1, $2, 'another-customer', 'منى', '+962795555555', 'عمّان', 'الجبيهة', 20, 22)",
                &[&t, &n],
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let mut tools: Vec<String> = Vec::new();
    let mut last = String::new();
    for (i, turn) in s.turns.iter().enumerate() {
        let (_, report) = shared::agent::test_chat(app, tenant, turn, i == 0)
            .await
            .map_err(|e| format!("turn {}: {e}", i + 1))?;
        tools.extend(report.tool_calls.iter().map(|c| c.name.clone()));
        last = report.reply.clone().unwrap_or_default();
    }
    let short: String = last.chars().take(160).collect();
    if let Some(script) = &s.script {
        let ok = match script.as_str() {
            "arabic" => has_arabic(&last),
            _ => !has_arabic(&last) && last.chars().any(|c| c.is_ascii_alphabetic()),
        };
        if !ok {
            return Err(format!("reply not in {script} script: {short}"));
        }
    }
    for t in &s.tools {
        if !tools.contains(t) {
            return Err(format!(
                "{t} was not called (called: {tools:?}); reply: {short}"
            ));
        }
    }
    for t in &s.no_tools {
        if tools.contains(t) {
            return Err(format!("{t} was called; reply: {short}"));
        }
    }
    for m in &s.matches {
        if !Regex::new(m).unwrap().is_match(&last) {
            return Err(format!("reply does not match /{m}/: {short}"));
        }
    }
    for m in &s.not_matches {
        if Regex::new(m).unwrap().is_match(&last) {
            return Err(format!("reply matches /{m}/: {short}"));
        }
    }
    let mut c = app.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
    if let Some(n) = s.orders {
        let got: i64 = tx
            .query_one(
                "SELECT count(*) FROM orders WHERE source = 'playground'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if got != n {
            return Err(format!(
                "{got} orders created, expected {n}; reply: {short}"
            ));
        }
    }
    if let Some(n) = s.returns {
        let got: i64 = tx
            .query_one("SELECT count(*) FROM return_requests", &[])
            .await
            .unwrap()
            .get(0);
        if got != n {
            return Err(format!(
                "{got} return requests, expected {n}; reply: {short}"
            ));
        }
    }
    if let Some(h) = s.handoff {
        let mode: String = tx
            .query_one(
                "SELECT mode FROM conversations WHERE customer_ig_id = $1",
                &[&customer],
            )
            .await
            .unwrap()
            .get(0);
        if (mode == "human") != h {
            return Err(format!("conversation mode {mode}; reply: {short}"));
        }
    }
    tx.commit().await.unwrap();
    Ok(())
}
