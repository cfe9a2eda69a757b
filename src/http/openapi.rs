//! The OpenAPI 3.1 document, served at /api/v1/openapi.json and browsable with Swagger UI at
//! /api/docs. A test checks that it lists exactly the routes of the route table.

use std::sync::{Arc, LazyLock};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use utoipa_swagger_ui::Config;

use super::static_files::{compressed, Caching, StaticFile, StaticFiles};

use super::handlers::*;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "One inbox for every channel. Bearer tokens from /api/v1/auth/login or /api/v1/tokens; times are Unix milliseconds; listings page with `cursor`."),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
        auth::login, auth::logout, auth::me, auth::create_api_token,
        account::list_tokens, account::revoke_token, account::logout_everywhere, account::change_password,
        people::update_user, people::reset_password, audit::list,
        people::list_users, people::create_user, people::list_teams, people::create_team, people::add_team_member,
        inboxes::list, inboxes::create, inboxes::show, inboxes::delete, people::delete_team, inboxes::members, inboxes::add_member,
        crate::channels::api::inbound::inbound_message, channels::list,
        channel_tests::send_test, connection_checks::check_new, connection_checks::check_saved,
        crate::channels::api::statuses::report_status,
        crate::channels::messenger::webhook::messenger_handshake,
        crate::channels::messenger::webhook::messenger_events,
        crate::channels::messenger::webhook::instagram_handshake,
        crate::channels::messenger::webhook::instagram_events,
        crate::channels::sms::webhook,
        crate::channels::telegram::webhook::receive_update,
        crate::channels::whatsapp::webhook::handshake,
        crate::channels::whatsapp::webhook::notification,
        crate::channels::whatsapp::window::list_templates,
        contacts::list, contacts::create, contacts::show,
        conversations::list, conversations::show, conversations::update, conversations::assign,
        conversations::messages, conversations::reply, conversations::attachment,
        events::list,
        inboxes::update,
        conversations::read_marker,
        conversations::mark_read,
        conversations::counts, canned::list, canned::create,
        routing::policy, routing::set_policy, routing::agent, routing::set_agent, routing::queue,
        crate::gateway::socket::upgrade,
        crate::widget::session::session, crate::widget::conversations::conversations,
        crate::widget::conversations::messages, crate::widget::messages::post_message,
        crate::widget::conversations::read, crate::widget::conversations::rate,
        crate::widget::conversations::queue, crate::widget::conversations::attachment,
        crate::widget::socket::upgrade,
        canned::update, canned::delete, account::update_me,
        people::rename_team, people::remove_team_member, inboxes::remove_member,
        invitations::invite, invitations::resend, invitations::accept,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Signing in and tokens"),
        (name = "people", description = "Users and teams"),
        (name = "inboxes", description = "Channel instances and the API channel"),
        (name = "contacts", description = "The people who write in"),
        (name = "conversations", description = "Threads, replies, notes, assignment"),
        (name = "events", description = "The change log"),
        (name = "routing", description = "Who gets which conversation"),
        (name = "operations", description = "Health and metrics"),
        (name = "webhooks", description = "Providers' webhook calls, proven by the provider's signature or token (no bearer token)"),
        (name = "widget", description = "The website chat widget's visitor endpoints (visitor tokens, CORS)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "visitor",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A visitor token from POST /widget/v1/sessions"))
                    .build(),
            ),
        );
    }
}

/// The document: the handlers' annotations, then the error answers common to every route of
/// the route table (error_docs.rs), so routes added later are covered too.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    super::error_docs::document_common_errors(&mut doc, &super::routes::routes());
    doc
}

/// Swagger UI reads the document from the API's own route, so it adds no route of its own
/// besides its static files. The online validator is off: it would send our document to
/// swagger.io and show its answer as a remote image.
fn swagger_config() -> Arc<Config<'static>> {
    Arc::new(Config::from("/api/v1/openapi.json").validator_url("none"))
}

/// The vendored Swagger UI files its page loads, gzipped once. The rest of its distribution
/// (source maps, other bundles) is served as it is, on the rare request for it.
const SWAGGER_PAGE_FILES: &[(&str, Caching)] = &[
    ("index.html", Caching::Revalidate),
    ("swagger-initializer.js", Caching::Revalidate),
    ("index.css", Caching::Day),
    ("swagger-ui.css", Caching::Day),
    ("swagger-ui-bundle.js", Caching::Day),
    ("swagger-ui-standalone-preset.js", Caching::Day),
    ("favicon-32x32.png", Caching::Day),
    ("favicon-16x16.png", Caching::Day),
    ("oauth2-redirect.html", Caching::Revalidate),
];

static SWAGGER_FILES: LazyLock<StaticFiles> = LazyLock::new(|| {
    let config = swagger_config();
    StaticFiles::new(SWAGGER_PAGE_FILES.iter().filter_map(|(name, caching)| {
        let file = swagger_file(name, *caching, &config)?;
        Some((name.to_string(), file))
    }))
});

fn swagger_file(name: &str, caching: Caching, config: &Arc<Config<'static>>) -> Option<StaticFile> {
    let file = utoipa_swagger_ui::serve(name, config.clone()).ok()??;
    Some(StaticFile::new(
        &file.content_type,
        caching,
        file.bytes.into_owned(),
    ))
}

async fn swagger_page(headers: HeaderMap) -> Response {
    swagger_answer("index.html", &headers).await
}

async fn swagger_asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    swagger_answer(&name, &headers).await
}

async fn swagger_answer(name: &str, headers: &HeaderMap) -> Response {
    if let Some(file) = compressed(&SWAGGER_FILES).await.get(name) {
        return file.response(headers);
    }
    match utoipa_swagger_ui::serve(name, swagger_config()) {
        Ok(Some(file)) => {
            let content_type = file.content_type;
            let mut response = (
                [(axum::http::header::CONTENT_TYPE, content_type)],
                file.bytes.into_owned(),
            )
                .into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("public, max-age=86400"),
            );
            response
        }
        Ok(None) => axum::http::StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serve a Swagger UI file");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// What the vendored Swagger UI needs and no more: its own scripts and style sheets, the one
/// `<style>` element its bundle injects (allowed by its hash, not by 'unsafe-inline'; React sets
/// every other style through the CSSOM, which CSP does not govern), its icons as data: URLs,
/// and the document from this origin. "Try it out" calls this origin too. Nobody may frame it
/// (a framed API explorer with a pasted token is a clickjacking target).
/// tests/browser/api-docs.test.js renders it under this policy and watches for violations, so
/// an upgrade of the vendored UI that needs another hash shows there.
pub const SWAGGER_UI_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Swagger UI's routes, every answer under `SWAGGER_UI_CSP`.
pub fn swagger_router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    axum::Router::new()
        .route(
            "/api/docs",
            axum::routing::get(|| async { Redirect::to("/api/docs/") }),
        )
        .route("/api/docs/", axum::routing::get(swagger_page))
        .route("/api/docs/{*name}", axum::routing::get(swagger_asset))
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(SWAGGER_UI_CSP),
        ))
}
