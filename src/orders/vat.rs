//! VAT treatment of a line: the EN 16931 category and rate decided at checkout and stored.

use std::fmt;

use crate::error::{Error, Result};
use crate::money::TaxRate;
use crate::text;

/// The VAT category of a line or charge, as EN 16931 names it (UNTDID 5305 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum VatCategory {
    /// `S`: taxed at a positive rate (standard or reduced).
    Standard,
    /// `Z`: taxed at 0 % (zero-rated goods).
    ZeroRated,
    /// `E`: exempt from VAT, with the exemption reason.
    Exempt,
    /// `AE`: reverse charge; the buyer accounts for the VAT.
    ReverseCharge,
    /// `K`: intra-community supply of goods to a business in another EU member state.
    IntraCommunitySupply,
    /// `G`: export outside the EU.
    Export,
    /// `O`: outside the scope of VAT.
    OutsideScope,
}

impl VatCategory {
    /// Every category, in the order of the enum.
    pub const ALL: [VatCategory; 7] = [
        VatCategory::Standard,
        VatCategory::ZeroRated,
        VatCategory::Exempt,
        VatCategory::ReverseCharge,
        VatCategory::IntraCommunitySupply,
        VatCategory::Export,
        VatCategory::OutsideScope,
    ];

    /// The UNTDID 5305 code EN 16931 documents use.
    pub fn code(self) -> &'static str {
        match self {
            VatCategory::Standard => "S",
            VatCategory::ZeroRated => "Z",
            VatCategory::Exempt => "E",
            VatCategory::ReverseCharge => "AE",
            VatCategory::IntraCommunitySupply => "K",
            VatCategory::Export => "G",
            VatCategory::OutsideScope => "O",
        }
    }

    /// The category of a UNTDID 5305 code.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `vat_category`) for any other code.
    pub fn from_code(code: &str) -> Result<VatCategory> {
        VatCategory::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| {
                Error::validation(
                    "vat_category",
                    format!("unknown VAT category code {code:?}"),
                )
            })
    }

    /// Whether EN 16931 wants an exemption reason for this category (all but `S` and `Z`).
    pub fn needs_exemption_reason(self) -> bool {
        !matches!(self, VatCategory::Standard | VatCategory::ZeroRated)
    }
}

// As its UNTDID 5305 code (`"S"`, `"AE"`), as on the e-invoice.
crate::serde_text::text_serde!(VatCategory, VatCategory::from_code);

impl fmt::Display for VatCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The VAT treatment of a line or charge: category, rate and, where the category needs one,
/// the exemption reason. Its constructor enforces EN 16931's rules for each category: `S`
/// has a positive rate, every other category a rate of zero, and all but `S` and `Z` a reason.
///
/// ```
/// use shopkeep::money::TaxRate;
/// use shopkeep::orders::{VatCategory, VatTreatment};
///
/// let standard = VatTreatment::new(VatCategory::Standard, TaxRate::parse("19")?, None)?;
/// let reverse = VatTreatment::new(VatCategory::ReverseCharge, TaxRate::ZERO, Some("Reverse charge"))?;
/// assert!(VatTreatment::new(VatCategory::Exempt, TaxRate::ZERO, None).is_err());
/// # let _ = (standard, reverse);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VatTreatment {
    category: VatCategory,
    rate: TaxRate,
    exemption_reason: Option<String>,
}

impl VatTreatment {
    /// A treatment.
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `tax_rate` for a rate the category does not allow, field
    /// `exemption_reason` for a missing, superfluous or malformed reason.
    pub fn new(
        category: VatCategory,
        rate: TaxRate,
        exemption_reason: Option<&str>,
    ) -> Result<Self> {
        let positive = category == VatCategory::Standard;
        if positive == rate.is_zero() {
            return Err(Error::validation(
                "tax_rate",
                format!(
                    "VAT category {category} needs a rate {}",
                    if positive { "above zero" } else { "of zero" }
                ),
            ));
        }
        let exemption_reason = match (category.needs_exemption_reason(), exemption_reason) {
            (true, Some(reason)) => Some(text::required("exemption_reason", reason, 200)?),
            (true, None) => {
                return Err(Error::validation(
                    "exemption_reason",
                    format!("VAT category {category} needs an exemption reason"),
                ));
            }
            (false, Some(_)) => {
                return Err(Error::validation(
                    "exemption_reason",
                    format!("VAT category {category} takes no exemption reason"),
                ));
            }
            (false, None) => None,
        };
        Ok(VatTreatment {
            category,
            rate,
            exemption_reason,
        })
    }

    /// The category.
    pub fn category(&self) -> VatCategory {
        self.category
    }

    /// The rate (zero for every category but `S`).
    pub fn rate(&self) -> TaxRate {
        self.rate
    }

    /// The exemption reason, for categories that need one.
    pub fn exemption_reason(&self) -> Option<&str> {
        self.exemption_reason.as_deref()
    }
}
