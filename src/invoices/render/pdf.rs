//! Invoices and credit notes as A4 PDF documents (feature `pdf`).
//!
//! The layout is drawn here, from the same [`InvoiceView`] the text and HTML templates print,
//! so every figure reads exactly as it does there. Text is set in DejaVu Sans (regular and
//! bold, `assets/fonts/`), embedded as a subset of the glyphs the document uses: a Type 0 font
//! with `Identity-H` encoding and a `ToUnicode` map, so the text can be searched, copied and
//! extracted. A character the font lacks prints as `?` (its text is then `?` too); nothing
//! panics on any input. The output depends on the document alone (no creation date, no random
//! id), so the same document always gives the same bytes.

mod font;

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use self::font::{Font, FontRefs, write_font};
use super::view::{InvoiceView, VatView};
use crate::error::Result;
use crate::invoices::model::InvoiceDocument;

const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_WIDTH - 50.0;
const TOP: f32 = PAGE_HEIGHT - 50.0;
/// Body text stops here; the footer with the seller's legal details sits below.
const BOTTOM: f32 = 95.0;

const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
const LEADING: f32 = 12.0;
const GRAY: f32 = 0.4;

/// Column right edges of the line table: quantity, unit price, VAT rate, amount.
const COL_QTY: f32 = 318.0;
const COL_PRICE: f32 = 400.0;
const COL_VAT: f32 = 440.0;
const COL_DESCRIPTION: f32 = LEFT + 24.0;
const DESCRIPTION_WIDTH: f32 = COL_QTY - 36.0 - COL_DESCRIPTION;
/// Where the labels of the totals start.
const COL_TOTALS: f32 = 300.0;

/// Renders `document` as an A4 PDF: the seller's letterhead, the buyer, the document's number
/// and dates (and, for a credit note, the invoice it corrects), the lines (with gross prices,
/// each with its net amount under it), the totals, the VAT breakdown with each exemption
/// reason, payment terms and bank account, notes, and on every page a footer with the seller's
/// legal name, address, VAT id, tax number, registration and contact. Lines that do not fit
/// continue on further pages, under a repeated table header.
///
/// ```
/// # use shopkeep::{Currency, Email, Money};
/// # use shopkeep::catalog::{Contact, PostalAddress, Seller};
/// # use shopkeep::customers::{Address, Country, Phone, VatId};
/// # use shopkeep::invoices::{Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument};
/// # use shopkeep::money::TaxRate;
/// # use shopkeep::orders::{PriceMode, PricedLine, VatCategory, VatTreatment};
/// # let de = Country::parse("DE")?;
/// # let seller = Seller::new(
/// #     "Beispiel GmbH",
/// #     PostalAddress::new("Hauptstraße 1", "10115", "Berlin", de)?,
/// #     Contact::new("Erika Mustermann", Phone::parse("+49 30 1234567")?, Email::parse("shop@example.com")?)?,
/// # )?
/// # .vat_id(VatId::parse("DE123456789")?);
/// # let buyer = InvoiceBuyer::consumer(Address::new("Max Muster", "Marktplatz 5", "München", de)?);
/// # let vat = VatTreatment::new(VatCategory::Standard, TaxRate::parse("19")?, None)?;
/// # let mug = PricedLine::new(Money::parse("12.90", Currency::EUR)?, 2, vat)?;
/// # let document = InvoiceDocument::builder(
/// #     DocumentKind::Invoice, "INV-2026-000001", Date::new(2026, 3, 1)?, Currency::EUR,
/// #     PriceMode::TaxExclusive, seller, buyer,
/// # )
/// # .line(DocumentLine::new("1", "Mug", mug)?)
/// # .build()?;
/// let pdf = shopkeep::invoices::to_pdf(&document)?;
/// assert!(pdf.starts_with(b"%PDF-"));
/// assert_eq!(pdf, shopkeep::invoices::to_pdf(&document)?); // same document, same bytes
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// An `Internal` error if the embedded font cannot be read or subset, which would be a
/// defect of the build, not of the document.
#[cfg_attr(docsrs, doc(cfg(feature = "pdf")))]
pub fn to_pdf(document: &InvoiceDocument) -> Result<Vec<u8>> {
    let view = InvoiceView::of(document);
    let mut layout = Layout::new()?;
    layout.header(&view);
    layout.parties(&view);
    layout.lines(&view);
    layout.totals(&view);
    layout.vat_breakdown(&view.vat);
    layout.payment(&view);
    layout.notes(&view);
    layout.finish(&view)
}

/// The pages drawn so far and the cursor on the current one.
struct Layout {
    regular: Font,
    bold: Font,
    pages: Vec<Content>,
    page: Content,
    y: f32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

impl Layout {
    fn new() -> Result<Layout> {
        Ok(Layout {
            regular: Font::load(REGULAR, b"F1", b"AAAAAA+DejaVuSans")?,
            bold: Font::load(BOLD, b"F2", b"AAAAAB+DejaVuSans-Bold")?,
            pages: Vec::new(),
            page: Content::new(),
            y: TOP,
        })
    }

    fn font(&mut self, weight: Weight) -> &mut Font {
        match weight {
            Weight::Regular => &mut self.regular,
            Weight::Bold => &mut self.bold,
        }
    }

    fn width(&mut self, text: &str, size: f32, weight: Weight) -> f32 {
        self.font(weight).width(text, size)
    }

    fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: &str) {
        let font = self.font(weight);
        let resource = font.resource;
        let bytes = font.encode(text);
        self.page
            .begin_text()
            .set_font(Name(resource), size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    fn text_right(&mut self, right: f32, y: f32, size: f32, weight: Weight, text: &str) {
        let x = right - self.width(text, size, weight);
        self.text(x, y, size, weight, text);
    }

    fn gray_text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.page.set_fill_gray(GRAY);
        self.text(x, y, size, Weight::Regular, text);
        self.page.set_fill_gray(0.0);
    }

    fn rule(&mut self, y: f32, width: f32) {
        self.page
            .set_line_width(width)
            .move_to(LEFT, y)
            .line_to(RIGHT, y)
            .stroke();
    }

    /// Starts a new page unless `height` more points fit on this one; true if it did.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height >= BOTTOM {
            return false;
        }
        let full = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(full);
        self.y = TOP;
        true
    }

    /// `text` broken into lines no wider than `width`, at spaces where possible.
    fn wrap(&mut self, text: &str, width: f32, size: f32, weight: Weight) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size, weight) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the column is cut wherever it must be.
            for c in word.chars() {
                line.push(c);
                if self.width(&line, size, weight) > width {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Writes wrapped text from `x` on, advancing the cursor, breaking pages as needed.
    fn paragraph(&mut self, x: f32, width: f32, size: f32, text: &str) {
        for line in self.wrap(text, width, size, Weight::Regular) {
            self.ensure(LEADING);
            self.text(x, self.y, size, Weight::Regular, &line);
            self.y -= LEADING;
        }
    }

    fn heading(&mut self, text: &str) {
        self.ensure(3.0 * LEADING);
        self.y -= LEADING;
        self.text(LEFT, self.y, 10.0, Weight::Bold, text);
        self.y -= LEADING + 2.0;
    }

    /// The seller's name and address on the left, the document's kind and number on the right.
    fn header(&mut self, v: &InvoiceView) {
        self.text_right(RIGHT, self.y - 16.0, 18.0, Weight::Bold, v.title);
        self.text_right(RIGHT, self.y - 32.0, 10.0, Weight::Regular, &v.number);
        // A long legal name wraps rather than run into the title.
        let mut y = self.y - 14.0;
        for part in self.wrap(&v.seller.name, RIGHT - LEFT - 130.0, 14.0, Weight::Bold) {
            self.text(LEFT, y, 14.0, Weight::Bold, &part);
            y -= 17.0;
        }
        y -= 1.0;
        for line in &v.seller.address {
            self.text(LEFT, y, BODY, Weight::Regular, line);
            y -= LEADING;
        }
        for (label, value) in [
            ("VAT ID ", &v.seller.vat_id),
            ("Tax number ", &v.seller.tax_number),
        ] {
            if let Some(value) = value {
                self.text(LEFT, y, BODY, Weight::Regular, &format!("{label}{value}"));
                y -= LEADING;
            }
        }
        self.y = y - 4.0;
        self.rule(self.y, 1.0);
        self.y -= 2.0 * LEADING;
    }

    /// The buyer on the left, the document's dates and references on the right.
    fn parties(&mut self, v: &InvoiceView) {
        let top = self.y;
        // The buyer's block wraps short of the document details beside it.
        let width = COL_TOTALS + 30.0 - LEFT;
        self.gray_text(LEFT, self.y, SMALL, "Bill to");
        self.y -= LEADING;
        for part in self.wrap(&v.buyer.name, width, BODY, Weight::Bold) {
            self.text(LEFT, self.y, BODY, Weight::Bold, &part);
            self.y -= LEADING;
        }
        let mut lines: Vec<String> = v.buyer.address.clone();
        lines.extend(v.buyer.vat_id.as_ref().map(|id| format!("VAT ID {id}")));
        lines.extend(
            v.buyer
                .tax_number
                .as_ref()
                .map(|n| format!("Tax number {n}")),
        );
        for line in lines {
            for part in self.wrap(&line, width, BODY, Weight::Regular) {
                self.text(LEFT, self.y, BODY, Weight::Regular, &part);
                self.y -= LEADING;
            }
        }
        let left_end = self.y;

        let mut meta: Vec<(&str, String)> = vec![
            ("Number", v.number.clone()),
            ("Issue date", v.issue_date.clone()),
        ];
        meta.extend(v.supply_date.clone().map(|d| ("Supply date", d)));
        meta.extend(v.due_date.clone().map(|d| ("Due date", d)));
        meta.extend(v.original.as_ref().map(|o| {
            (
                "Corrects invoice",
                format!("{} of {}", o.number, o.issue_date),
            )
        }));
        meta.extend(v.buyer.reference.clone().map(|r| ("Buyer reference", r)));
        meta.extend(v.delivery_country.map(|c| ("Delivered to", c.to_owned())));
        meta.push(("Currency", v.currency.to_owned()));
        let mut y = top;
        for (label, value) in meta {
            self.gray_text(COL_TOTALS + 40.0, y, BODY, label);
            self.text_right(RIGHT, y, BODY, Weight::Regular, &value);
            y -= LEADING;
        }
        self.y = left_end.min(y) - LEADING;
    }

    fn table_header(&mut self, continued: bool) {
        let y = self.y;
        self.text(LEFT, y, BODY, Weight::Bold, "#");
        let description = if continued {
            "Description (continued)"
        } else {
            "Description"
        };
        self.text(COL_DESCRIPTION, y, BODY, Weight::Bold, description);
        self.text_right(COL_QTY, y, BODY, Weight::Bold, "Qty");
        self.text_right(COL_PRICE, y, BODY, Weight::Bold, "Unit price");
        self.text_right(COL_VAT, y, BODY, Weight::Bold, "VAT");
        self.text_right(RIGHT, y, BODY, Weight::Bold, "Amount");
        self.rule(y - 4.0, 0.75);
        self.y -= LEADING + 4.0;
    }

    fn lines(&mut self, v: &InvoiceView) {
        self.ensure(4.0 * LEADING);
        self.table_header(false);
        for line in &v.lines {
            let name = self.wrap(&line.name, DESCRIPTION_WIDTH, BODY, Weight::Regular);
            // With gross prices a line also states its exact net amount (BT-131), as Art. 226
            // (8) of the VAT Directive asks; an exact net unit price often does not exist. It
            // goes on the row under the amount, beside the SKU or the name's second row, so a
            // line takes at least two rows.
            let net = v
                .prices_include_vat
                .then(|| format!("net of VAT {}", line.net));
            let mut rows = name.len() + usize::from(line.sku.is_some());
            if net.is_some() {
                rows = rows.max(2);
            }
            // A page has room for a few dozen rows; the conversion cannot truncate.
            #[allow(clippy::cast_precision_loss)]
            let height = rows as f32 * LEADING + 3.0;
            if self.ensure(height) {
                self.table_header(true);
            }
            let y = self.y;
            self.text(LEFT, y, BODY, Weight::Regular, &line.id);
            self.text_right(
                COL_QTY,
                y,
                BODY,
                Weight::Regular,
                &line.quantity.to_string(),
            );
            self.text_right(COL_PRICE, y, BODY, Weight::Regular, &line.unit_price);
            self.text_right(COL_VAT, y, BODY, Weight::Regular, &line.vat_rate);
            self.text_right(RIGHT, y, BODY, Weight::Regular, &line.amount);
            for part in name {
                self.text(COL_DESCRIPTION, self.y, BODY, Weight::Regular, &part);
                self.y -= LEADING;
            }
            if let Some(sku) = &line.sku {
                self.gray_text(COL_DESCRIPTION, self.y + 1.0, SMALL, sku);
                self.y -= LEADING;
            }
            if let Some(net) = net {
                let x = RIGHT - self.width(&net, SMALL, Weight::Regular);
                self.gray_text(x, y - LEADING + 1.0, SMALL, &net);
                self.y = self.y.min(y - 2.0 * LEADING);
            }
            self.y -= 3.0;
        }
        self.rule(self.y + 6.0, 0.75);
        self.y -= 8.0;
        if v.prices_include_vat {
            self.ensure(LEADING);
            self.gray_text(
                LEFT,
                self.y,
                SMALL,
                "Prices include VAT; the totals below are net, as the VAT breakdown is.",
            );
            self.y -= LEADING;
        }
    }

    fn totals(&mut self, v: &InvoiceView) {
        let mut rows: Vec<(String, String, Weight)> = vec![(
            "Sum of lines (net)".to_owned(),
            v.line_total.clone(),
            Weight::Regular,
        )];
        if let Some(d) = &v.discount {
            rows.push((d.reason.clone(), format!("-{}", d.amount), Weight::Regular));
        }
        for c in &v.charges {
            rows.push((c.reason.clone(), c.amount.clone(), Weight::Regular));
        }
        rows.push((
            "Total without VAT".to_owned(),
            v.net_total.clone(),
            Weight::Regular,
        ));
        rows.push(("Total VAT".to_owned(), v.vat_total.clone(), Weight::Regular));
        rows.push((
            "Total with VAT".to_owned(),
            v.gross_total.clone(),
            Weight::Regular,
        ));
        if let Some(paid) = &v.paid {
            rows.push(("Paid".to_owned(), format!("-{paid}"), Weight::Regular));
        }
        let due = if v.kind == "credit_note" {
            "Amount credited"
        } else {
            "Amount due"
        };
        rows.push((due.to_owned(), v.amount_due.clone(), Weight::Bold));
        if let Some(total) = &v.vat_accounting_total {
            rows.push((
                "Total VAT in the VAT accounting currency".to_owned(),
                total.clone(),
                Weight::Regular,
            ));
        }
        // Labels (a coupon's or a charge's reason) wrap beside their amount; the block stays on
        // one page.
        let rows: Vec<(Vec<String>, String, Weight)> = rows
            .into_iter()
            .map(|(label, amount, weight)| {
                let lines = self.wrap(&label, COL_PRICE + 40.0 - COL_TOTALS, BODY, weight);
                (lines, amount, weight)
            })
            .collect();
        let count: usize = rows.iter().map(|(lines, _, _)| lines.len()).sum();
        #[allow(clippy::cast_precision_loss)]
        let height = count as f32 * LEADING + LEADING;
        self.ensure(height);
        for (label, amount, weight) in rows {
            if weight == Weight::Bold {
                self.page
                    .set_line_width(1.0)
                    .move_to(COL_TOTALS, self.y + LEADING - 2.5)
                    .line_to(RIGHT, self.y + LEADING - 2.5)
                    .stroke();
            }
            // The whole label before its amount in the content stream: that is the order in
            // which text is read back (copied, extracted, read aloud).
            let first = self.y;
            for part in &label {
                self.text(COL_TOTALS, self.y, BODY, weight, part);
                self.y -= LEADING;
            }
            self.text_right(RIGHT, first, BODY, weight, &amount);
        }
    }

    fn vat_breakdown(&mut self, groups: &[VatView]) {
        self.heading("VAT breakdown");
        let y = self.y;
        self.text(LEFT, y, BODY, Weight::Bold, "Category");
        self.text_right(COL_PRICE - 60.0, y, BODY, Weight::Bold, "Rate");
        self.text_right(COL_VAT + 20.0, y, BODY, Weight::Bold, "Taxable amount");
        self.text_right(RIGHT, y, BODY, Weight::Bold, "VAT");
        self.rule(y - 4.0, 0.75);
        self.y -= LEADING + 4.0;
        for g in groups {
            self.ensure(2.0 * LEADING);
            let y = self.y;
            let label = format!("{} {}", g.category, g.label);
            self.text(LEFT, y, BODY, Weight::Regular, &label);
            self.text_right(COL_PRICE - 60.0, y, BODY, Weight::Regular, &g.rate);
            self.text_right(COL_VAT + 20.0, y, BODY, Weight::Regular, &g.taxable);
            self.text_right(RIGHT, y, BODY, Weight::Regular, &g.tax);
            self.y -= LEADING;
            if let Some(reason) = &g.exemption_reason {
                self.paragraph(LEFT + 12.0, RIGHT - LEFT - 12.0, SMALL, reason);
            }
        }
    }

    fn payment(&mut self, v: &InvoiceView) {
        if v.payment_terms.is_none() && v.seller.bank.is_none() {
            return;
        }
        self.heading("Payment");
        let width = RIGHT - LEFT;
        if let Some(terms) = &v.payment_terms {
            self.paragraph(LEFT, width, BODY, terms);
        }
        if let Some(due) = &v.due_date {
            self.paragraph(LEFT, width, BODY, &format!("Due date: {due}"));
        }
        if let Some(bank) = &v.seller.bank {
            let account = match &bank.bic {
                Some(bic) => format!("IBAN {}, BIC {bic}", bank.iban),
                None => format!("IBAN {}", bank.iban),
            };
            self.paragraph(LEFT, width, BODY, &account);
            self.paragraph(
                LEFT,
                width,
                BODY,
                &format!("Payment reference: {}", v.number),
            );
        }
    }

    fn notes(&mut self, v: &InvoiceView) {
        if v.notes.is_empty() {
            return;
        }
        self.heading("Notes");
        for note in &v.notes {
            self.paragraph(LEFT, RIGHT - LEFT, BODY, note);
        }
    }

    /// The seller's legal details and the page number at the foot of `page`.
    fn footer(&mut self, v: &InvoiceView, number: usize, count: usize) {
        let s = &v.seller;
        let mut ids: Vec<String> = Vec::new();
        ids.extend(s.vat_id.as_ref().map(|id| format!("VAT ID {id}")));
        ids.extend(s.tax_number.as_ref().map(|n| format!("Tax number {n}")));
        ids.extend(s.registration.clone());
        let lines = [
            format!("{}, {}", s.name, s.address.join(", ")),
            ids.join(" · "),
            format!(
                "{} · {} · {}",
                s.contact.name, s.contact.phone, s.contact.email
            ),
        ];
        self.page.set_stroke_gray(GRAY);
        self.rule(BOTTOM - 15.0, 0.5);
        self.page.set_stroke_gray(0.0);
        let mut y = BOTTOM - 27.0;
        for line in lines {
            let line = self
                .wrap(&line, RIGHT - LEFT - 70.0, SMALL, Weight::Regular)
                .into_iter()
                .next()
                .unwrap_or_default();
            self.gray_text(LEFT, y, SMALL, &line);
            y -= 10.0;
        }
        let page = format!("{} {} · page {number} of {count}", v.title, v.number);
        let page = self
            .wrap(&page, 200.0, SMALL, Weight::Regular)
            .into_iter()
            .next()
            .unwrap_or_default();
        self.page.set_fill_gray(GRAY);
        self.text_right(RIGHT, BOTTOM - 27.0, SMALL, Weight::Regular, &page);
        self.page.set_fill_gray(0.0);
    }

    /// Adds the footers, then writes the PDF: pages, the two font subsets, metadata.
    fn finish(mut self, v: &InvoiceView) -> Result<Vec<u8>> {
        let last = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(last);
        let count = self.pages.len();
        let mut pages = Vec::with_capacity(count);
        for (i, content) in std::mem::take(&mut self.pages).into_iter().enumerate() {
            self.page = content;
            self.footer(v, i + 1, count);
            pages.push(std::mem::replace(&mut self.page, Content::new()));
        }

        let mut ids = Ids(0);
        let catalog = ids.next();
        let tree = ids.next();
        let info = ids.next();
        let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (ids.next(), ids.next())).collect();
        let fonts = [
            FontRefs::new(&mut ids, &self.regular),
            FontRefs::new(&mut ids, &self.bold),
        ];

        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().map(|(page, _)| *page))
            .count(i32::try_from(count).unwrap_or(i32::MAX));
        let title = format!("{} {}", v.title, v.number);
        pdf.document_info(info)
            .title(TextStr(&title))
            .author(TextStr(&v.seller.name))
            .producer(TextStr("shopkeep"));
        for ((page_id, content_id), content) in page_ids.iter().zip(pages) {
            let mut page = pdf.page(*page_id);
            page.parent(tree)
                .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
                .contents(*content_id);
            let mut resources = page.resources();
            let mut dict = resources.fonts();
            for f in &fonts {
                dict.pair(Name(f.resource), f.type0);
            }
            dict.finish();
            resources.finish();
            page.finish();
            let data = compress_to_vec_zlib(&content.finish(), 6);
            pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
        }
        for (refs, font) in fonts.iter().zip([&self.regular, &self.bold]) {
            write_font(&mut pdf, refs, font)?;
        }
        Ok(pdf.finish())
    }
}

/// Hands out object ids in order, so that the same document numbers its objects the same way.
struct Ids(i32);

impl Ids {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}
