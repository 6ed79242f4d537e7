//! What the hand-written baselines of the checkout and invoice benches share: AES-256-GCM
//! sealing as shopkeep's field encryption does it, random bytes, time-ordered ids, and the
//! length-prefixed HMAC the audit chain uses.
#![allow(dead_code, clippy::unwrap_used)]

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub fn seal(aead: &Aes256Gcm, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let nonce: [u8; 12] = rand_bytes();
    let mut out = nonce.to_vec();
    out.extend(
        aead.encrypt(
            &Nonce::try_from(&nonce[..]).unwrap(),
            Payload { msg: plain, aad },
        )
        .unwrap(),
    );
    out
}

pub fn open(aead: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Vec<u8> {
    aead.decrypt(
        &Nonce::try_from(&sealed[..12]).unwrap(),
        Payload {
            msg: &sealed[12..],
            aad,
        },
    )
    .unwrap()
}

pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0; N];
    getrandom::fill(&mut b).unwrap();
    b
}

pub fn uuid7() -> [u8; 16] {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    *uuid::Builder::from_unix_timestamp_millis(millis, &rand_bytes())
        .as_uuid()
        .as_bytes()
}

pub fn mac(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(&(p.len() as u32).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}
