//! The error answers every operation can give, added to the OpenAPI document from the route table
//! in one place: what the access layer, the extractors and the body limits answer is the same for
//! every route, so no handler annotation has to repeat it (and a new route cannot forget it).

use std::collections::HashSet;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema};

use super::routes::{Access, Route, Scope};

/// Adds each route's common error answers where its own annotation does not already say more.
pub fn document_common_errors(doc: &mut OpenApi, routes: &[Route]) {
    let naming_ids = bodies_naming_ids(doc);
    for route in routes {
        let Some(item) = doc.paths.paths.get_mut(route.path) else {
            continue;
        };
        let operation = match route.method.as_str() {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        if let Some(operation) = operation {
            query_parameters_are_query(operation, route.path);
            for (status, why) in common_errors(route, operation, &naming_ids) {
                add_error(operation, status, why);
            }
        }
    }
}

/// utoipa documents the fields of an `IntoParams` struct as path parameters unless told
/// otherwise; ours are the query string, except those the path names.
fn query_parameters_are_query(operation: &mut Operation, path: &str) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in == ParameterIn::Path
            && !path.contains(&format!("{{{}}}", parameter.name))
        {
            parameter.parameter_in = ParameterIn::Query;
            parameter.required = utoipa::openapi::Required::False;
        }
    }
}

/// The component schemas with a field that names something by id (`conversation_id`, …): a
/// body of one of them can point at nothing, which is a 404.
fn bodies_naming_ids(doc: &OpenApi) -> HashSet<String> {
    let Some(components) = &doc.components else {
        return HashSet::new();
    };
    components
        .schemas
        .iter()
        .filter(|(_, schema)| match schema {
            RefOr::T(Schema::Object(object)) => {
                object.properties.keys().any(|field| field.ends_with("_id"))
            }
            _ => false,
        })
        .map(|(name, _)| format!("#/components/schemas/{name}"))
        .collect()
}

fn common_errors(
    route: &Route,
    operation: &Operation,
    naming_ids: &HashSet<String>,
) -> Vec<(&'static str, &'static str)> {
    let takes_path = route.path.contains('{');
    let takes_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let takes_json = operation.request_body.as_ref().is_some_and(|body| {
        body.content
            .keys()
            .any(|t| t == "application/json" || t.ends_with("+json"))
    });
    let body_names_an_id = operation.request_body.as_ref().is_some_and(|body| {
        body.content.values().any(|content| {
            matches!(&content.schema, Some(RefOr::Ref(r)) if naming_ids.contains(&r.ref_location))
        })
    });
    let mut errors = Vec::new();
    if takes_path || takes_query || takes_json {
        errors.push((
            "400",
            "The request cannot be read: a malformed path or query parameter, or a body that is not JSON",
        ));
    }
    if takes_json {
        errors.push((
            "413",
            "The request body is larger than the configured limit",
        ));
        errors.push((
            "415",
            "The body is not sent as Content-Type: application/json",
        ));
        errors.push((
            "422",
            "The JSON does not fit: an unknown or missing field, or a value out of range",
        ));
    }
    match route.access {
        Access::Public => {}
        Access::Member | Access::Admin | Access::Owner => {
            errors.push(("401", "No bearer token, or one that is unknown or expired"));
            match route.access {
                Access::Admin => errors.push(("403", "This needs an owner or admin")),
                Access::Owner => errors.push(("403", "This needs the workspace's owner")),
                _ => {}
            }
            if matches!(
                route.scope,
                Scope::Inbox | Scope::Conversation | Scope::Contact | Scope::Attachment
            ) {
                errors.push((
                    "403",
                    "The caller is not a member of the inbox this belongs to",
                ));
            }
        }
        Access::Visitor => {
            errors.push(("401", "No visitor token, or one that is unknown or expired"));
            errors.push(("403", "The page's origin may not embed this inbox's widget"));
        }
    }
    if route.path.starts_with("/widget/") {
        errors.push((
            "429",
            "Too many requests from this visitor or address; see Retry-After",
        ));
    }
    if takes_path || takes_query || body_names_an_id {
        errors.push((
            "404",
            "Nothing with the id in the path, query or body in the caller's workspace",
        ));
    }
    errors
}

fn add_error(operation: &mut Operation, status: &str, description: &str) {
    let responses = &mut operation.responses.responses;
    if responses.contains_key(status) {
        return;
    }
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    responses.insert(status.to_string(), response.into());
}
