//! The Instagram channel (Instagram API with Instagram Login), one file per step of the flow.

pub mod events;
pub mod graph;
pub mod inbox;
pub mod signature;
pub mod signed_request;
pub mod split;
