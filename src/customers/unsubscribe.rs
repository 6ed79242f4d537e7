//! Unsubscribe tokens, customers' and leads' alike: one per person and channel, found by its
//! keyed hash, and kept sealed under the person's data key (bound to `<id>/<channel>`) so that
//! the same token can be handed out for every message. Each kind of person has a table of its
//! own ([`CUSTOMERS`], [`LEADS`]) with the same columns; the SQL is here once.
//! [`Store::unsubscribe`](crate::Store::unsubscribe) looks a token up in both tables by its
//! hash: a token is random, so it is in one at most, and the check that its row's sealed copy
//! opens and equals it tells a moved or copied row from a real one.

use std::fmt::Display;

use super::consent::Channel;
use super::token::UnsubscribeToken;
use crate::crypto::data_keys::DataKey;
use crate::crypto::field::{self, Place};
use crate::crypto::keys::Mac256;
use crate::crypto::secret::constant_time_eq;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::{Column, Param, args};
use crate::store::{Store, Tx};

/// Where one kind of person keeps unsubscribe tokens: the table and its statements.
pub(crate) struct TokenTable {
    /// The table, as the sealed token's place names it.
    table: &'static str,
    /// The sealed token of a person (`?1`) and channel (`?2`).
    select: &'static str,
    /// A new row: person, channel, token hash, sealed token, creation time.
    insert: &'static str,
    /// The person, channel and sealed token of a token hash.
    lookup: &'static str,
}

/// Customers' unsubscribe tokens.
pub(crate) const CUSTOMERS: TokenTable = TokenTable {
    table: "shopkeep_customer_unsubscribe",
    select: "SELECT token FROM shopkeep_customer_unsubscribe WHERE customer_id = ?1 AND channel = ?2",
    insert: "INSERT INTO shopkeep_customer_unsubscribe (customer_id, channel, token_hash, token, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
    lookup: "SELECT customer_id, channel, token FROM shopkeep_customer_unsubscribe WHERE token_hash = ?1",
};

/// Leads' unsubscribe tokens.
pub(crate) const LEADS: TokenTable = TokenTable {
    table: "shopkeep_lead_unsubscribe",
    select: "SELECT token FROM shopkeep_lead_unsubscribe WHERE lead_id = ?1 AND channel = ?2",
    insert:
        "INSERT INTO shopkeep_lead_unsubscribe (lead_id, channel, token_hash, token, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
    lookup: "SELECT lead_id, channel, token FROM shopkeep_lead_unsubscribe WHERE token_hash = ?1",
};

impl TokenTable {
    /// Where the token of `id` and `channel` is sealed: the associated data binds it to both.
    fn place<'a>(&self, row: &'a str) -> Place<'a> {
        Place {
            table: self.table,
            column: "token",
            row: row.as_bytes(),
        }
    }

    /// The token of person `id` (whose data key is `key`) and `channel`: the stored one, or a
    /// new one, stored now. The caller has checked that the person exists and may act.
    pub(crate) fn get_or_create<I: Param + Display>(
        &self,
        tx: &Tx<'_>,
        store: &Store,
        key: &DataKey,
        id: I,
        channel: Channel,
    ) -> Result<UnsubscribeToken> {
        let row = format!("{id}/{channel}");
        let sealed: Option<Vec<u8>> =
            tx.query_opt(self.select, args![id, channel.as_str()], |r| r.get(0))?;
        if let Some(sealed) = sealed {
            return Ok(UnsubscribeToken::new(open(key, self.place(&row), &sealed)?));
        }
        let token = UnsubscribeToken::generate()?;
        let hash = store.keys().token_hash(token.as_str().as_bytes());
        let sealed = field::encrypt(key, self.place(&row), token.as_str().as_bytes())?;
        tx.execute(
            self.insert,
            args![id, channel.as_str(), hash.as_slice(), sealed, tx.now()],
        )?;
        Ok(token)
    }

    /// The row whose token hash is `hash`, if this table has one; not yet checked
    /// ([`Found::check`]).
    pub(crate) fn find<I: Column>(&self, tx: &Tx<'_>, hash: &Mac256) -> Result<Option<Found<I>>> {
        let found: Option<(I, String, Vec<u8>)> =
            tx.query_opt(self.lookup, args![hash.as_slice()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        found
            .map(|(id, channel, sealed)| {
                Ok(Found {
                    id,
                    channel: Channel::from_stored(&channel)?,
                    sealed,
                })
            })
            .transpose()
    }
}

/// A token row found by the hash of the token presented.
pub(crate) struct Found<I> {
    /// The person it names.
    pub(crate) id: I,
    /// The channel it unsubscribes from.
    pub(crate) channel: Channel,
    sealed: Vec<u8>,
}

impl<I: Display> Found<I> {
    /// Checks that the row is the one made for `token`: its sealed copy opens under the key of
    /// the person it names, for that person and channel, and equals `token` (in constant
    /// time). A row moved to another person or channel does not open, and one given another
    /// row's hash holds another token.
    ///
    /// # Errors
    ///
    /// `Crypto` if the row was altered outside shopkeep.
    pub(crate) fn check(
        &self,
        table: &TokenTable,
        key: &DataKey,
        token: &UnsubscribeToken,
    ) -> Result<()> {
        let row = format!("{}/{}", self.id, self.channel);
        let stored = field::decrypt(key, table.place(&row), &self.sealed)?;
        if constant_time_eq(&stored, token.as_str().as_bytes()) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Crypto,
                "an unsubscribe token was altered outside shopkeep",
            ))
        }
    }
}

fn open(key: &DataKey, place: Place<'_>, sealed: &[u8]) -> Result<String> {
    let plain = field::decrypt(key, place, sealed)?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| Error::new(ErrorKind::Crypto, "a decrypted field is not text"))
}

#[cfg(test)]
#[cfg(feature = "insecure-test-params")]
mod tests {
    use crate::access::{CustomerId, Principal};
    use crate::crypto::{Password, PasswordParams};
    use crate::customers::Channel;
    use crate::customers::consent_repo::customer_unsubscribe_token_in;
    use crate::leads::consent::lead_unsubscribe_token_in;
    use crate::leads::{LeadForm, LeadId};
    use crate::{Email, ErrorKind, KeyRing, NewCustomer, Store};

    fn audit_entries(store: &Store) -> i64 {
        store
            .read(|tx| {
                tx.query_row(
                    "SELECT count(*) FROM shopkeep_audit",
                    crate::sql::args![],
                    |r| r.get(0),
                )
            })
            .unwrap()
    }

    /// The in-transaction getters a campaign sender calls hand out the very token of the
    /// public methods, without asking the policy or writing an audit entry.
    #[test]
    fn the_campaign_senders_getters_give_the_same_tokens_unaudited() {
        let store = Store::options()
            .password_params(PasswordParams::insecure_for_tests())
            .open_in_memory(KeyRing::from_master_key([7; 32]))
            .unwrap();
        let anonymous = Principal::anonymous();
        let new = NewCustomer::new(
            Email::parse("ana@example.com").unwrap(),
            Password::new("a perfectly long test passphrase"),
            "Ana",
        )
        .unwrap();
        let ana = store.customers(&anonymous).register(new).unwrap().id();
        let form =
            LeadForm::new("Lee", "lee@example.com", "Do you ship to Oslo?").accept_terms(true);
        let lee = store.leads(&anonymous).submit(form, "client").unwrap().id();

        let before = audit_entries(&store);
        let (customer_first, lead_first) = store
            .write(|tx| {
                Ok((
                    customer_unsubscribe_token_in(tx, &store, ana, Channel::Email)?,
                    lead_unsubscribe_token_in(tx, &store, lee, Channel::Email)?,
                ))
            })
            .unwrap();
        assert_eq!(audit_entries(&store), before);
        let system = store.system();
        let customer_public = store
            .consents(&system)
            .unsubscribe_token(ana, Channel::Email)
            .unwrap();
        let lead_public = store
            .leads(&system)
            .unsubscribe_token(lee, Channel::Email)
            .unwrap();
        assert_eq!(customer_first.as_str(), customer_public.as_str());
        assert_eq!(lead_first.as_str(), lead_public.as_str());
        assert_ne!(customer_first.as_str(), lead_first.as_str());
        // The public methods are audited, once each.
        assert_eq!(audit_entries(&store), before + 2);

        // Missing and erased people have none.
        let missing = store.write(|tx| {
            customer_unsubscribe_token_in(
                tx,
                &store,
                CustomerId::from_bytes([9; 16]),
                Channel::Email,
            )
        });
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
        store.leads(&system).erase(lee).unwrap();
        let erased = store.write(|tx| lead_unsubscribe_token_in(tx, &store, lee, Channel::Email));
        assert_eq!(erased.unwrap_err().kind(), ErrorKind::NotFound);
        let missing = store.write(|tx| {
            lead_unsubscribe_token_in(tx, &store, LeadId::from_bytes([9; 16]), Channel::Email)
        });
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
    }
}
