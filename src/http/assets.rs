//! The agents' console and the website widget script, compiled into the binary so that one file
//! is the whole product, with the compressed forms build.rs made of each. How they are served
//! (the encoding, ETag, caching) is `static_files`.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::static_files::{Caching, StaticFile, StaticFiles};
use super::AppState;

mod widget_script;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// Its brotli and gzip forms, empty where compressing does not pay.
    brotli: &'static [u8],
    gzip: &'static [u8],
}

macro_rules! asset {
    ($dir:literal, $name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/web/",
                $dir,
                "/",
                $name
            )),
            brotli: include_bytes!(concat!(env!("OUT_DIR"), "/web/", $dir, "/", $name, ".br")),
            gzip: include_bytes!(concat!(env!("OUT_DIR"), "/web/", $dir, "/", $name, ".gz")),
        }
    };
    ($name:literal, $type:expr) => {
        asset!("console", $name, $type)
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static CONSOLE: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("live.js", JS),
    asset!("i18n.js", JS),
    asset!("inbox.js", JS),
    asset!("thread.js", JS),
    asset!("settings.js", JS),
    asset!("settings-queue.js", JS),
    asset!("settings-inboxes.js", JS),
    asset!("settings-agents.js", JS),
    asset!("settings-canned.js", JS),
    asset!("settings-profile.js", JS),
    asset!("settings-tokens.js", JS),
    asset!("settings-teams.js", JS),
    asset!("channel-setup.js", JS),
    asset!("icons.js", JS),
    asset!("time.js", JS),
    asset!("email.js", JS),
    asset!("email-frame.html", "text/html; charset=utf-8"),
    asset!("email-frame.js", JS),
    asset!("avatar.js", JS),
    asset!("states.js", JS),
    asset!("csat.js", JS),
    asset!("send-failure.js", JS),
    asset!("settings-webchat.js", JS),
    asset!("widget-preview.html", "text/html; charset=utf-8"),
    asset!("responsive.css", "text/css; charset=utf-8"),
    asset!("layout.js", JS),
    asset!("health.js", JS),
    asset!("onboarding.js", JS),
    asset!("settings-email.js", JS),
    asset!("channel-strings.js", JS),
];

/// The frame one email is shown in once the agent asked for its remote images (email.js): the
/// only page of ours that may load images from anywhere. Its one script is ours; the mail's
/// markup can run nothing, submit nothing, and only the console may embed it.
const EMAIL_FRAME_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; \
     img-src http: https: data:; font-src data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'self'";

/// The frame an inbox's settings page previews the widget in (settings-webchat.js): it runs
/// widget-preview.js and may call nobody, so a preview can never make a visitor.
const WIDGET_PREVIEW_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/// Modules both the console and the widget use (web/shared/), served at /shared/{name}.
static SHARED: &[Asset] = &[asset!("shared", "dom.js", JS)];

/// The console's files, and the widget's preview (widget-preview.html loads it), which build.rs
/// joins from the widget's modules rather than keeping in web/console. Their URLs carry no
/// version, so browsers revalidate them.
static CONSOLE_FILES: LazyLock<StaticFiles> = LazyLock::new(|| {
    use widget_script::{PREVIEW, PREVIEW_BROTLI, PREVIEW_GZIP};
    let preview = StaticFile::built(
        JS,
        Caching::Revalidate,
        PREVIEW,
        PREVIEW_BROTLI,
        PREVIEW_GZIP,
    );
    StaticFiles::new(revalidated(CONSOLE).chain([("widget-preview.js".to_string(), preview)]))
});

/// Sites embed widget.js by a fixed address: revalidated, so an upgrade reaches visitors at once.
static WIDGET_FILE: LazyLock<StaticFile> = LazyLock::new(|| {
    use widget_script::{WIDGET, WIDGET_BROTLI, WIDGET_GZIP};
    StaticFile::built(JS, Caching::Revalidate, WIDGET, WIDGET_BROTLI, WIDGET_GZIP)
});

/// The modules the console and the widget share, served like the console's.
static SHARED_FILES: LazyLock<StaticFiles> =
    LazyLock::new(|| StaticFiles::new(revalidated(SHARED)));

/// Assets whose URLs carry no version, so browsers revalidate them, by name.
fn revalidated(assets: &'static [Asset]) -> impl Iterator<Item = (String, StaticFile)> {
    assets.iter().map(|a| {
        let file = StaticFile::built(
            a.content_type,
            Caching::Revalidate,
            a.body,
            a.brotli,
            a.gzip,
        );
        (a.name.to_string(), file)
    })
}

fn serve(headers: &HeaderMap, name: &str) -> Option<Response> {
    CONSOLE_FILES.get(name).map(|file| file.response(headers))
}

async fn console_file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match serve(&headers, &name) {
        Some(mut response) if name == "email-frame.html" => {
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(EMAIL_FRAME_CSP),
            );
            response
        }
        Some(mut response) if name == "widget-preview.html" => {
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(WIDGET_PREVIEW_CSP),
            );
            response
        }
        Some(response) => response,
        None => super::error::ApiError::NotFound("file").into_response(),
    }
}

async fn shared_file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match SHARED_FILES.get(&name) {
        Some(file) => file.response(&headers),
        None => super::error::ApiError::NotFound("file").into_response(),
    }
}

async fn console_page(headers: HeaderMap) -> Response {
    let Some(mut response) = serve(&headers, CONSOLE[0].name) else {
        return super::error::ApiError::NotFound("file").into_response();
    };
    // The console only talks to its own origin; nobody may frame it. No remote images: a
    // customer's HTML could carry tracking pixels (email.js asks before loading any).
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data:; \
             style-src 'self'; frame-src 'self' blob: data:; connect-src 'self' ws: wss:; \
             frame-ancestors 'none'",
        ),
    );
    response
}

async fn widget_script(headers: HeaderMap) -> Response {
    let mut response = WIDGET_FILE.response(&headers);
    // Any site may load the script; the inbox's allowed origins are enforced by the API.
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    response
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(console_page))
        .route("/console/{name}", get(console_file))
        .route("/shared/{name}", get(shared_file))
        .route("/widget.js", get(widget_script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_console_module_imported_is_served() {
        // A module the console imports but the table forgets would be a blank page in production.
        for asset in CONSOLE.iter().filter(|a| a.name.ends_with(".js")) {
            let source = std::str::from_utf8(asset.body).unwrap();
            for line in source.lines().filter(|l| l.starts_with("import ")) {
                let file = line
                    .rsplit("./")
                    .next()
                    .and_then(|rest| rest.split(['\'', '"']).next())
                    .unwrap();
                let served = match file.strip_prefix("shared/") {
                    Some(shared) => SHARED.iter().any(|a| a.name == shared),
                    None => CONSOLE.iter().any(|a| a.name == file),
                };
                assert!(served, "{} imports {file}, which is not served", asset.name);
            }
        }
    }
}
