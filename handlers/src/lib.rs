//! The `handler` binary's routes and commands: one module per function under `functions`,
//! the host protocol under `host`, and the local server under `serve`.

pub mod functions;
pub mod host;
pub mod http;
pub mod licence_cli;
pub mod package;
pub mod security_headers;
pub mod serve;
pub mod telemetry;
