//! [`AgentSource`]: tokens from a running agent, for Rust services on the same host (and for
//! `tollgate token` / `tollgate call`). Each call is one short connection to the socket. The socket and
//! the agent behind it must belong to this user: a socket file someone else owns, or a peer with another
//! uid, is refused before anything is sent.
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::protocol::{Envelope, MAX_LINE_BYTES, ProofFor, ProofQuery, Request, Response, TokenQuery, VERSION, code};
use crate::local::{current_uid, default_agent_socket, same_user};
use crate::{ClientError, TokenResponse};

/// How long one exchange with the agent may take (a token request it makes for us included).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A token the agent handed out.
#[derive(Debug, Clone)]
pub struct AgentToken {
    pub token: TokenResponse,
    /// When it was obtained and when it expires (seconds since the epoch).
    pub obtained_at: i64,
    pub expires_at: i64,
    /// Whether it came from the agent's cache.
    pub cached: bool,
    /// For a DPoP-bound token: the thumbprint of the agent's key it is bound to.
    pub jkt: Option<String>,
    /// The proof asked for with [`AgentSource::token_with_proof`].
    pub dpop_proof: Option<String>,
}

/// A token source backed by a running `tollgate agent`.
#[derive(Debug, Clone)]
pub struct AgentSource {
    socket: PathBuf,
    query: TokenQuery,
    timeout: Duration,
}

impl AgentSource {
    /// The agent at `socket`, asked for its own client and scopes.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        AgentSource { socket: socket.into(), query: TokenQuery::default(), timeout: DEFAULT_TIMEOUT }
    }

    /// The agent at the per-user default socket (`$XDG_RUNTIME_DIR/tollgate/agent.sock`, or
    /// `TOLLGATE_AGENT_SOCKET`).
    pub fn at_default_socket() -> Self {
        Self::new(default_agent_socket())
    }

    /// What to ask for: token endpoint, client, scopes, DPoP (left out: the agent's).
    pub fn with_query(mut self, query: TokenQuery) -> Self {
        self.query = query;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn query(&self) -> &TokenQuery {
        &self.query
    }

    /// Whether a socket file is there (an agent may be running).
    pub fn socket_exists(&self) -> bool {
        std::fs::symlink_metadata(&self.socket).is_ok()
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> ClientError {
        ClientError::AgentUnavailable { socket: self.socket.display().to_string(), reason: reason.to_string() }
    }

    async fn connect(&self) -> Result<UnixStream, ClientError> {
        use std::os::unix::fs::MetadataExt;
        let uid = current_uid();
        let meta = std::fs::symlink_metadata(&self.socket).map_err(|e| self.unavailable(e))?;
        if !same_user(meta.uid(), uid) {
            return Err(self.unavailable(format!("the socket belongs to uid {}, not to this user", meta.uid())));
        }
        let stream = UnixStream::connect(&self.socket).await.map_err(|e| self.unavailable(e))?;
        let peer = stream.peer_cred().map_err(|e| self.unavailable(e))?.uid();
        if !same_user(peer, uid) {
            return Err(self.unavailable(format!("the agent runs as uid {peer}, not as this user")));
        }
        Ok(stream)
    }

    /// Sends one request, reads one answer; a refusal becomes a [`ClientError`].
    pub async fn call(&self, request: Request) -> Result<Response, ClientError> {
        let exchange = async {
            let stream = self.connect().await?;
            let (read, mut write) = stream.into_split();
            let mut line = serde_json::to_vec(&Envelope { v: VERSION, request })
                .map_err(|e| ClientError::Config(e.to_string()))?;
            line.push(b'\n');
            write.write_all(&line).await.map_err(|e| self.unavailable(e))?;
            let mut answer = Vec::new();
            BufReader::new(read)
                .take(MAX_LINE_BYTES)
                .read_until(b'\n', &mut answer)
                .await
                .map_err(|e| self.unavailable(e))?;
            if answer.is_empty() {
                return Err(self.unavailable("the agent closed the connection without answering"));
            }
            serde_json::from_slice::<Response>(&answer)
                .map_err(|e| ClientError::InvalidResponse { context: "tollgate agent", detail: e.to_string() })
        };
        let response = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| self.unavailable(format!("no answer within {:?}", self.timeout)))??;
        if response.ok {
            return Ok(response);
        }
        let error = response.error.unwrap_or_else(|| super::protocol::ErrorBody {
            code: "unknown".into(),
            message: "the agent refused without saying why".into(),
            upstream: None,
        });
        Err(match error.upstream {
            // The token endpoint's own refusal, as if we had asked it ourselves.
            Some(up) => ClientError::OAuth {
                context: "token request (through the agent)",
                status: up.status,
                error: up.error,
                description: up.error_description,
            },
            None if error.code == code::FORBIDDEN => self.unavailable(error.message),
            None => ClientError::Agent { code: error.code, message: error.message },
        })
    }

    /// A token (from the agent's cache, or fetched by it for all concurrent callers at once).
    pub async fn token(&self) -> Result<AgentToken, ClientError> {
        self.token_query(self.query.clone()).await
    }

    /// A DPoP-bound token and a proof for the API request `htm` `htu` (with a `nonce` the API sent).
    pub async fn token_with_proof(&self, htm: &str, htu: &str, nonce: Option<&str>) -> Result<AgentToken, ClientError> {
        let mut query = self.query.clone();
        query.dpop = true;
        query.proof = Some(ProofFor { htm: htm.to_owned(), htu: htu.to_owned(), nonce: nonce.map(str::to_owned) });
        self.token_query(query).await
    }

    async fn token_query(&self, query: TokenQuery) -> Result<AgentToken, ClientError> {
        let response = self.call(Request::Token(query)).await?;
        let invalid =
            |what: &str| ClientError::InvalidResponse { context: "tollgate agent", detail: format!("no {what}") };
        let token = response.token.ok_or_else(|| invalid("token"))?;
        Ok(AgentToken {
            token,
            obtained_at: response.obtained_at.ok_or_else(|| invalid("obtained_at"))?,
            expires_at: response.expires_at.ok_or_else(|| invalid("expires_at"))?,
            cached: response.cached.unwrap_or(false),
            jkt: response.jkt,
            dpop_proof: response.dpop_proof,
        })
    }

    /// A proof, signed by the agent, for an API request with a DPoP-bound token it handed out.
    pub async fn proof(
        &self,
        htm: &str,
        htu: &str,
        access_token: &str,
        nonce: Option<&str>,
    ) -> Result<String, ClientError> {
        let request = ProofFor { htm: htm.to_owned(), htu: htu.to_owned(), nonce: nonce.map(str::to_owned) };
        let response = self.call(Request::Proof(ProofQuery { access_token: access_token.to_owned(), request })).await?;
        response
            .dpop_proof
            .ok_or_else(|| ClientError::InvalidResponse { context: "tollgate agent", detail: "no dpop_proof".into() })
    }

    /// Tells the agent a server refused `access_token`, so the next request fetches a new one.
    pub async fn invalidate(&self, access_token: &str) -> Result<(), ClientError> {
        self.call(Request::Invalidate { access_token: access_token.to_owned() }).await.map(|_| ())
    }

    /// The agent's health and counters.
    pub async fn status(&self) -> Result<serde_json::Value, ClientError> {
        Ok(self.call(Request::Status).await?.status.unwrap_or_default())
    }

    /// Stops the agent.
    pub async fn shutdown(&self) -> Result<(), ClientError> {
        self.call(Request::Shutdown).await.map(|_| ())
    }
}
