//! Renderers: they take a document and return text or bytes; they never query.
//!
//! `text`, `html` (through [`InvoiceTemplates`]) and `pdf` print the same [`view`] of a
//! document, so every figure is formatted once; `ubl` writes the e-invoice.

mod html;
#[cfg(feature = "pdf")]
mod pdf;
mod templates;
mod text;
mod ubl;
mod view;

pub use html::to_html;
#[cfg(feature = "pdf")]
pub use pdf::to_pdf;
pub use templates::InvoiceTemplates;
pub use text::to_text;
pub use ubl::{Profile, to_ubl};
