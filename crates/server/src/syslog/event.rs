//! One System Log event, built by the code that knows what happened and rendered in Okta's `LogEvent`
//! shape. Nothing secret goes in: callers name parties by id and put only non-secret facts in
//! `debugData` (scopes, a `kid`, an assertion `jti`, a DPoP `jkt` — never a token, secret or key).
use crate::clock::{iso8601, now_millis};
use serde_json::{Map, Value, json};

/// Okta's severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Info,
    Warn,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
        }
    }
}

/// An actor or a target: Okta's `{id, type, alternateId, displayName, detailEntry}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Party {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) alternate_id: String,
    pub(crate) display_name: String,
}

impl Party {
    pub(crate) fn new(
        id: impl Into<String>,
        kind: &'static str,
        alternate_id: impl Into<String>,
        display_name: impl Into<String>,
    ) -> Self {
        Party { id: id.into(), kind, alternate_id: alternate_id.into(), display_name: display_name.into() }
    }

    /// The server itself (key rotation, pruning): Okta's `SystemPrincipal`.
    pub(crate) fn system() -> Self {
        Party::new("tollgate", "SystemPrincipal", "system@tollgate", "tollgate")
    }

    /// A caller nobody has authenticated yet (a refused token request names the client it claimed).
    pub(crate) fn unknown() -> Self {
        Party::new("unknown", "PublicClientApp", "unknown", "Unknown")
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "alternateId": self.alternate_id,
            "displayName": self.display_name,
            "detailEntry": Value::Null,
        })
    }
}

/// Where a request came from, as the HTTP layer saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RequestContext {
    /// The request id, also sent as `X-Okta-Request-Id` (Okta's `transaction.id`).
    pub(crate) request_id: String,
    pub(crate) ip: String,
    pub(crate) user_agent: String,
}

/// An event on its way to the log.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) uuid: String,
    pub(crate) published: i64,
    pub(crate) event_type: &'static str,
    pub(crate) severity: Severity,
    pub(crate) display_message: String,
    pub(crate) actor: Party,
    pub(crate) targets: Vec<Party>,
    /// `SUCCESS`, `FAILURE`, `DENY`, ...
    pub(crate) result: &'static str,
    pub(crate) reason: Option<String>,
    pub(crate) context: RequestContext,
    pub(crate) debug: Map<String, Value>,
}

impl Event {
    /// A successful `event_type` by `actor`, now.
    pub(crate) fn new(event_type: &'static str, display_message: impl Into<String>, actor: Party) -> Self {
        Event {
            uuid: uuid::Uuid::now_v7().to_string(),
            published: now_millis(),
            event_type,
            severity: Severity::Info,
            display_message: display_message.into(),
            actor,
            targets: Vec::new(),
            result: "SUCCESS",
            reason: None,
            context: RequestContext::default(),
            debug: Map::new(),
        }
    }

    pub(crate) fn target(mut self, target: Party) -> Self {
        self.targets.push(target);
        self
    }

    /// A refusal: `result` (`FAILURE` or `DENY`) with the reason the caller was given.
    pub(crate) fn outcome(mut self, result: &'static str, reason: impl Into<String>) -> Self {
        self.result = result;
        self.reason = Some(reason.into());
        if self.severity == Severity::Info {
            self.severity = Severity::Warn;
        }
        self
    }

    pub(crate) fn context(mut self, context: &RequestContext) -> Self {
        self.context = context.clone();
        self
    }

    /// One `debugContext.debugData` entry; empty values are left out.
    pub(crate) fn debug(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        if !matches!(&value, Value::Null) && value.as_str() != Some("") {
            self.debug.insert(key.to_string(), value);
        }
        self
    }

    /// Okta's `LogEvent` JSON.
    pub(crate) fn to_json(&self) -> Value {
        let mut debug = self.debug.clone();
        if !self.context.request_id.is_empty() {
            debug.insert("requestId".into(), json!(self.context.request_id));
        }
        let ip = (!self.context.ip.is_empty()).then_some(self.context.ip.as_str());
        json!({
            "uuid": self.uuid,
            "published": iso8601(self.published),
            "eventType": self.event_type,
            "version": "0",
            "severity": self.severity.as_str(),
            "legacyEventType": Value::Null,
            "displayMessage": self.display_message,
            "actor": self.actor.to_json(),
            "client": {
                "userAgent": {
                    "rawUserAgent": (!self.context.user_agent.is_empty()).then_some(&self.context.user_agent),
                    "os": "Unknown",
                    "browser": "UNKNOWN",
                },
                "zone": "null",
                "device": "Unknown",
                "id": Value::Null,
                "ipAddress": ip,
                "geographicalContext": Value::Null,
            },
            "device": Value::Null,
            "authenticationContext": {
                "authenticationProvider": Value::Null,
                "credentialProvider": Value::Null,
                "credentialType": Value::Null,
                "issuer": Value::Null,
                "interface": Value::Null,
                "authenticationStep": 0,
                "externalSessionId": Value::Null,
            },
            "outcome": { "result": self.result, "reason": self.reason },
            "securityContext": {
                "asNumber": Value::Null,
                "asOrg": Value::Null,
                "isp": Value::Null,
                "domain": Value::Null,
                "isProxy": Value::Null,
            },
            "debugContext": { "debugData": debug },
            "transaction": {
                "type": "WEB",
                "id": (!self.context.request_id.is_empty()).then_some(&self.context.request_id),
                "detail": {},
            },
            "request": { "ipChain": ip.map(|ip| vec![json!({ "ip": ip, "geographicalContext": Value::Null, "version": if ip.contains(':') { "V6" } else { "V4" }, "source": Value::Null })]).unwrap_or_default() },
            "target": self.targets.iter().map(Party::to_json).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_okta_log_event_shape() {
        let ctx = RequestContext { request_id: "req1".into(), ip: "127.0.0.1".into(), user_agent: "curl/8".into() };
        let e = Event::new(
            "app.oauth2.token.grant.access_token",
            "OAuth2 access token is granted",
            Party::new("0oa1", "PublicClientApp", "0oa1", "svc"),
        )
        .target(Party::new("AT.1", "access_token", "AT.1", "Access Token"))
        .context(&ctx)
        .debug("grantedScopes", "okta.users.read")
        .debug("empty", "");
        let v = e.to_json();
        assert_eq!(v["eventType"], "app.oauth2.token.grant.access_token");
        assert_eq!(v["outcome"]["result"], "SUCCESS");
        assert_eq!(v["outcome"]["reason"], Value::Null);
        assert_eq!(v["client"]["ipAddress"], "127.0.0.1");
        assert_eq!(v["client"]["userAgent"]["rawUserAgent"], "curl/8");
        assert_eq!(v["transaction"]["id"], "req1");
        assert_eq!(v["debugContext"]["debugData"]["grantedScopes"], "okta.users.read");
        assert_eq!(v["debugContext"]["debugData"]["requestId"], "req1");
        assert!(v["debugContext"]["debugData"].get("empty").is_none());
        assert_eq!(v["target"][0]["type"], "access_token");
        assert_eq!(v["severity"], "INFO");
        let refused = e.outcome("FAILURE", "The client_assertion signature is invalid.");
        assert_eq!(refused.to_json()["severity"], "WARN");
        assert_eq!(refused.to_json()["outcome"]["reason"], "The client_assertion signature is invalid.");
    }
}
