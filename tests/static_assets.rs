//! The files the hub serves from its binary (the console, widget.js, Swagger UI) go out
//! compressed when the browser takes it, say they vary by encoding, revalidate by ETag with a
//! 304, and decompress to exactly the file.

mod common;

use std::io::Read as _;

use common::*;

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    // reqwest here has no decompression features: it shows the bytes as they were sent.
    let mut request = app.http.get(format!("{}{path}", app.url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn ungzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The identity bytes of `path`, and checks that brotli and gzip carry the same.
async fn assert_compressed_forms_match(app: &TestApp, path: &str) -> Vec<u8> {
    let plain = assert_gzip_matches(app, path).await;
    let br = fetch(app, path, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(
        header(&br, "content-encoding").as_deref(),
        Some("br"),
        "{path}"
    );
    assert_eq!(header(&br, "vary").as_deref(), Some("accept-encoding"));
    let br = br.bytes().await.unwrap();
    // Text compresses well; tiny files carry the format's overhead.
    let ratio = if plain.len() > 4096 { 2 } else { 1 };
    assert!(
        br.len() * ratio < plain.len(),
        "{path}: {} of {}",
        br.len(),
        plain.len()
    );
    assert_eq!(unbrotli(&br), plain, "{path}");
    plain
}

/// The identity bytes of `path`, and checks that its gzip form carries the same.
async fn assert_gzip_matches(app: &TestApp, path: &str) -> Vec<u8> {
    let plain = fetch(app, path, &[]).await;
    assert_eq!(plain.status(), 200, "{path}");
    assert_eq!(header(&plain, "content-encoding"), None, "{path}");
    assert_eq!(
        header(&plain, "vary").as_deref(),
        Some("accept-encoding"),
        "{path}"
    );
    let plain = plain.bytes().await.unwrap().to_vec();

    let gz = fetch(app, path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(
        header(&gz, "content-encoding").as_deref(),
        Some("gzip"),
        "{path}"
    );
    assert_eq!(ungzip(&gz.bytes().await.unwrap()), plain, "{path}");
    plain
}

#[tokio::test]
async fn console_widget_and_swagger_ui_are_served_compressed_and_decompress_to_the_file() {
    // The console and the widget in brotli and gzip, made when the binary was built; Swagger
    // UI, an admin's page, in gzip only, made when first asked for.
    let app = spawn_app(Engine::Sqlite).await;
    let app_js = assert_compressed_forms_match(&app, "/console/app.js").await;
    assert_eq!(
        app_js,
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/web/console/app.js")).unwrap()
    );
    let page = assert_compressed_forms_match(&app, "/").await;
    assert_eq!(
        page,
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/web/console/index.html"
        ))
        .unwrap()
    );
    let widget = assert_compressed_forms_match(&app, "/widget.js").await;
    assert!(String::from_utf8(widget).unwrap().contains("website"));
    let bundle = assert_gzip_matches(&app, "/api/docs/swagger-ui-bundle.js").await;
    assert!(bundle.len() > 500_000, "the whole bundle: {}", bundle.len());
    let init = assert_gzip_matches(&app, "/api/docs/swagger-initializer.js").await;
    assert!(String::from_utf8(init)
        .unwrap()
        .contains("/api/v1/openapi.json"));
    app.stop().await;
}

#[tokio::test]
async fn an_unchanged_file_is_revalidated_with_a_304_in_any_encoding() {
    let app = spawn_app(Engine::Sqlite).await;
    for path in [
        "/widget.js",
        "/console/thread.js",
        "/api/docs/swagger-ui.css",
    ] {
        for encoding in ["br", "gzip", "identity"] {
            let first = fetch(&app, path, &[("accept-encoding", encoding)]).await;
            let etag = header(&first, "etag").expect("an ETag");
            let again = fetch(
                &app,
                path,
                &[("accept-encoding", encoding), ("if-none-match", &etag)],
            )
            .await;
            assert_eq!(again.status(), 304, "{path} {encoding}");
            assert_eq!(header(&again, "etag"), Some(etag.clone()));
            assert!(again.bytes().await.unwrap().is_empty());
            // A copy cached in another encoding is the same file.
            let other = fetch(&app, path, &[("if-none-match", &etag)]).await;
            assert_eq!(other.status(), 304, "{path} {encoding} asked as identity");
        }
        let stale = fetch(&app, path, &[("if-none-match", "\"0123abcd\"")]).await;
        assert_eq!(stale.status(), 200, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn pages_are_revalidated_and_the_vendored_library_is_kept_a_day() {
    let app = spawn_app(Engine::Sqlite).await;
    for path in ["/", "/console/app.js", "/widget.js", "/api/docs/"] {
        let response = fetch(&app, path, &[]).await;
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-cache"),
            "{path}"
        );
    }
    let bundle = fetch(&app, "/api/docs/swagger-ui-bundle.js", &[]).await;
    assert_eq!(
        header(&bundle, "cache-control").as_deref(),
        Some("public, max-age=86400")
    );
    // Images are compressed already: sent as they are, without Vary.
    let icon = fetch(
        &app,
        "/api/docs/favicon-32x32.png",
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(icon.status(), 200);
    assert_eq!(header(&icon, "content-encoding"), None);
    app.stop().await;
}
