//! The guides: how shopkeep works and why, one page per subject.
//!
//! These are the Markdown files of the repository's `docs/` folder, included here so that they
//! travel with the API documentation. Start with [`architecture`], then read the page of the
//! domain you work on; [`compared`] sets shopkeep beside other commerce backends, and
//! [`changelog`] lists what each version brought.

#[doc = include_str!("../docs/architecture.md")]
pub mod architecture {}

#[doc = include_str!("../docs/security.md")]
pub mod security {}

#[doc = include_str!("../docs/access-control.md")]
pub mod access_control {}

#[doc = include_str!("../docs/catalog.md")]
pub mod catalog {}

#[doc = include_str!("../docs/orders.md")]
pub mod orders {}

#[doc = include_str!("../docs/invoicing.md")]
pub mod invoicing {}

#[doc = include_str!("../docs/marketing.md")]
pub mod marketing {}

#[doc = include_str!("../docs/clv.md")]
pub mod clv {}

#[doc = include_str!("../docs/leads.md")]
pub mod leads {}

#[doc = include_str!("../docs/integrations.md")]
pub mod integrations {}

#[doc = include_str!("../docs/performance.md")]
pub mod performance {}

#[doc = include_str!("../docs/backends.md")]
pub mod backends {}

#[doc = include_str!("../docs/compared.md")]
pub mod compared {}

#[doc = include_str!("../CHANGELOG.md")]
pub mod changelog {}

#[cfg(test)]
mod tests {
    /// A guide added to `docs/` but not here would be missing from docs.rs.
    #[test]
    fn every_guide_is_a_page() -> std::io::Result<()> {
        let this = include_str!("guide.rs");
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        for entry in std::fs::read_dir(docs)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".md") {
                let include = format!("include_str!(\"../docs/{name}\")");
                assert!(
                    this.contains(&include),
                    "docs/{name} is not a page of guide"
                );
            }
        }
        Ok(())
    }
}
