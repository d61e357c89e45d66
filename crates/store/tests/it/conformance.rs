//! The checks every backend must pass, written against `dyn Store` only.
use std::sync::Arc;
use tollgate_store::filter::{CmpOp, Filter};
use tollgate_store::log::{LogCursor, LogEventRow, LogQuery};
use tollgate_store::{
    AccessPolicy, AdminUser, ApiToken, App, AppChild, AppKey, AppSecret, AuthServer, Claim, ConsoleSession,
    CredentialUse, FederatedCredential, Grant, PolicyRule, QuotaUsage, RoleAssignment, Scope, SigningKey, Store,
    StoreError, Unique, User, key_status,
};

fn app(id: &str, client_id: &str) -> App {
    let mut extra = serde_json::Map::new();
    extra.insert("response_types".into(), serde_json::json!(["token"]));
    App {
        id: id.into(),
        client_id: client_id.into(),
        name: format!("app {id}"),
        status: "ACTIVE".into(),
        application_type: "service".into(),
        auth_method: "private_key_jwt".into(),
        grant_types: vec!["client_credentials".into()],
        jwks_uri: None,
        dpop_bound: false,
        extra,
        created: 1_000,
        last_updated: 1_000,
        token_generation: 0,
    }
}

fn key(id: &str, app_id: &str, created: i64) -> AppKey {
    AppKey {
        id: id.into(),
        app_id: app_id.into(),
        kid: Some(format!("kid-{id}")),
        status: "ACTIVE".into(),
        jwk: format!(r#"{{"kty":"EC","kid":"kid-{id}"}}"#),
        created,
        last_updated: created,
    }
}

fn secret(id: &str, app_id: &str) -> AppSecret {
    AppSecret {
        id: id.into(),
        app_id: app_id.into(),
        secret_hash: vec![0, 1, 2, 255, id.len() as u8],
        status: "ACTIVE".into(),
        created: 2_000,
        last_updated: 2_000,
    }
}

fn grant(id: &str, app_id: &str, scope: &str) -> Grant {
    Grant {
        id: id.into(),
        app_id: app_id.into(),
        scope_id: scope.into(),
        issuer: "https://issuer.example".into(),
        status: "ACTIVE".into(),
        source: "ADMIN".into(),
        created: 3_000,
        last_updated: 3_000,
    }
}

fn signing_key(kid: &str, server: &str, status: &str, created: i64) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        server_id: server.into(),
        status: status.into(),
        private_key: vec![0x30, 0x82, created as u8, 0],
        created,
        activated: (status == key_status::ACTIVE).then_some(created),
        retire_at: None,
    }
}

fn user(id: &str, login: &str) -> User {
    let mut profile = serde_json::Map::new();
    profile.insert("login".into(), login.into());
    profile.insert("nested".into(), serde_json::json!({ "a": [1, 2, 3], "b": null }));
    User {
        id: id.into(),
        login: login.into(),
        status: "ACTIVE".into(),
        profile,
        created: 10,
        activated: Some(11),
        status_changed: None,
        last_login: None,
        last_updated: 12,
        password_changed: Some(13),
    }
}

fn assert_conflict<T: std::fmt::Debug>(result: tollgate_store::Result<T>, rule: Unique, what: &str) {
    match result {
        Err(StoreError::Conflict { what: broken }) => assert_eq!(broken, rule, "{what}"),
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

pub async fn run(store: &dyn Store) {
    store.ping().await.unwrap();
    settings(store).await;
    apps(store).await;
    grants_and_snapshot(store).await;
    auth_servers_scopes_and_signing_keys(store).await;
    users(store).await;
    api_tokens(store).await;
    management(store).await;
    federated_credentials(store).await;
    replay_and_revocation(store).await;
    system_log(store).await;
    nodes_and_quota_usage(store).await;
    credentials_last_used(store).await;
    console(store).await;
}

async fn credentials_last_used(store: &dyn Store) {
    store
        .insert_app(&app("0oaU", "client-u"), &[key("0oaU-k1", "0oaU", 1)], &[secret("0oaU-s1", "0oaU")])
        .await
        .unwrap();
    let used = |id: &str, at: i64| CredentialUse { app_id: "0oaU".into(), credential_id: id.into(), at };
    assert!(store.credentials_last_used("0oaU").await.unwrap().is_empty());
    store.record_credentials_used(&[used("0oaU-k1", 100_000), used("0oaU-s1", 100_500)], 60_000).await.unwrap();
    assert_eq!(
        store.credentials_last_used("0oaU").await.unwrap(),
        vec![("0oaU-k1".to_string(), 100_000), ("0oaU-s1".to_string(), 100_500)]
    );
    // Within the interval of the stored time: skipped (another node wrote it); after it: advanced.
    store.record_credentials_used(&[used("0oaU-k1", 159_999)], 60_000).await.unwrap();
    assert_eq!(store.credentials_last_used("0oaU").await.unwrap()[0].1, 100_000);
    store.record_credentials_used(&[used("0oaU-k1", 160_000)], 60_000).await.unwrap();
    assert_eq!(store.credentials_last_used("0oaU").await.unwrap()[0].1, 160_000);
    // A use noted for an app deleted meanwhile is dropped, not an error; a deleted key's use goes with it.
    let gone = CredentialUse { app_id: "0oaGone".into(), credential_id: "k".into(), at: 1 };
    store.record_credentials_used(&[gone], 60_000).await.unwrap();
    store.set_app_key_status("0oaU", "0oaU-k1", "INACTIVE", 2).await.unwrap();
    store.delete_app_key("0oaU", "0oaU-k1").await.unwrap();
    assert_eq!(store.credentials_last_used("0oaU").await.unwrap(), vec![("0oaU-s1".to_string(), 100_500)]);
    store.delete_app("0oaU").await.unwrap();
    assert!(store.credentials_last_used("0oaU").await.unwrap().is_empty());
}

async fn settings(store: &dyn Store) {
    assert_eq!(store.setting("hmac_key").await.unwrap(), None);
    assert_eq!(store.setting_init("hmac_key", "first").await.unwrap(), "first");
    assert_eq!(store.setting_init("hmac_key", "second").await.unwrap(), "first", "init keeps the first value");
    store.set_setting("hmac_key", "third").await.unwrap();
    assert_eq!(store.setting("hmac_key").await.unwrap().as_deref(), Some("third"));
    store.set_setting("other", "x").await.unwrap();
    assert_eq!(store.setting("other").await.unwrap().as_deref(), Some("x"));
}

async fn apps(store: &dyn Store) {
    // Mixed case: ordering and paging are bytewise on every backend ("0oaB" < "0oaC" < "0oaa").
    let ids = ["0oaa", "0oaB", "0oaC"];
    for (n, id) in ids.iter().enumerate() {
        let keys = [key(&format!("{id}-k1"), id, 5), key(&format!("{id}-k0"), id, 6)];
        let secrets = [secret(&format!("{id}-s1"), id)];
        store.insert_app(&app(id, &format!("client-{n}")), &keys, &secrets).await.unwrap();
    }
    // A taken client id is a Conflict, and nothing of the refused app is written.
    assert_conflict(
        store.insert_app(&app("0oaX", "client-0"), &[key("0oaX-k", "0oaX", 1)], &[]).await,
        Unique::ClientId,
        "duplicate client_id",
    );
    assert_eq!(store.app("0oaX").await.unwrap(), None);
    assert!(store.app_keys("0oaX").await.unwrap().is_empty());

    let got = store.app("0oaB").await.unwrap().unwrap();
    assert_eq!(got, app("0oaB", "client-1"));
    assert_eq!(store.app_by_client_id("client-1").await.unwrap().unwrap(), got);
    assert_eq!(store.app_by_client_id("nope").await.unwrap(), None);

    let page = |v: Vec<App>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(page(store.apps(None, 2).await.unwrap()), ["0oaB", "0oaC"]);
    assert_eq!(page(store.apps(Some("0oaC"), 2).await.unwrap()), ["0oaa"]);
    assert_eq!(page(store.apps(Some("0oaa"), 2).await.unwrap()), Vec::<String>::new());
    assert_eq!(page(store.apps(None, 10).await.unwrap()), ["0oaB", "0oaC", "0oaa"]);

    // Keys and secrets come back ordered by (created, id), blobs intact.
    let keys = store.app_keys("0oaa").await.unwrap();
    assert_eq!(keys, vec![key("0oaa-k1", "0oaa", 5), key("0oaa-k0", "0oaa", 6)]);
    let secrets = store.app_secrets("0oaa").await.unwrap();
    assert_eq!(secrets, vec![secret("0oaa-s1", "0oaa")]);

    // update_app changes the mutable fields.
    let mut changed = app("0oaa", "client-0");
    changed.name = "renamed".into();
    changed.status = "INACTIVE".into();
    changed.auth_method = "client_secret_basic".into();
    changed.grant_types = vec!["client_credentials".into(), "urn:x".into()];
    changed.jwks_uri = Some("https://keys.example/jwks".into());
    changed.dpop_bound = true;
    changed.extra.insert("label".into(), "L".into());
    changed.last_updated = 9_999;
    store.update_app(&changed).await.unwrap();
    // Leaving ACTIVE bumped the token generation (the written struct's own value is ignored).
    changed.token_generation = 1;
    assert_eq!(store.app("0oaa").await.unwrap().unwrap(), changed);

    // Reactivating, or saving an app that is not leaving ACTIVE, keeps the generation; a stale copy
    // (generation 0) cannot roll it back; every later deactivation bumps it again, on either write path.
    let mut stale = changed.clone();
    stale.token_generation = 0;
    stale.status = "ACTIVE".into();
    store.update_app(&stale).await.unwrap();
    assert_eq!(store.app("0oaa").await.unwrap().unwrap().token_generation, 1, "reactivation keeps it");
    store.save_app(&stale, None, None).await.unwrap();
    assert_eq!(store.app("0oaa").await.unwrap().unwrap().token_generation, 1, "ACTIVE to ACTIVE keeps it");
    stale.status = "INACTIVE".into();
    store.save_app(&stale, None, None).await.unwrap();
    assert_eq!(store.app("0oaa").await.unwrap().unwrap().token_generation, 2, "save_app bumps it too");
    store.update_app(&stale).await.unwrap();
    assert_eq!(store.app("0oaa").await.unwrap().unwrap().token_generation, 2, "INACTIVE to INACTIVE keeps it");
    changed.token_generation = 2;
    store.update_app(&changed).await.unwrap();
    assert_eq!(store.app("0oaa").await.unwrap().unwrap(), changed);

    // replace_app_keys swaps the whole set.
    store.replace_app_keys("0oaa", &[key("0oaa-k9", "0oaa", 7)]).await.unwrap();
    assert_eq!(store.app_keys("0oaa").await.unwrap(), vec![key("0oaa-k9", "0oaa", 7)]);
    store.replace_app_keys("0oaa", &[]).await.unwrap();
    assert!(store.app_keys("0oaa").await.unwrap().is_empty());
}

async fn grants_and_snapshot(store: &dyn Store) {
    store.insert_grant(&grant("g1", "0oaB", "okta.users.read")).await.unwrap();
    store.insert_grant(&grant("g2", "0oaB", "okta.apps.read")).await.unwrap();
    assert_conflict(
        store.insert_grant(&grant("g3", "0oaB", "okta.users.read")).await,
        Unique::Grant,
        "duplicate grant",
    );
    // The same scope on another issuer, or for another app, is a different grant.
    let mut other_issuer = grant("g4", "0oaB", "okta.users.read");
    other_issuer.issuer = "https://other.example".into();
    store.insert_grant(&other_issuer).await.unwrap();
    store.insert_grant(&grant("g5", "0oaC", "okta.users.read")).await.unwrap();

    let ids = |v: Vec<Grant>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(ids(store.grants("0oaB").await.unwrap()), ["g1", "g2", "g4"]);
    assert_eq!(store.grant("0oaB", "g2").await.unwrap(), Some(grant("g2", "0oaB", "okta.apps.read")));
    assert_eq!(store.grant("0oaC", "g2").await.unwrap(), None, "a grant is found only under its app");
    assert!(!store.delete_grant("0oaC", "g2").await.unwrap());
    assert!(store.delete_grant("0oaB", "g2").await.unwrap());
    assert!(!store.delete_grant("0oaB", "g2").await.unwrap());
    assert_eq!(ids(store.grants("0oaB").await.unwrap()), ["g1", "g4"]);

    // The snapshot: every app with its own keys, secrets and grants.
    let mut snapshot = store.client_snapshot().await.unwrap();
    snapshot.sort_by(|a, b| a.app.id.cmp(&b.app.id));
    assert_eq!(snapshot.iter().map(|r| r.app.id.as_str()).collect::<Vec<_>>(), ["0oaB", "0oaC", "0oaa"]);
    let b = &snapshot[0];
    assert_eq!(b.keys, vec![key("0oaB-k1", "0oaB", 5), key("0oaB-k0", "0oaB", 6)]);
    assert_eq!(b.secrets, vec![secret("0oaB-s1", "0oaB")]);
    assert_eq!(ids(b.grants.clone()), ["g1", "g4"]);
    assert!(snapshot[2].keys.is_empty(), "0oaa's keys were replaced by none");

    let record = store.client_record("client-2").await.unwrap().unwrap();
    assert_eq!(record.app.id, "0oaC");
    assert_eq!(record.keys.len(), 2);
    assert_eq!(record.secrets.len(), 1);
    assert_eq!(ids(record.grants), ["g5"]);
    assert!(store.client_record("nope").await.unwrap().is_none());

    roles(store).await;

    // Deleting an app takes its keys, secrets and grants with it.
    assert!(store.delete_app("0oaB").await.unwrap());
    assert!(!store.delete_app("0oaB").await.unwrap());
    assert_eq!(store.app("0oaB").await.unwrap(), None);
    assert!(store.app_keys("0oaB").await.unwrap().is_empty());
    assert!(store.app_secrets("0oaB").await.unwrap().is_empty());
    assert!(store.grants("0oaB").await.unwrap().is_empty());
    assert_eq!(store.client_snapshot().await.unwrap().len(), 2);
    // The client id is free again.
    store.insert_app(&app("0oaD", "client-1"), &[], &[]).await.unwrap();
}

async fn auth_servers_scopes_and_signing_keys(store: &dyn Store) {
    let server = AuthServer {
        id: "aus1".into(),
        name: "default".into(),
        description: "d".into(),
        audiences: vec!["api://default".into()],
        access_token_lifetime: 3_600,
        status: "ACTIVE".into(),
        rotation_mode: "AUTO".into(),
        created: 1,
        last_updated: 1,
    };
    store.insert_auth_server(&server).await.unwrap();
    assert_conflict(store.insert_auth_server(&server).await, Unique::Id, "duplicate server id");
    let mut second = server.clone();
    second.id = "aus0".into();
    second.created = 2;
    store.insert_auth_server(&second).await.unwrap();
    assert_eq!(store.auth_server("aus1").await.unwrap(), Some(server.clone()));
    assert_eq!(store.auth_server("nope").await.unwrap(), None);
    let all: Vec<String> = store.auth_servers().await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(all, ["aus1", "aus0"], "ordered by created");
    let mut updated = server.clone();
    updated.name = "renamed".into();
    updated.audiences = vec!["a".into(), "b".into()];
    updated.access_token_lifetime = 300;
    updated.rotation_mode = "MANUAL".into();
    updated.last_updated = 5;
    store.update_auth_server(&updated).await.unwrap();
    assert_eq!(store.auth_server("aus1").await.unwrap(), Some(updated));

    let scope = |id: &str, name: &str, default: bool| Scope {
        id: id.into(),
        server_id: "aus1".into(),
        name: name.into(),
        description: String::new(),
        is_default: default,
        metadata_publish: "ALL_CLIENTS".into(),
        created: 1,
        last_updated: 1,
    };
    store.insert_scope(&scope("scp1", "read", true)).await.unwrap();
    store.insert_scope(&scope("scp2", "Write", false)).await.unwrap();
    assert_conflict(store.insert_scope(&scope("scp3", "read", false)).await, Unique::ScopeName, "duplicate scope name");
    assert_eq!(store.scopes("aus1").await.unwrap(), vec![scope("scp2", "Write", false), scope("scp1", "read", true)]);
    assert!(store.delete_scope("aus1", "scp2").await.unwrap());
    assert!(!store.delete_scope("aus1", "scp2").await.unwrap());
    // A scope's settings are replaced by id; a name taken by another scope of the server is refused.
    let mut changed = scope("scp1", "read2", false);
    changed.metadata_publish = "NO_CLIENTS".into();
    changed.last_updated = 9;
    assert!(store.update_scope(&changed).await.unwrap());
    assert_eq!(store.scopes("aus1").await.unwrap(), vec![changed.clone()]);
    store.insert_scope(&scope("scp4", "other", false)).await.unwrap();
    let mut clash = changed.clone();
    clash.name = "other".into();
    assert_conflict(store.update_scope(&clash).await, Unique::ScopeName, "renaming onto a taken scope name");
    let mut elsewhere = changed.clone();
    elsewhere.server_id = "aus0".into();
    assert!(!store.update_scope(&elsewhere).await.unwrap(), "a scope is updated only under its server");

    policies_rules_and_claims(store).await;

    // Signing keys and an atomic rotation.
    store.insert_signing_key(&signing_key("k-active", "aus1", key_status::ACTIVE, 1)).await.unwrap();
    store.insert_signing_key(&signing_key("k-next", "aus1", key_status::NEXT, 2)).await.unwrap();
    store.insert_signing_key(&signing_key("k-org", "org", key_status::ACTIVE, 1)).await.unwrap();
    let before = store.signing_keys("aus1").await.unwrap();
    assert_eq!(
        before,
        vec![
            signing_key("k-active", "aus1", key_status::ACTIVE, 1),
            signing_key("k-next", "aus1", key_status::NEXT, 2)
        ]
    );

    let mut expired = before[0].clone();
    expired.status = key_status::EXPIRED.into();
    expired.retire_at = Some(100);
    let mut active = before[1].clone();
    active.status = key_status::ACTIVE.into();
    active.activated = Some(50);
    let fresh = signing_key("k-new", "aus1", key_status::NEXT, 3);

    // A rotation that fails part-way (the new key's kid is taken) changes nothing.
    let clash = signing_key("k-org", "aus1", key_status::NEXT, 3);
    assert_conflict(
        store.rotate_signing_keys(&[expired.clone(), active.clone()], &[clash], &[]).await,
        Unique::Id,
        "rotation with a taken kid",
    );
    assert_eq!(store.signing_keys("aus1").await.unwrap(), before, "the failed rotation was rolled back");

    store.rotate_signing_keys(&[expired.clone(), active.clone()], std::slice::from_ref(&fresh), &[]).await.unwrap();
    assert_eq!(store.signing_keys("aus1").await.unwrap(), vec![expired.clone(), active.clone(), fresh.clone()]);
    store.rotate_signing_keys(&[], &[], &["k-active".to_string()]).await.unwrap();
    assert_eq!(store.signing_keys("aus1").await.unwrap(), vec![active, fresh]);

    // Deleting a server takes its scopes, policies, rules, claims and signing keys, not another server's.
    assert!(store.delete_auth_server("aus1").await.unwrap());
    assert!(!store.delete_auth_server("aus1").await.unwrap());
    assert!(store.scopes("aus1").await.unwrap().is_empty());
    assert!(store.policies("aus1").await.unwrap().is_empty());
    assert!(store.policy_rules("aus1").await.unwrap().is_empty());
    assert!(store.claims("aus1").await.unwrap().is_empty());
    assert_eq!(store.policies("aus0").await.unwrap().len(), 1);
    assert!(store.signing_keys("aus1").await.unwrap().is_empty());
    assert_eq!(store.signing_keys("org").await.unwrap().len(), 1);
}

fn policy(id: &str, server: &str, priority: i64, created: i64) -> AccessPolicy {
    AccessPolicy {
        id: id.into(),
        server_id: server.into(),
        name: format!("policy {id}"),
        description: String::new(),
        status: "ACTIVE".into(),
        priority,
        clients: vec!["ALL_CLIENTS".into()],
        created,
        last_updated: created,
    }
}

fn rule(id: &str, server: &str, policy_id: &str, priority: i64) -> PolicyRule {
    PolicyRule {
        id: id.into(),
        server_id: server.into(),
        policy_id: policy_id.into(),
        name: format!("rule {id}"),
        status: "ACTIVE".into(),
        priority,
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["*".into()],
        token_lifetime_minutes: 60,
        created: 1,
        last_updated: 1,
    }
}

fn claim(id: &str, server: &str, name: &str) -> Claim {
    Claim {
        id: id.into(),
        server_id: server.into(),
        name: name.into(),
        status: "ACTIVE".into(),
        claim_type: "RESOURCE".into(),
        value_type: "EXPRESSION".into(),
        value: "app.clientId".into(),
        scopes: vec!["read".into()],
        always_include: true,
        created: 1,
        last_updated: 1,
    }
}

/// Policies (by priority, re-prioritised in the saving transaction), their rules and claims, on servers
/// aus1 and aus0.
async fn policies_rules_and_claims(store: &dyn Store) {
    // A server created with its first policy and rule: all three or nothing.
    let with = AuthServer { id: "aus2".into(), ..store.auth_server("aus0").await.unwrap().unwrap() };
    let p2 = policy("00p2", "aus2", 1, 1);
    let bad_rule = rule("0pr2", "aus2", "00p-missing", 1);
    assert!(
        store.insert_auth_server_with(&with, std::slice::from_ref(&p2), &[bad_rule]).await.is_err(),
        "a rule of no policy"
    );
    assert_eq!(store.auth_server("aus2").await.unwrap(), None, "the failed creation left nothing");
    store.insert_auth_server_with(&with, std::slice::from_ref(&p2), &[rule("0pr2", "aus2", "00p2", 1)]).await.unwrap();
    assert_eq!(store.policies("aus2").await.unwrap(), vec![p2]);
    assert_eq!(store.policy_rules("aus2").await.unwrap().len(), 1);
    assert!(store.delete_auth_server("aus2").await.unwrap());
    store.save_policy(&policy("00p0", "aus0", 1, 1), &[]).await.unwrap();
    store.save_policy_rule(&rule("0pr0", "aus0", "00p0", 1), &[]).await.unwrap();

    let a = policy("00pa", "aus1", 1, 1);
    let b = policy("00pb", "aus1", 2, 2);
    store.save_policy(&a, &[]).await.unwrap();
    store.save_policy(&b, &[]).await.unwrap();
    // A new first policy moves the others down, in the same transaction.
    let c = policy("00pc", "aus1", 1, 3);
    store.save_policy(&c, &[("00pa".into(), 2), ("00pb".into(), 3)]).await.unwrap();
    let order: Vec<(String, i64)> =
        store.policies("aus1").await.unwrap().into_iter().map(|p| (p.id, p.priority)).collect();
    assert_eq!(order, [("00pc".into(), 1), ("00pa".into(), 2), ("00pb".into(), 3)]);
    // Saving again replaces (the upsert keeps the creation time).
    let mut a2 = a.clone();
    a2.status = "INACTIVE".into();
    a2.clients = vec!["client-1".into()];
    a2.priority = 2;
    a2.last_updated = 7;
    store.save_policy(&a2, &[]).await.unwrap();
    assert_eq!(store.policies("aus1").await.unwrap()[1], a2);

    store.save_policy_rule(&rule("0pr1", "aus1", "00pa", 1), &[]).await.unwrap();
    store.save_policy_rule(&rule("0pr2", "aus1", "00pa", 1), &[("0pr1".into(), 2)]).await.unwrap();
    store.save_policy_rule(&rule("0pr3", "aus1", "00pb", 1), &[]).await.unwrap();
    let rules: Vec<(String, String, i64)> =
        store.policy_rules("aus1").await.unwrap().into_iter().map(|r| (r.policy_id, r.id, r.priority)).collect();
    assert_eq!(
        rules,
        [("00pa".into(), "0pr2".into(), 1), ("00pa".into(), "0pr1".into(), 2), ("00pb".into(), "0pr3".into(), 1)]
    );
    let mut changed = rule("0pr1", "aus1", "00pa", 2);
    changed.scopes = vec!["read".into(), "write".into()];
    changed.token_lifetime_minutes = 5;
    store.save_policy_rule(&changed, &[]).await.unwrap();
    assert!(store.policy_rules("aus1").await.unwrap().contains(&changed));
    assert!(!store.delete_policy_rule("aus1", "00pb", "0pr1").await.unwrap(), "a rule is deleted under its policy");
    assert!(store.delete_policy_rule("aus1", "00pa", "0pr2").await.unwrap());
    // Deleting a policy takes its rules.
    assert!(store.delete_policy("aus1", "00pb").await.unwrap());
    assert!(!store.delete_policy("aus1", "00pb").await.unwrap());
    let left: Vec<String> = store.policy_rules("aus1").await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(left, ["0pr1"]);

    let mut tenant = claim("ocl1", "aus1", "tenant");
    store.save_claim(&tenant).await.unwrap();
    store.save_claim(&claim("ocl2", "aus1", "region")).await.unwrap();
    store.save_claim(&claim("ocl3", "aus0", "tenant")).await.unwrap();
    assert_conflict(store.save_claim(&claim("ocl4", "aus1", "tenant")).await, Unique::ClaimName, "duplicate claim");
    tenant.value = "\"x\" + app.clientId".into();
    tenant.scopes = vec![];
    tenant.always_include = false;
    tenant.status = "INACTIVE".into();
    store.save_claim(&tenant).await.unwrap();
    assert_eq!(store.claims("aus1").await.unwrap(), vec![claim("ocl2", "aus1", "region"), tenant]);
    assert!(store.delete_claim("aus1", "ocl2").await.unwrap());
    assert!(!store.delete_claim("aus1", "ocl3").await.unwrap(), "a claim is deleted under its server");
}

async fn users(store: &dyn Store) {
    for (id, login) in [("00ub", "b@example.com"), ("00uA", "a@example.com"), ("00ua", "c@example.com")] {
        store.insert_user(&user(id, login)).await.unwrap();
    }
    assert_conflict(store.insert_user(&user("00uz", "a@example.com")).await, Unique::Login, "duplicate login");
    assert_conflict(store.insert_user(&user("00ua", "z@example.com")).await, Unique::Id, "duplicate user id");
    assert_eq!(store.user("00uA").await.unwrap(), Some(user("00uA", "a@example.com")));
    assert_eq!(store.user("c@example.com").await.unwrap(), Some(user("00ua", "c@example.com")));
    assert_eq!(store.user("nobody").await.unwrap(), None);
    let page = |v: Vec<User>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(page(store.users(None, 2).await.unwrap()), ["00uA", "00ua"]);
    assert_eq!(page(store.users(Some("00ua"), 2).await.unwrap()), ["00ub"]);
    assert_eq!(page(store.users(Some("00ub"), 2).await.unwrap()), Vec::<String>::new());
}

fn role(id: &str, app_id: &str, role_type: &str, created: i64) -> RoleAssignment {
    RoleAssignment {
        id: id.into(),
        app_id: app_id.into(),
        role_type: role_type.into(),
        status: "ACTIVE".into(),
        created,
        last_updated: created,
    }
}

/// Admin roles of apps: one per type per app, under their app only, in the snapshot and the record, gone
/// with their app.
async fn roles(store: &dyn Store) {
    store.insert_role(&role("r1", "0oaB", "APP_ADMIN", 10)).await.unwrap();
    store.insert_role(&role("r2", "0oaB", "USER_ADMIN", 11)).await.unwrap();
    store.insert_role(&role("r3", "0oaC", "APP_ADMIN", 12)).await.unwrap();
    assert_conflict(store.insert_role(&role("r4", "0oaB", "APP_ADMIN", 13)).await, Unique::Role, "same role twice");
    assert_eq!(
        store.roles("0oaB").await.unwrap(),
        vec![role("r1", "0oaB", "APP_ADMIN", 10), role("r2", "0oaB", "USER_ADMIN", 11)]
    );
    assert!(!store.delete_role("0oaC", "r2").await.unwrap(), "a role is found only under its app");
    assert!(store.delete_role("0oaB", "r2").await.unwrap());
    assert!(!store.delete_role("0oaB", "r2").await.unwrap());

    let snapshot = store.client_snapshot().await.unwrap();
    let of = |id: &str| snapshot.iter().find(|r| r.app.id == id).map(|r| r.roles.clone()).unwrap_or_default();
    assert_eq!(of("0oaB"), vec![role("r1", "0oaB", "APP_ADMIN", 10)]);
    assert_eq!(of("0oaC"), vec![role("r3", "0oaC", "APP_ADMIN", 12)]);
    assert!(of("0oaa").is_empty());
    let record = store.client_record("client-2").await.unwrap().unwrap();
    assert_eq!(record.roles, vec![role("r3", "0oaC", "APP_ADMIN", 12)]);

    // An app's roles go with it.
    let mut gone = app("0oaR", "client-roles");
    gone.created = 5;
    store.insert_app(&gone, &[], &[]).await.unwrap();
    store.insert_role(&role("r5", "0oaR", "SUPER_ADMIN", 14)).await.unwrap();
    assert!(store.delete_app("0oaR").await.unwrap());
    assert!(store.roles("0oaR").await.unwrap().is_empty());
    assert!(store.insert_role(&role("r6", "0oaR", "SUPER_ADMIN", 15)).await.is_err(), "no role for a missing app");
}

async fn api_tokens(store: &dyn Store) {
    assert_eq!(store.api_token_count().await.unwrap(), 0);
    let token = |id: &str, hash: Vec<u8>, created: i64, role: &str| ApiToken {
        id: id.into(),
        name: format!("token {id}"),
        token_hash: hash,
        created,
        role: role.into(),
    };
    let token_1 = token("t1", vec![9, 0, 9, 255], 7, "SUPER_ADMIN");
    store.insert_api_token(&token_1).await.unwrap();
    let other = token("t2", vec![1, 2, 3], 8, "READ_ONLY_ADMIN");
    store.insert_api_token(&other).await.unwrap();
    let same_hash = token("t3", vec![9, 0, 9, 255], 9, "SUPER_ADMIN");
    assert_conflict(store.insert_api_token(&same_hash).await, Unique::Id, "duplicate token hash");
    assert_eq!(store.api_token_by_hash(&[9, 0, 9, 255]).await.unwrap(), Some(token_1));
    // The role is kept as given.
    assert_eq!(store.api_token_by_hash(&[1, 2, 3]).await.unwrap(), Some(other));
    assert_eq!(store.api_token_by_hash(&[9, 0, 9]).await.unwrap(), None);
    assert_eq!(store.api_token_count().await.unwrap(), 2);
}

/// The management API's finer-grained changes.
async fn management(store: &dyn Store) {
    // save_app: the app plus, when given, its whole key set and/or secret set.
    let mut saved = app("0oaD", "client-1");
    saved.name = "saved".into();
    saved.jwks_uri = Some("https://keys.example/jwks".into());
    store.save_app(&saved, Some(&[key("0oaD-k1", "0oaD", 1)]), None).await.unwrap();
    assert_eq!(store.app("0oaD").await.unwrap(), Some(saved.clone()));
    assert_eq!(store.app_keys("0oaD").await.unwrap(), vec![key("0oaD-k1", "0oaD", 1)]);
    store.save_app(&saved, None, Some(&[secret("0oaD-s1", "0oaD")])).await.unwrap();
    assert_eq!(store.app_keys("0oaD").await.unwrap().len(), 1, "keys untouched when not given");
    assert_eq!(store.app_secrets("0oaD").await.unwrap(), vec![secret("0oaD-s1", "0oaD")]);
    store.save_app(&saved, Some(&[]), Some(&[])).await.unwrap();
    assert!(store.app_keys("0oaD").await.unwrap().is_empty());
    assert!(store.app_secrets("0oaD").await.unwrap().is_empty());
    // A save that fails part-way (a key id taken by another app) changes nothing.
    saved.name = "not saved".into();
    assert_conflict(store.save_app(&saved, Some(&[key("0oaC-k1", "0oaD", 1)]), None).await, Unique::Id, "taken key id");
    assert_eq!(store.app("0oaD").await.unwrap().unwrap().name, "saved");

    // One key at a time.
    store.insert_app_key(&key("0oaD-k2", "0oaD", 2), 50).await.unwrap();
    assert_conflict(store.insert_app_key(&key("0oaD-k2", "0oaD", 2), 50).await, Unique::Id, "duplicate key id");
    assert!(store.set_app_key_status("0oaD", "0oaD-k2", "INACTIVE", 77).await.unwrap());
    assert!(!store.set_app_key_status("0oaC", "0oaD-k2", "INACTIVE", 77).await.unwrap(), "another app's key");
    let k = &store.app_keys("0oaD").await.unwrap()[0];
    assert_eq!((k.status.as_str(), k.last_updated), ("INACTIVE", 77));
    assert!(!store.delete_app_key("0oaC", "0oaD-k2").await.unwrap());
    assert!(store.delete_app_key("0oaD", "0oaD-k2").await.unwrap());
    assert!(!store.delete_app_key("0oaD", "0oaD-k2").await.unwrap());

    // One secret at a time.
    store.insert_app_secret(&secret("0oaD-s2", "0oaD"), 2).await.unwrap();
    assert!(store.set_app_secret_status("0oaD", "0oaD-s2", "INACTIVE", 88).await.unwrap());
    assert!(!store.set_app_secret_status("0oaC", "0oaD-s2", "INACTIVE", 88).await.unwrap());
    let s = &store.app_secrets("0oaD").await.unwrap()[0];
    assert_eq!((s.status.as_str(), s.last_updated), ("INACTIVE", 88));
    assert!(!store.delete_app_secret("0oaC", "0oaD-s2").await.unwrap());
    assert!(store.delete_app_secret("0oaD", "0oaD-s2").await.unwrap());
    assert!(store.app_secrets("0oaD").await.unwrap().is_empty());

    // API tokens: listed oldest first, deleted by id.
    let ids: Vec<String> = store.api_tokens().await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["t1", "t2"]);
    assert!(store.delete_api_token("t1").await.unwrap());
    assert!(!store.delete_api_token("t1").await.unwrap());
    assert_eq!(store.api_token_by_hash(&[9, 0, 9, 255]).await.unwrap(), None);
    assert_eq!(store.api_token_count().await.unwrap(), 1);

    // Users: replaced by id (a taken login is a Conflict), deleted by id.
    let mut u = user("00uA", "renamed@example.com");
    u.status = "SUSPENDED".into();
    u.last_login = Some(99);
    u.profile.insert("extra".into(), true.into());
    store.update_user(&u).await.unwrap();
    assert_eq!(store.user("renamed@example.com").await.unwrap(), Some(u.clone()));
    assert_eq!(store.user("a@example.com").await.unwrap(), None);
    u.login = "b@example.com".into();
    assert_conflict(store.update_user(&u).await, Unique::Login, "taken login");
    assert!(store.delete_user("00uA").await.unwrap());
    assert!(!store.delete_user("00uA").await.unwrap());
    assert_eq!(store.user("00uA").await.unwrap(), None);
}

fn federated(id: &str, app_id: &str, created: i64) -> FederatedCredential {
    let mut claims = serde_json::Map::new();
    claims.insert("repository_owner".into(), "acme".into());
    FederatedCredential {
        id: id.into(),
        app_id: app_id.into(),
        name: format!("cred {id}"),
        issuer: "https://token.actions.githubusercontent.com".into(),
        subject: "repo:acme/*:ref:refs/heads/main".into(),
        audiences: vec!["https://tollgate.example".into()],
        claims,
        jwks_uri: None,
        max_token_age: 600,
        status: "ACTIVE".into(),
        created,
        last_updated: created,
    }
}

async fn federated_credentials(store: &dyn Store) {
    store.insert_app(&app("0oaF", "client-f"), &[], &[]).await.unwrap();
    store.insert_federated_credential(&federated("fc2", "0oaF", 2), 3).await.unwrap();
    store.insert_federated_credential(&federated("fc1", "0oaF", 1), 3).await.unwrap();
    assert_conflict(store.insert_federated_credential(&federated("fc1", "0oaF", 1), 3).await, Unique::Id, "same id");
    let mut k8s = federated("fc3", "0oaF", 3);
    k8s.jwks_uri = Some("https://cluster.example/openid/v1/jwks".into());
    k8s.audiences.clear();
    k8s.claims.clear();
    store.insert_federated_credential(&k8s, 3).await.unwrap();
    match store.insert_federated_credential(&federated("fc4", "0oaF", 4), 3).await {
        Err(StoreError::LimitReached { what: AppChild::Federated, max: 3 }) => {}
        other => panic!("a fourth credential over a limit of 3: {other:?}"),
    }
    let listed = store.federated_credentials("0oaF").await.unwrap();
    assert_eq!(listed, vec![federated("fc1", "0oaF", 1), federated("fc2", "0oaF", 2), k8s.clone()], "oldest first");

    // Replaced whole; only the app's own.
    let mut changed = federated("fc1", "0oaF", 1);
    changed.subject = "system:serviceaccount:ns:sa".into();
    changed.status = "INACTIVE".into();
    changed.last_updated = 50;
    assert!(store.update_federated_credential(&changed).await.unwrap());
    let mut foreign = changed.clone();
    foreign.app_id = "0oaC".into();
    assert!(!store.update_federated_credential(&foreign).await.unwrap(), "another app's credential");
    assert_eq!(store.federated_credentials("0oaF").await.unwrap()[0], changed);

    assert!(store.set_federated_credential_status("0oaF", "fc1", "ACTIVE", 60).await.unwrap());
    assert!(!store.set_federated_credential_status("0oaC", "fc1", "ACTIVE", 60).await.unwrap());
    let record = store.client_record("client-f").await.unwrap().unwrap();
    assert_eq!(record.federated.len(), 3, "part of the client record");
    assert_eq!((record.federated[0].status.as_str(), record.federated[0].last_updated), ("ACTIVE", 60));
    let snapshot = store.client_snapshot().await.unwrap();
    let in_snapshot = snapshot.iter().find(|r| r.app.id == "0oaF").unwrap();
    assert_eq!(in_snapshot.federated, record.federated, "and of the snapshot");

    assert!(!store.delete_federated_credential("0oaC", "fc2").await.unwrap());
    assert!(store.delete_federated_credential("0oaF", "fc2").await.unwrap());
    assert!(!store.delete_federated_credential("0oaF", "fc2").await.unwrap());
    // Deleting the app takes its credentials with it.
    assert!(store.delete_app("0oaF").await.unwrap());
    assert!(store.federated_credentials("0oaF").await.unwrap().is_empty());
}

async fn replay_and_revocation(store: &dyn Store) {
    assert!(store.use_jti("client-0", "jti-1", 100).await.unwrap(), "first use");
    assert!(!store.use_jti("client-0", "jti-1", 100).await.unwrap(), "replay");
    assert!(!store.use_jti("client-0", "jti-1", 999).await.unwrap(), "replay with another expiry");
    assert!(store.use_jti("client-1", "jti-1", 100).await.unwrap(), "jti is per client");
    assert!(store.use_jti("client-0", "jti-2", 300).await.unwrap());

    assert!(!store.is_revoked("AT.1").await.unwrap());
    store.revoke_token("AT.1", 100).await.unwrap();
    store.revoke_token("AT.1", 100).await.unwrap(); // revoking twice is fine
    store.revoke_token("AT.2", 300).await.unwrap();
    assert!(store.is_revoked("AT.1").await.unwrap());

    // Expired by 200: two jti rows (expires 100) and one revocation (expires 100).
    assert_eq!(store.prune_expired(200).await.unwrap(), 3);
    assert_eq!(store.prune_expired(200).await.unwrap(), 0);
    assert!(!store.is_revoked("AT.1").await.unwrap());
    assert!(store.is_revoked("AT.2").await.unwrap());
    assert!(!store.use_jti("client-0", "jti-2", 300).await.unwrap(), "an unexpired jti is kept");
    assert!(store.use_jti("client-0", "jti-1", 400).await.unwrap(), "a pruned jti is forgotten");

    // Two at once (a DPoP token request: the assertion's jti and the proof's).
    let pair = store.use_jti_pair(("client-0", "jti-3", 500), ("dpop:k", "jti-3", 500)).await.unwrap();
    assert_eq!(pair, (true, true), "both fresh");
    let pair = store.use_jti_pair(("client-0", "jti-3", 500), ("dpop:k", "jti-4", 500)).await.unwrap();
    assert_eq!(pair, (false, true), "first replayed, second fresh");
    let pair = store.use_jti_pair(("client-0", "jti-5", 500), ("dpop:k", "jti-4", 500)).await.unwrap();
    assert_eq!(pair, (true, false), "first fresh, second replayed");
    assert!(!store.use_jti("client-0", "jti-5", 500).await.unwrap(), "recorded by the pair");
}

/// Many concurrent uses of one `jti`, split over two store handles: exactly one wins.
pub async fn jti_race(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { store.use_jti("racer", "the-jti", i64::MAX).await.unwrap() }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one use of a jti may succeed");
}

/// Concurrent adds, split over two store handles (two nodes on PostgreSQL), to an app near its limits:
/// the limits hold exactly, since each add counts inside its own insert's transaction.
pub async fn limit_race(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    a.insert_app(&app("0oaL", "client-limits"), &[], &[]).await.unwrap();
    let near_full: Vec<AppKey> = (0..48).map(|i| key(&format!("0oaL-k{i}"), "0oaL", i)).collect();
    a.replace_app_keys("0oaL", &near_full).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(
            async move { store.insert_app_key(&key(&format!("0oaL-n{i}"), "0oaL", 100), 50).await },
        ));
    }
    for i in 0..8 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(
            async move { store.insert_app_secret(&secret(&format!("0oaL-s{i}"), "0oaL"), 2).await },
        ));
    }
    let (mut added, mut refused) = (0, Vec::new());
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => added += 1,
            Err(StoreError::LimitReached { what, max }) => refused.push((what, max)),
            Err(other) => panic!("a concurrent add failed otherwise: {other:?}"),
        }
    }
    assert_eq!(added, 2 + 2, "two keys and two secrets fit");
    assert_eq!(refused.iter().filter(|r| **r == (AppChild::Keys, 50)).count(), 62);
    assert_eq!(refused.iter().filter(|r| **r == (AppChild::Secrets, 2)).count(), 6);
    assert_eq!(a.app_keys("0oaL").await.unwrap().len(), 50);
    assert_eq!(a.app_secrets("0oaL").await.unwrap().len(), 2);
    let err = a.insert_app_key(&key("0oaL-late", "0oaL", 101), 50).await.unwrap_err();
    assert_eq!(err.to_string(), "an app may have at most 50 keys");
}

fn log_row(uuid: &str, published: i64, event_type: &str, result: &str, targets: &[(&str, &str)]) -> LogEventRow {
    LogEventRow {
        uuid: uuid.into(),
        published,
        event_type: event_type.into(),
        severity: "INFO".into(),
        outcome_result: result.into(),
        actor_id: "0oaActor".into(),
        actor_type: "PublicClientApp".into(),
        client_ip: "127.0.0.1".into(),
        transaction_id: format!("req-{uuid}"),
        targets: targets.iter().map(|(i, k)| (i.to_string(), k.to_string())).collect(),
        search_text: format!("{event_type} granted okta.users.read 100%"),
        body: format!(r#"{{"uuid":"{uuid}"}}"#),
    }
}

fn log_query(filter: Option<Filter>) -> LogQuery {
    LogQuery { since: 0, until: None, filter, q: vec![], after: None, limit: 100, descending: false }
}

fn uuids(rows: &[tollgate_store::log::LoggedEvent]) -> Vec<&str> {
    rows.iter().map(|r| r.uuid.as_str()).collect()
}

async fn system_log(store: &dyn Store) {
    let grant = "app.oauth2.token.grant.access_token";
    let rows = vec![
        log_row("e1", 1_000, grant, "SUCCESS", &[("AT.1", "access_token")]),
        log_row("e2", 2_000, "app.oauth2.token.grant", "FAILURE", &[]),
        log_row("e3", 2_000, "application.lifecycle.create", "SUCCESS", &[("0oa9", "AppInstance"), ("x_y", "Key")]),
        log_row("e4", 3_000, grant, "SUCCESS", &[]),
    ];
    store.insert_log_events(&rows).await.unwrap();
    let all = store.log_events(&log_query(None)).await.unwrap();
    assert_eq!(uuids(&all), ["e1", "e2", "e3", "e4"], "ascending by published, then uuid");
    // A retried batch (some of it already written) adds nothing twice.
    store.insert_log_events(&rows[1..3]).await.unwrap();
    assert_eq!(store.log_events(&log_query(None)).await.unwrap().len(), 4);
    assert_eq!(all[0].body, r#"{"uuid":"e1"}"#);
    assert_eq!(all[0].published, 1_000);

    let cmp = |attr: &str, op, value: &str| Filter::Cmp { attr: attr.into(), op, value: value.into() };
    let by_type = store.log_events(&log_query(Some(cmp("eventType", CmpOp::Eq, grant)))).await.unwrap();
    assert_eq!(uuids(&by_type), ["e1", "e4"]);
    let either = Filter::Or(vec![cmp("outcome.result", CmpOp::Eq, "FAILURE"), cmp("target.id", CmpOp::Eq, "0oa9")]);
    assert_eq!(uuids(&store.log_events(&log_query(Some(either))).await.unwrap()), ["e2", "e3"]);
    let both = Filter::And(vec![cmp("eventType", CmpOp::Sw, "APP.OAUTH2"), cmp("target.type", CmpOp::Co, "token")]);
    assert_eq!(uuids(&store.log_events(&log_query(Some(both))).await.unwrap()), ["e1"]);
    // LIKE wildcards in a value are literal characters.
    assert!(store.log_events(&log_query(Some(cmp("target.id", CmpOp::Co, "_")))).await.unwrap().len() == 1);
    assert!(store.log_events(&log_query(Some(cmp("eventType", CmpOp::Sw, "%")))).await.unwrap().is_empty());

    let q = LogQuery { q: vec!["USERS.READ".into(), "100%".into()], ..log_query(None) };
    assert_eq!(store.log_events(&q).await.unwrap().len(), 4, "q words, case-insensitive, % literal");

    // Paging: a cursor at (2000, e2) continues with e3; descending goes the other way; since/until bound.
    let after = Some(LogCursor { published: 2_000, uuid: "e2".into() });
    let next = LogQuery { after: after.clone(), limit: 1, ..log_query(None) };
    assert_eq!(uuids(&store.log_events(&next).await.unwrap()), ["e3"]);
    let back = LogQuery { after, descending: true, ..log_query(None) };
    assert_eq!(uuids(&store.log_events(&back).await.unwrap()), ["e1"]);
    let window = LogQuery { since: 2_000, until: Some(3_000), ..log_query(None) };
    assert_eq!(uuids(&store.log_events(&window).await.unwrap()), ["e2", "e3"]);

    assert_eq!(store.prune_log_events(2_000).await.unwrap(), 1);
    assert_eq!(uuids(&store.log_events(&log_query(None)).await.unwrap()), ["e2", "e3", "e4"]);
    assert_eq!(store.prune_log_events(10_000).await.unwrap(), 3);
    assert!(store.log_events(&log_query(None)).await.unwrap().is_empty());
}

fn usage(node: &str, app: &str, period: &str, window_start: i64, count: i64) -> QuotaUsage {
    QuotaUsage { node_id: node.into(), app_id: app.into(), period: period.into(), window_start, count }
}

/// Heartbeats count the live nodes; quota counts replace a node's own row and sum over the others.
async fn nodes_and_quota_usage(store: &dyn Store) {
    let t = 10_000_000;
    assert_eq!(store.node_heartbeat("n1", t, t - 15_000).await.unwrap(), 1);
    assert_eq!(store.node_heartbeat("n2", t + 1_000, t - 15_000).await.unwrap(), 2);
    // n1 falls silent: 20 s later only n2 is live (n1 is still remembered, just not counted).
    assert_eq!(store.node_heartbeat("n2", t + 21_000, t + 6_000).await.unwrap(), 1);
    // An hour of silence forgets n1 altogether; it counts again from its next heartbeat.
    assert_eq!(store.node_heartbeat("n2", t + 3_700_000, 0).await.unwrap(), 1);
    assert_eq!(store.node_heartbeat("n1", t + 3_700_500, 0).await.unwrap(), 2);

    store.save_quota_usage(&[]).await.unwrap();
    store
        .save_quota_usage(&[usage("n1", "app1", "hour", 3_600_000, 5), usage("n1", "app1", "day", 0, 5)])
        .await
        .unwrap();
    store.save_quota_usage(&[usage("n1", "app1", "hour", 3_600_000, 7)]).await.unwrap();
    store
        .save_quota_usage(&[
            usage("n2", "app1", "hour", 3_600_000, 3),
            usage("n3", "app1", "hour", 3_600_000, 4),
            usage("n2", "app2", "hour", 3_600_000, 1),
            usage("n2", "app1", "hour", 0, 100),
        ])
        .await
        .unwrap();
    let mut seen = store.quota_usage("n1", 3_600_000).await.unwrap();
    seen.sort_by(|a, b| a.app_id.cmp(&b.app_id));
    assert_eq!(seen, vec![usage("", "app1", "hour", 3_600_000, 7), usage("", "app2", "hour", 3_600_000, 1)]);
    let mut seen = store.quota_usage("n2", 0).await.unwrap();
    seen.sort_by(|a, b| (&a.app_id, &a.period, a.window_start).cmp(&(&b.app_id, &b.period, b.window_start)));
    assert_eq!(
        seen,
        vec![usage("", "app1", "day", 0, 5), usage("", "app1", "hour", 3_600_000, 11)],
        "n1's replaced count (7) plus n3's (4); n2's own rows left out"
    );
    assert_eq!(store.prune_quota_usage(3_600_000).await.unwrap(), 2);
    assert!(store.quota_usage("n9", 0).await.unwrap().iter().all(|u| u.window_start >= 3_600_000));
}

/// Admin Console users and sessions.
async fn console(store: &dyn Store) {
    let user = AdminUser {
        id: "adm1".into(),
        login: "ops@example.com".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: "SUPER_ADMIN".into(),
        created: 1,
        last_updated: 1,
    };
    store.insert_admin_user(&user).await.unwrap();
    let again = AdminUser { id: "adm2".into(), ..user.clone() };
    assert_conflict(store.insert_admin_user(&again).await, Unique::Login, "duplicate admin login");
    assert_eq!(store.admin_user("ops@example.com").await.unwrap(), Some(user.clone()));
    assert_eq!(store.admin_user("adm1").await.unwrap(), Some(user.clone()));
    assert_eq!(store.admin_user("nobody").await.unwrap(), None);
    let changed =
        AdminUser { password_hash: "$argon2id$new".into(), role: "READ_ONLY_ADMIN".into(), last_updated: 5, ..user };
    assert!(store.update_admin_user(&changed).await.unwrap());
    assert_eq!(store.admin_users().await.unwrap(), vec![changed.clone()]);
    assert!(!store.update_admin_user(&AdminUser { login: "ghost".into(), ..changed }).await.unwrap());

    let session = |hash: Vec<u8>, kind: &str, id: &str, expires: i64| ConsoleSession {
        id_hash: hash,
        csrf_token: format!("csrf-{id}"),
        principal_kind: kind.into(),
        principal_id: id.into(),
        created: 10,
        expires,
    };
    let live = session(vec![1, 2, 3], "user", "adm1", 1_000);
    store.insert_console_session(&live).await.unwrap();
    store.insert_console_session(&session(vec![4, 5], "api_token", "t1", 1_000)).await.unwrap();
    store.insert_console_session(&session(vec![6], "user", "adm1", 50)).await.unwrap();
    assert_eq!(store.console_session(&[1, 2, 3], 999).await.unwrap(), Some(live.clone()));
    // Expired: not found, and pruned.
    assert_eq!(store.console_session(&[1, 2, 3], 1_000).await.unwrap(), None);
    assert_eq!(store.console_session(&[6], 60).await.unwrap(), None);
    assert!(store.prune_expired(60).await.unwrap() >= 1);
    assert!(!store.delete_console_session(&[6]).await.unwrap());
    assert!(store.delete_console_session(&[1, 2, 3]).await.unwrap());
    assert_eq!(store.console_session(&[1, 2, 3], 0).await.unwrap(), None);
    assert_eq!(store.delete_console_sessions_of("api_token", "t1").await.unwrap(), 1);
    assert_eq!(store.console_session(&[4, 5], 0).await.unwrap(), None);
}
