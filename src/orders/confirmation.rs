//! The order confirmation a shop emails: plain text and HTML, from templates a host can
//! override.
//!
//! A renderer takes a [`Confirmation`] (plain values, formatted for people) and returns text; it
//! never queries. The built-in templates are in `src/orders/templates/`; a host replaces either
//! with its own through [`Templates`]. HTML templates escape every value automatically, so a
//! product named `<script>` stays text. The values a template can use are listed in
//! `docs/invoicing.md`.

use std::fmt;

use serde::Serialize;

use super::order::Order;
use super::totals::PriceMode;
use crate::catalog::ShopSettings;
use crate::customers::Address;
use crate::error::Result;
use crate::money::Money;
use crate::templates::TemplateSet;

const TEXT: &str = "confirmation.txt";
const HTML: &str = "confirmation.html";

/// The templates order confirmations are rendered with.
///
/// ```
/// use shopkeep::orders::Templates;
///
/// let templates = Templates::builtin()
///     .with_text("Order {{ order_number }}: {{ gross_total }}")?;
/// assert!(Templates::builtin().with_html("{% if %}").is_err()); // refused at once, not at send time
/// # let _ = templates;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Templates(TemplateSet);

impl Templates {
    /// shopkeep's own templates.
    pub fn builtin() -> Self {
        Templates(TemplateSet::builtin(
            (TEXT, include_str!("templates/confirmation.txt")),
            (HTML, include_str!("templates/confirmation.html")),
        ))
    }

    /// Replaces the plain-text template.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile.
    pub fn with_text(mut self, source: &str) -> Result<Self> {
        self.0.set(TEXT, source)?;
        Ok(self)
    }

    /// Replaces the HTML template (values are HTML-escaped automatically).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile.
    pub fn with_html(mut self, source: &str) -> Result<Self> {
        self.0.set(HTML, source)?;
        Ok(self)
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Templates")
    }
}

/// The seller, as the confirmation's letterhead shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ShopView {
    pub(crate) name: String,
    pub(crate) address: Vec<String>,
    pub(crate) vat_id: Option<String>,
}

/// The buyer's name and email.
#[derive(Clone, Serialize)]
pub(crate) struct CustomerView {
    pub(crate) name: String,
    pub(crate) email: String,
}

/// One order line, formatted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LineView {
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) quantity: u32,
    pub(crate) unit_price: String,
    pub(crate) amount: String,
    pub(crate) vat_rate: String,
}

/// A charge (shipping), formatted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ChargeView {
    pub(crate) label: String,
    pub(crate) amount: String,
}

/// One VAT group, formatted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct VatView {
    pub(crate) rate: String,
    pub(crate) taxable: String,
    pub(crate) tax: String,
}

/// What an order confirmation shows, formatted for people: the values templates see.
#[derive(Clone, Serialize)]
pub struct Confirmation {
    pub(crate) shop: ShopView,
    pub(crate) order_number: String,
    pub(crate) placed_on: String,
    pub(crate) customer: CustomerView,
    pub(crate) billing: Vec<String>,
    pub(crate) shipping: Vec<String>,
    pub(crate) prices_include_vat: bool,
    pub(crate) lines: Vec<LineView>,
    pub(crate) discount: Option<String>,
    pub(crate) charges: Vec<ChargeView>,
    pub(crate) vat: Vec<VatView>,
    pub(crate) net_total: String,
    pub(crate) vat_total: String,
    pub(crate) gross_total: String,
}

impl Confirmation {
    /// The confirmation of a placed order, from the order as stored (its lines, charges, VAT
    /// breakdown, totals and buyer snapshot) and the shop's settings (the seller's letterhead,
    /// and the time zone the order is dated in). Nothing is queried: read the order with
    /// [`OrderRepo::get`](crate::OrderRepo::get) or take the one checkout returned.
    ///
    /// ```no_run
    /// # fn demo(store: &shopkeep::Store, order: &shopkeep::orders::Order) -> shopkeep::Result<()> {
    /// use shopkeep::orders::{Confirmation, Templates};
    ///
    /// let admin = store.system();
    /// let settings = store.settings(&admin).get()?.expect("the shop is set up");
    /// let email_body = Confirmation::for_order(order, &settings)?.render_text(&Templates::builtin())?;
    /// # let _ = email_body;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// `Overflow` if the lines' discounts do not add up within the representable range (an
    /// order as stored always does).
    pub fn for_order(order: &Order, settings: &ShopSettings) -> Result<Confirmation> {
        let seller = settings.seller();
        let place = seller.address();
        let mut shop_address = vec![place.line1().to_owned()];
        shop_address.extend(place.second_line().map(str::to_owned));
        shop_address.push(format!("{} {}", place.post_code(), place.city()));
        shop_address.push(place.country().as_str().to_owned());
        let discount = Money::sum(order.currency(), order.lines().iter().map(|l| l.discount()))?;
        let buyer = order.buyer();
        Ok(Confirmation {
            shop: ShopView {
                name: seller.legal_name().to_owned(),
                address: shop_address,
                vat_id: seller.vat_id_number().map(|v| v.as_str().to_owned()),
            },
            order_number: order.number().to_string(),
            placed_on: settings
                .time_zone()
                .local_date(order.placed_at())
                .format("%Y-%m-%d")
                .to_string(),
            customer: CustomerView {
                name: buyer.name().to_owned(),
                email: buyer.email().to_owned(),
            },
            billing: address_lines(buyer.billing()),
            shipping: address_lines(buyer.shipping()),
            prices_include_vat: order.price_mode() == PriceMode::TaxInclusive,
            lines: order
                .lines()
                .iter()
                .map(|l| LineView {
                    sku: l.sku().as_str().to_owned(),
                    name: l.name().to_owned(),
                    quantity: l.quantity(),
                    unit_price: l.unit_price().to_string(),
                    amount: l.amount().to_string(),
                    vat_rate: l.vat().rate().to_percent_string(),
                })
                .collect(),
            discount: (!discount.is_zero()).then(|| discount.to_string()),
            charges: order
                .charges()
                .iter()
                .map(|c| ChargeView {
                    label: c.reason().to_owned(),
                    amount: c.amount().to_string(),
                })
                .collect(),
            vat: order
                .vat_breakdown()
                .iter()
                .map(|v| VatView {
                    rate: v.vat().rate().to_percent_string(),
                    taxable: v.taxable().to_string(),
                    tax: v.tax().to_string(),
                })
                .collect(),
            net_total: order.net_total().to_string(),
            vat_total: order.vat_total().to_string(),
            gross_total: order.total().to_string(),
        })
    }

    /// The confirmation as plain text, aligned in columns, for a plain-text email or a log.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if a host template fails.
    pub fn render_text(&self, templates: &Templates) -> Result<String> {
        templates.0.render(TEXT, self)
    }

    /// The confirmation as an HTML page, every value escaped.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if a host template fails.
    pub fn render_html(&self, templates: &Templates) -> Result<String> {
        templates.0.render(HTML, self)
    }

    /// The order number it confirms.
    pub fn order_number(&self) -> &str {
        &self.order_number
    }
}

/// An address as the lines of a letter: recipient, company, street, town, region, country.
fn address_lines(a: &Address) -> Vec<String> {
    let mut lines = vec![a.recipient().to_owned()];
    lines.extend(a.company().map(str::to_owned));
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

/// A confirmation holds the buyer's name, email and addresses: `Debug` shows none of them.
impl fmt::Debug for Confirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Confirmation")
            .field("order_number", &self.order_number)
            .field("lines", &self.lines.len())
            .field("gross_total", &self.gross_total)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
