//! The handlers crate's integration tests, one binary (linking one ~300 MB test executable
//! per file made most of a clean `./scripts/test` compile and link time). Each module is a
//! suite of its own, named as before; `support` holds the test app, the Instagram, OpenAI and
//! search doubles (real HTTP servers on loopback) and the process helpers.

mod support;

mod admin_console;
mod agent_turns;
mod api_hardening;
mod function_manifest;
mod host_invocation;
mod host_protocol;
mod instagram_sends_and_callbacks;
mod instagram_sign_in;
mod instagram_webhook;
mod licences;
mod merchant_catalog;
mod merchant_dashboard;
mod merchant_data;
mod merchant_inbox;
mod merchant_knowledge;
mod merchant_model_settings;
mod merchant_orders;
mod merchant_setup;
mod nightly;
mod openapi_document;
mod package_zip;
mod request_log_levels;
mod serve_faults;
mod serve_locally;
mod static_web_app_config;
