//! Renderers: they take a document and return text; they never query.

mod ubl;

pub use ubl::{Profile, to_ubl};
