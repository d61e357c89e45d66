//! The rules a token endpoint applies to a client assertion, one [`Check`] each, in the server's order:
//! pass or fail in plain words, how to fix it, and the exact answer the server gives when it fails (the
//! texts are [`Refusal`]'s, the server's own). `tollgate explain` prints them; the server's Admin Console
//! token tester shows them. Nothing is sent anywhere and no state (replay cache) is touched.
use crate::assertion::{MAX_LIFETIME_SECONDS, Refusal};
use crate::{Jwks, PublicKey};
use serde::Serialize;
use serde_json::Value;

/// What Okta's SDKs sign, to stay clear of the ceiling under clock skew.
const SDK_LIFETIME: i64 = 3000;

/// A JWT's header and claims, decoded without any verification.
struct Parts {
    header: Value,
    claims: Value,
}

/// Splits and base64url-decodes a compact JWT; why not, in words.
fn decode_parts(token: &str) -> Result<Parts, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _signature] = parts.as_slice() else {
        return Err(format!("not a JWT: expected three dot-separated parts, found {}", parts.len()));
    };
    let json_part = |name: &str, text: &str| -> Result<Value, String> {
        let bytes = crate::b64url_decode(text).map_err(|e| format!("the {name} is not base64url: {e}"))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("the {name} is not JSON: {e}"))?;
        if !value.is_object() {
            return Err(format!("the {name} is not a JSON object"));
        }
        Ok(value)
    };
    Ok(Parts { header: json_part("header", header)?, claims: json_part("payload", payload)? })
}

/// A rule's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    Skip,
}

/// The outcome of one rule.
#[derive(Debug, Serialize)]
pub struct Check {
    pub rule: &'static str,
    pub verdict: Verdict,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// What the server answers when this rule fails: `401 invalid_client "..."`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_answer: Option<String>,
}

fn check(rule: &'static str, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check { rule, verdict, detail: detail.into(), fix: None, server_answer: None }
}

impl Check {
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
    fn answers(mut self, status: u16, error: &str, description: &str) -> Self {
        self.server_answer = Some(format!("{status} {error} \"{description}\""));
        self
    }
    /// The server's answer is this refusal (the texts are the server's own, from `tollgate_jose`).
    fn refused(self, refusal: Refusal) -> Self {
        self.answers(refusal.status(), refusal.error(), refusal.description())
    }
}

/// Every rule, in the order a token endpoint applies them.
pub fn explain(
    assertion: &str,
    issuer: &str,
    url: &str,
    client_id: Option<&str>,
    jwks: Option<&Jwks>,
    now: i64,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let parts = match decode_parts(assertion) {
        Ok(parts) => {
            checks.push(check("structure", Verdict::Pass, "three base64url parts; header and claims are JSON objects"));
            parts
        }
        Err(e) => {
            checks.push(
                check("structure", Verdict::Fail, e)
                    .fix("send a compact JWS: BASE64URL(header).BASE64URL(claims).BASE64URL(signature)")
                    .refused(Refusal::Unparsable),
            );
            return checks;
        }
    };
    let (header, claims) = (&parts.header, &parts.claims);
    checks.push(alg_check(header));

    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    let expected_id = client_id.or(iss);
    checks.push(match (iss, expected_id) {
        (Some(iss), Some(id)) if iss == id => check("iss", Verdict::Pass, format!("\"{iss}\" is the client id")),
        (Some(iss), Some(id)) => check("iss", Verdict::Fail, format!("\"{iss}\" is not the client id \"{id}\""))
            .fix("set iss to the app's client id")
            .refused(Refusal::BadIssuer),
        _ => check("iss", Verdict::Fail, "missing").fix("set iss to the app's client id").refused(Refusal::BadIssuer),
    });
    checks.push(match (sub, expected_id) {
        (Some(sub), Some(id)) if sub == id => check("sub", Verdict::Pass, format!("\"{sub}\" is the client id")),
        (Some(sub), Some(id)) => check("sub", Verdict::Fail, format!("\"{sub}\" is not the client id \"{id}\""))
            .fix("set sub to the same value as iss: the client id")
            .refused(Refusal::BadSubject),
        _ => check("sub", Verdict::Fail, "missing")
            .fix("set sub to the same value as iss: the client id")
            .refused(Refusal::BadSubject),
    });
    // The server checks the key and signature before aud and the times (so that an unsigned token learns
    // nothing more), and explain lists its rules in the server's order: the first failure is its answer.
    checks.extend(key_checks(assertion, header, jwks));
    // At the org server, aud = the org URL with a `scope` claim is an Access Gateway assertion.
    let org_server = url.starts_with(&format!("{}/oauth2/v1/", issuer));
    let gateway_shaped = org_server && claims.get("scope").is_some();
    checks.push(aud_check(claims.get("aud"), url, issuer, gateway_shaped));
    checks.extend(time_checks(claims, now));
    checks.push(match claims.get("jti").and_then(Value::as_str) {
        Some(jti) if !jti.is_empty() => check(
            "jti",
            Verdict::Pass,
            format!("\"{jti}\"; single use: sign a new assertion for every request and retry"),
        )
        .refused(Refusal::Replayed),
        _ => check(
            "jti",
            Verdict::Warn,
            "missing; Okta and tollgate accept that, but a stolen assertion can then be replayed until exp",
        )
        .fix("add a unique jti (a uuid v4) to every assertion"),
    });
    checks
}

fn alg_check(header: &Value) -> Check {
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let answer = Refusal::BadAlgorithm;
    match alg {
        "RS256" | "RS384" | "RS512" | "ES256" | "ES384" | "ES512" => {
            check("alg", Verdict::Pass, format!("{alg} is allowed for private_key_jwt"))
        }
        "PS256" | "PS384" | "PS512" => {
            check("alg", Verdict::Warn, format!("{alg}: tollgate accepts it, Okta does not"))
                .fix("for Okta, sign with RS256 (same RSA key) or an EC key with ES256")
                .refused(answer)
        }
        "HS256" | "HS384" | "HS512" => {
            check("alg", Verdict::Fail, format!("{alg} is client_secret_jwt, not private_key_jwt"))
                .fix("sign with the private key (RS256/ES256), or register the app for client_secret_jwt")
                .refused(answer)
        }
        "" => check("alg", Verdict::Fail, "missing").fix("set alg in the header, e.g. RS256").refused(answer),
        other => check("alg", Verdict::Fail, format!("{other} is not one of RS256, RS384, RS512, ES256, ES384, ES512"))
            .fix("sign with RS256 (RSA key) or ES256 (P-256 key)")
            .refused(answer),
    }
}

fn aud_check(aud: Option<&Value>, url: &str, issuer: &str, gateway_shaped: bool) -> Check {
    let answer = Refusal::WrongAudience;
    let fix = format!("set aud to exactly \"{url}\"");
    match aud {
        Some(Value::String(aud)) if aud == url => {
            check("aud", Verdict::Pass, format!("\"{aud}\" is the endpoint invoked"))
        }
        Some(Value::String(aud)) if aud == issuer && gateway_shaped => check(
            "aud",
            Verdict::Fail,
            format!(
                "\"{aud}\" is the org URL and the assertion has a scope claim: that is an Access Gateway \
                 assertion (for /api/v2/oauth/token: tollgate token --flavor oag), refused here"
            ),
        )
        .fix(fix.clone())
        .refused(answer),
        Some(Value::String(aud)) if aud == issuer => check(
            "aud",
            Verdict::Warn,
            format!("\"{aud}\" is the issuer: tollgate accepts it (RFC 7523bis), Okta refuses it"),
        )
        .fix(fix)
        .refused(answer),
        Some(Value::String(aud)) if aud.contains("//oauth2") => check(
            "aud",
            Verdict::Fail,
            format!("\"{aud}\" has a double slash: the org URL was written with a trailing slash"),
        )
        .fix(format!("remove the trailing slash from the org URL; {fix}"))
        .refused(answer),
        Some(Value::String(aud)) => {
            check("aud", Verdict::Fail, format!("\"{aud}\" is not \"{url}\"")).fix(fix).refused(answer)
        }
        Some(Value::Array(values)) if values.iter().any(|v| v.as_str() == Some(url)) => check(
            "aud",
            Verdict::Warn,
            "an array holding the endpoint: tollgate accepts it; whether Okta does is undocumented",
        )
        .fix(format!("send a single string: {fix}"))
        .refused(answer),
        Some(other) => check("aud", Verdict::Fail, format!("{other} is not \"{url}\"")).fix(fix).refused(answer),
        None => check("aud", Verdict::Fail, "missing").fix(fix).refused(answer),
    }
}

fn time_checks(claims: &Value, now: i64) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.push(match claims.get("exp") {
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            let exp = n.as_i64().unwrap_or_default();
            let ahead = exp - now;
            if ahead <= 0 {
                check("exp", Verdict::Fail, format!("expired {} s ago", -ahead))
                    .fix("sign a new assertion for every request (exp = now + 300 s)")
                    .refused(Refusal::Expired)
            } else if ahead > MAX_LIFETIME_SECONDS as i64 {
                check("exp", Verdict::Fail, format!("{ahead} s ahead: more than one hour"))
                    .fix("use exp = now + 300 s (Okta's SDKs use at most 3000 s)")
                    .refused(Refusal::ExpiresTooLate)
            } else if ahead > SDK_LIFETIME {
                check(
                    "exp",
                    Verdict::Warn,
                    format!("{ahead} s ahead: within the hour, but a clock a little fast on our side fails it"),
                )
                .fix("use exp = now + 300 s")
                .refused(Refusal::ExpiresTooLate)
            } else {
                check("exp", Verdict::Pass, format!("in {ahead} s (at most 3600 s ahead)"))
            }
        }
        Some(other) => check("exp", Verdict::Fail, format!("{other} is not a number of seconds since the epoch"))
            .fix("set exp as an integer NumericDate")
            .refused(Refusal::MissingExp),
        None => check("exp", Verdict::Fail, "missing").fix("add exp = now + 300 s").refused(Refusal::MissingExp),
    });
    checks.push(match claims.get("nbf").map(Value::as_i64) {
        None => check("nbf", Verdict::Pass, "absent (optional)"),
        Some(Some(nbf)) if nbf <= now => check("nbf", Verdict::Pass, format!("{} s ago", now - nbf)),
        Some(Some(nbf)) => check("nbf", Verdict::Fail, format!("{} s in the future", nbf - now))
            .fix("drop nbf, or set it to the current time; check this machine's clock (NTP)")
            .refused(Refusal::NotYetValid),
        Some(None) => check("nbf", Verdict::Fail, "not a number")
            .fix("set nbf as an integer NumericDate")
            .refused(Refusal::Unparsable),
    });
    checks.push(match claims.get("iat").map(Value::as_i64) {
        None => check("iat", Verdict::Pass, "absent (optional)"),
        Some(Some(iat)) if iat <= now => check("iat", Verdict::Pass, format!("{} s ago", now - iat)),
        Some(Some(iat)) => check("iat", Verdict::Fail, format!("{} s in the future", iat - now))
            .fix("set iat to the current time; check this machine's clock (NTP)")
            .refused(Refusal::IssuedInFuture),
        Some(None) => check("iat", Verdict::Fail, "not a number")
            .fix("set iat as an integer NumericDate")
            .refused(Refusal::Unparsable),
    });
    checks
}

fn key_checks(assertion: &str, header: &Value, jwks: Option<&Jwks>) -> Vec<Check> {
    let kid = header.get("kid").and_then(Value::as_str);
    let kid_answer = Refusal::BadKid;
    let Some(jwks) = jwks else {
        return vec![
            match kid {
                Some(kid) => check("kid", Verdict::Pass, format!("\"{kid}\" (not compared: pass --jwks to check it)")),
                None => check("kid", Verdict::Warn, "missing: fine only while the app has exactly one key of its type")
                    .fix("put the key's kid in the header")
                    .refused(kid_answer),
            },
            check("signature", Verdict::Skip, "not checked: pass --jwks FILE with the app's public keys"),
        ];
    };
    let keys = match jwks.public_keys() {
        Ok(keys) => keys,
        Err(e) => {
            return vec![
                check("kid", Verdict::Fail, format!("the JWKS is not usable: {e}")).refused(Refusal::JwksInvalid),
            ];
        }
    };
    let matching: Vec<&PublicKey> = match kid {
        Some(kid) => keys.iter().filter(|k| k.kid() == Some(kid) || (keys.len() == 1 && k.kid().is_none())).collect(),
        // No kid: the server takes the app's one key of the assertion's key type, if it has exactly one.
        None => {
            let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
            let kty = if alg.starts_with("ES") { "EC" } else { "RSA" };
            let of_type: Vec<&PublicKey> = keys.iter().filter(|k| k.spec().kty() == kty).collect();
            if of_type.len() == 1 { of_type } else { Vec::new() }
        }
    };
    let kid_check = match (kid, matching.is_empty()) {
        (Some(kid), false) => check("kid", Verdict::Pass, format!("\"{kid}\" is in the JWKS")),
        (None, false) => check("kid", Verdict::Pass, "absent, and the JWKS has a single key of its type"),
        (Some(kid), true) => check("kid", Verdict::Fail, format!("\"{kid}\" is not in the JWKS ({})", kids(&keys)))
            .fix("sign with the key registered for the app, and put its kid in the header")
            .refused(kid_answer),
        (None, true) => {
            check("kid", Verdict::Fail, format!("missing, and the JWKS has {} keys, not one of its type", keys.len()))
                .fix("put the signing key's kid in the header")
                .refused(kid_answer)
        }
    };
    let signature_answer = Refusal::BadSignature;
    let signature_check = if matching.is_empty() {
        check("signature", Verdict::Skip, "no key to check it with")
    } else {
        match crate::jws::decode(assertion) {
            Err(e) => check("signature", Verdict::Fail, format!("the JWS is not acceptable: {e}")).refused(Refusal::Unparsable),
            Ok(jws) if matching.iter().any(|k| jws.verify(k).is_ok()) => check("signature", Verdict::Pass, "verifies with the registered key"),
            Ok(_) => check("signature", Verdict::Fail, "does not verify with the registered key")
                .fix("sign with the private key whose public half is registered (compare with `tollgate jwk convert KEY --to jwks`)")
                .refused(signature_answer),
        }
    };
    vec![kid_check, signature_check]
}

fn kids(keys: &[PublicKey]) -> String {
    let list: Vec<String> =
        keys.iter().map(|k| k.kid().map(|k| format!("\"{k}\"")).unwrap_or_else(|| "no kid".into())).collect();
    list.join(", ")
}

/// Whether an assertion is an external token for `client_id`: its `iss` is a URL that is not the client id.
pub fn looks_federated(assertion: &str, client_id: Option<&str>) -> bool {
    let Ok(parts) = decode_parts(assertion) else { return false };
    let iss = parts.claims.get("iss").and_then(Value::as_str);
    // Platforms' issuers are URLs; client ids never are. Without knowing whether the app has federated
    // credentials (the server does), an `iss` that is merely another client id is a private_key_jwt
    // assertion with the wrong issuer, not an external token.
    let url = |iss: &str| iss.starts_with("https://") || iss.starts_with("http://");
    match (iss, client_id) {
        (Some(iss), Some(id)) => iss != id && url(iss),
        (Some(iss), None) => url(iss),
        _ => false,
    }
}

/// A federated credential as the API shows it (the fields the match needs).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CredentialFile {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub subject: String,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub claims: serde_json::Map<String, Value>,
    #[serde(default = "default_max_token_age")]
    pub max_token_age: i64,
    #[serde(default = "default_status")]
    pub status: String,
}

fn default_max_token_age() -> i64 {
    3600
}

fn default_status() -> String {
    "ACTIVE".into()
}

/// Every rule the token endpoint applies to a federated assertion, in its order: the external token must
/// name the app by `client_id`, come from an issuer an ACTIVE credential trusts, be signed by the issuer's
/// key, carry `exp`, and meet one credential's `sub`, `aud`, claim and age conditions.
pub fn explain_federated(
    assertion: &str,
    issuer: &str,
    client_id: Option<&str>,
    jwks: Option<&Jwks>,
    credentials: Option<&[CredentialFile]>,
    now: i64,
) -> Vec<Check> {
    use crate::federation::{Mismatch, Rule, closeness, mismatches};
    let mut checks = Vec::new();
    let parts = match decode_parts(assertion) {
        Ok(parts) => {
            checks.push(check("structure", Verdict::Pass, "three base64url parts; header and claims are JSON objects"));
            parts
        }
        Err(e) => {
            checks.push(check("structure", Verdict::Fail, format!("{e:#}")).refused(Refusal::Unparsable));
            return checks;
        }
    };
    let (header, claims) = (&parts.header, &parts.claims);
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    checks.push(if alg.starts_with("RS") || alg.starts_with("ES") || alg.starts_with("PS") || alg == "EdDSA" {
        check("alg", Verdict::Pass, format!("{alg}: the issuer's key decides"))
    } else {
        check("alg", Verdict::Fail, format!("{alg:?} is not an asymmetric signature algorithm"))
            .fix("the platform's token must be signed with its issuer's private key")
            .refused(Refusal::BadAlgorithm)
    });
    checks.push(match client_id {
        Some(id) => check("client_id", Verdict::Pass, format!("\"{id}\" is sent as the form's client_id")),
        None => check("client_id", Verdict::Fail, "not given: the token's iss is the platform, not the app")
            .fix("send client_id=<the app's client id> with the assertion (tollgate token --client-id)")
            .refused(Refusal::FederatedClientIdRequired),
    });
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let trusting: Vec<&CredentialFile> = credentials.unwrap_or(&[]).iter().filter(|c| c.issuer == iss).collect();
    let active: Vec<&CredentialFile> = trusting.iter().copied().filter(|c| c.status == "ACTIVE").collect();
    checks.push(match (credentials, active.is_empty(), trusting.first()) {
        (None, _, _) => check("iss", Verdict::Pass, format!("\"{iss}\" (not compared: pass --credential FILE)")),
        (Some(_), false, _) => {
            check("iss", Verdict::Pass, format!("\"{iss}\" is trusted by {} active credential(s)", active.len()))
        }
        (Some(_), true, Some(inactive)) => {
            check("iss", Verdict::Fail, format!("\"{iss}\" is trusted only by '{}', which is INACTIVE", inactive.name))
                .fix("activate it: POST .../credentials/federated/{id}/lifecycle/activate")
                .refused(Refusal::FederatedUntrustedIssuer)
        }
        (Some(_), true, None) => check("iss", Verdict::Fail, format!("no credential trusts \"{iss}\""))
            .fix("add a federated credential with this exact issuer (no trailing-slash differences)")
            .refused(Refusal::FederatedUntrustedIssuer),
    });
    checks.extend(key_checks(assertion, header, jwks));
    checks.push(match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => check(
            "exp",
            Verdict::Pass,
            format!("in {} s; the access token will expire by then at the latest", exp - now),
        ),
        Some(exp) => check("exp", Verdict::Fail, format!("expired {} s ago", now - exp))
            .fix("get a fresh token from the platform (re-read the file, ask the runtime again)")
            .refused(Refusal::Expired),
        None => check("exp", Verdict::Fail, "missing: a federated token must expire").refused(Refusal::MissingExp),
    });
    checks.extend(time_checks(claims, now).into_iter().filter(|c| c.rule != "exp"));
    checks.push(check(
        "jti",
        Verdict::Pass,
        "not single use for external tokens: platforms hand the same token out for minutes",
    ));
    let Some(claim_map) = claims.as_object() else { return checks };
    match credentials {
        None => checks.push(check(
            "match",
            Verdict::Skip,
            format!(
                "sub {:?}, aud {}: pass --credential FILE (GET /api/v1/apps/{{id}}/credentials/federated) to check them",
                claims.get("sub").and_then(Value::as_str).unwrap_or(""),
                claims.get("aud").cloned().unwrap_or(Value::Null)
            ),
        )),
        Some(_) => {
            let default_audience = [issuer.to_owned()];
            type Closeness = (usize, std::cmp::Reverse<usize>);
            let mut closest: Option<(&CredentialFile, Vec<Mismatch>, Closeness)> = None;
            let mut matched = None;
            for c in &active {
                let audiences = if c.audiences.is_empty() { &default_audience[..] } else { c.audiences.as_slice() };
                let rule = Rule { subject: &c.subject, audiences, claims: &c.claims, max_token_age: c.max_token_age };
                let failed = mismatches(&rule, claim_map, now);
                if failed.is_empty() {
                    matched = Some(*c);
                    break;
                }
                let how_close = closeness(&rule, &failed);
                if closest.as_ref().is_none_or(|(_, _, best)| how_close > *best) {
                    closest = Some((*c, failed, how_close));
                }
            }
            checks.push(match (matched, closest) {
                (Some(c), _) => check("match", Verdict::Pass, format!("meets credential '{}' ({})", c.name, c.id)),
                (None, Some((c, failed, _))) => {
                    let what: Vec<String> = failed.iter().map(ToString::to_string).collect();
                    check("match", Verdict::Fail, format!("closest: credential '{}': {}", c.name, what.join("; ")))
                        .fix(format!(
                            "compare with the credential: subject {:?}, audiences {:?}{}",
                            c.subject,
                            if c.audiences.is_empty() { default_audience.to_vec() } else { c.audiences.clone() },
                            if c.claims.is_empty() { String::new() } else { format!(", claims {}", Value::Object(c.claims.clone())) }
                        ))
                        .refused(Refusal::FederatedNoMatch)
                }
                (None, None) => check("match", Verdict::Skip, "no active credential trusts the issuer"),
            });
        }
    }
    checks
}
