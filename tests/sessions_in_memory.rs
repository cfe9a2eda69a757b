//! Who a token is, and the inbox a message names, come from memory (issue 17): a request does
//! not read its token, user, memberships and inbox again, yet whatever changes them holds at
//! once in this process, and within `MAX_AGE` when another process (the command line, another
//! node) changed it.

mod common;

use std::sync::Arc;

use common::*;
use switchboard::domain::*;
use switchboard::store::*;

struct Desk {
    store: Arc<dyn Store>,
    ws: Workspace,
    inbox: Inbox,
    agent: User,
}

const TOKEN: [u8; 32] = [7; 32];

async fn an_agent_with_a_token(store: Arc<dyn Store>) -> Desk {
    let (ws, inbox) = workspace_with_inbox(&store).await;
    let agent = store
        .create_user(NewUser {
            workspace_id: ws.id,
            email: EmailAddress::parse("ana@acme.example").unwrap(),
            name: "Ana".into(),
            role: Role::Admin,
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    store
        .add_inbox_member(ws.id, inbox.id, agent.id)
        .await
        .unwrap();
    store
        .create_token(NewToken {
            user_id: agent.id,
            kind: TokenKind::Session,
            name: "s".into(),
            hash: TOKEN.to_vec(),
            expires_at: None,
        })
        .await
        .unwrap();
    Desk {
        store,
        ws,
        inbox,
        agent,
    }
}

impl Desk {
    async fn who(&self) -> Option<Principal> {
        self.store
            .principal_by_token(&TOKEN, now_millis())
            .await
            .unwrap()
    }

    fn audit(&self, action: AuditAction) -> NewAuditEntry {
        NewAuditEntry {
            workspace_id: self.ws.id,
            actor: None,
            action,
            target_kind: "user",
            target_id: Some(self.agent.id),
            details: serde_json::json!({}),
        }
    }
}

on_both_engines! {
    async fn a_token_is_read_once_and_another_processs_revocation_holds_within_the_bound(engine) {
        let (store, db) = open_store(engine).await;
        let desk = an_agent_with_a_token(store).await;
        assert_eq!(desk.who().await.unwrap().user.id, desk.agent.id);

        // The command line, another process on the same database, signs Ana out everywhere.
        let other = switchboard::store::open(&db.url, &StoreOptions::default()).await.unwrap();
        assert_eq!(other.revoke_tokens(desk.agent.id, Revoke::Everything, None).await.unwrap(), 1);
        assert!(other.principal_by_token(&TOKEN, now_millis()).await.unwrap().is_none());

        // This process answers from memory (it did not read the token again)...
        assert!(desk.who().await.is_some(), "answered without a read");
        // ...and hears of it within the bound.
        tokio::time::sleep(PRINCIPAL_MAX_AGE + std::time::Duration::from_millis(100)).await;
        assert!(desk.who().await.is_none(), "refused once the remembered principal is too old");
    }

    async fn what_this_process_changes_holds_at_the_next_request(engine) {
        let (store, _db) = open_store(engine).await;
        let desk = an_agent_with_a_token(store.clone()).await;
        let who = desk.who().await.unwrap();
        assert!(who.is_admin());
        assert_eq!(who.member_inboxes, vec![desk.inbox.id]);

        // Each change answers the very next request with what it changed.
        store.update_user(desk.ws.id, desk.agent.id, UserPatch { role: Some(Role::Agent), disabled: None }, vec![desk.audit(AuditAction::UserRoleChanged)], now_millis()).await.unwrap();
        assert!(!desk.who().await.unwrap().is_admin(), "a demoted admin is an agent at once");

        assert!(store.remove_inbox_member(desk.ws.id, desk.inbox.id, desk.agent.id).await.unwrap());
        assert!(desk.who().await.unwrap().member_inboxes.is_empty(), "a removed member sees the inbox no more");
        store.add_inbox_member(desk.ws.id, desk.inbox.id, desk.agent.id).await.unwrap();
        assert_eq!(desk.who().await.unwrap().member_inboxes, vec![desk.inbox.id]);

        store.update_user(desk.ws.id, desk.agent.id, UserPatch { role: None, disabled: Some(true) }, vec![desk.audit(AuditAction::UserDisabled)], now_millis()).await.unwrap();
        assert!(desk.who().await.is_none(), "a disabled user's token opens nothing at once");
    }

    async fn a_remembered_token_still_expires_on_time(engine) {
        let (store, _db) = open_store(engine).await;
        let desk = an_agent_with_a_token(store.clone()).await;
        let hash = [9u8; 32];
        let now = now_millis();
        store.create_token(NewToken { user_id: desk.agent.id, kind: TokenKind::Api, name: "short".into(), hash: hash.to_vec(), expires_at: Some(now + 60_000) }).await.unwrap();
        assert!(store.principal_by_token(&hash, now).await.unwrap().is_some());
        assert!(store.principal_by_token(&hash, now + 60_000).await.unwrap().is_none(), "expired while remembered");
        // A forged or unknown token is never remembered as anyone.
        assert!(store.principal_by_token(&[1; 32], now).await.unwrap().is_none());
    }

    async fn an_inbox_is_read_once_and_what_changes_it_holds_at_the_next_read(engine) {
        let (store, db) = open_store(engine).await;
        let desk = an_agent_with_a_token(store.clone()).await;
        let (ws, inbox) = (desk.ws.id, desk.inbox.id);
        assert_eq!(store.get_inbox(ws, inbox).await.unwrap().unwrap().conversation_scope, ConversationScope::Inbox);

        // This process's changes: answered at once.
        let settings = serde_json::json!({"greeting": "Hello!"});
        store.widget().update_inbox_settings(ws, inbox, settings.clone(), None).await.unwrap();
        assert_eq!(store.get_inbox(ws, inbox).await.unwrap().unwrap().settings, settings);
        store.set_conversation_scope(ws, inbox, ConversationScope::Contact).await.unwrap();
        assert_eq!(store.get_inbox(ws, inbox).await.unwrap().unwrap().conversation_scope, ConversationScope::Contact);

        // Another process's: within the bound.
        let other = switchboard::store::open(&db.url, &StoreOptions::default()).await.unwrap();
        other.set_conversation_scope(ws, inbox, ConversationScope::Inbox).await.unwrap();
        assert_eq!(store.get_inbox(ws, inbox).await.unwrap().unwrap().conversation_scope, ConversationScope::Contact, "answered without a read");
        tokio::time::sleep(PRINCIPAL_MAX_AGE + std::time::Duration::from_millis(100)).await;
        assert_eq!(store.get_inbox(ws, inbox).await.unwrap().unwrap().conversation_scope, ConversationScope::Inbox);

        // Deleted here: gone at once; and an inbox never found is not remembered as missing.
        store.delete_inbox(ws, inbox).await.unwrap();
        assert!(store.get_inbox(ws, inbox).await.unwrap().is_none());
        assert!(store.get_inbox(ws, inbox + 1).await.unwrap().is_none());
        let created = store.create_inbox(NewInbox { workspace_id: ws, name: "Later".into(), kind: switchboard_connector_core::ChannelKind::Api, settings: serde_json::json!({}), sealed_secret: None }).await.unwrap();
        assert_eq!(store.get_inbox(ws, created.id).await.unwrap().unwrap().name, "Later");
    }
}
