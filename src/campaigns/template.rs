//! Message templates: subject, plain text and HTML, in minijinja, personalised per recipient.

use std::fmt;
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::{Error, Result};

/// The longest template source, in bytes.
const MAX_SOURCE: usize = 64 * 1024;

/// What a template sees: the recipient's name, product recommendations, the cart an
/// abandoned-cart reminder is about, and `track(url)`.
#[derive(Debug, Serialize)]
pub(crate) struct Context {
    pub(crate) name: String,
    pub(crate) recommendations: Vec<Product>,
    pub(crate) cart: Vec<CartLine>,
}

/// A product a template may recommend.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Product {
    pub(crate) sku: String,
    pub(crate) name: String,
}

/// A line of the cart a reminder is about.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CartLine {
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) quantity: i64,
}

/// Turns a URL into the message's tracking link for it (minijinja functions are `'static`).
pub(crate) type Tracker = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The three rendered parts of a message.
pub(crate) struct Rendered {
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
}

/// A message's subject, plain-text body and HTML body as minijinja templates.
///
/// Templates see:
/// - `name`: the recipient's name as they gave it;
/// - `recommendations`: up to three products (`sku`, `name`) — of the shop's 20 best sellers of the
///   last 90 days that the recipient has not bought;
/// - `cart`: the lines (`sku`, `name`, `quantity`) of the cart an abandoned-cart reminder is
///   about (empty in every other message);
/// - `track(url)`: `url` as a signed click-tracking link of this message (or `url` itself when
///   the host renders without tracking links), so that orders can be attributed to the last
///   message clicked.
///
/// The HTML body is autoescaped. A template that does not compile, or that names a value
/// other than these, is refused when it is created, not when a customer's message is due.
///
/// ```
/// use shopkeep::campaigns::MessageTemplate;
///
/// assert!(MessageTemplate::new("Hi {{ name }}", "Hello {{ name }}", "<p>{{ name }}</p>").is_ok());
/// // `nmae` is not a value templates see.
/// assert!(MessageTemplate::new("Hi {{ nmae }}", "Hello", "<p>Hello</p>").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MessageTemplate {
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
}

impl MessageTemplate {
    /// A template from its three sources.
    ///
    /// # Errors
    ///
    /// `Validation` (field `template`) for a source over 64 KiB, one that does not compile or
    /// that fails on a sample recipient (an unknown value, a bad filter); `Validation` (field
    /// `subject`) for a subject that is empty or that renders to several lines.
    pub fn new(subject: &str, text: &str, html: &str) -> Result<MessageTemplate> {
        if [subject, text, html].iter().any(|s| s.len() > MAX_SOURCE) {
            return Err(Error::validation(
                "template",
                "a template source is at most 64 KiB",
            ));
        }
        let template = MessageTemplate {
            subject: subject.to_owned(),
            text: text.to_owned(),
            html: html.to_owned(),
        };
        let sample = Context {
            name: "Ana Lima".to_owned(),
            recommendations: vec![Product {
                sku: "MUG-1".to_owned(),
                name: "Mug".to_owned(),
            }],
            cart: vec![CartLine {
                sku: "MUG-1".to_owned(),
                name: "Mug".to_owned(),
                quantity: 1,
            }],
        };
        template.render(&sample, Arc::new(|url: &str| url.to_owned()))?;
        Ok(template)
    }

    /// Renders the three parts for one recipient; `track` turns a URL into its tracking link.
    pub(crate) fn render(&self, context: &Context, track: Tracker) -> Result<Rendered> {
        let mut env = Environment::new();
        // A template naming a value that does not exist fails loudly instead of printing
        // nothing into a customer's message.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_template("subject.txt", &self.subject)
            .map_err(template_error)?;
        env.add_template("body.txt", &self.text)
            .map_err(template_error)?;
        env.add_template("body.html", &self.html)
            .map_err(template_error)?;
        env.add_function("track", move |url: String| track(&url));
        let render = |name: &str| {
            env.get_template(name)
                .and_then(|t| t.render(context))
                .map_err(template_error)
        };
        let subject = render("subject.txt")?;
        let subject = subject.trim().to_owned();
        if subject.is_empty() || subject.contains(['\r', '\n']) {
            return Err(Error::validation(
                "subject",
                "a subject renders to one line of text",
            ));
        }
        Ok(Rendered {
            subject,
            text: render("body.txt")?,
            html: render("body.html")?,
        })
    }
}

fn template_error(err: minijinja::Error) -> Error {
    Error::validation("template", format!("the template failed: {err}"))
}

impl fmt::Debug for MessageTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageTemplate")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}
