//! Domain and adapters of IG-Shop-Agent. No HTTP server lives here: the `handlers` crate
//! turns host invocations into calls of the plain async functions below.

pub mod admin;
pub mod agent;
pub mod alerts;
pub mod api_schema;
pub mod app;
pub mod azure_identity;
pub mod blob;
pub mod catalog;
pub mod checkout;
pub mod crypto;
pub mod csv_download;
pub mod dashboard;
pub mod db;
pub mod delivery_hooks;
pub mod health;
pub mod instagram;
pub mod jobs;
pub mod knowledge;
pub mod licence;
pub mod llm;
pub mod model_settings;
pub mod money;
pub mod orders;
pub mod phone;
pub mod profile;
pub mod queue;
pub mod rules;
pub mod schedule;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod tenants;
pub mod work;
