//! Ephemeral signals between sockets: typing indicators. Unlike events they are not logged and
//! not replayed; a socket that is not connected simply misses them.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::Id;

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "who", rename_all = "snake_case")]
pub enum Typist {
    Agent { user_id: Id, name: String },
    Contact,
}

#[derive(Clone, Debug)]
pub struct Typing {
    pub workspace_id: Id,
    pub inbox_id: Id,
    pub conversation_id: Id,
    pub typist: Typist,
    pub on: bool,
}

pub struct Signals {
    typing: broadcast::Sender<Arc<Typing>>,
}

impl Signals {
    pub fn new(capacity: usize) -> Self {
        Signals {
            typing: broadcast::channel(capacity).0,
        }
    }

    pub fn typing(&self, typing: Typing) {
        let _ = self.typing.send(Arc::new(typing));
    }

    pub fn subscribe_typing(&self) -> broadcast::Receiver<Arc<Typing>> {
        self.typing.subscribe()
    }
}
