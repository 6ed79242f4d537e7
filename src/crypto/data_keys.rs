//! Per-subject data keys (envelope encryption) and the bounded cache of unwrapped ones.
//!
//! Each data subject (a customer; the shop's legal archive) has its own random 256-bit data key
//! that encrypts its fields. The key is stored only wrapped under the data-key wrapping key.
//! Deleting the wrapped key makes every ciphertext of the subject unreadable for good
//! (crypto-shredding), without hunting down each copy of each field.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aes_gcm::{Aes256Gcm, KeyInit};

use super::secret::SecretKey;
use crate::error::Result;

/// Whose data a key protects. The text form is part of the stored format (it is bound into the
/// wrapped key's associated data).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Subject(String);

impl Subject {
    /// A customer, by id.
    pub(crate) fn customer(id: &str) -> Subject {
        Subject(format!("customer:{id}"))
    }

    /// A lead (a contact-form submission), by id.
    pub(crate) fn lead(id: &str) -> Subject {
        Subject(format!("lead:{id}"))
    }

    /// A webhook endpoint (whose signing secret the key seals), by id.
    pub(crate) fn webhook_endpoint(id: &str) -> Subject {
        Subject(format!("webhook_endpoint:{id}"))
    }

    /// A staff member, by id.
    pub(crate) fn staff(id: &str) -> Subject {
        Subject(format!("staff:{id}"))
    }

    /// The shop's own legal archive (buyer snapshots on orders and invoices), which outlives
    /// any customer's erasure.
    pub(crate) fn legal_archive() -> Subject {
        Subject("archive".to_owned())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// An unwrapped data key and its generation.
pub(crate) struct DataKey {
    id: u32,
    secret: SecretKey,
    /// The key set up for AES-256-GCM once, as the cache keeps the key: a customer read opens
    /// four fields, and setting the cipher up for each cost more than opening it. Zeroized on
    /// drop, as the secret is.
    cipher: Aes256Gcm,
}

impl DataKey {
    pub(crate) fn new(id: u32, secret: SecretKey) -> Self {
        let cipher = Aes256Gcm::new(secret.bytes().into());
        DataKey { id, secret, cipher }
    }

    /// The key, set up for AES-256-GCM.
    pub(crate) fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }

    /// A fresh random key of generation 1.
    pub(crate) fn generate() -> Result<Self> {
        Ok(DataKey::new(1, SecretKey::random()?))
    }

    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    pub(crate) fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey {{ id: {}, secret: [REDACTED] }}", self.id)
    }
}

/// How many unwrapped data keys a store keeps in memory.
pub(crate) const CACHE_CAPACITY: usize = 1024;

/// Unwrapped data keys, keyed by subject *and* the wrapped bytes they came from.
///
/// The wrapped bytes are part of the key on purpose: a lookup first reads the wrapped key from
/// the database, so a key destroyed (by this process or another one) or created in a
/// transaction that rolled back can never be served from the cache. The cache saves the
/// unwrapping, not the read. Evicted keys are zeroized when their last user drops them.
pub(crate) struct DataKeyCache {
    inner: Mutex<CacheInner>,
    capacity: usize,
}

#[derive(Default)]
struct CacheInner {
    keys: HashMap<Subject, (Vec<u8>, Arc<DataKey>)>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<Subject>,
}

impl DataKeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        DataKeyCache {
            inner: Mutex::new(CacheInner::default()),
            capacity: capacity.max(1),
        }
    }

    /// The cached key of `subject` if it was unwrapped from exactly `wrapped`.
    pub(crate) fn get(&self, subject: &Subject, wrapped: &[u8]) -> Option<Arc<DataKey>> {
        let inner = self.lock();
        match inner.keys.get(subject) {
            Some((from, key)) if from.as_slice() == wrapped => Some(Arc::clone(key)),
            _ => None,
        }
    }

    /// Remembers `key` as unwrapped from `wrapped`, evicting the oldest entry when full.
    pub(crate) fn insert(&self, subject: Subject, wrapped: Vec<u8>, key: Arc<DataKey>) {
        let mut inner = self.lock();
        if inner.keys.insert(subject.clone(), (wrapped, key)).is_none() {
            inner.order.push_back(subject);
        }
        while inner.keys.len() > self.capacity {
            match inner.order.pop_front() {
                Some(oldest) => {
                    inner.keys.remove(&oldest);
                }
                None => break,
            }
        }
    }

    /// Forgets the key of `subject` (after it was destroyed).
    pub(crate) fn remove(&self, subject: &Subject) {
        let mut inner = self.lock();
        if inner.keys.remove(subject).is_some() {
            inner.order.retain(|s| s != subject);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().keys.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // The map and queue are only changed together under the lock and never left half-done
        // by a panic (no user code runs inside), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Arc<DataKey> {
        Arc::new(DataKey::new(1, SecretKey::from_bytes([b; 32])))
    }

    #[test]
    fn a_hit_needs_the_same_wrapped_bytes() {
        let cache = DataKeyCache::new(8);
        let s = Subject::customer("1");
        cache.insert(s.clone(), vec![1, 2, 3], key(7));
        assert!(cache.get(&s, &[1, 2, 3]).is_some());
        assert!(
            cache.get(&s, &[1, 2, 4]).is_none(),
            "a re-created key must not hit"
        );
        cache.remove(&s);
        assert!(cache.get(&s, &[1, 2, 3]).is_none());
    }

    #[test]
    fn the_cache_is_bounded_and_evicts_the_oldest() {
        let cache = DataKeyCache::new(3);
        for i in 0..5u8 {
            cache.insert(Subject::customer(&i.to_string()), vec![i], key(i));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&Subject::customer("0"), &[0]).is_none());
        assert!(cache.get(&Subject::customer("4"), &[4]).is_some());
    }
}
