//! The Parquet export of the marketing facts (feature `parquet`): orders, order lines,
//! customers by pseudonymous id, and the stored RFM and CLV scores, one Parquet file each, so
//! that DuckDB, Spark or a warehouse can take over where one machine ends.
//!
//! No personal data leaves in clear: customers appear by id only (no email, name, phone or
//! address; the shipping country of an order is a country code). Written with the parquet
//! crate's column writer: plain, uncompressed columns, one row group per table.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::repo::{MarketingRepo, settings};
use crate::access::{Action, CustomerId, Resource};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::orders::OrderId;
use crate::sql::args;
use crate::store::Tx;

/// One table of the Parquet export, one file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FactTable {
    /// Every order: id, number, customer id, status, whether paid, currency, time placed
    /// (UTC) and local date (shop time zone), totals and refunds in minor units, shipping
    /// country, coupon and campaign attribution.
    Orders,
    /// Every order line: order id, position, SKU, quantity, unit price, line net amount and
    /// VAT rate (basis points).
    OrderLines,
    /// Every customer by pseudonymous id: when they registered and whether they are erased.
    Customers,
    /// The stored scores of the last refresh: RFM figures, scores, segment, country and the
    /// CLV figures (NULL when the refresh could not fit the models).
    Scores,
}

impl FactTable {
    /// Every table, in export order.
    pub const ALL: [FactTable; 4] = [
        FactTable::Orders,
        FactTable::OrderLines,
        FactTable::Customers,
        FactTable::Scores,
    ];

    /// The table's file name in [`MarketingRepo::export_parquet`]'s directory.
    pub fn file_name(self) -> &'static str {
        match self {
            FactTable::Orders => "orders.parquet",
            FactTable::OrderLines => "order_lines.parquet",
            FactTable::Customers => "customers.parquet",
            FactTable::Scores => "scores.parquet",
        }
    }
}

/// What an export wrote: the rows of each table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetExport {
    rows: Vec<(FactTable, usize)>,
}

impl ParquetExport {
    /// How many rows `table` has.
    pub fn rows(&self, table: FactTable) -> usize {
        self.rows
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// One column's values, all rows of a table.
enum Values {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Flag(Vec<Option<bool>>),
}

/// What a column holds, as Parquet types it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// UTF-8 text.
    Text,
    /// A 64-bit integer.
    Int,
    /// Milliseconds since the Unix epoch, UTC.
    Time,
    /// A double.
    Real,
    /// A boolean.
    Flag,
}

/// A column: its name, kind, whether it may be NULL, and its values.
struct Column {
    name: &'static str,
    kind: Kind,
    optional: bool,
    values: Values,
}

/// A table as columns, declared up front (so an empty table still has its schema) and filled
/// row by row.
struct Table {
    name: &'static str,
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// A table of `columns`: (name, kind, optional).
    fn new(name: &'static str, columns: &[(&'static str, Kind, bool)]) -> Table {
        let columns = columns
            .iter()
            .map(|&(name, kind, optional)| Column {
                name,
                kind,
                optional,
                values: match kind {
                    Kind::Text => Values::Text(Vec::new()),
                    Kind::Int | Kind::Time => Values::Int(Vec::new()),
                    Kind::Real => Values::Real(Vec::new()),
                    Kind::Flag => Values::Flag(Vec::new()),
                },
            })
            .collect();
        Table {
            name,
            columns,
            rows: 0,
        }
    }

    /// Adds a row: one value per column, in the declared order. A value of the wrong kind is
    /// stored as NULL (the columns are declared next to the rows that fill them).
    fn push(&mut self, row: Vec<Value>) {
        for (column, value) in self.columns.iter_mut().zip(row) {
            match (&mut column.values, value) {
                (Values::Text(v), Value::Text(x)) => v.push(x),
                (Values::Int(v), Value::Int(x)) => v.push(x),
                (Values::Real(v), Value::Real(x)) => v.push(x),
                (Values::Flag(v), Value::Flag(x)) => v.push(Some(x)),
                (Values::Text(v), _) => v.push(None),
                (Values::Int(v), _) => v.push(None),
                (Values::Real(v), _) => v.push(None),
                (Values::Flag(v), _) => v.push(None),
            }
        }
        self.rows += 1;
    }

    /// The Parquet message type of the table.
    fn schema(&self) -> String {
        let mut out = format!("message {} {{\n", self.name);
        for c in &self.columns {
            let repetition = if c.optional { "OPTIONAL" } else { "REQUIRED" };
            let column_type = match c.kind {
                Kind::Text => "BYTE_ARRAY",
                Kind::Int | Kind::Time => "INT64",
                Kind::Real => "DOUBLE",
                Kind::Flag => "BOOLEAN",
            };
            let annotation = match c.kind {
                Kind::Text => " (UTF8)",
                Kind::Time => " (TIMESTAMP(MILLIS,true))",
                Kind::Int | Kind::Real | Kind::Flag => "",
            };
            out.push_str(&format!(
                "  {repetition} {column_type} {}{annotation};\n",
                c.name
            ));
        }
        out.push('}');
        out
    }
}

/// One value of a row.
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Flag(bool),
}

fn text(value: impl Into<String>) -> Value {
    Value::Text(Some(value.into()))
}

fn int(value: i64) -> Value {
    Value::Int(Some(value))
}

fn time(at: Timestamp) -> Value {
    Value::Int(Some(at.unix_millis()))
}

/// The values that are present and the definition levels (1 present, 0 NULL) of a column.
fn split<T: Clone>(values: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let present = values.iter().flatten().cloned().collect();
    let levels = values.iter().map(|v| i16::from(v.is_some())).collect();
    (present, levels)
}

fn parquet_error(err: parquet::errors::ParquetError) -> Error {
    Error::new(ErrorKind::Storage, "could not write the Parquet export").with_source(err)
}

/// Writes `table` as a Parquet file to `sink`.
fn write_table<W: Write + Send>(table: &Table, sink: W) -> Result<()> {
    let schema = Arc::new(parse_message_type(&table.schema()).map_err(parquet_error)?);
    let properties = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(sink, schema, properties).map_err(parquet_error)?;
    let mut group = writer.next_row_group().map_err(parquet_error)?;
    for column in &table.columns {
        let Some(mut out) = group.next_column().map_err(parquet_error)? else {
            break;
        };
        let levels = |levels: Vec<i16>| if column.optional { Some(levels) } else { None };
        match &column.values {
            Values::Text(v) => {
                let (present, def) = split(v);
                let present: Vec<ByteArray> = present
                    .iter()
                    .map(|t| ByteArray::from(t.as_str()))
                    .collect();
                out.typed::<ByteArrayType>()
                    .write_batch(&present, levels(def).as_deref(), None)
            }
            Values::Int(v) => {
                let (present, def) = split(v);
                out.typed::<Int64Type>()
                    .write_batch(&present, levels(def).as_deref(), None)
            }
            Values::Real(v) => {
                let (present, def) = split(v);
                out.typed::<DoubleType>()
                    .write_batch(&present, levels(def).as_deref(), None)
            }
            Values::Flag(v) => {
                let (present, def) = split(v);
                out.typed::<BoolType>()
                    .write_batch(&present, levels(def).as_deref(), None)
            }
        }
        .map_err(parquet_error)?;
        out.close().map_err(parquet_error)?;
    }
    group.close().map_err(parquet_error)?;
    writer.close().map_err(parquet_error)?;
    Ok(())
}

/// Every order, by id.
fn orders(tx: &Tx<'_>) -> Result<Table> {
    use Kind::{Flag, Int, Text, Time};
    let zone = settings(tx)?.time_zone();
    let mut table = Table::new(
        "orders",
        &[
            ("order_id", Text, false),
            ("number", Int, false),
            ("customer_id", Text, false),
            ("status", Text, false),
            ("paid", Flag, false),
            ("currency", Text, false),
            ("placed_at", Time, false),
            ("placed_on", Text, false),
            ("net_total", Int, false),
            ("vat_total", Int, false),
            ("gross_total", Int, false),
            ("refunded", Int, false),
            ("destination", Text, false),
            ("coupon_code", Text, true),
            ("source", Text, true),
            ("medium", Text, true),
            ("campaign", Text, true),
        ],
    );
    tx.query_each(
        "SELECT o.id, o.number, o.customer_id, o.status,
                EXISTS (SELECT 1 FROM shopkeep_order_payments p WHERE p.order_id = o.id),
                o.currency, o.placed_at, o.net_total, o.vat_total, o.gross_total,
                coalesce((SELECT sum(r.gross_total) FROM shopkeep_refunds r
                          WHERE r.order_id = o.id), 0),
                o.destination, o.coupon_code, a.source, a.medium, a.campaign
             FROM shopkeep_orders o
             LEFT JOIN shopkeep_order_attribution a ON a.order_id = o.id
             ORDER BY o.id",
        args![],
        |r| {
            let id: OrderId = r.get(0)?;
            let customer: CustomerId = r.get(2)?;
            let placed_at: Timestamp = r.get(6)?;
            let n = |i| r.get::<i64>(i);
            let s = |i| r.get::<Option<String>>(i);
            table.push(vec![
                text(id.to_string()),
                int(n(1)?),
                text(customer.to_string()),
                Value::Text(s(3)?),
                Value::Flag(n(4)? != 0),
                Value::Text(s(5)?),
                time(placed_at),
                text(zone.local_date(placed_at).to_string()),
                int(n(7)?),
                int(n(8)?),
                int(n(9)?),
                int(n(10)?),
                Value::Text(s(11)?),
                Value::Text(s(12)?),
                Value::Text(s(13)?),
                Value::Text(s(14)?),
                Value::Text(s(15)?),
            ]);
            Ok(())
        },
    )?;
    Ok(table)
}

/// Every order line, by order and position.
fn order_lines(tx: &Tx<'_>) -> Result<Table> {
    use Kind::{Int, Text};
    let mut table = Table::new(
        "order_lines",
        &[
            ("order_id", Text, false),
            ("position", Int, false),
            ("sku", Text, false),
            ("quantity", Int, false),
            ("unit_price", Int, false),
            ("line_net", Int, false),
            ("vat_rate_bp", Int, false),
        ],
    );
    tx.query_each(
        "SELECT order_id, position, sku, quantity, unit_price, line_net, vat_rate_bp
             FROM shopkeep_order_lines ORDER BY order_id, position",
        args![],
        |r| {
            let id: OrderId = r.get(0)?;
            let n = |i| r.get::<i64>(i);
            table.push(vec![
                text(id.to_string()),
                int(n(1)?),
                Value::Text(r.get(2)?),
                int(n(3)?),
                int(n(4)?),
                int(n(5)?),
                int(n(6)?),
            ]);
            Ok(())
        },
    )?;
    Ok(table)
}

/// Every customer, by pseudonymous id only.
fn customers(tx: &Tx<'_>) -> Result<Table> {
    use Kind::{Flag, Text, Time};
    let mut table = Table::new(
        "customers",
        &[
            ("customer_id", Text, false),
            ("created_at", Time, false),
            ("erased", Flag, false),
        ],
    );
    tx.query_each(
        "SELECT id, created_at, erased_at IS NOT NULL FROM shopkeep_customers ORDER BY id",
        args![],
        |r| {
            let id: CustomerId = r.get(0)?;
            let created: Timestamp = r.get(1)?;
            table.push(vec![
                text(id.to_string()),
                time(created),
                Value::Flag(r.get(2)?),
            ]);
            Ok(())
        },
    )?;
    Ok(table)
}

/// The stored scores of customers who are not erased, by customer id.
fn scores(tx: &Tx<'_>) -> Result<Table> {
    use Kind::{Int, Real, Text, Time};
    let currency = settings(tx)?.base_currency();
    let mut table = Table::new(
        "scores",
        &[
            ("customer_id", Text, false),
            ("first_order_at", Time, false),
            ("last_order_at", Time, false),
            ("recency_days", Int, false),
            ("frequency", Int, false),
            ("currency", Text, false),
            ("monetary", Int, false),
            ("r_score", Int, false),
            ("f_score", Int, false),
            ("m_score", Int, false),
            ("segment", Text, false),
            ("country", Text, true),
            ("p_alive", Real, true),
            ("expected_purchases", Real, true),
            ("expected_value", Int, true),
            ("refreshed_at", Time, false),
        ],
    );
    tx.query_each(
        "SELECT s.customer_id, s.first_order_at, s.last_order_at, s.recency_days,
                s.frequency, s.monetary, s.r_score, s.f_score, s.m_score, s.segment, s.country,
                s.p_alive, s.expected_purchases, s.expected_value, s.refreshed_at
             FROM shopkeep_customer_scores s
             JOIN shopkeep_customers c ON c.id = s.customer_id AND c.erased_at IS NULL
             ORDER BY s.customer_id",
        args![],
        |r| {
            let id: CustomerId = r.get(0)?;
            let at = |i| r.get::<Timestamp>(i);
            let n = |i| r.get::<i64>(i);
            table.push(vec![
                text(id.to_string()),
                time(at(1)?),
                time(at(2)?),
                int(n(3)?),
                int(n(4)?),
                text(currency.code()),
                int(n(5)?),
                int(n(6)?),
                int(n(7)?),
                int(n(8)?),
                Value::Text(r.get(9)?),
                Value::Text(r.get(10)?),
                Value::Real(r.get(11)?),
                Value::Real(r.get(12)?),
                Value::Int(r.get(13)?),
                time(at(14)?),
            ]);
            Ok(())
        },
    )?;
    Ok(table)
}

impl MarketingRepo<'_> {
    /// Exports the marketing facts as Parquet files into the directory `dir` (which must
    /// exist), one per [`FactTable`] under its [`file_name`](FactTable::file_name),
    /// replacing files of those names. As [`export_parquet_to`](Self::export_parquet_to).
    ///
    /// # Errors
    ///
    /// As [`export_parquet_to`](Self::export_parquet_to); `Storage` if a file cannot be
    /// created or written.
    pub fn export_parquet(&self, dir: &Path) -> Result<ParquetExport> {
        self.export_parquet_to(|table| File::create(dir.join(table.file_name())))
    }

    /// Exports the marketing facts as Parquet, each [`FactTable`] to the writer `open` gives
    /// for it: orders, order lines, customers (by pseudonymous id only: no email, name, phone
    /// or address) and the stored scores. Needs [`Action::ExportAnalytics`]; the export is
    /// audited. All four tables come from one snapshot, read on the reader pool; the files are
    /// written after it ends. Money columns are integer minor units (orders carry their
    /// currency, scores the shop's base currency), times are UTC milliseconds
    /// (`TIMESTAMP(MILLIS, true)`) and `placed_on` the order's date in the shop's time zone.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the action; `NotConfigured` if the shop has no settings; `Storage`
    /// if `open` or a write fails (tables written before stay written).
    #[cfg_attr(docsrs, doc(cfg(feature = "parquet")))]
    pub fn export_parquet_to<W: Write + Send>(
        &self,
        mut open: impl FnMut(FactTable) -> std::io::Result<W>,
    ) -> Result<ParquetExport> {
        let tables = self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ExportAnalytics,
                &Resource::Analytics,
            )?;
            Ok([
                (FactTable::Orders, orders(tx)?),
                (FactTable::OrderLines, order_lines(tx)?),
                (FactTable::Customers, customers(tx)?),
                (FactTable::Scores, scores(tx)?),
            ])
        })?;
        // The facts leave the database here: the audit log says who took them.
        self.store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ExportAnalytics,
                &Resource::Analytics,
            )?;
            tx.audit(
                self.principal,
                Action::ExportAnalytics,
                &Resource::Analytics,
            )
        })?;
        let mut rows = Vec::with_capacity(tables.len());
        for (kind, table) in &tables {
            let sink = open(*kind).map_err(|err| {
                Error::new(
                    ErrorKind::Storage,
                    format!("could not open {}", kind.file_name()),
                )
                .with_source(err)
            })?;
            write_table(table, sink)?;
            rows.push((*kind, table.rows));
        }
        Ok(ParquetExport { rows })
    }
}
