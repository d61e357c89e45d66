//! What differs between the three flavours of authorization server, as data: one row per flavour
//! ([`ORG`], [`CUSTOM`], [`OAG`]), looked up with [`crate::state::AuthzServer::rules`]. The token path
//! consults the row of the server a request is for; no step of it asks which flavour it is, and what is not
//! in a row is the same everywhere (assertion checks and their order, keys, `jti` single use, errors).
//!
//! The Access Gateway (`POST /api/v2/oauth/token`) is the org server's rule set with its own row: the org's
//! issuer, keys and grants, but an `aud` that is the base URL alone, a required `scope` claim, `okta.oag.*`
//! scopes only, Bearer tokens of 300 s, and 400 for every refusal. Its other two differences are routing:
//! its token URL (`AuthzServer::endpoint`) and that it has no introspect or revoke endpoint.
use axum::http::StatusCode;
use tollgate_jose::assertion::Refusal;

/// How a client authenticated (RFC 7591 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    PrivateKeyJwt,
    ClientSecretBasic,
    ClientSecretPost,
    /// An external token matched against the app's federated credentials (workload identity federation;
    /// sent as a `client_assertion`, so the row's `token_methods` see it as [`AuthMethod::PrivateKeyJwt`]).
    Federated,
}

impl AuthMethod {
    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::Federated => "federated_jwt",
        }
    }
}

/// Every method, for the endpoints that take them all (introspect, revoke; custom servers' token).
pub const ALL_METHODS: &[AuthMethod] =
    &[AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost, AuthMethod::PrivateKeyJwt];

/// Which `aud` a client assertion may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The invoked endpoint's URL, or the issuer (RFC 7523bis).
    EndpointOrIssuer,
    /// The invoked endpoint's URL; the issuer only from an assertion without a `scope` claim, because the
    /// org issuer is the Access Gateway's base URL and such an assertion is the gateway's.
    EndpointOrIssuerWithoutScopeClaim,
    /// The issuer alone: a list that also named the token URL would make one assertion good at two flavours.
    IssuerAlone,
}

/// Which scopes a server issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scopes {
    /// Okta API scopes (`okta.*`, but none of the gateway's `okta.oag.*`), narrowed to the app's org grants.
    OktaApi,
    /// Known `okta.oag.*` scopes only, narrowed to the app's org grants.
    Gateway,
    /// The server's own scopes, under its access policy.
    ServerOwn,
}

/// One flavour's rules.
#[derive(Debug)]
pub struct ServerRules {
    /// Client authentication methods its token endpoint takes; any other is refused before any lookup.
    pub token_methods: &'static [AuthMethod],
    /// The refusal (401 `invalid_client`) of any other method.
    pub other_method_refusal: &'static str,
    pub audience: Audience,
    /// The refusal of any other `aud`.
    pub wrong_audience: Refusal,
    /// The assertion must carry a `scope` claim naming the same set as the form's `scope`.
    pub scope_claim: bool,
    /// Only `application_type: service` apps get tokens.
    pub service_apps_only: bool,
    pub scopes: Scopes,
    /// Whether an app with `dpop_bound_access_tokens` gets DPoP-bound tokens here.
    pub dpop: bool,
    /// Whether external tokens authenticate apps through their federated credentials here.
    pub federation: bool,
    /// When set, every 4xx is answered with this status instead.
    pub client_error_status: Option<StatusCode>,
    /// Access token lifetime in seconds; `None`: the server's own setting.
    pub token_lifetime: Option<i64>,
}

/// Org access tokens last exactly one hour (Okta: "fixed at one hour").
pub const ORG_TOKEN_LIFETIME: i64 = 3600;

/// `/oauth2/v1/...`: the org authorization server.
pub const ORG: ServerRules = ServerRules {
    token_methods: &[AuthMethod::PrivateKeyJwt],
    other_method_refusal: "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.",
    audience: Audience::EndpointOrIssuerWithoutScopeClaim,
    wrong_audience: Refusal::WrongAudience,
    scope_claim: false,
    service_apps_only: true,
    scopes: Scopes::OktaApi,
    dpop: true,
    federation: true,
    client_error_status: None,
    token_lifetime: Some(ORG_TOKEN_LIFETIME),
};

/// `/oauth2/{id}/v1/...`: a custom authorization server.
pub const CUSTOM: ServerRules = ServerRules {
    token_methods: ALL_METHODS,
    other_method_refusal: "",
    audience: Audience::EndpointOrIssuer,
    wrong_audience: Refusal::WrongAudience,
    scope_claim: false,
    service_apps_only: false,
    scopes: Scopes::ServerOwn,
    dpop: true,
    federation: true,
    client_error_status: None,
    token_lifetime: None,
};

/// `/api/v2/oauth/token`: the Okta Access Gateway flavour of the org server.
pub const OAG: ServerRules = ServerRules {
    token_methods: &[AuthMethod::PrivateKeyJwt],
    other_method_refusal: "Access Gateway token requests must authenticate with a signed JWT in the client_assertion parameter.",
    audience: Audience::IssuerAlone,
    wrong_audience: Refusal::WrongGatewayAudience,
    scope_claim: true,
    service_apps_only: true,
    scopes: Scopes::Gateway,
    // The gateway has no DPoP and its `/api/v2` takes Bearer tokens only; a `DPoP` header is ignored.
    dpop: false,
    // Its assertions must carry a `scope` claim, which no platform's token has.
    federation: false,
    // OAG answers 400 on bad requests.
    client_error_status: Some(StatusCode::BAD_REQUEST),
    // OAG's `expires_in: 300`.
    token_lifetime: Some(300),
};
