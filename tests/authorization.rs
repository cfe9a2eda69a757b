//! Walks every route of the route table (the same table the router is built from, so a new route
//! cannot escape this test) as five callers: nobody, an admin of another workspace, an agent of
//! another inbox, an agent of the right inbox, and the owner. Each must see 401/403/404/2xx as the
//! route's access rule and scope say, and no listing may leak another inbox's or workspace's data.

mod common;

use std::collections::HashMap;

use common::*;
use serde_json::{json, Value};
use switchboard::http::routes::{routes, Access, Route, Scope};
use switchboard::store::NewUser;

/// Planted in the conversation of inbox A; only people who may see inbox A may ever read it.
const MARKER: &str = "MARKER-only-for-inbox-a";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Caller {
    Anonymous,
    OtherWorkspaceAdmin,
    AgentOfOtherInbox,
    AgentOfInbox,
    Owner,
}

struct World {
    app: TestApp,
    tokens: HashMap<Caller, String>,
    emails: HashMap<Caller, String>,
    ids: HashMap<Scope, i64>,
    agent_of_inbox_id: i64,
    /// Of the workspace but in neither inbox A nor the team: whom the membership removals in
    /// the walk take out (a no-op), so the walk's own callers keep their memberships.
    bystander_id: i64,
    website_token: String,
}

async fn world(engine: Engine) -> World {
    let app = spawn_app(engine).await;
    let (inbox_a, _) = app.api_inbox("Inbox A", None).await;
    let (inbox_b, _) = app.api_inbox("Inbox B", None).await;
    let website_token = app.web_chat_inbox().await.website_token;
    let (agent_in, agent_in_token) = app
        .user_with_role("in@example.com", "Ines Inside", "agent")
        .await;
    let (agent_out, agent_out_token) = app
        .user_with_role("out@example.com", "Otto Outside", "agent")
        .await;
    let agent_in_id = agent_in["id"].as_i64().unwrap();
    app.add_member(inbox_a, agent_in_id).await;
    app.add_member(inbox_b, agent_out["id"].as_i64().unwrap())
        .await;

    // Another workspace with its own admin.
    let store = app.store();
    let other = store.create_workspace("Elsewhere Ltd").await.unwrap();
    store
        .create_user(NewUser {
            workspace_id: other.id,
            email: switchboard::domain::EmailAddress::parse("admin@elsewhere.example").unwrap(),
            name: "Elsa Elsewhere".into(),
            role: switchboard::domain::Role::Admin,
            password_hash: switchboard::auth::hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
    let other_token = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "admin@elsewhere.example", "password": PASSWORD}),
        )
        .await
        .expect_status(200)
        .json["token"]
        .as_str()
        .unwrap()
        .to_string();

    let message = app
        .post(
            &format!("/api/v1/inboxes/{inbox_a}/messages"),
            Some(&app.token),
            json!({
                "contact": {"identifier": "walker", "name": "Wally Walker"},
                "external_id": "walk-1",
                "text": MARKER,
                "subject": MARKER,
                "attachments": [{"filename": "note.txt", "content_type": "text/plain", "data": "aGVsbG8="}]
            }),
        )
        .await
        .expect_status(201)
        .json;
    let conversation = message["conversation_id"].as_i64().unwrap();
    let attachment = message["attachments"][0]["id"].as_i64().unwrap();
    let contact = app
        .get(
            &format!("/api/v1/conversations/{conversation}"),
            Some(&app.token),
        )
        .await
        .json["contact_id"]
        .as_i64()
        .unwrap();
    let team = app
        .post("/api/v1/teams", Some(&app.token), json!({"name": "Tier 1"}))
        .await
        .expect_status(201)
        .json["id"]
        .as_i64()
        .unwrap();

    // One of the owner's personal API tokens, for the routes that point at a token.
    let owner_api_token = app
        .post("/api/v1/tokens", Some(&app.token), json!({"name": "walk"}))
        .await
        .expect_status(201)
        .json["api_token"]["id"]
        .as_i64()
        .unwrap();

    // A shared canned response, for the routes that point at one: agents use it, only owners
    // and admins change it.
    let shared_canned = app
        .post(
            "/api/v1/canned_responses",
            Some(&app.token),
            json!({"short_code": "walk", "content": "Thanks!", "shared": true}),
        )
        .await
        .expect_status(201)
        .json["id"]
        .as_i64()
        .unwrap();

    let tokens = HashMap::from([
        (Caller::OtherWorkspaceAdmin, other_token),
        (Caller::AgentOfOtherInbox, agent_out_token),
        (Caller::AgentOfInbox, agent_in_token),
        (Caller::Owner, app.token.clone()),
    ]);
    let emails = HashMap::from([
        (
            Caller::OtherWorkspaceAdmin,
            "admin@elsewhere.example".to_string(),
        ),
        (Caller::AgentOfOtherInbox, "out@example.com".to_string()),
        (Caller::AgentOfInbox, "in@example.com".to_string()),
        (Caller::Owner, "owner@example.com".to_string()),
    ]);
    let ids = HashMap::from([
        (Scope::Inbox, inbox_a),
        (Scope::Conversation, conversation),
        (Scope::Contact, contact),
        (Scope::Team, team),
        (Scope::Attachment, attachment),
        (Scope::User, agent_in_id),
        (Scope::Token, owner_api_token),
        (Scope::CannedResponse, shared_canned),
    ]);
    World {
        app,
        tokens,
        emails,
        ids,
        agent_of_inbox_id: agent_in_id,
        bystander_id: agent_out["id"].as_i64().unwrap(),
        website_token,
    }
}

/// A valid body for each writing route, made unique per call so that repeats do not conflict.
fn body_for(route: &Route, world: &World, caller: Caller, n: usize) -> Option<Value> {
    let unique = format!("{caller:?}-{n}").to_lowercase();
    let body = match (route.method.as_str(), route.path) {
        ("POST", "/api/v1/auth/login") => json!({
            "email": world.emails.get(&caller).cloned().unwrap_or_else(|| "owner@example.com".into()),
            "password": PASSWORD
        }),
        ("POST", "/api/v1/auth/logout") => json!({}),
        ("POST", "/api/v1/auth/logout-everywhere") => json!({}),
        ("DELETE", "/api/v1/tokens/{token_id}") => json!({}),
        ("PUT", "/api/v1/me/password") => {
            json!({"current_password": PASSWORD, "new_password": PASSWORD})
        }
        ("PATCH", "/api/v1/users/{user_id}") => json!({"disabled": false}),
        ("PUT", "/api/v1/users/{user_id}/password") => json!({"new_password": PASSWORD}),
        ("POST", "/api/v1/tokens") => json!({"name": format!("token {unique}")}),
        ("POST", "/api/v1/users") => json!({
            "email": format!("{unique}@new.example"), "name": "New Person", "role": "agent", "password": PASSWORD
        }),
        ("POST", "/api/v1/teams") => json!({"name": format!("Team {unique}")}),
        ("POST", "/api/v1/teams/{team_id}/members") => json!({"user_id": world.agent_of_inbox_id}),
        ("PATCH", "/api/v1/teams/{team_id}") => json!({"name": format!("Team {unique}")}),
        ("DELETE", "/api/v1/teams/{team_id}/members/{user_id}") => json!({}),
        ("DELETE", "/api/v1/inboxes/{inbox_id}/members/{user_id}") => json!({}),
        ("DELETE", "/api/v1/inboxes/{inbox_id}") => json!({}),
        ("DELETE", "/api/v1/teams/{team_id}") => json!({}),
        ("POST", "/api/v1/invitations") => json!({
            "email": format!("{unique}@invited.example"), "name": "Invited Person", "role": "agent"
        }),
        ("POST", "/api/v1/users/{user_id}/invitation") => json!({}),
        ("POST", "/api/v1/auth/accept-invitation") => {
            json!({"token": format!("sbi_{unique}.not-a-real-one"), "password": PASSWORD})
        }
        ("POST", "/api/v1/inboxes") => json!({"name": format!("Inbox {unique}"), "kind": "api"}),
        ("POST", "/api/v1/inboxes/{inbox_id}/members") => {
            json!({"user_id": world.agent_of_inbox_id})
        }
        ("POST", "/api/v1/inboxes/{inbox_id}/messages") => json!({
            "contact": {"identifier": "walker"}, "external_id": format!("walk-{unique}"), "text": "again"
        }),
        ("POST", "/api/v1/inboxes/{inbox_id}/test") => json!({"to": "walker"}),
        ("POST", "/api/v1/inboxes/test-connection") => {
            json!({"email": {"address": "walk@example.org"}})
        }
        ("POST", "/api/v1/inboxes/{inbox_id}/test-connection") => json!({}),
        ("POST", "/api/v1/inboxes/{inbox_id}/statuses") => {
            json!({"external_id": format!("walk-out-{unique}"), "status": "delivered"})
        }
        ("POST", "/api/v1/contacts") => {
            json!({"name": "Carla", "email": format!("{unique}@contacts.example")})
        }
        ("PATCH", "/api/v1/conversations/{conversation_id}") => json!({"priority": 1}),
        ("POST", "/api/v1/conversations/{conversation_id}/assignment") => {
            json!({"assignee_id": null})
        }
        ("POST", "/api/v1/conversations/{conversation_id}/messages") => {
            json!({"text": "a note", "private": true})
        }
        ("PATCH", "/api/v1/inboxes/{inbox_id}") => json!({"settings": {}}),
        ("PUT", "/api/v1/inboxes/{inbox_id}/routing") => json!({"mode": "balanced"}),
        ("PUT", "/api/v1/users/{user_id}/routing") => json!({"capacity": 5}),
        ("POST", "/api/v1/canned_responses") => {
            json!({"short_code": format!("c-{unique}"), "content": "Thanks for writing!"})
        }
        ("PATCH", "/api/v1/canned_responses/{canned_response_id}") => {
            json!({"content": format!("Thanks, {unique}!")})
        }
        ("DELETE", "/api/v1/canned_responses/{canned_response_id}") => json!({}),
        ("PATCH", "/api/v1/me") => json!({"email_signature": format!("Signed {unique}")}),
        ("POST", "/widget/v1/sessions") => json!({"website_token": world.website_token}),
        ("POST", "/widget/v1/messages") => json!({"client_id": unique, "text": "hi"}),
        ("POST", "/widget/v1/conversations/{conversation_id}/read") => json!({"message_id": 1}),
        ("POST", "/api/v1/conversations/{conversation_id}/read") => json!({"message_id": 1}),
        ("POST", "/widget/v1/conversations/{conversation_id}/rating") => json!({"score": 5}),
        ("GET", _) => return None,
        // A provider's webhook call; its signature is what the channel's own tests check.
        ("POST", path) if path.starts_with("/hooks/") => json!({}),
        (method, path) => {
            panic!("the authorization walk has no example body for {method} {path}: add one")
        }
    };
    Some(body)
}

fn concrete_path(route: &Route, world: &World) -> String {
    let id = world
        .ids
        .get(&route.scope)
        .copied()
        .unwrap_or_default()
        .to_string();
    let mut path = route.path.to_string();
    if route.scope != Scope::User {
        path = path.replace("{user_id}", &world.bystander_id.to_string());
    }
    for param in [
        "{inbox_id}",
        "{user_id}",
        "{conversation_id}",
        "{contact_id}",
        "{team_id}",
        "{attachment_id}",
        "{token_id}",
        "{canned_response_id}",
    ] {
        path = path.replace(param, &id);
    }
    assert!(
        !path.contains('{'),
        "unknown path parameter in {}",
        route.path
    );
    path
}

#[derive(Debug, PartialEq)]
enum Expect {
    Unauthorized,
    Forbidden,
    NotFound,
    Success,
}

fn expected(route: &Route, caller: Caller) -> Expect {
    use Expect::*;
    // Webhooks answer only for an inbox of their own kind (and then only to the provider's
    // signature or token, tests/<channel>_channel.rs); the walk's inbox is of another kind.
    if route.path.starts_with("/hooks/") {
        return NotFound;
    }
    if route.access == Access::Public {
        return Success;
    }
    // Visitor routes take visitor tokens only: no console token opens them
    // (tests/widget_visitor.rs walks them as visitors).
    if route.access == Access::Visitor {
        return Unauthorized;
    }
    if route.access == Access::Owner {
        return match caller {
            Caller::Anonymous => Unauthorized,
            Caller::Owner => Success,
            _ => Forbidden,
        };
    }
    // A token is its owner's alone: to everyone else it does not exist.
    if route.scope == Scope::Token && caller != Caller::Owner {
        return if caller == Caller::Anonymous {
            Unauthorized
        } else {
            NotFound
        };
    }
    // The walk's canned response is a shared one: agents see it but may not change it, and in
    // another workspace it does not exist.
    if route.scope == Scope::CannedResponse {
        return match caller {
            Caller::Anonymous => Unauthorized,
            Caller::Owner => Success,
            Caller::OtherWorkspaceAdmin => NotFound,
            Caller::AgentOfInbox | Caller::AgentOfOtherInbox => Forbidden,
        };
    }
    match caller {
        Caller::Anonymous => Unauthorized,
        Caller::Owner | Caller::AgentOfInbox
            if route.access == Access::Admin && caller == Caller::AgentOfInbox =>
        {
            Forbidden
        }
        Caller::Owner | Caller::AgentOfInbox => Success,
        Caller::OtherWorkspaceAdmin => match route.scope {
            Scope::Workspace => Success,
            _ => NotFound,
        },
        Caller::AgentOfOtherInbox => match (route.access, route.scope) {
            (Access::Admin, _) => Forbidden,
            (_, Scope::Inbox | Scope::Conversation | Scope::Attachment | Scope::Contact) => {
                Forbidden
            }
            _ => Success,
        },
    }
}

/// Routes after which the callers' sessions have ended (theirs, or the user's in the path).
fn ends_sessions(route: &Route) -> bool {
    matches!(
        route.path,
        "/api/v1/auth/logout-everywhere" | "/api/v1/users/{user_id}/password"
    )
}

async fn sign_in_again(world: &mut World) {
    for (caller, email) in world.emails.clone() {
        let token = world
            .app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await
            .expect_status(200)
            .json["token"]
            .as_str()
            .unwrap()
            .to_string();
        world.tokens.insert(caller, token);
    }
}

async fn walk(engine: Engine) {
    let mut world = world(engine).await;
    let table = routes();
    assert!(
        table.len() >= 25,
        "the route table lost routes: {}",
        table.len()
    );
    let mut failures = Vec::new();
    let mut n = 0;
    for route in &table {
        for caller in [
            Caller::Anonymous,
            Caller::OtherWorkspaceAdmin,
            Caller::AgentOfOtherInbox,
            Caller::AgentOfInbox,
            Caller::Owner,
        ] {
            n += 1;
            let path = concrete_path(route, &world);
            let mut token = world.tokens.get(&caller).cloned();
            if route.path == "/api/v1/auth/logout" && token.is_some() {
                // Logging out ends the token: walk it with a session of its own.
                let email = &world.emails[&caller];
                token = Some(
                    world
                        .app
                        .post(
                            "/api/v1/auth/login",
                            None,
                            json!({"email": email, "password": PASSWORD}),
                        )
                        .await
                        .expect_status(200)
                        .json["token"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
            let is_socket = route.path.ends_with("/ws");
            let reply = if is_socket {
                // A real upgrade request: a permitted caller gets 101 Switching Protocols.
                let mut req = world
                    .app
                    .http
                    .get(format!("{}{path}", world.app.url))
                    .header("connection", "Upgrade")
                    .header("upgrade", "websocket")
                    .header("sec-websocket-version", "13")
                    .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                Reply::from(req.send().await.unwrap()).await
            } else {
                match body_for(route, &world, caller, n) {
                    Some(body) => {
                        world
                            .app
                            .send(route.method.clone(), &path, token.as_deref(), body)
                            .await
                    }
                    None => world.app.get(&path, token.as_deref()).await,
                }
            };
            let want = expected(route, caller);
            let ok = match want {
                Expect::Unauthorized => reply.status == 401,
                Expect::Forbidden => reply.status == 403,
                Expect::NotFound => reply.status == 404,
                Expect::Success if is_socket => reply.status == 101,
                // Inbox A has no callback URL, so its channel refuses the test send: reaching
                // that refusal is what getting past the access rule looks like here.
                Expect::Success if route.path == "/api/v1/inboxes/{inbox_id}/test" => {
                    reply.status == 422 && reply.text.contains("no callback URL")
                }
                // The walk names no mail server to try, and inbox A is no email inbox: the
                // answers a caller past the access rule gets, before any connection is made.
                Expect::Success if route.path == "/api/v1/inboxes/test-connection" => {
                    reply.status == 422 && reply.text.contains("no IMAP or SMTP server")
                }
                Expect::Success if route.path == "/api/v1/inboxes/{inbox_id}/test-connection" => {
                    reply.status == 422 && reply.text.contains("only email inboxes")
                }
                // Inbox A holds conversations, which are never deleted with an inbox.
                Expect::Success
                    if route.method.as_str() == "DELETE"
                        && route.path == "/api/v1/inboxes/{inbox_id}" =>
                {
                    reply.status == 409 && reply.text.contains("has conversations")
                }
                // The walk's user has a password: there is no invitation to send again.
                Expect::Success if route.path == "/api/v1/users/{user_id}/invitation" => {
                    reply.status == 409 && reply.text.contains("already set a password")
                }
                // Anyone may try a link; a made-up one is refused the same way for everyone.
                Expect::Success if route.path == "/api/v1/auth/accept-invitation" => {
                    reply.status == 401 && reply.text.contains("invitation link does not work")
                }
                Expect::Success => (200..300).contains(&reply.status),
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {caller:?}: wanted {want:?}, got {} {}",
                    route.method,
                    route.path,
                    reply.status,
                    reply.text.chars().take(160).collect::<String>()
                ));
            }
            let may_see_inbox_a = matches!(caller, Caller::Owner | Caller::AgentOfInbox);
            if !may_see_inbox_a && reply.text.contains(MARKER) {
                failures.push(format!(
                    "{} {} as {caller:?} leaked inbox A's data",
                    route.method, route.path
                ));
            }
        }
        if ends_sessions(route) {
            sign_in_again(&mut world).await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} authorization failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    world.app.stop().await;
}

on_both_engines! {
    async fn every_route_answers_each_caller_as_its_access_rule_says(engine) {
        walk(engine).await;
    }
}

#[test]
fn the_openapi_document_lists_exactly_the_route_table() {
    let doc = serde_json::to_value(switchboard::http::openapi::document()).unwrap();
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    let mut table: Vec<String> = routes()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    documented.sort();
    table.sort();
    assert_eq!(documented, table, "OpenAPI and the route table disagree");
}
