//! `/api/v1/ws`: the WebSocket face of a console connection, with presence kept from sockets
//! (online with the first, offline when the last closes).

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;

use super::connection::{self, Context, Incoming, Outgoing};
use super::GatewayState;
use crate::domain::PresenceStatus;
use crate::edge::extract::ApiQuery;
use crate::store::Principal;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SocketQuery {
    /// The session or API token (browsers cannot set headers on WebSockets).
    pub token: Option<String>,
    /// Resume: the last event sequence number this console saw.
    pub after: Option<i64>,
}

/// The bearer token of an upgrade request: the header, or `?token=` for browsers.
pub fn socket_token(headers: &axum::http::HeaderMap, query: &SocketQuery) -> Option<String> {
    crate::auth::bearer_token(headers)
        .map(str::to_string)
        .or_else(|| query.token.clone())
}

#[utoipa::path(get, path = "/api/v1/ws", tag = "events", security(("bearer" = [])),
    params(SocketQuery),
    responses((status = 101, description = "Switching to the console protocol (docs/gateway.md)"),
        (status = 401, description = "No valid token")))]
pub async fn upgrade(
    State(state): State<GatewayState>,
    who: Principal,
    ApiQuery(query): ApiQuery<SocketQuery>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // The route layer resolved this token; the connection checks it again now and then.
    let token_hash = crate::auth::hash_token(&socket_token(&headers, &query).unwrap_or_default());
    let limits = state.limits.clone();
    // tungstenite's default read buffer is 128 KiB allocated per socket; consoles send small
    // frames.
    ws.read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            let ctx = Context {
                desk: state.desk.clone(),
                signals: state.signals.clone(),
                limits,
            };
            serve(state, ctx, who, token_hash, query.after, socket).await
        })
}

async fn serve(
    state: GatewayState,
    ctx: Context,
    who: Principal,
    token_hash: Vec<u8>,
    after: Option<i64>,
    socket: WebSocket,
) {
    let workspace_id = who.workspace_id();
    let user_id = who.user.id;
    let registration = state.hub.register(workspace_id, connection::audience(&who));
    if state.hub.sockets_of(workspace_id, user_id) == 1 {
        presence(&state, workspace_id, user_id, PresenceStatus::Online).await;
    }
    let (sink, stream) = socket.split();
    let sink = sink.with(|frame: Outgoing| async move {
        Ok::<_, axum::Error>(match frame {
            Outgoing::Text(text) => Message::Text(text),
            Outgoing::Ping => Message::Ping(Default::default()),
            Outgoing::Close => Message::Close(None),
        })
    });
    let stream = stream
        .map(|message| match message {
            Ok(Message::Text(text)) => Some(Incoming::Text(text.to_string())),
            Ok(Message::Binary(_)) => Some(Incoming::Text("binary frame".into())),
            Ok(Message::Ping(_) | Message::Pong(_)) => Some(Incoming::Alive),
            Ok(Message::Close(_)) | Err(_) => None,
        })
        .take_while(|m| std::future::ready(m.is_some()))
        .filter_map(std::future::ready);
    let outcome = connection::run(
        ctx,
        who,
        token_hash,
        registration,
        after,
        Box::pin(sink),
        Box::pin(stream),
    )
    .await;
    if let Err(e) = outcome {
        tracing::debug!(error = %e, "console socket ended");
    }
    if state.hub.sockets_of(workspace_id, user_id) == 0 {
        presence(&state, workspace_id, user_id, PresenceStatus::Offline).await;
    }
}

/// Online with the first socket (unless the agent chose busy), offline with the last.
async fn presence(state: &GatewayState, workspace_id: i64, user_id: i64, status: PresenceStatus) {
    if status == PresenceStatus::Online {
        let current = state
            .desk
            .store()
            .list_presence(workspace_id)
            .await
            .unwrap_or_default();
        if current
            .iter()
            .any(|p| p.user_id == user_id && p.status == PresenceStatus::Busy)
        {
            return;
        }
    }
    if let Err(e) = state.desk.set_presence(workspace_id, user_id, status).await {
        tracing::warn!(error = %e, "cannot record presence");
    }
}
