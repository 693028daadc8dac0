//! Token-signing keys. The current Ed25519 key signs; the JWKS publishes it
//! and the previous one, so tokens signed just before a rotation still verify
//! offline. Keys live in the store, so a restart keeps them.

use std::sync::{Arc, RwLock};

use ed25519_dalek::SigningKey;
use sigil::jws::{self, Jwk, Jwks, TokenError, VerifiedToken, VerifyOptions};

use crate::store::{SigningKeyRow, Store, StoreError, StoreResult};

/// The keys in force at one moment.
#[derive(Debug)]
pub struct Keyring {
    kid: String,
    created_at: i64,
    signing: SigningKey,
    jwks: Jwks,
    jwks_json: serde_json::Value,
}

impl Keyring {
    fn from_rows(rows: &[SigningKeyRow]) -> StoreResult<Self> {
        let key = |row: &SigningKeyRow| -> StoreResult<SigningKey> {
            let seed: [u8; 32] = row
                .seed
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("signing key {} seed", row.kid)))?;
            Ok(SigningKey::from_bytes(&seed))
        };
        let current = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("no signing key".into()))?;
        let signing = key(current)?;
        let mut jwks = Jwks { keys: Vec::new() };
        for row in rows.iter().take(2) {
            jwks.keys.push(Jwk::from_verifying_key(
                &key(row)?.verifying_key(),
                &row.kid,
            ));
        }
        let jwks_json =
            serde_json::to_value(&jwks).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Self {
            kid: current.kid.clone(),
            created_at: current.created_at,
            signing,
            jwks,
            jwks_json,
        })
    }

    /// Signs `claims` as a compact JWS of type `typ`.
    pub fn sign(&self, typ: &str, claims: &serde_json::Value) -> String {
        jws::sign(&self.signing, &self.kid, typ, claims)
    }

    /// Verifies a token signed by a published key.
    pub fn verify(
        &self,
        token: &str,
        options: &VerifyOptions,
        now: i64,
    ) -> Result<VerifiedToken, TokenError> {
        jws::verify(token, &self.jwks, options, now)
    }

    /// The JWKS document.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks_json
    }

    /// The signing key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// How many verified tokens are remembered.
const VERIFIED_CACHE: usize = 16_384;

/// The live keyring, swapped whole on rotation, and a cache of tokens whose
/// signature already verified: resource servers introspect the same token
/// many times in its life, and the Ed25519 check is the costly part.
pub struct Keys {
    ring: RwLock<Arc<Keyring>>,
    verified: quick_cache::sync::Cache<String, Arc<VerifiedToken>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("kid", &self.current().kid())
            .field("verified_cached", &self.verified.len())
            .finish()
    }
}

impl Keys {
    /// Loads the keys, creating the first one on a new database (once, when
    /// several nodes start together).
    pub async fn load(store: &dyn Store, now: i64) -> StoreResult<Self> {
        store.rotate_signing_key(&new_key(now), i64::MIN).await?;
        Ok(Self {
            ring: RwLock::new(Arc::new(Keyring::from_rows(&store.signing_keys().await?)?)),
            verified: quick_cache::sync::Cache::new(VERIFIED_CACHE),
        })
    }

    /// Verifies a token signed by a published key. A cache hit skips only the
    /// signature: type, time and claims are checked again on every call.
    pub fn verify(
        &self,
        token: &str,
        options: &VerifyOptions,
        now: i64,
    ) -> Result<Arc<VerifiedToken>, TokenError> {
        if let Some(hit) = self.verified.get(token) {
            hit.check(options, now)?;
            return Ok(hit);
        }
        let verified = Arc::new(self.current().verify(token, options, now)?);
        self.verified.insert(token.to_owned(), verified.clone());
        Ok(verified)
    }

    /// [`Keys::verify`] for many tokens, in input order: cache hits skip
    /// the signature, and the misses share one Ed25519 batch verification.
    pub fn verify_batch(
        &self,
        tokens: &[&str],
        options: &VerifyOptions,
        now: i64,
    ) -> Vec<Result<Arc<VerifiedToken>, TokenError>> {
        let hits: Vec<Option<Arc<VerifiedToken>>> = tokens
            .iter()
            .map(|token| self.verified.get(*token))
            .collect();
        let unseen: Vec<&str> = tokens
            .iter()
            .zip(&hits)
            .filter(|(_, hit)| hit.is_none())
            .map(|(token, _)| *token)
            .collect();
        let mut fresh = jws::verify_batch(&unseen, &self.current().jwks, options, now).into_iter();
        tokens
            .iter()
            .zip(hits)
            .map(|(token, hit)| match hit {
                Some(hit) => hit.check(options, now).map(|()| hit),
                None => {
                    let verified = Arc::new(fresh.next().expect("one result per unseen token")?);
                    self.verified.insert((*token).to_owned(), verified.clone());
                    Ok(verified)
                }
            })
            .collect()
    }

    /// The keyring in force.
    pub fn current(&self) -> Arc<Keyring> {
        match self.ring.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rotates when the current key is older than `max_age_secs`; true when
    /// this call did. Nodes sharing a database rotate once between them.
    pub async fn rotate_if_older(
        &self,
        store: &dyn Store,
        now: i64,
        max_age_secs: i64,
    ) -> StoreResult<bool> {
        if now - self.current().created_at < max_age_secs {
            return Ok(false);
        }
        let rotated = store
            .rotate_signing_key(&new_key(now), now - max_age_secs)
            .await?;
        self.reload(store).await?;
        Ok(rotated)
    }

    /// Makes a new key current; the old one stays published.
    pub async fn rotate(&self, store: &dyn Store, now: i64) -> StoreResult<()> {
        store.rotate_signing_key(&new_key(now), i64::MAX).await?;
        self.reload(store).await
    }

    /// Reads the keys again (after this node or another rotated them).
    pub async fn reload(&self, store: &dyn Store) -> StoreResult<()> {
        let ring = Arc::new(Keyring::from_rows(&store.signing_keys().await?)?);
        match self.ring.write() {
            Ok(mut w) => *w = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
        // A key can drop out of the published set; forget what it verified.
        self.verified.clear();
        Ok(())
    }
}

fn new_key(now: i64) -> SigningKeyRow {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).expect("the operating system's random source failed");
    SigningKeyRow {
        kid: crate::core::crypto::new_id("kid_"),
        seed: seed.to_vec(),
        created_at: now,
        retired_at: None,
    }
}
