//! The OpenAPI document says what the routes really answer: valid 3.1 schemas that tools read,
//! query parameters in the query, and the common error answers on every operation they apply to.

use serde_json::Value;
use switchboard::http::routes::{routes, Access};

fn document() -> Value {
    serde_json::to_value(switchboard::http::openapi::document()).unwrap()
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method.to_lowercase()]
}

/// Every schema object in the document, wherever it sits.
fn schemas(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("type") || map.contains_key("items") {
                out.push(value.clone());
            }
            map.values().for_each(|v| schemas(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| schemas(v, out)),
        _ => {}
    }
}

#[test]
fn no_schema_spells_items_as_an_array_or_a_tuple() {
    let mut all = Vec::new();
    schemas(&document(), &mut all);
    for schema in all {
        assert!(
            !schema["items"].is_array() && !schema["items"].is_boolean(),
            "items must be one schema: {schema}"
        );
        assert!(
            schema.get("prefixItems").is_none(),
            "a tuple schema: {schema}"
        );
    }
    let counts = &document()["components"]["schemas"]["ViewCounts"]["properties"];
    assert_eq!(counts["by_inbox"]["items"]["maxItems"], 2);
}

#[test]
fn parameters_a_path_does_not_name_are_query_parameters() {
    let doc = document();
    let contacts = operation(&doc, "GET", "/api/v1/contacts");
    let places: Vec<(&str, &str)> = contacts["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
        .collect();
    assert_eq!(
        places,
        [("limit", "query"), ("cursor", "query"), ("phone", "query")]
    );
    for route in routes() {
        for p in operation(&doc, route.method.as_str(), route.path)["parameters"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if p["in"] == "path" {
                let name = p["name"].as_str().unwrap();
                assert!(
                    route.path.contains(&format!("{{{name}}}")),
                    "{} {}: `{name}` is not in the path",
                    route.method,
                    route.path
                );
            }
        }
    }
}

#[test]
fn every_operation_documents_the_errors_its_route_can_give() {
    let doc = document();
    let mut missing = Vec::new();
    for route in routes() {
        let op = operation(&doc, route.method.as_str(), route.path);
        let responses = &op["responses"];
        let mut expect = Vec::new();
        if op.get("requestBody").is_some() {
            expect.extend(["400", "413", "415", "422"]);
        }
        if route.access != Access::Public {
            expect.push("401");
        }
        if matches!(route.access, Access::Admin | Access::Owner) {
            expect.push("403");
        }
        if route.path.contains('{') {
            expect.extend(["400", "404"]);
        }
        for status in expect {
            if responses.get(status).is_none() {
                missing.push(format!("{} {} lacks {status}", route.method, route.path));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    // An error answer has the error body's shape.
    let unauthorized = &operation(&doc, "GET", "/api/v1/inboxes")["responses"]["401"];
    assert_eq!(
        unauthorized["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}
