//! The audit chain's rules: every entry's hash covers its fields and the
//! previous entry's hash, from [`GENESIS`]; and the [`Event`] a handler
//! records. Storage and the writer are in [`crate::services::audit`].

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::core::principal::Principal;
use crate::store::AuditEntry;

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of `entry` (its `hash` field is ignored), as 64 lowercase hex
/// digits.
///
/// Exact serialization: SHA-256 over the UTF-8 bytes of the compact JSON
/// array (serde_json, no whitespace)
///
/// ```text
/// [seq, id, ts, type, account, actor, subject, data, prev_hash]
/// ```
///
/// where `seq` and `ts` (UNIX seconds) are JSON integers; `id`, `type` and
/// `prev_hash` are JSON strings; `account`, `actor` and `subject` are JSON
/// strings or `null`; and `data` is the stored JSON text itself encoded as a
/// JSON *string* (so the bytes that are stored are the bytes that are hashed,
/// with no re-serialization). JSON string escaping makes the encoding
/// unambiguous. Example for a genesis entry:
/// `[1,"aud_x",1700000000,"key.created","usr_a","key_b","key_c","{\"name\":\"n\"}","000…0"]`.
pub fn entry_hash(entry: &AuditEntry) -> String {
    let canonical = json!([
        entry.seq,
        entry.id,
        entry.ts,
        entry.kind,
        entry.account,
        entry.actor,
        entry.subject,
        entry.data,
        entry.prev_hash,
    ])
    .to_string();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A security event to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub(crate) kind: String,
    pub(crate) account: Option<String>,
    pub(crate) actor: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) data: Value,
}

impl Event {
    /// An event of `kind` with no account, actor, subject or data yet.
    pub fn new(kind: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            account: None,
            actor: None,
            subject: None,
            data: json!({}),
        }
    }
    /// An event of `kind` done by `caller` in its own account (the actor is
    /// the API key when one was used, else the user).
    pub fn by(kind: &str, caller: &Principal) -> Self {
        Self::new(kind)
            .account(&caller.workspace)
            .actor(caller.actor())
    }
    /// The workspace whose chain shows the entry (a personal workspace has
    /// its user's id).
    pub fn account(mut self, account: &str) -> Self {
        self.account = Some(account.to_owned());
        self
    }
    /// Who acted.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = Some(actor.to_owned());
        self
    }
    /// What was acted on.
    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }
    /// Details (never secrets).
    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_every_field_and_matches_the_documented_form() {
        let e = AuditEntry {
            seq: 1,
            id: "aud_x".into(),
            ts: 1_700_000_000,
            kind: "key.created".into(),
            account: Some("usr_a".into()),
            actor: Some("key_b".into()),
            subject: None,
            data: r#"{"name":"n"}"#.into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        let doc = format!(
            r#"[1,"aud_x",1700000000,"key.created","usr_a","key_b",null,"{{\"name\":\"n\"}}","{GENESIS}"]"#
        );
        let expected: String = Sha256::digest(doc.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entry_hash(&e), expected);
        let mut changed = e.clone();
        changed.data = r#"{"name":"m"}"#.into();
        assert_ne!(entry_hash(&changed), expected);
        let mut changed = e;
        changed.account = Some("usr_other".into());
        assert_ne!(entry_hash(&changed), expected);
    }
}
