//! `agent` (Service Bus queue `dm-inbound`): one AI turn per message. The work is
//! `shared::agent`; this module only decodes the host's envelope.

use crate::host::{invocation_route, Invocation};
use shared::app::App;
use warp::filters::BoxedFilter;

/// The binding name in `function.json`.
pub const BINDING: &str = "msg";

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    invocation_route("agent", move |inv: Invocation| {
        let app = app.clone();
        async move {
            let message = inv
                .service_bus_message(BINDING)
                .map_err(|e| e.to_string())?;
            let delivery = message.delivery_count.unwrap_or(1);
            tracing::info!(
                message_id = message.message_id.as_deref().unwrap_or("-"),
                delivery,
                "agent message"
            );
            shared::work::handle_queue_message(&app, &message.body, delivery)
                .await
                .map(|()| {
                    vec![format!(
                        "handled message {}",
                        message.message_id.as_deref().unwrap_or("-")
                    )]
                })
                .map_err(|e| e.to_string())
        }
    })
}
