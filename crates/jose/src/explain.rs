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
