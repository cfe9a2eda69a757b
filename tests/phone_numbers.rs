//! Phone numbers are stored in E.164 whoever wrote them: a client creating a contact, an
//! integration handing in a message, a provider's webhook. A number without a country code is
//! read in `[contacts] default_region`; a typed number that cannot be read is refused with 422,
//! one a provider sent is kept as it came.

mod common;

use common::*;
use serde_json::{json, Value};
use switchboard_connector_core::{Identity, InboundMessage, InboundSender};

async fn in_germany(engine: Engine) -> TestApp {
    spawn_app_with(engine, |s| s.contacts.default_region = "DE".into()).await
}

/// The API channel's inbound endpoint, with the contact known only by `phone`.
async fn integration_hands_in(app: &TestApp, inbox: i64, id: &str, phone: &str) -> Reply {
    app.post(
        &format!("/api/v1/inboxes/{inbox}/messages"),
        Some(&app.token),
        json!({"contact": {"phone": phone}, "external_id": id, "text": "Where is my order?"}),
    )
    .await
}

async fn contact_of(app: &TestApp, message: &Value) -> Value {
    let conversation = message["conversation_id"].as_i64().unwrap();
    let conversation = app
        .get(
            &format!("/api/v1/conversations/{conversation}"),
            Some(&app.token),
        )
        .await
        .json;
    let contact = conversation["contact_id"].as_i64().unwrap();
    app.get(&format!("/api/v1/contacts/{contact}"), Some(&app.token))
        .await
        .expect_status(200)
        .json
}

on_both_engines! {
    async fn a_contacts_phone_is_stored_in_e164(engine) {
        let app = spawn_app(engine).await;
        let created = app
            .post("/api/v1/contacts", Some(&app.token), json!({"name": "Ana", "phone": "+49 151 1234-5678"}))
            .await
            .expect_status(201)
            .json;
        assert_eq!(created["phone"], "+4915112345678");
        assert_eq!(created["identities"], json!([{"namespace": "phone", "identifier": "+4915112345678"}]));
        assert_eq!(created["phone_verified"], true);
        app.stop().await;
    }

    async fn every_spelling_of_a_number_finds_the_same_contact(engine) {
        let app = in_germany(engine).await;
        let created = app
            .post("/api/v1/contacts", Some(&app.token), json!({"name": "Ana", "phone": "(0151) 1234 5678"}))
            .await
            .expect_status(201)
            .json;
        assert_eq!(created["phone"], "+4915112345678");
        let (inbox, _) = app.api_inbox("Shop", None).await;
        for (i, spelling) in ["+49 151 1234-5678", "0049151 12345678", "0151/12345678", "tel:+4915112345678"]
            .iter()
            .enumerate()
        {
            let stored = integration_hands_in(&app, inbox, &format!("m-{i}"), spelling)
                .await
                .expect_status(201)
                .json;
            assert_eq!(contact_of(&app, &stored).await["id"], created["id"], "{spelling}");
        }
        let contacts = app.get("/api/v1/contacts", Some(&app.token)).await.json;
        assert_eq!(contacts["data"].as_array().unwrap().len(), 1);
        for spelling in ["%2B49%20151%201234-5678", "0049151%2012345678", "(0151)%2012345678"] {
            let found = app.get(&format!("/api/v1/contacts?phone={spelling}"), Some(&app.token)).await.expect_status(200).json;
            assert_eq!(found["data"][0]["id"], created["id"], "{spelling}");
        }
        let nobody = app.get("/api/v1/contacts?phone=%2B4915199999999", Some(&app.token)).await.expect_status(200).json;
        assert_eq!(nobody["data"], json!([]));
        app.get("/api/v1/contacts?phone=call%20me", Some(&app.token)).await.expect_status(422);
        // An agent who sees none of the contact's conversations finds no one.
        let (_, agent) = app.user_with_role("avi@example.com", "Avi Agent", "agent").await;
        let hidden = app.get("/api/v1/contacts?phone=%2B4915112345678", Some(&agent)).await.expect_status(200).json;
        assert_eq!(hidden["data"], json!([]));
        app.stop().await;
    }

    async fn without_a_region_a_national_number_is_kept_as_its_digits(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Shop", None).await;
        let stored = integration_hands_in(&app, inbox, "m-1", "(0151) 1234-5678").await.expect_status(201).json;
        let contact = contact_of(&app, &stored).await;
        assert_eq!(contact["phone"], "015112345678");
        // The same digits however they are spaced still find that contact.
        let again = integration_hands_in(&app, inbox, "m-2", "0151 1234 5678").await.expect_status(201).json;
        assert_eq!(contact_of(&app, &again).await["id"], contact["id"]);
        app.stop().await;
    }

    async fn numbers_kept_before_a_region_was_set_are_read_in_it_at_the_next_start(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Shop", None).await;
        let before = integration_hands_in(&app, inbox, "m-1", "(0151) 1234-5678").await.expect_status(201).json;
        let contact = contact_of(&app, &before).await;
        assert_eq!(contact["phone"], "015112345678");

        let app = app.restart(|s| s.contacts.default_region = "DE".into()).await;
        let after = integration_hands_in(&app, inbox, "m-2", "+49 151 12345678").await.expect_status(201).json;
        let found = contact_of(&app, &after).await;
        assert_eq!(found["id"], contact["id"], "the old contact is found by the E.164 number");
        assert_eq!(found["phone"], "+4915112345678");
        assert_eq!(found["identities"], json!([{"namespace": "phone", "identifier": "+4915112345678"}]));
        app.stop().await;
    }

    async fn a_typed_number_that_cannot_be_read_is_refused_and_nothing_is_stored(engine) {
        let app = in_germany(engine).await;
        let (inbox, _) = app.api_inbox("Shop", None).await;
        for bad in ["call me maybe", "+49 12", "0151 123", "+999 1234 5678"] {
            let refused = app
                .post("/api/v1/contacts", Some(&app.token), json!({"name": "Ana", "phone": bad}))
                .await
                .expect_status(422);
            assert!(refused.text.contains("phone"), "{}", refused.text);
            let refused = integration_hands_in(&app, inbox, "m-1", bad).await.expect_status(422);
            assert!(refused.text.contains("contact.phone"), "{}", refused.text);
        }
        app.post("/api/v1/contacts", Some(&app.token),
                 json!({"identities": [{"namespace": "phone", "identifier": "nope"}]}))
            .await
            .expect_status(422);
        let contacts = app.get("/api/v1/contacts", Some(&app.token)).await.json;
        assert_eq!(contacts["data"], json!([]));
        let conversations = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        assert_eq!(conversations["data"], json!([]));
        app.stop().await;
    }

    async fn a_number_a_provider_sent_is_read_in_the_region_or_kept_as_it_came(engine) {
        let app = in_germany(engine).await;
        let (inbox, _) = app.api_inbox("Carrier", None).await;
        let from = |number: &str, id: &str| InboundMessage {
            external_id: id.into(),
            sender: InboundSender {
                identities: vec![Identity::phone(number)],
                ..Default::default()
            },
            text: "hello".into(),
            ..Default::default()
        };
        let desk = app.desk();
        let national = desk.ingest(app.workspace_id, inbox, from("0151 12345678", "p-1")).await.unwrap();
        let brand = desk.ingest(app.workspace_id, inbox, from("MyBrand", "p-2")).await.unwrap();
        let identities = |contact: i64| {
            let app = &app;
            async move {
                app.get(&format!("/api/v1/contacts/{contact}"), Some(&app.token)).await.json["identities"].clone()
            }
        };
        assert_eq!(
            identities(national.conversation.contact_id).await,
            json!([{"namespace": "phone", "identifier": "+4915112345678"}])
        );
        assert_eq!(
            identities(brand.conversation.contact_id).await,
            json!([{"namespace": "phone", "identifier": "MyBrand"}]),
            "an alphanumeric sender id is kept, not lost"
        );
        app.stop().await;
    }
}

#[test]
fn a_default_region_that_is_not_a_region_stops_the_hub_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub.toml");
    std::fs::write(&file, "[contacts]\ndefault_region = \"Germany\"\n").unwrap();
    let error = switchboard::config::Settings::load(Some(&file))
        .unwrap_err()
        .to_string();
    assert!(error.contains("contacts.default_region"), "{error}");
    std::fs::write(&file, "[contacts]\ndefault_region = \"de\"\n").unwrap();
    let settings = switchboard::config::Settings::load(Some(&file)).unwrap();
    assert_eq!(settings.contacts.default_region, "de");
}
