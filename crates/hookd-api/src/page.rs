//! The web page: `GET /` and `GET /assets/{file}`, plain HTML, CSS and JavaScript from
//! `crates/hookd-api/page/`, compiled into the binary (no build step, no CDN, works offline).
//!
//! The page talks to the JSON API under `/api/` with the admin token the user types in; serving
//! the page itself needs no token (it holds no data). Every response carries a strict
//! Content-Security-Policy: scripts and styles only from this origin, no inline script or style,
//! no frames, no other hosts.

use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The policy for every page response. `connect-src 'self'`: the page calls only this API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const INDEX_HTML: &str = include_str!("../page/index.html");

const ASSETS: &[Asset] = &[
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../page/app.js") },
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../page/app.css") },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_bytes!("../page/favicon.svg") },
];

/// `/` and `/assets/{file}`; stateless, so it merges into a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/favicon.ico", get(favicon))
        .route("/assets/{file}", get(asset))
}

async fn index() -> Response {
    respond(StatusCode::OK, "text/html; charset=utf-8", INDEX_HTML.as_bytes())
}

async fn favicon() -> Response {
    asset(Path("favicon.svg".to_owned())).await
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(a) => respond(StatusCode::OK, a.content_type, a.body),
        None => respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", b"no such asset\n"),
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: &'static [u8]) -> Response {
    let headers: [(HeaderName, HeaderValue); 7] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        // Small files, always revalidated: a new hookd binary's page is picked up at once.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ];
    (status, headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: &str) -> &'static str {
        let asset = ASSETS.iter().find(|a| a.name == name).expect("embedded");
        std::str::from_utf8(asset.body).expect("UTF-8")
    }

    /// The policy forbids inline script and style: the page must not need them.
    #[test]
    fn index_has_no_inline_script_or_style() {
        let html = INDEX_HTML.to_ascii_lowercase();
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').expect("tag closes")];
            assert!(tag.contains(" src=\"/assets/"), "inline script in index.html: {tag}");
            assert!(html[i..].starts_with(&format!("{tag}></script>")), "script tag with a body: {tag}");
        }
        assert!(!html.contains("<style"), "inline <style> in index.html");
        assert!(!html.contains(" style="), "style attribute in index.html");
        let handler = regex_like_event_handler(&html);
        assert!(handler.is_none(), "inline event handler in index.html: {handler:?}");
        assert!(!html.contains("javascript:"), "javascript: URL in index.html");
        for attr in [" src=\"", " href=\""] {
            for (i, _) in html.match_indices(attr) {
                let value = &html[i + attr.len()..];
                assert!(value.starts_with('/') || value.starts_with('#'), "index.html loads from another host: {}", &value[..40.min(value.len())]);
            }
        }
    }

    /// ` onclick=`, ` onload=`, ...: any attribute starting with `on`.
    fn regex_like_event_handler(html: &str) -> Option<String> {
        html.match_indices(" on").find_map(|(i, _)| {
            let rest = &html[i + 1..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            rest[name.len()..].starts_with('=').then_some(name)
        })
    }

    /// Server data reaches the DOM through textContent only: no HTML parsing of strings.
    #[test]
    fn script_never_parses_strings_as_html_or_code() {
        let js = text("app.js");
        for banned in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('on"] {
            assert!(!js.contains(banned), "app.js uses {banned}");
        }
    }

    #[test]
    fn assets_are_self_contained() {
        for name in ["app.js", "app.css"] {
            let body = text(name);
            assert!(!body.contains("@import"), "{name} imports");
            assert!(!body.contains("http://") && !body.contains("https://"), "{name} refers to another host");
        }
        // The script calls only this origin's API.
        let js = text("app.js");
        assert!(!js.contains("fetch('http") && !js.contains("fetch(\"http"), "app.js fetches another origin");
    }

    #[test]
    fn every_asset_index_html_loads_is_embedded() {
        for (i, _) in INDEX_HTML.match_indices("/assets/") {
            let name: String = INDEX_HTML[i + "/assets/".len()..].chars().take_while(|c| *c != '"').collect();
            assert!(ASSETS.iter().any(|a| a.name == name), "index.html loads /assets/{name}, which is not embedded");
        }
    }
}
