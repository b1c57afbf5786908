//! The Instagram channel (Instagram API with Instagram Login), one file per step of the flow.

pub mod data_deletion;
pub mod events;
pub mod graph;
pub mod inbox;
pub mod oauth;
pub mod outbound;
pub mod resync;
pub mod signature;
pub mod signed_request;
pub mod split;
pub mod tokens;
