//! A [`KeyValueStore`] over the user's JS storage adapter: one JS function
//! `(op, key, value) => Promise<string | null>` that `index.js` builds from
//! the adapter's `get`/`set`/`delete`, called from any thread and awaited.

use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use sigil::facade::KeyValueStore;
use sigil::{Error, Result};

/// `(op, key, value)`.
pub(crate) type StorageArgs = FnArgs<(String, String, Option<String>)>;

/// The bridge; it resolves to the value for `get` and to nothing otherwise.
pub(crate) type StorageFn = ThreadsafeFunction<
    StorageArgs,
    Promise<Option<String>>,
    StorageArgs,
    napi::Status,
    false,
    true,
>;

pub(crate) struct JsStore(pub(crate) StorageFn);

impl JsStore {
    async fn call(
        &self,
        op: &'static str,
        key: &str,
        value: Option<String>,
    ) -> Result<Option<String>> {
        let failed =
            |e: napi::Error| Error::Storage(format!("storage adapter `{op}` failed: {}", e.reason));
        let promise = self
            .0
            .call_async((op.to_owned(), key.to_owned(), value).into())
            .await
            .map_err(failed)?;
        promise.await.map_err(failed)
    }
}

#[async_trait::async_trait]
impl KeyValueStore for JsStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.call("get", key, None).await
    }
    async fn set(&self, key: &str, value: String) -> Result<()> {
        self.call("set", key, Some(value)).await.map(drop)
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.call("delete", key, None).await.map(drop)
    }
}
