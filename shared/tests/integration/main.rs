//! The shared crate's integration tests, one binary (see handlers/tests/api/main.rs for
//! why). Each module is a suite of its own; fixtures stay in `shared/tests/fixtures`.

mod blob_store;
mod catalog;
mod database_entra;
mod instagram_events;
mod instagram_graph;
mod knowledge_extract;
mod local_queue;
mod orders_and_hooks;
mod search;
mod tenant_isolation;
mod turn_reads;
