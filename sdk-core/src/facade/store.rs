//! String key-value storage, the one shape every host already has (a Redis
//! client, a database table, `sessionStorage`, a Python dict), and the
//! session storage the facade builds on it: the token set under one key and
//! each pending authorization under its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Listeners, TokenEvent};
use crate::error::{Error, Result};
use crate::session::SessionStorage;
use crate::tokens::TokenSet;
use crate::transport::MaybeSendSync;

/// Async string storage that a binding implements over the host's callbacks.
/// Errors should be [`Error::Storage`]; anything a callback returns that is
/// not a string (or nothing) is the binding's to report the same way.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait KeyValueStore: MaybeSendSync {
    /// The value under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<String>>;
    /// Sets `key`.
    async fn set(&self, key: &str, value: String) -> Result<()>;
    /// Removes `key`; removing a missing key succeeds.
    async fn delete(&self, key: &str) -> Result<()>;
}

/// In-process storage, the default.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<HashMap<String, String>>);

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl KeyValueStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.lock()?.get(key).cloned())
    }
    async fn set(&self, key: &str, value: String) -> Result<()> {
        self.lock()?.insert(key.to_owned(), value);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.lock()?.remove(key);
        Ok(())
    }
}

impl MemoryStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>> {
        self.0
            .lock()
            .map_err(|_| Error::Storage("memory store lock poisoned".into()))
    }
}

/// A [`SessionStorage`] over a [`KeyValueStore`]: the token set is JSON under
/// `{prefix}:tokens`. A value that does not parse is deleted and reported
/// once, as [`Error::Storage`] from the call that read it and as a
/// `discarded` event, so a corrupt entry never wedges the session.
pub(crate) struct KvSessionStorage {
    pub(crate) store: Arc<dyn KeyValueStore>,
    pub(crate) prefix: String,
    pub(crate) listeners: Listeners,
}

impl KvSessionStorage {
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl SessionStorage for KvSessionStorage {
    async fn load(&self) -> Result<Option<TokenSet>> {
        let key = self.key("tokens");
        let Some(text) = self.store.get(&key).await? else {
            return Ok(None);
        };
        match crate::json::from_slice(text.as_bytes()) {
            Ok(tokens) => Ok(Some(tokens)),
            Err(e) => {
                self.store.delete(&key).await?;
                let error = Error::Storage(format!(
                    "stored token set is not valid ({e}); it was discarded"
                ));
                self.listeners.emit(&TokenEvent::Discarded {
                    error: error.info(),
                });
                Err(error)
            }
        }
    }
    async fn store(&self, tokens: &TokenSet) -> Result<()> {
        let text = serde_json::to_string(tokens).map_err(|e| Error::Storage(e.to_string()))?;
        self.store.set(&self.key("tokens"), text).await
    }
    async fn clear(&self) -> Result<()> {
        self.store.delete(&self.key("tokens")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facade::TokenListener;

    struct Recorder(Arc<Mutex<Vec<TokenEvent>>>);

    impl TokenListener for Recorder {
        fn on_event(&self, event: &TokenEvent) {
            self.0.lock().unwrap().push(event.clone());
        }
    }

    #[tokio::test]
    async fn corrupt_tokens_are_reported_once_and_discarded() {
        let store = Arc::new(MemoryStore::default());
        store.set("s:tokens", "{not json".into()).await.unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let listeners = Listeners::default();
        listeners.add(Arc::new(Recorder(events.clone())));
        let storage = KvSessionStorage {
            store: store.clone(),
            prefix: "s".into(),
            listeners,
        };
        let err = storage.load().await.unwrap_err();
        assert_eq!(err.code(), "storage_error");
        let events = events.lock().unwrap().clone();
        assert!(
            matches!(&events[..], [TokenEvent::Discarded { error }] if error.class == "StorageError"),
            "{events:?}"
        );
        assert_eq!(err.kind().class_name(), "StorageError");
        assert!(storage.load().await.unwrap().is_none());
        assert!(store.get("s:tokens").await.unwrap().is_none());
    }
}
