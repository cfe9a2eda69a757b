//! What a route is apart from its handler: method, path, who may call it and what its path's id
//! points at. The REST adapter's route table and the channels' webhook routes both speak it.

use axum::http::Method;

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
    /// A canned response: the caller's own personal one, or a shared one (which only owners
    /// and admins change).
    CannedResponse,
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
