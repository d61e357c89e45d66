//! Property tests over arbitrary input to the real router, on stable: the OAuth form parser, the
//! Apps-API and DCR JSON bodies, and the users `filter` / `search` expressions never answer 5xx (a
//! panic would surface as a dropped connection, i.e. a failed request). Case counts are small so CI
//! stays fast.
use crate::harness::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Runs `check` on the current multi-thread runtime from proptest's synchronous runner.
fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// JSON-ish values: nested objects and arrays of the members an app body uses, and odd scalars.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,30}".prop_map(Value::String),
        proptest::sample::select(vec![
            "service",
            "private_key_jwt",
            "client_secret_basic",
            "none",
            "client_credentials",
            "RSA",
            "EC",
            "https://example.com/jwks",
            "http://127.0.0.1/",
            "OPENID_CONNECT",
            "oidc_client",
            "ACTIVE",
        ])
        .prop_map(|s| json!(s)),
    ];
    let keys = proptest::sample::select(vec![
        "name",
        "label",
        "signOnMode",
        "credentials",
        "oauthClient",
        "settings",
        "application_type",
        "grant_types",
        "token_endpoint_auth_method",
        "jwks",
        "keys",
        "jwks_uri",
        "client_id",
        "client_secret",
        "kty",
        "n",
        "e",
        "x",
        "y",
        "crv",
        "kid",
        "status",
        "client_name",
        "redirect_uris",
        "response_types",
        "dpop_bound_access_tokens",
        "autoKeyRotation",
        "x",
    ]);
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys.clone().prop_map(String::from), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_and_dcr_bodies_never_answer_5xx() {
    let server = TestServer::start().await;
    let mut runner = runner(120);
    let result = runner.run(&(json_value(), any::<bool>()), |(body, dcr)| {
        let path = if dcr { "/oauth2/v1/clients" } else { "/api/v1/apps" };
        let (status, answer) = block(server.admin_post(path, &body));
        prop_assert!(status < 500, "{path} {body} -> {status} {answer}");
        Ok(())
    });
    result.unwrap();
    // Raw bytes, too: not even JSON.
    let result = runner.run(&proptest::collection::vec(any::<u8>(), 0..200), |bytes| {
        let r = block(
            server
                .http
                .post(server.url("/api/v1/apps"))
                .header("authorization", format!("SSWS {ADMIN}"))
                .header("content-type", "application/json")
                .body(bytes)
                .send(),
        )
        .unwrap();
        prop_assert!(r.status().as_u16() < 500);
        Ok(())
    });
    result.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_form_bodies_never_answer_5xx() {
    let server = TestServer::start().await;
    let form_ish = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    "grant_type",
                    "scope",
                    "client_id",
                    "client_secret",
                    "client_assertion",
                    "client_assertion_type",
                    "%00",
                    "a%",
                    "&",
                    "=",
                ]),
                "[A-Za-z0-9%+=&._~ -]{0,40}"
            ),
            0..6
        )
        .prop_map(|pairs| pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()),
    ];
    let mut runner = runner(150);
    let result = runner.run(&(form_ish, any::<bool>()), |(body, custom)| {
        let path = if custom { "/oauth2/default/v1/token" } else { "/oauth2/v1/token" };
        let r = block(
            server
                .http
                .post(server.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send(),
        )
        .unwrap();
        prop_assert!(r.status().as_u16() < 500, "{path} {:?} -> {}", String::from_utf8_lossy(&body), r.status());
        Ok(())
    });
    result.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_filter_and_search_expressions_never_answer_5xx() {
    let server = TestServer::start().await;
    let expr = prop_oneof![
        "\\PC{0,60}",
        proptest::collection::vec(
            proptest::sample::select(vec![
                "status",
                "profile.login",
                "profile.email",
                "id",
                "lastUpdated",
                " eq ",
                " sw ",
                " co ",
                " gt ",
                " pr",
                " and ",
                " or ",
                "(",
                ")",
                "\"",
                "\"ACTIVE\"",
                "\"a\\\"b\"",
                "\"2024-01-01T00:00:00.000Z\"",
                "not ",
                "  ",
                "\\",
            ]),
            0..10
        )
        .prop_map(|parts| parts.concat()),
    ];
    let mut runner = runner(150);
    let result = runner.run(&(expr, proptest::sample::select(vec!["filter", "search", "q"])), |(expr, param)| {
        let r = block(
            server
                .http
                .get(format!(
                    "{}?{}",
                    server.url("/api/v1/users"),
                    form_urlencoded::Serializer::new(String::new()).append_pair(param, &expr).finish()
                ))
                .header("authorization", format!("SSWS {ADMIN}"))
                .send(),
        )
        .unwrap();
        prop_assert!(r.status().as_u16() < 500, "{param}={expr:?} -> {}", r.status());
        Ok(())
    });
    result.unwrap();
    server.stop().await;
}
