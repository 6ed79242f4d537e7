//! The template machinery behind order confirmations and invoices: one minijinja environment
//! per set of templates (plain text and HTML), strict about unknown values, HTML autoescaped by
//! file name, with the column filters the plain-text layouts use.

use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::error::{Error, Result};

/// A set of named templates a host may replace one by one; each is compiled when it is set,
/// so a broken host template is refused at once rather than when a customer's email is due.
pub(crate) struct TemplateSet {
    env: Environment<'static>,
}

impl TemplateSet {
    /// The set with shopkeep's own sources, each given as (name, source).
    pub(crate) fn builtin(text: (&'static str, &str), html: (&'static str, &str)) -> TemplateSet {
        let mut set = TemplateSet { env: environment() };
        // The built-in sources are tested; a failure here would be a bug in shopkeep.
        let _ = set.set(text.0, text.1);
        let _ = set.set(html.0, html.1);
        set
    }

    /// Compiles `source` as template `name`, replacing the one there was.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile.
    pub(crate) fn set(&mut self, name: &'static str, source: &str) -> Result<()> {
        self.env
            .add_template_owned(name, source.to_owned())
            .map_err(template_error)
    }

    /// Renders template `name` with `values`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if rendering fails, e.g. a host template names
    /// a value that does not exist.
    pub(crate) fn render(&self, name: &str, values: &impl Serialize) -> Result<String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(values))
            .map_err(template_error)
    }
}

/// The environment: strict about unknown values, HTML autoescaped by file name (minijinja's
/// default for `.html`), and the column filters `lpad`, `rpad` and `truncate_to`.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A host template that names a value that does not exist fails loudly instead of
    // printing nothing into a customer's email.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("lpad", |value: Value, width: usize| {
        pad(&value, width, true)
    });
    env.add_filter("rpad", |value: Value, width: usize| {
        pad(&value, width, false)
    });
    env.add_filter("truncate_to", |value: String, width: usize| {
        truncate(&value, width)
    });
    env
}

fn template_error(err: minijinja::Error) -> Error {
    Error::validation("template", format!("the template failed: {err}"))
}

fn pad(value: &Value, width: usize, left: bool) -> String {
    let text = value.to_string();
    let fill = " ".repeat(width.saturating_sub(text.chars().count()));
    if left { fill + &text } else { text + &fill }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(width.saturating_sub(1)).collect();
    short.push('…');
    short
}
