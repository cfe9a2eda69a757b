//! Ingest in batches (issue 17): messages that arrive together are stored in one transaction
//! with their events numbered at once, and still each is stored once, in order, and refused
//! alone when it is bad. On both engines.

mod common;

use std::sync::Arc;

use common::*;
use switchboard::bus::{EventBus, InProcessBus};
use switchboard::desk::Desk;
use switchboard::domain::*;
use switchboard::store::*;
use switchboard_connector_core::{InboundMessage, InboundSender};

use common::inbound as message;

/// A message the checks at the door let through and the store refuses: nobody sent it.
fn from_nobody(external_id: &str) -> InboundMessage {
    InboundMessage {
        sender: InboundSender::default(),
        ..message(external_id, "", "who am I?")
    }
}

fn requests(
    ws: &Workspace,
    inbox: &Inbox,
    messages: Vec<InboundMessage>,
) -> Arc<Vec<IngestRequest>> {
    Arc::new(
        messages
            .into_iter()
            .map(|message| IngestRequest {
                workspace_id: ws.id,
                inbox_id: inbox.id,
                message,
                received_at: now_millis(),
            })
            .collect(),
    )
}

async fn stored_external_ids(store: &Arc<dyn Store>, ws: &Workspace) -> Vec<String> {
    let page = Page {
        after: None,
        limit: 500,
    };
    let mut ids = Vec::new();
    for c in store
        .list_conversations(ws.id, &ConversationFilter::default(), &page)
        .await
        .unwrap()
    {
        for m in store.list_messages(ws.id, c.id, &page).await.unwrap() {
            ids.extend(m.external_id);
        }
    }
    ids.sort();
    ids
}

/// The sequence numbers of the events the bus has carried to `heard` so far.
fn heard_seqs(heard: &mut tokio::sync::broadcast::Receiver<Arc<Event>>) -> Vec<i64> {
    let mut got = Vec::new();
    while let Ok(event) = heard.try_recv() {
        got.push(event.seq);
    }
    got
}

async fn an_agent(store: &Arc<dyn Store>, ws: &Workspace) -> User {
    let agent = NewUser {
        workspace_id: ws.id,
        email: EmailAddress::parse("agent@acme.example").unwrap(),
        name: "Ada Agent".into(),
        role: Role::Agent,
        password_hash: "x".into(),
    };
    store.create_user(agent).await.unwrap()
}

fn seqs(events: &[Event]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

on_both_engines! {
    async fn a_batch_stores_each_external_id_once_and_numbers_its_events_in_order(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox) = workspace_with_inbox(&store).await;
        let batch = requests(&ws, &inbox, vec![
            message("e1", "ana", "hello"),
            message("e2", "bo", "hi"),
            // The provider sent e1 twice in one burst: the second is answered with the first.
            message("e1", "ana", "hello"),
            message("e3", "ana", "are you there?"),
        ]);
        let outcomes = store.ingest_batch(batch).await.unwrap();
        assert_eq!(outcomes.len(), 4);
        assert_eq!(outcomes.iter().map(|o| o.created).collect::<Vec<_>>(), [true, true, false, true]);
        assert_eq!(outcomes[2].message.id, outcomes[0].message.id, "the duplicate answers the stored message");
        assert!(outcomes[2].events.is_empty(), "a duplicate tells nothing new");
        assert_eq!(outcomes[3].conversation.id, outcomes[0].conversation.id, "ana's second message joins her conversation");
        assert_ne!(outcomes[1].conversation.id, outcomes[0].conversation.id);

        // Ana: contact, conversation, message; Bo: the same; Ana again: a message. Dense, each
        // conversation told of before its messages (PostgreSQL stores a batch by sender, SQLite
        // as it came), and the same events the log gives a console that catches up.
        let mut told: Vec<Event> = outcomes.iter().flat_map(|o| o.events.clone()).collect();
        told.sort_by_key(|e| e.seq);
        assert_eq!(seqs(&told), (1..=7).collect::<Vec<_>>());
        let kinds_of = |o: &IngestOutcome| o.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>();
        assert_eq!(kinds_of(&outcomes[0]), ["contact.created", "conversation.created", "message.created"]);
        assert_eq!(kinds_of(&outcomes[1]), ["contact.created", "conversation.created", "message.created"]);
        assert_eq!(kinds_of(&outcomes[3]), ["message.created"]);
        assert!(outcomes[3].events[0].seq > outcomes[0].events[2].seq, "ana's messages in the order she sent them");
        for o in [&outcomes[0], &outcomes[1], &outcomes[3]] {
            assert!(o.events.windows(2).all(|w| w[1].seq == w[0].seq + 1), "one message's events are consecutive");
        }
        let logged = store.events_after(ws.id, 0, 100).await.unwrap();
        assert_eq!(seqs(&logged), seqs(&told));
        assert!(logged.iter().zip(&told).all(|(a, b)| a.id == b.id && a.kind == b.kind && a.inbox_id == b.inbox_id));
        let message_event = &outcomes[3].events[0];
        assert_eq!(message_event.payload["id"], serde_json::json!(outcomes[3].message.id));
        assert_eq!(message_event.payload["text"], "are you there?");
        // What the batch answered is what a reader finds.
        let stored = store.list_messages(ws.id, outcomes[0].conversation.id, &Page { after: None, limit: 10 }).await.unwrap();
        let answered = &outcomes[3].message;
        let found = stored.iter().find(|m| m.id == answered.id).unwrap();
        assert_eq!(serde_json::to_value(found).unwrap(), serde_json::to_value(answered).unwrap());
        assert_eq!(stored_external_ids(&store, &ws).await, ["e1", "e2", "e3"]);

        // The same batch delivered again stores nothing and tells nothing.
        let again = store.ingest_batch(requests(&ws, &inbox, vec![message("e1", "ana", "hello"), message("e2", "bo", "hi")])).await.unwrap();
        assert!(again.iter().all(|o| !o.created && o.events.is_empty()));
        assert_eq!(store.events_after(ws.id, 0, 100).await.unwrap().len(), 7);
    }

    async fn a_batch_with_a_message_the_store_refuses_commits_none_of_it(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox) = workspace_with_inbox(&store).await;
        let batch = requests(&ws, &inbox, vec![message("a", "ana", "one"), from_nobody("b"), message("c", "bo", "two")]);
        let refused = store.ingest_batch(batch).await.unwrap_err();
        assert!(matches!(refused, StoreError::Invalid(_)), "{refused}");
        assert!(stored_external_ids(&store, &ws).await.is_empty(), "nothing of a refused batch is kept");
        assert!(store.events_after(ws.id, 0, 100).await.unwrap().is_empty());
    }

    async fn messages_ingested_together_are_refused_alone_and_the_others_commit(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox) = workspace_with_inbox(&store).await;
        let bus = Arc::new(InProcessBus::new(1024));
        let mut heard = bus.subscribe();
        let desk = Desk::new(store.clone(), bus.clone() as Arc<dyn EventBus>);
        let outcomes = desk.ingest_many(ws.id, inbox.id, vec![
            message("a", "ana", "one"),
            // Refused at the door (no external id) and by the store (no sender): each its own 4xx.
            message("", "ana", "no id"),
            from_nobody("b"),
            message("c", "bo", "two"),
            message("a", "ana", "one"),
        ]).await;
        assert_eq!(outcomes.len(), 5);
        assert!(outcomes[0].as_ref().unwrap().created);
        assert!(matches!(outcomes[1], Err(StoreError::Invalid(_))), "{:?}", outcomes[1].as_ref().err());
        assert!(matches!(outcomes[2], Err(StoreError::Invalid(_))), "{:?}", outcomes[2].as_ref().err());
        assert!(outcomes[3].as_ref().unwrap().created);
        let dup = outcomes[4].as_ref().unwrap();
        assert!(!dup.created);
        assert_eq!(dup.message.id, outcomes[0].as_ref().unwrap().message.id);
        assert_eq!(stored_external_ids(&store, &ws).await, ["a", "c"]);

        // Every committed event reached the bus once, in sequence order.
        let logged = store.events_after(ws.id, 0, 100).await.unwrap();
        assert_eq!(seqs(&logged), (1..=6).collect::<Vec<_>>());
        let got = heard_seqs(&mut heard);
        assert_eq!(got, seqs(&logged));
    }

    async fn a_batch_joins_the_conversations_its_own_messages_started_and_woke(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox) = workspace_with_inbox(&store).await;
        let agent = an_agent(&store, &ws).await;
        let first = only(store.ingest_batch(requests(&ws, &inbox, vec![message("o1", "ana", "order 1")])).await.unwrap()).unwrap();
        let resolve = ConversationPatch { status: Some(ConversationStatus::Resolved), snoozed_until: None, priority: None, labels: None };
        let actor = Actor { user_id: agent.id, name: agent.name.clone() };
        store.update_conversation(ws.id, first.conversation.id, resolve, actor).await.unwrap();

        // The batch looks up ana's conversations that are not resolved once, before it stores:
        // none. Her reply wakes the resolved one; her next message joins it rather than
        // starting another. Her message in another thread starts one, which her next message
        // in that thread joins.
        let outcomes = store.ingest_batch(requests(&ws, &inbox, vec![
            InboundMessage { conversation_hint: Some(first.conversation.id), ..message("o2", "ana", "about order 1") },
            message("o3", "ana", "and another thing"),
            InboundMessage { thread_key: Some("invoice".into()), ..message("i1", "ana", "my invoice") },
            InboundMessage { thread_key: Some("invoice".into()), ..message("i2", "ana", "is wrong") },
        ])).await.unwrap();
        let conversations: Vec<Id> = outcomes.iter().map(|o| o.conversation.id).collect();
        assert_eq!(conversations[..2], [first.conversation.id; 2]);
        assert_eq!(outcomes[1].conversation.status, ConversationStatus::Open);
        assert_ne!(conversations[2], first.conversation.id);
        assert_eq!(conversations[3], conversations[2]);
        let kinds: Vec<&str> = outcomes.iter().flat_map(|o| o.events.iter().map(|e| e.kind.as_str())).collect();
        assert_eq!(kinds, ["conversation.updated", "message.created", "message.created", "conversation.created", "message.created", "message.created"]);
    }

    async fn what_a_batch_writes_of_a_conversation_is_as_if_its_messages_came_one_by_one(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox) = workspace_with_inbox(&store).await;
        let agent = an_agent(&store, &ws).await;
        let at = |received_at: Millis, message: InboundMessage| IngestRequest { workspace_id: ws.id, inbox_id: inbox.id, message, received_at };
        let t0 = now_millis();
        let first = only(store.ingest_batch(Arc::new(vec![at(t0, message("a1", "ana", "hello"))])).await.unwrap()).unwrap();
        let id = first.conversation.id;
        assert_eq!(first.conversation.waiting_since, Some(t0));

        // Two more into the open conversation: active at the later, still waiting since the first.
        let two = store.ingest_batch(Arc::new(vec![at(t0 + 20, message("a2", "ana", "anyone?")), at(t0 + 10, message("a3", "ana", "hello?"))])).await.unwrap();
        assert!(two.iter().all(|o| o.conversation.id == id && o.conversation.last_activity_at == t0 + 20));
        assert_eq!(two[0].conversation.waiting_since, Some(t0));
        assert!(two.iter().all(|o| o.events.iter().all(|e| e.kind.as_str() == "message.created")), "an open conversation is not told of again");

        // Snoozed: an out-of-office keeps it asleep, the customer's next message in the same
        // batch wakes it, and the row as the batch left it is what both are answered with.
        let snooze = ConversationPatch { status: Some(ConversationStatus::Snoozed), snoozed_until: Some(t0 + 3_600_000), priority: None, labels: None };
        store.update_conversation(ws.id, id, snooze, Actor { user_id: agent.id, name: agent.name.clone() }).await.unwrap();
        let batch = store.ingest_batch(Arc::new(vec![
            at(t0 + 30, InboundMessage { automatic: true, ..message("a4", "ana", "I am away") }),
            at(t0 + 40, message("a5", "ana", "back now")),
        ])).await.unwrap();
        let stored = store.get_conversation(ws.id, id).await.unwrap().unwrap();
        assert_eq!(stored.status, ConversationStatus::Open);
        assert_eq!(stored.snoozed_until, None);
        assert_eq!(stored.last_activity_at, t0 + 40, "the later write stands");
        for outcome in &batch {
            assert_eq!(serde_json::to_value(&outcome.conversation).unwrap(), serde_json::to_value(&stored).unwrap());
        }
        let kinds: Vec<&str> = batch.iter().flat_map(|o| o.events.iter().map(|e| e.kind.as_str())).collect();
        assert_eq!(kinds, ["message.created", "conversation.updated", "message.created"]);
    }

    async fn a_reply_finds_the_message_it_answers_in_the_same_batch(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox) = workspace_with_inbox(&store).await;
        // A mailbox fetched at once: the first mail, and a colleague's reply to it with another
        // subject, which only its reference ties to the first.
        let outcomes = store.ingest_batch(requests(&ws, &inbox, vec![
            InboundMessage { thread_key: Some("order 42".into()), ..message("<o1@x>", "ana", "where is my order?") },
            InboundMessage { thread_key: Some("re: something else".into()), references: vec!["<o1@x>".into()], ..message("<r1@x>", "bo", "same here") },
        ])).await.unwrap();
        assert_eq!(outcomes[1].conversation.id, outcomes[0].conversation.id);
        assert!(outcomes.iter().all(|o| o.created && o.message.id > 0));
        assert!(outcomes[1].message.id > outcomes[0].message.id, "written in the order they came");
    }

    async fn concurrent_ingests_share_batches_and_lose_nothing(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox) = workspace_with_inbox(&store).await;
        let bus = Arc::new(InProcessBus::new(4096));
        let mut heard = bus.subscribe();
        let desk = Desk::new(store.clone(), bus.clone() as Arc<dyn EventBus>);
        let posts = (0..300).map(|i| {
            let desk = desk.clone();
            let (ws, inbox) = (ws.id, inbox.id);
            // Every message twice, and one in fifty from nobody: refused alone.
            let m = if i % 50 == 7 { from_nobody(&format!("nobody-{i}")) } else { message(&format!("m{}", i / 2), &format!("p{}", i % 20), "hi") };
            tokio::spawn(async move { desk.ingest(ws, inbox, m).await })
        });
        let outcomes: Vec<_> = futures::future::join_all(posts).await.into_iter().map(|j| j.unwrap()).collect();
        let refused = outcomes.iter().filter(|o| o.is_err()).count();
        assert!(outcomes.iter().all(|o| matches!(o, Ok(_) | Err(StoreError::Invalid(_)))), "only the senderless are refused");
        assert_eq!(refused, 6);
        let created = outcomes.iter().filter(|o| o.as_ref().is_ok_and(|o| o.created)).count();
        let stored = stored_external_ids(&store, &ws).await;
        assert_eq!(stored.len(), 150, "each external id once");
        assert_eq!(created, 150, "each stored once, the other delivery answered with it");

        let logged = store.events_after(ws.id, 0, 10_000).await.unwrap();
        assert_eq!(seqs(&logged), (1..=logged.len() as i64).collect::<Vec<_>>(), "dense");
        let mut got = heard_seqs(&mut heard);
        got.sort_unstable();
        assert_eq!(got, seqs(&logged), "every committed event published once");
    }
}

/// A burst through the desk is stored in a few transactions, not one per message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_through_the_desk_takes_few_writes_on_sqlite() {
    let (sqlite, _db) = open_sqlite_store().await;
    let store: Arc<dyn Store> = sqlite.clone();
    let (ws, inbox) = workspace_with_inbox(&store).await;
    let desk = Desk::new(store.clone(), Arc::new(InProcessBus::new(4096)));
    let writes = || {
        sqlite
            .writer_stats()
            .writes
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = writes();
    let posts = (0..400).map(|i| {
        let desk = desk.clone();
        let (ws, inbox) = (ws.id, inbox.id);
        tokio::spawn(async move {
            desk.ingest(ws, inbox, message(&format!("b{i}"), &format!("p{i}"), "hi"))
                .await
        })
    });
    for post in futures::future::join_all(posts).await {
        assert!(post.unwrap().unwrap().created);
    }
    let taken = writes() - before;
    assert!(taken <= 40, "400 concurrent messages took {taken} writes");
}

/// PostgreSQL runs batches side by side; two that took the same contacts in opposite orders
/// would deadlock (found after a second, one of them refused). Stored by sender, they never do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_side_by_side_on_postgres_never_deadlock() {
    use sqlx::Connection;
    let (store, db) = open_store(common::Engine::Postgres).await;
    let (ws, inbox) = workspace_with_inbox(&store).await;
    let desk = Desk::new(store.clone(), Arc::new(InProcessBus::new(1 << 16)));
    const CONTACTS: usize = 12;
    let senders = (0..24).map(|t| {
        let desk = desk.clone();
        let (ws, inbox) = (ws.id, inbox.id);
        tokio::spawn(async move {
            for round in 0..8 {
                // Each sender goes through the same people in its own order, half of them
                // backwards: batches that meet hold them in every order.
                for k in 0..CONTACTS {
                    let who = if t % 2 == 0 {
                        (k + t) % CONTACTS
                    } else {
                        (CONTACTS * 4 - k - t % CONTACTS) % CONTACTS
                    };
                    let m = message(&format!("t{t}-r{round}-k{k}"), &format!("p{who}"), "hi");
                    desk.ingest(ws, inbox, m).await?;
                }
            }
            Ok::<_, StoreError>(())
        })
    });
    for sender in futures::future::join_all(senders).await {
        sender.unwrap().expect("every message stored");
    }
    assert_eq!(
        stored_external_ids(&store, &ws).await.len(),
        24 * 8 * CONTACTS
    );
    // The server's own count, once the store's connections have closed (a backend reports its
    // statistics at the latest when it exits).
    drop(desk);
    drop(store);
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut deadlocks = 0i64;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let _ = sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(&mut admin)
            .await;
        deadlocks = sqlx::query_scalar(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if deadlocks > 0 {
            break;
        }
    }
    assert_eq!(deadlocks, 0, "batches deadlocked {deadlocks} times");
}
