//! Per-user places on this machine: the runtime directory holding the agent's socket and the cache
//! directory holding tokens on disk. Both are created private (0700) and refused when another user owns
//! them or others may write into them, so a token is never read from, or written to, where another user
//! could have put or could read it.
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::ClientError;

/// The effective user id of this process.
pub fn current_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Whether a peer with `peer_uid` may use something owned by `owner_uid`: only the same user. (Root gets
/// no exception: an agent serves its own user only.)
pub fn same_user(peer_uid: u32, owner_uid: u32) -> bool {
    peer_uid == owner_uid
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute())
}

/// `$XDG_RUNTIME_DIR/tollgate`, else `/tmp/tollgate-<uid>`.
pub fn runtime_dir() -> PathBuf {
    match env_dir("XDG_RUNTIME_DIR") {
        Some(dir) => dir.join("tollgate"),
        None => std::env::temp_dir().join(format!("tollgate-{}", current_uid())),
    }
}

/// The agent's default socket: `TOLLGATE_AGENT_SOCKET`, else `agent.sock` in [`runtime_dir`].
pub fn default_agent_socket() -> PathBuf {
    env_dir("TOLLGATE_AGENT_SOCKET").unwrap_or_else(|| runtime_dir().join("agent.sock"))
}

/// `$XDG_CACHE_HOME/tollgate`, else `$HOME/.cache/tollgate`; `None` when neither is set.
pub fn cache_dir() -> Option<PathBuf> {
    env_dir("XDG_CACHE_HOME")
        .map(|d| d.join("tollgate"))
        .or_else(|| env_dir("HOME").map(|h| h.join(".cache").join("tollgate")))
}

/// Why a file or directory is not private to this user, if it is not.
pub fn not_private(meta: &std::fs::Metadata, uid: u32) -> Option<String> {
    if !same_user(meta.uid(), uid) {
        return Some(format!("it belongs to uid {}, not {uid}", meta.uid()));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Some(format!("its mode is {mode:o}: group and others must have no access"));
    }
    None
}

/// Creates `dir` (and its parents) with mode 0700 if missing, and checks that it is a private directory
/// of this user (not a symbolic link).
pub fn private_dir(dir: &Path) -> Result<(), ClientError> {
    let refuse = |why: String| ClientError::Config(format!("refusing to use {}: {why}", dir.display()));
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| refuse(format!("cannot create it: {e}")))?;
        }
        Err(e) => return Err(refuse(e.to_string())),
        Ok(_) => {}
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| refuse(e.to_string()))?;
    if !meta.is_dir() {
        return Err(refuse("it is not a directory".into()));
    }
    match not_private(&meta, current_uid()) {
        Some(why) => Err(refuse(why)),
        None => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically (a 0600 temporary file in the same directory, then a rename).
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        std::io::Write::write_all(&mut file, bytes)?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Reads `path` if it is a regular file private to this user; `None` when it is missing or not private.
pub fn read_private_file(path: &Path, max: u64) -> Option<Vec<u8>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    if let Some(why) = not_private(&meta, current_uid()) {
        tracing::warn!(path = %path.display(), why, "ignoring a cached token file that is not private");
        return None;
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max), &mut bytes).ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_user_is_served() {
        assert!(same_user(1000, 1000));
        assert!(!same_user(1001, 1000));
        assert!(!same_user(0, 1000), "not even root");
    }

    #[test]
    fn private_dirs_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let file = dir.join("t.json");
        write_private_file(&file, b"{}").unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_private_file(&file, 10).as_deref(), Some(&b"{}"[..]));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_private_file(&file, 10), None, "readable by others: ignored");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(private_dir(&dir).is_err(), "a directory others can read is refused");
        let meta = std::fs::metadata(&file).unwrap();
        assert!(not_private(&meta, meta.uid() + 1).unwrap().contains("belongs to uid"));
    }
}
