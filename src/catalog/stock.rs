//! Stock movements: why stock changed, by how much, and the ledger row each change leaves.

use super::product::{MAX_QUANTITY, VariantId};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::text;

/// Why stock moved. Every movement is a row in the stock ledger.
///
/// The enum is `#[non_exhaustive]`: reasons such as a stock take may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StockReason {
    /// Goods arrived (an increase).
    Receipt,
    /// A correction after a count, breakage or loss (either way).
    Adjustment,
    /// Goods were sold (a decrease; checkout records these).
    Sale,
    /// A customer sent goods back into sellable stock (an increase).
    Return,
    /// A reservation ended without a sale and its goods are sellable again (an increase).
    ReservationRelease,
}

impl StockReason {
    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            StockReason::Receipt => "receipt",
            StockReason::Adjustment => "adjustment",
            StockReason::Sale => "sale",
            StockReason::Return => "return",
            StockReason::ReservationRelease => "reservation_release",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<StockReason> {
        [
            StockReason::Receipt,
            StockReason::Adjustment,
            StockReason::Sale,
            StockReason::Return,
            StockReason::ReservationRelease,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// The longest note on a movement, in characters.
const MAX_NOTE: usize = 200;

/// A change of stock to record: a reason, a signed quantity and an optional note (a delivery
/// note number, an order number).
///
/// The constructors fix the sign by the reason: receipts, returns and reservation releases add,
/// sales remove, adjustments go either way.
///
/// ```
/// use shopkeep::catalog::StockChange;
///
/// let delivery = StockChange::receipt(24).note("delivery note 4711");
/// let breakage = StockChange::adjustment(-2).note("dropped a box");
/// # let _ = (delivery, breakage);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct StockChange {
    pub(crate) reason: StockReason,
    pub(crate) delta: i64,
    pub(crate) note: Option<String>,
}

impl StockChange {
    /// `quantity` arrived.
    pub fn receipt(quantity: u32) -> StockChange {
        StockChange::new(StockReason::Receipt, i64::from(quantity))
    }

    /// A correction by `delta` (negative for losses).
    pub fn adjustment(delta: i64) -> StockChange {
        StockChange::new(StockReason::Adjustment, delta)
    }

    /// `quantity` sold.
    pub fn sale(quantity: u32) -> StockChange {
        StockChange::new(StockReason::Sale, -i64::from(quantity))
    }

    /// `quantity` returned by customers, back into sellable stock.
    pub fn returned(quantity: u32) -> StockChange {
        StockChange::new(StockReason::Return, i64::from(quantity))
    }

    /// `quantity` released from a reservation that ended without a sale.
    pub fn reservation_release(quantity: u32) -> StockChange {
        StockChange::new(StockReason::ReservationRelease, i64::from(quantity))
    }

    fn new(reason: StockReason, delta: i64) -> StockChange {
        StockChange {
            reason,
            delta,
            note: None,
        }
    }

    /// Adds a note (checked when the change is recorded).
    pub fn note(mut self, note: &str) -> StockChange {
        self.note = Some(note.to_owned());
        self
    }

    /// The reason.
    pub fn reason(&self) -> StockReason {
        self.reason
    }

    /// The signed quantity.
    pub fn delta(&self) -> i64 {
        self.delta
    }

    /// Checks the quantity and the note.
    pub(crate) fn check(&self) -> Result<StockChange> {
        if self.delta == 0 {
            return Err(Error::validation(
                "quantity",
                "a stock change moves at least one unit",
            ));
        }
        if self.delta.unsigned_abs() > u64::from(MAX_QUANTITY) {
            return Err(Error::validation(
                "quantity",
                format!("a stock change moves at most {MAX_QUANTITY} units"),
            ));
        }
        let note = match &self.note {
            Some(note) => Some(text::required("note", note, MAX_NOTE)?),
            None => None,
        };
        Ok(StockChange {
            reason: self.reason,
            delta: self.delta,
            note,
        })
    }
}

/// One row of the stock ledger: an immutable record of a movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMovement {
    pub(crate) seq: u64,
    pub(crate) variant: VariantId,
    pub(crate) reason: StockReason,
    pub(crate) delta: i64,
    pub(crate) level_after: u64,
    pub(crate) note: Option<String>,
    pub(crate) principal: String,
    pub(crate) at: Timestamp,
}

impl StockMovement {
    /// Its position in the ledger (ascending in commit order).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The variant whose stock moved.
    pub fn variant(&self) -> VariantId {
        self.variant
    }

    /// Why.
    pub fn reason(&self) -> StockReason {
        self.reason
    }

    /// By how much (negative: stock went down).
    pub fn delta(&self) -> i64 {
        self.delta
    }

    /// The level on hand right after this movement.
    pub fn level_after(&self) -> u64 {
        self.level_after
    }

    /// The note, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Who moved it, as the audit log names principals (`staff:<id>`, `system`).
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// When.
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn constructors_fix_the_sign_and_check_bounds() {
        assert_eq!(StockChange::receipt(3).delta(), 3);
        assert_eq!(StockChange::sale(3).delta(), -3);
        assert_eq!(StockChange::returned(1).reason(), StockReason::Return);
        for bad in [
            StockChange::receipt(0),
            StockChange::adjustment(0),
            StockChange::adjustment(-1_000_000_001),
            StockChange::receipt(MAX_QUANTITY + 1),
        ] {
            assert_eq!(
                bad.check().unwrap_err().kind(),
                ErrorKind::Validation { field: "quantity" }
            );
        }
        let err = StockChange::receipt(1).note(" ").check().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation { field: "note" });
        for r in [
            "receipt",
            "adjustment",
            "sale",
            "return",
            "reservation_release",
        ] {
            assert_eq!(StockReason::parse(r).unwrap().as_str(), r);
        }
    }
}
