//! How the client proves who it is at the token endpoint: a signed assertion (`private_key_jwt`, the only
//! method Okta's org authorization server accepts for service apps) or a client secret, in the
//! `Authorization: Basic` header (`client_secret_basic`) or in the form (`client_secret_post`); or, with
//! workload identity federation, a token the platform issued ([`crate::federated`]).
use base64ct::{Base64, Encoding};

use crate::assertion::{AssertionSigner, CLIENT_ASSERTION_TYPE};
use crate::federated::FederatedAuth;
use crate::{ClientError, TokenEndpoint};

/// A client secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself; call only where it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// One client authentication method with its credentials.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `private_key_jwt`: a fresh signed assertion per request.
    PrivateKeyJwt(AssertionSigner),
    /// `client_secret_basic`.
    SecretBasic { client_id: String, secret: Secret },
    /// `client_secret_post`.
    SecretPost { client_id: String, secret: Secret },
    /// Workload identity federation: the platform's token (GitHub Actions, Kubernetes, SPIFFE), obtained
    /// afresh for every request, as the assertion (see [`crate::federated`]).
    Federated(FederatedAuth),
}

/// What one token request carries to authenticate: extra form fields and perhaps a header value.
#[derive(Debug)]
pub struct AuthParts {
    pub form: Vec<(&'static str, String)>,
    pub authorization: Option<String>,
}

impl ClientAuth {
    pub fn client_id(&self) -> &str {
        match self {
            ClientAuth::PrivateKeyJwt(signer) => signer.client_id(),
            ClientAuth::SecretBasic { client_id, .. } | ClientAuth::SecretPost { client_id, .. } => client_id,
            ClientAuth::Federated(f) => &f.client_id,
        }
    }

    /// The RFC 7591 name of the method.
    pub fn method_name(&self) -> &'static str {
        match self {
            ClientAuth::PrivateKeyJwt(_) => "private_key_jwt",
            ClientAuth::SecretBasic { .. } => "client_secret_basic",
            ClientAuth::SecretPost { .. } => "client_secret_post",
            ClientAuth::Federated(_) => "federated_jwt",
        }
    }

    /// The credentials for one request to `endpoint` at `now`. For `private_key_jwt` every call signs a
    /// new assertion with a new `jti`. Like Okta's SDKs, no `client_id` is sent next to an assertion.
    pub fn parts(&self, endpoint: &TokenEndpoint, now: i64) -> Result<AuthParts, ClientError> {
        self.parts_for(endpoint, now, &[])
    }

    /// The credentials for one request, for every method: a federated token is obtained here (a file
    /// read, a variable, or an HTTP request to the GitHub Actions runtime with `http`).
    pub async fn request_parts(
        &self,
        http: &reqwest::Client,
        endpoint: &TokenEndpoint,
        now: i64,
        scopes: &[String],
    ) -> Result<AuthParts, ClientError> {
        match self {
            ClientAuth::Federated(f) => Ok(AuthParts { form: f.form(http, endpoint).await?, authorization: None }),
            other => other.parts_for(endpoint, now, scopes),
        }
    }

    /// [`parts`](Self::parts) for a request for `scopes`, which an Access Gateway assertion repeats. For
    /// [`ClientAuth::Federated`], which may need a request, use [`request_parts`](Self::request_parts).
    pub fn parts_for(&self, endpoint: &TokenEndpoint, now: i64, scopes: &[String]) -> Result<AuthParts, ClientError> {
        Ok(match self {
            ClientAuth::PrivateKeyJwt(signer) => AuthParts {
                form: vec![
                    ("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()),
                    ("client_assertion", signer.sign_for(endpoint, now, scopes)?),
                ],
                authorization: None,
            },
            ClientAuth::SecretBasic { client_id, secret } => {
                AuthParts { form: Vec::new(), authorization: Some(basic_authorization(client_id, secret.expose())) }
            }
            ClientAuth::SecretPost { client_id, secret } => AuthParts {
                form: vec![("client_id", client_id.clone()), ("client_secret", secret.expose().to_owned())],
                authorization: None,
            },
            ClientAuth::Federated(_) => {
                return Err(ClientError::Config(
                    "a federated token is obtained asynchronously: use ClientAuth::request_parts".into(),
                ));
            }
        })
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 requires (the
/// form-urlencoding step is what many clients forget, and what breaks secrets containing `:` or `%`).
pub fn basic_authorization(client_id: &str, secret: &str) -> String {
    let id: String = form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    let secret: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    format!("Basic {}", Base64::encode_string(format!("{id}:{secret}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_of_plain_values() {
        // base64("client:secret")
        assert_eq!(basic_authorization("client", "secret"), "Basic Y2xpZW50OnNlY3JldA==");
    }

    #[test]
    fn basic_form_urlencodes_before_base64() {
        // "a b:c" → "a+b" and "p:%&" → "p%3A%25%26"; base64("a+b:p%3A%25%26")
        let header = basic_authorization("a b", "p:%&");
        let encoded = header.strip_prefix("Basic ").unwrap();
        let decoded = Base64::decode_vec(encoded).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "a+b:p%3A%25%26");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let auth = ClientAuth::SecretPost { client_id: "c".into(), secret: Secret::new("hunter2") };
        assert!(!format!("{auth:?}").contains("hunter2"));
    }

    #[test]
    fn secret_post_puts_credentials_in_the_form() {
        let auth = ClientAuth::SecretPost { client_id: "c".into(), secret: Secret::new("s") };
        let ep = TokenEndpoint::for_org("https://x.example", Some("default")).unwrap();
        let parts = auth.parts(&ep, 0).unwrap();
        assert_eq!(parts.form, vec![("client_id", "c".to_owned()), ("client_secret", "s".to_owned())]);
        assert!(parts.authorization.is_none());
    }
}
