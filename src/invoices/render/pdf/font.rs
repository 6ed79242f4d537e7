//! The embedded fonts: glyph lookup and metrics for the layout, and the PDF objects of a
//! subset (Type 0 over a CID TrueType font, `Identity-H`, `ToUnicode`).

use std::collections::BTreeMap;

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::Ids;
use crate::error::{Error, ErrorKind, Result};

fn font_error(what: &str) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("the embedded invoice font {what}"),
    )
}

/// One embedded font: its glyph metrics, the glyphs used so far (renumbered for the subset)
/// and the character each used glyph stands for.
pub(super) struct Font {
    face: Face<'static>,
    data: &'static [u8],
    pub(super) resource: &'static [u8],
    base_name: &'static [u8],
    units_per_em: f32,
    remapper: GlyphRemapper,
    /// New glyph id → (character, advance in font units).
    used: BTreeMap<u16, (char, u16)>,
}

impl Font {
    pub(super) fn load(
        data: &'static [u8],
        resource: &'static [u8],
        base_name: &'static [u8],
    ) -> Result<Font> {
        let face = Face::parse(data, 0).map_err(|_| font_error("cannot be read"))?;
        Ok(Font {
            units_per_em: f32::from(face.units_per_em()),
            face,
            data,
            resource,
            base_name,
            remapper: GlyphRemapper::new(),
            used: BTreeMap::new(),
        })
    }

    /// The glyph for `c`, or for `?` when the font has none.
    fn glyph(&self, c: char) -> (GlyphId, char) {
        match self.face.glyph_index(c) {
            Some(g) if !c.is_control() => (g, c),
            _ => (self.face.glyph_index('?').unwrap_or(GlyphId(0)), '?'),
        }
    }

    fn advance(&self, glyph: GlyphId) -> u16 {
        self.face.glyph_hor_advance(glyph).unwrap_or(0)
    }

    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| u32::from(self.advance(self.glyph(c).0)))
            .sum();
        // Precision loss is irrelevant at page scale.
        #[allow(clippy::cast_precision_loss)]
        let units = units as f32;
        units * size / self.units_per_em
    }

    /// The text as the content stream shows it: two bytes per glyph, the subset's glyph ids.
    pub(super) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (glyph, shown) = self.glyph(c);
            let advance = self.advance(glyph);
            let new = self.remapper.remap(glyph.0);
            self.used.entry(new).or_insert((shown, advance));
            bytes.extend_from_slice(&new.to_be_bytes());
        }
        bytes
    }
}

pub(super) struct FontRefs {
    pub(super) resource: &'static [u8],
    pub(super) type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    to_unicode: Ref,
}

impl FontRefs {
    pub(super) fn new(ids: &mut Ids, font: &Font) -> FontRefs {
        FontRefs {
            resource: font.resource,
            type0: ids.next(),
            cid: ids.next(),
            descriptor: ids.next(),
            file: ids.next(),
            to_unicode: ids.next(),
        }
    }
}

/// A Type 0 font over a CID TrueType subset: glyph ids are the codes (`Identity-H`), widths
/// come from the font, and `ToUnicode` maps every glyph back to its character.
pub(super) fn write_font(pdf: &mut Pdf, refs: &FontRefs, font: &Font) -> Result<()> {
    let subset = subsetter::subset(font.data, 0, &font.remapper)
        .map_err(|_| font_error("could not be subset"))?;
    let scale = |units: i16| f32::from(units) * 1000.0 / font.units_per_em;
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    pdf.type0_font(refs.type0)
        .base_font(Name(font.base_name))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(refs.cid)
        .to_unicode(refs.to_unicode);

    let mut cid = pdf.cid_font(refs.cid);
    cid.subtype(CidFontType::Type2)
        .base_font(Name(font.base_name))
        .system_info(system)
        .font_descriptor(refs.descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let mut widths = cid.widths();
    for (gid, (_, advance)) in &font.used {
        let width = f32::from(*advance) * 1000.0 / font.units_per_em;
        widths.consecutive(*gid, [width]);
    }
    widths.finish();
    cid.finish();

    let b = font.face.global_bounding_box();
    pdf.font_descriptor(refs.descriptor)
        .name(Name(font.base_name))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(b.x_min),
            scale(b.y_min),
            scale(b.x_max),
            scale(b.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(font.face.ascender()))
        .descent(scale(font.face.descender()))
        .cap_height(scale(font.face.capital_height().unwrap_or(0)))
        .stem_v(80.0)
        .font_file2(refs.file);

    let data = compress_to_vec_zlib(&subset, 6);
    pdf.stream(refs.file, &data).filter(Filter::FlateDecode);

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system);
    for (gid, (c, _)) in &font.used {
        cmap.pair(*gid, *c);
    }
    let cmap = compress_to_vec_zlib(&cmap.finish(), 6);
    pdf.stream(refs.to_unicode, &cmap)
        .filter(Filter::FlateDecode);
    Ok(())
}
