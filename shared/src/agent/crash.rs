//! Crash points for tests: a test arms one for a conversation, and the turn for that
//! conversation stops right there with an error, as if the process had died (nothing after the
//! point runs; the queue delivers the message again). Unarmed, each check is one lookup in an
//! empty map.

use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// After the tools ran (an order may be written), before the reply is recorded.
    AfterTools,
    /// After the reply is recorded, before it is sent.
    BeforeSend,
    /// After the reply is sent, before the turn is marked finished.
    AfterSend,
    /// A part is recorded as being sent, the Graph call has not been made.
    BeforeGraphCall,
    /// The Graph call returned (Instagram has the part), its answer is not recorded.
    AfterGraphCall,
}

static ARMED: Mutex<Option<HashMap<Uuid, CrashPoint>>> = Mutex::new(None);

/// Makes the next turn of `conversation` stop at `point` (once).
pub fn arm(conversation: Uuid, point: CrashPoint) {
    ARMED
        .lock()
        .expect("crash table")
        .get_or_insert_with(HashMap::new)
        .insert(conversation, point);
}

/// True (once) when a test armed `point` for `conversation`.
pub(crate) fn hit(conversation: Uuid, point: CrashPoint) -> bool {
    let mut armed = ARMED.lock().expect("crash table");
    match armed.as_mut() {
        Some(map) if map.get(&conversation) == Some(&point) => {
            map.remove(&conversation);
            true
        }
        _ => false,
    }
}
