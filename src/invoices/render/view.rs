//! What the text, HTML and PDF renderers show: one view of a document, every value already
//! formatted, so the three print the same figures. Amounts use the one format of every
//! human-readable document, `Money`'s `Display` (`12.90 EUR`, `3570 JPY`), as confirmations do.
//! `docs/invoicing.md` lists the fields templates can use; keep the two in step.

use serde::Serialize;

use crate::invoices::model::{DocumentKind, InvoiceDocument};
use crate::{Address, PriceMode, VatCategory};

/// A document, formatted for people. Holds personal data: deliberately no `Debug`.
#[derive(Clone, Serialize)]
pub(crate) struct InvoiceView {
    pub(crate) kind: &'static str,
    pub(crate) title: &'static str,
    pub(crate) number: String,
    pub(crate) issue_date: String,
    pub(crate) supply_date: Option<String>,
    pub(crate) due_date: Option<String>,
    pub(crate) payment_terms: Option<String>,
    pub(crate) original: Option<OriginalView>,
    pub(crate) currency: &'static str,
    pub(crate) prices_include_vat: bool,
    pub(crate) seller: SellerView,
    pub(crate) buyer: BuyerView,
    pub(crate) delivery_country: Option<&'static str>,
    pub(crate) lines: Vec<LineView>,
    pub(crate) discount: Option<AdjustmentView>,
    pub(crate) charges: Vec<AdjustmentView>,
    pub(crate) vat: Vec<VatView>,
    pub(crate) line_total: String,
    pub(crate) net_total: String,
    pub(crate) vat_total: String,
    pub(crate) gross_total: String,
    pub(crate) amount_due: String,
    pub(crate) paid: Option<String>,
    pub(crate) vat_accounting_total: Option<String>,
    pub(crate) notes: Vec<String>,
}

/// The invoice a credit note corrects.
#[derive(Clone, Serialize)]
pub(crate) struct OriginalView {
    pub(crate) number: String,
    pub(crate) issue_date: String,
}

#[derive(Clone, Serialize)]
pub(crate) struct SellerView {
    pub(crate) name: String,
    pub(crate) address: Vec<String>,
    pub(crate) vat_id: Option<String>,
    pub(crate) tax_number: Option<String>,
    pub(crate) registration: Option<String>,
    pub(crate) contact: ContactView,
    pub(crate) bank: Option<BankView>,
}

#[derive(Clone, Serialize)]
pub(crate) struct ContactView {
    pub(crate) name: String,
    pub(crate) phone: String,
    pub(crate) email: String,
}

#[derive(Clone, Serialize)]
pub(crate) struct BankView {
    pub(crate) iban: String,
    pub(crate) bic: Option<String>,
}

#[derive(Clone, Serialize)]
pub(crate) struct BuyerView {
    pub(crate) name: String,
    pub(crate) address: Vec<String>,
    pub(crate) vat_id: Option<String>,
    pub(crate) tax_number: Option<String>,
    pub(crate) reference: Option<String>,
}

#[derive(Clone, Serialize)]
pub(crate) struct LineView {
    pub(crate) id: String,
    pub(crate) sku: Option<String>,
    pub(crate) name: String,
    pub(crate) quantity: u32,
    pub(crate) unit: String,
    pub(crate) unit_price: String,
    pub(crate) amount: String,
    pub(crate) net: String,
    pub(crate) vat_category: &'static str,
    pub(crate) vat_rate: String,
}

/// A discount or a charge: its reason and net amount (positive for both).
#[derive(Clone, Serialize)]
pub(crate) struct AdjustmentView {
    pub(crate) reason: String,
    pub(crate) amount: String,
}

#[derive(Clone, Serialize)]
pub(crate) struct VatView {
    pub(crate) category: &'static str,
    pub(crate) label: &'static str,
    pub(crate) rate: String,
    pub(crate) taxable: String,
    pub(crate) tax: String,
    pub(crate) exemption_reason: Option<String>,
}

impl InvoiceView {
    pub(crate) fn of(d: &InvoiceDocument) -> InvoiceView {
        let (kind, title, original) = match &d.kind {
            DocumentKind::CreditNote {
                original_number,
                original_date,
            } => (
                "credit_note",
                "Credit note",
                Some(OriginalView {
                    number: original_number.clone(),
                    issue_date: original_date.to_string(),
                }),
            ),
            DocumentKind::Invoice => ("invoice", "Invoice", None),
        };
        let t = &d.totals;
        let discount = d.discount_reason.as_ref().map(|reason| AdjustmentView {
            reason: reason.clone(),
            amount: t.allowance_total().to_string(),
        });
        let charges = d
            .charge_reasons
            .iter()
            .zip(t.charges_net())
            .map(|(reason, net)| AdjustmentView {
                reason: reason.clone(),
                amount: net.to_string(),
            })
            .collect();
        let lines = d
            .lines
            .iter()
            .zip(t.lines())
            .map(|(line, total)| LineView {
                id: line.id.clone(),
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: line.priced.quantity(),
                unit: line.unit.clone(),
                unit_price: line.priced.unit_price().to_string(),
                amount: total.shown().to_string(),
                net: total.net().to_string(),
                vat_category: line.priced.vat().category().code(),
                vat_rate: line.priced.vat().rate().to_string(),
            })
            .collect();
        let vat = t
            .vat_groups()
            .iter()
            .map(|g| VatView {
                category: g.vat().category().code(),
                label: label(g.vat().category()),
                rate: g.vat().rate().to_string(),
                taxable: g.taxable().to_string(),
                tax: g.tax().to_string(),
                exemption_reason: g.vat().exemption_reason().map(str::to_owned),
            })
            .collect();
        InvoiceView {
            kind,
            title,
            number: d.number.clone(),
            issue_date: d.issue_date.to_string(),
            supply_date: d.supply_date.map(|x| x.to_string()),
            due_date: d.due_date.map(|x| x.to_string()),
            payment_terms: d.payment_terms.clone(),
            original,
            currency: d.currency.code(),
            prices_include_vat: t.mode() == PriceMode::TaxInclusive,
            seller: seller(d),
            buyer: buyer(d),
            delivery_country: d.delivery_country.map(|c| c.as_str()),
            lines,
            discount,
            charges,
            vat,
            line_total: t.line_net_total().to_string(),
            net_total: t.net_total().to_string(),
            vat_total: t.vat_total().to_string(),
            gross_total: t.gross_total().to_string(),
            amount_due: d.amount_due().to_string(),
            paid: d.prepaid.map(|p| p.to_string()),
            vat_accounting_total: d.accounting.map(|a| a.vat_total.to_string()),
            notes: d.notes.clone(),
        }
    }
}

/// The wording printed next to a VAT group; for `AE`, `K` and `G` it is the legal mention the
/// VAT Directive asks for (Art. 226 (11a), (11)), beside the stored exemption reason.
pub(crate) fn label(category: VatCategory) -> &'static str {
    match category {
        VatCategory::Standard => "Standard rate",
        VatCategory::ZeroRated => "Zero rated",
        VatCategory::Exempt => "Exempt from VAT",
        VatCategory::ReverseCharge => "Reverse charge",
        VatCategory::IntraCommunitySupply => "Intra-community supply",
        VatCategory::Export => "Export outside the EU",
        VatCategory::OutsideScope => "Not subject to VAT",
    }
}

fn seller(d: &InvoiceDocument) -> SellerView {
    let s = &d.seller;
    let a = s.address();
    let mut address = vec![a.line1().to_owned()];
    address.extend(a.second_line().map(str::to_owned));
    address.push(format!("{} {}", a.post_code(), a.city()));
    address.push(a.country().as_str().to_owned());
    let c = s.contact();
    SellerView {
        name: s.legal_name().to_owned(),
        address,
        vat_id: s.vat_id_number().map(|v| v.as_str().to_owned()),
        tax_number: s.tax_number_text().map(str::to_owned),
        registration: s.registration_text().map(str::to_owned),
        contact: ContactView {
            name: c.name().to_owned(),
            phone: c.phone().as_str().to_owned(),
            email: c.email().as_str().to_owned(),
        },
        bank: s.bank().map(|b| BankView {
            iban: b.iban().to_string(),
            bic: b.bic_code().map(|x| x.as_str().to_owned()),
        }),
    }
}

fn buyer(d: &InvoiceDocument) -> BuyerView {
    let b = &d.buyer;
    let business = b.business.as_ref();
    BuyerView {
        name: b.name.clone(),
        address: address_lines(&b.name, &b.address),
        vat_id: b.vat_id().map(|v| v.as_str().to_owned()),
        tax_number: business.and_then(|x| x.tax_number()).map(str::to_owned),
        reference: business
            .and_then(|x| x.buyer_reference())
            .map(str::to_owned),
    }
}

/// The address under the buyer's name: the recipient only when it is not the name itself
/// (a business's "attn." line), then street, post code and city, region, country.
fn address_lines(name: &str, a: &Address) -> Vec<String> {
    let mut lines = Vec::new();
    if a.recipient() != name {
        lines.push(a.recipient().to_owned());
    }
    if let Some(company) = a.company().filter(|c| *c != name) {
        lines.push(company.to_owned());
    }
    lines.push(a.line1().to_owned());
    lines.extend(a.line2().map(str::to_owned));
    lines.push(match a.postal_code() {
        Some(code) => format!("{code} {}", a.city()),
        None => a.city().to_owned(),
    });
    lines.extend(a.region().map(str::to_owned));
    lines.push(a.country().as_str().to_owned());
    lines
}
