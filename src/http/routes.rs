//! The route table: every route of the hub, its access rule and what its path points at. The
//! router is built from this table alone, the OpenAPI document is checked against it, and the
//! authorization test walks it, so a route cannot be added without an access rule and a test.

use axum::http::Method;
use axum::routing::{delete, get, patch, post, put, MethodRouter};

use super::handlers::{
    account, audit, auth, canned, channels, contacts, conversations, events, inboxes, ops, people,
    routing,
};
use super::AppState;
use crate::widget::{handlers as widget, socket as widget_socket};

/// Who may call a route. Inbox-level rules (membership) are checked by the handler against the
/// thing the path points at; see `Scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any signed-in user of the workspace.
    Member,
    /// Owners and admins.
    Admin,
    /// Owners only.
    Owner,
    /// A website visitor with a visitor token (never a console token).
    Visitor,
}

/// What the path's id points at, which decides the membership check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// No id in the path: the caller's own workspace.
    Workspace,
    Inbox,
    Conversation,
    Contact,
    Team,
    User,
    Attachment,
    /// One of the caller's own API tokens.
    Token,
    /// A conversation as its visitor sees it.
    VisitorConversation,
    VisitorAttachment,
}

#[derive(Clone, Debug)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub scope: Scope,
}

pub(super) fn table() -> Vec<(Route, MethodRouter<AppState>)> {
    use Access::*;
    use Scope::*;
    let r = |method: Method, path, access, scope, handler| {
        (
            Route {
                method,
                path,
                access,
                scope,
            },
            handler,
        )
    };
    vec![
        r(
            Method::GET,
            "/healthz",
            Public,
            Workspace,
            get(ops::healthz),
        ),
        r(Method::GET, "/readyz", Public, Workspace, get(ops::readyz)),
        r(
            Method::GET,
            "/metrics",
            Public,
            Workspace,
            get(ops::metrics),
        ),
        r(
            Method::GET,
            "/api/v1/openapi.json",
            Public,
            Workspace,
            get(ops::openapi),
        ),
        r(
            Method::POST,
            "/api/v1/auth/login",
            Public,
            Workspace,
            post(auth::login),
        ),
        r(
            Method::POST,
            "/api/v1/auth/logout",
            Member,
            Workspace,
            post(auth::logout),
        ),
        r(Method::GET, "/api/v1/me", Member, Workspace, get(auth::me)),
        r(
            Method::POST,
            "/api/v1/tokens",
            Member,
            Workspace,
            post(auth::create_api_token),
        ),
        r(
            Method::GET,
            "/api/v1/tokens",
            Member,
            Workspace,
            get(account::list_tokens),
        ),
        r(
            Method::DELETE,
            "/api/v1/tokens/{token_id}",
            Member,
            Token,
            delete(account::revoke_token),
        ),
        r(
            Method::POST,
            "/api/v1/auth/logout-everywhere",
            Member,
            Workspace,
            post(account::logout_everywhere),
        ),
        r(
            Method::PUT,
            "/api/v1/me/password",
            Member,
            Workspace,
            put(account::change_password),
        ),
        r(
            Method::PATCH,
            "/api/v1/users/{user_id}",
            Admin,
            User,
            patch(people::update_user),
        ),
        r(
            Method::PUT,
            "/api/v1/users/{user_id}/password",
            Admin,
            User,
            put(people::reset_password),
        ),
        r(
            Method::GET,
            "/api/v1/audit-log",
            Owner,
            Workspace,
            get(audit::list),
        ),
        r(
            Method::GET,
            "/api/v1/users",
            Member,
            Workspace,
            get(people::list_users),
        ),
        r(
            Method::POST,
            "/api/v1/users",
            Admin,
            Workspace,
            post(people::create_user),
        ),
        r(
            Method::GET,
            "/api/v1/teams",
            Member,
            Workspace,
            get(people::list_teams),
        ),
        r(
            Method::POST,
            "/api/v1/teams",
            Admin,
            Workspace,
            post(people::create_team),
        ),
        r(
            Method::POST,
            "/api/v1/teams/{team_id}/members",
            Admin,
            Team,
            post(people::add_team_member),
        ),
        r(
            Method::GET,
            "/api/v1/inboxes",
            Member,
            Workspace,
            get(inboxes::list),
        ),
        r(
            Method::POST,
            "/api/v1/inboxes",
            Admin,
            Workspace,
            post(inboxes::create),
        ),
        r(
            Method::GET,
            "/api/v1/inboxes/{inbox_id}",
            Member,
            Inbox,
            get(inboxes::show),
        ),
        r(
            Method::PATCH,
            "/api/v1/inboxes/{inbox_id}",
            Admin,
            Inbox,
            patch(inboxes::update),
        ),
        r(
            Method::GET,
            "/api/v1/inboxes/{inbox_id}/members",
            Member,
            Inbox,
            get(inboxes::members),
        ),
        r(
            Method::POST,
            "/api/v1/inboxes/{inbox_id}/members",
            Admin,
            Inbox,
            post(inboxes::add_member),
        ),
        r(
            Method::GET,
            "/api/v1/channels",
            Admin,
            Workspace,
            get(channels::list),
        ),
        r(
            Method::GET,
            "/api/v1/contacts",
            Member,
            Workspace,
            get(contacts::list),
        ),
        r(
            Method::POST,
            "/api/v1/contacts",
            Member,
            Workspace,
            post(contacts::create),
        ),
        r(
            Method::GET,
            "/api/v1/contacts/{contact_id}",
            Member,
            Contact,
            get(contacts::show),
        ),
        r(
            Method::GET,
            "/api/v1/conversations",
            Member,
            Workspace,
            get(conversations::list),
        ),
        r(
            Method::GET,
            "/api/v1/conversations/{conversation_id}",
            Member,
            Conversation,
            get(conversations::show),
        ),
        r(
            Method::PATCH,
            "/api/v1/conversations/{conversation_id}",
            Member,
            Conversation,
            patch(conversations::update),
        ),
        r(
            Method::POST,
            "/api/v1/conversations/{conversation_id}/assignment",
            Member,
            Conversation,
            post(conversations::assign),
        ),
        r(
            Method::GET,
            "/api/v1/conversations/{conversation_id}/messages",
            Member,
            Conversation,
            get(conversations::messages),
        ),
        r(
            Method::POST,
            "/api/v1/conversations/{conversation_id}/messages",
            Member,
            Conversation,
            post(conversations::reply),
        ),
        r(
            Method::GET,
            "/api/v1/attachments/{attachment_id}",
            Member,
            Attachment,
            get(conversations::attachment),
        ),
        r(
            Method::GET,
            "/api/v1/events",
            Member,
            Workspace,
            get(events::list),
        ),
        r(
            Method::GET,
            "/api/v1/inboxes/{inbox_id}/routing",
            Member,
            Inbox,
            get(routing::policy),
        ),
        r(
            Method::PUT,
            "/api/v1/inboxes/{inbox_id}/routing",
            Admin,
            Inbox,
            put(routing::set_policy),
        ),
        r(
            Method::GET,
            "/api/v1/users/{user_id}/routing",
            Member,
            User,
            get(routing::agent),
        ),
        r(
            Method::PUT,
            "/api/v1/users/{user_id}/routing",
            Admin,
            User,
            put(routing::set_agent),
        ),
        r(
            Method::GET,
            "/api/v1/conversations/counts",
            Member,
            Workspace,
            get(conversations::counts),
        ),
        r(
            Method::GET,
            "/api/v1/canned_responses",
            Member,
            Workspace,
            get(canned::list),
        ),
        r(
            Method::POST,
            "/api/v1/canned_responses",
            Admin,
            Workspace,
            post(canned::create),
        ),
        r(
            Method::GET,
            "/api/v1/queue",
            Member,
            Workspace,
            get(routing::queue),
        ),
        r(
            Method::GET,
            "/api/v1/ws",
            Member,
            Workspace,
            get(crate::gateway::socket::upgrade),
        ),
        r(
            Method::GET,
            "/api/v1/conversations/{conversation_id}/read",
            Member,
            Conversation,
            get(conversations::read_marker),
        ),
        r(
            Method::POST,
            "/widget/v1/sessions",
            Public,
            Workspace,
            post(widget::session),
        ),
        r(
            Method::GET,
            "/widget/v1/conversations",
            Visitor,
            Workspace,
            get(widget::conversations),
        ),
        r(
            Method::GET,
            "/widget/v1/conversations/{conversation_id}/messages",
            Visitor,
            VisitorConversation,
            get(widget::messages),
        ),
        r(
            Method::POST,
            "/widget/v1/messages",
            Visitor,
            Workspace,
            post(widget::post_message),
        ),
        r(
            Method::POST,
            "/widget/v1/conversations/{conversation_id}/read",
            Visitor,
            VisitorConversation,
            post(widget::read),
        ),
        r(
            Method::POST,
            "/widget/v1/conversations/{conversation_id}/rating",
            Visitor,
            VisitorConversation,
            post(widget::rate),
        ),
        r(
            Method::GET,
            "/widget/v1/conversations/{conversation_id}/queue",
            Visitor,
            VisitorConversation,
            get(widget::queue),
        ),
        r(
            Method::GET,
            "/widget/v1/attachments/{attachment_id}",
            Visitor,
            VisitorAttachment,
            get(widget::attachment),
        ),
        r(
            Method::GET,
            "/widget/v1/ws",
            Visitor,
            Workspace,
            get(widget_socket::upgrade),
        ),
    ]
}

/// The hub's routes and those of its channels.
pub(super) fn table_with(
    channels: &crate::channels::ChannelRegistry,
) -> Vec<(Route, MethodRouter<AppState>)> {
    let mut all = table();
    all.extend(channels.routes());
    all
}

/// The route table of a hub with the standard channels, without its handlers, for
/// documentation and tests.
pub fn routes() -> Vec<Route> {
    table_with(&crate::channels::ChannelRegistry::standard())
        .into_iter()
        .map(|(route, _)| route)
        .collect()
}
