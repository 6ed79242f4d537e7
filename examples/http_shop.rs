//! A JSON shop over HTTP: shopkeep behind axum, the way a web host would put it.
//!
//! ```text
//! cargo run --example http_shop                                # a temporary database, port 3000
//! cargo run --example http_shop -- --db shop.db --addr 127.0.0.1:8080
//! ```
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /register` | anyone | `{email, password, name, address: {line1, postal_code, city, country}}`; the same answer whether or not the email had an account |
//! | `POST /login`, `POST /logout` | anyone, a customer | `{email, password}`; the session is an `HttpOnly`, `SameSite=Lax` cookie |
//! | `GET /products` | anyone | the active catalogue |
//! | `GET /cart`, `PUT /cart/{variant}` | a customer | her cart; `{quantity}` sets a line (0 removes it) |
//! | `POST /checkout` | a customer | `Idempotency-Key` header, `{coupon?}`; 201 with the order, 200 when a retry replays it |
//! | `GET /orders`, `GET /orders/{id}` | a customer | her orders; anyone else's order is a 404 |
//! | `GET /orders/{id}/invoice.pdf`, `.../invoice.xml` | a customer | her invoice as PDF and as EN 16931 UBL |
//! | `GET /staff/orders` | an API key | every order |
//! | `POST /staff/orders/{id}/payment` | an API key | `{reference}`: the gateway's payment of the order's total |
//! | `POST /staff/orders/{id}/invoice` | an API key | issues the order's invoice |
//!
//! Staff send `Authorization: Bearer <key>`; the key is printed once at start-up.
//!
//! Every store call blocks (SQLite, argon2), so every handler runs its store calls in
//! `tokio::task::spawn_blocking`, never on the async workers. Errors become HTTP statuses in one
//! place, [`status`]. The JSON views are written by hand here and kept small.
//!
//! `tests/http_shop.rs` compiles this file as a module and drives [`app`] over loopback.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shopkeep::access::{ApiKeySecret, CustomerId, NewApiKey, Role, SessionToken};
use shopkeep::catalog::{
    Contact, CountryTaxes, NewProduct, PostalAddress, Product, ProductQuery, Seller, ShopSettings,
    Sku, StockChange, TaxCategory, TaxTable, TimeZone, VariantId,
};
use shopkeep::crypto::Password;
use shopkeep::customers::{Address, Country, NewCustomer, Phone, VatId};
use shopkeep::invoices::{Invoice, Profile, to_pdf};
use shopkeep::money::TaxRate;
use shopkeep::orders::{
    CartRef, Checkout, Coupon, CouponCode, IdempotencyKey, Order, OrderId, OrderQuery, Payment,
    PriceMode, Shipping,
};
use shopkeep::{Currency, Email, Error, ErrorKind, KeyRing, Money, Principal, Store};

/// The session cookie's name.
const SESSION: &str = "session";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn StdError>> {
    let args = Args::parse()?;
    // Opening and setting up happen before the runtime exists: blocking here blocks nobody.
    let store = Store::open(&args.db, master_key()?)?;
    set_up_demo_shop(&store)?;
    let key = staff_api_key(&store)?;
    println!("database  {}", args.db.display());
    if args.tempdir.is_some() {
        println!(
            "          temporary (a fresh file in a temp directory); pass --db shop.db to keep the shop"
        );
    }
    println!("staff key {} (shown once)", key.as_str());
    println!("listening http://{}", args.addr);

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr).await?;
        axum::serve(listener, app(store)).await
    })?;
    Ok(())
}

/// The HTTP API: every route above, on a store the caller opened.
pub(crate) fn app(store: Store) -> Router {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/products", get(products))
        .route("/cart", get(cart))
        .route("/cart/{variant}", put(set_quantity))
        .route("/checkout", post(checkout))
        .route("/orders", get(my_orders))
        .route("/orders/{id}", get(my_order))
        .route("/orders/{id}/invoice.pdf", get(my_invoice_pdf))
        .route("/orders/{id}/invoice.xml", get(my_invoice_ubl))
        .route("/staff/orders", get(staff_orders))
        .route("/staff/orders/{id}/payment", post(staff_payment))
        .route("/staff/orders/{id}/invoice", post(staff_invoice))
        .with_state(store)
}

// ---------------------------------------------------------------------------------------------
// Errors: one function from error kind to HTTP status.

/// The HTTP status of a shopkeep error, as the table in docs/architecture.md gives it (a test
/// keeps the two in step). `AlreadyExists` from registration never gets here: `register`
/// answers it like a success. Kinds added later (the enum is non-exhaustive) are 500 until
/// someone decides otherwise.
pub(crate) fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::AlreadyExists
        | ErrorKind::Conflict
        | ErrorKind::OutOfStock
        | ErrorKind::InvalidTransition => StatusCode::CONFLICT,
        ErrorKind::IdempotencyMismatch
        | ErrorKind::Validation { .. }
        | ErrorKind::InvalidFields
        | ErrorKind::Overflow
        | ErrorKind::CurrencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::NotConfigured
        | ErrorKind::Crypto
        | ErrorKind::NotADatabase
        | ErrorKind::SchemaTooNew
        | ErrorKind::Storage
        | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Delivery => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A handler's error: a shopkeep error, answered as `{error, field, message}`.
pub(crate) struct ApiError(Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        let status = status(kind);
        if status.is_server_error() {
            // The operator's log gets the cause; the client gets nothing it could use.
            eprintln!("http_shop: {}", self.0);
            return (status, axum::Json(json!({ "error": "internal error" }))).into_response();
        }
        let short = self.0.out_of_stock();
        let body = json!({
            "error": kind.to_string(),
            "field": self.0.field(),
            "message": self.0.to_string(),
            "variant_id": short.map(|s| s.variant().to_string()),
            "available": short.map(|s| s.available()),
            "requested": short.map(|s| s.requested()),
        });
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(wait) = self.0.retry_after() {
            // Whole seconds, rounded up, so that a client waiting this long is let in.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn unauthenticated() -> Error {
    Error::new(ErrorKind::Unauthenticated, "log in first")
}

/// Runs store calls on tokio's blocking pool: SQLite and argon2 must not stall the workers.
async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError(Error::new(ErrorKind::Storage, "a request task failed")))?
}

/// A JSON body, or a 422 naming the body.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError(Error::new(
            ErrorKind::Validation { field: "body" },
            format!("the body is not the JSON this route takes: {e}"),
        ))
    })
}

/// A path's id, or a 404: an id that does not parse names nothing.
fn id<T: std::str::FromStr>(text: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| ApiError(Error::new(ErrorKind::NotFound, "no such object")))
}

// ---------------------------------------------------------------------------------------------
// Who is asking: a customer by session cookie, staff by API key.

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION)
        .map(|(_, value)| value.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

/// The customer a session cookie names (a staff session is no customer).
fn customer(store: &Store, session: Option<String>) -> Result<(Principal, CustomerId), ApiError> {
    let token = session.ok_or_else(unauthenticated)?;
    let who = store.principal_from_session(&SessionToken::new(token))?;
    let me = who.customer_id().ok_or_else(unauthenticated)?;
    Ok((who, me))
}

fn staff(store: &Store, key: Option<String>) -> Result<Principal, ApiError> {
    let key = key.ok_or_else(unauthenticated)?;
    Ok(store.principal_from_api_key(&ApiKeySecret::new(key))?)
}

// ---------------------------------------------------------------------------------------------
// Customers: register, log in, log out.

#[derive(Deserialize)]
struct Registration {
    email: String,
    password: String,
    name: String,
    address: AddressInput,
}

#[derive(Deserialize)]
struct AddressInput {
    line1: String,
    postal_code: Option<String>,
    city: String,
    country: String,
}

async fn register(State(store): State<Store>, bytes: Bytes) -> Result<Response, ApiError> {
    let input: Registration = body(&bytes)?;
    blocking(move || {
        let country = Country::parse(&input.address.country)?;
        let mut address = Address::new(
            &input.name,
            &input.address.line1,
            &input.address.city,
            country,
        )?;
        if let Some(code) = &input.address.postal_code {
            address = address.with_postal_code(code)?;
        }
        let new = NewCustomer::new(
            Email::parse(&input.email)?,
            Password::new(input.password),
            &input.name,
        )?
        .shipping_address(address);
        match store.customers(&Principal::anonymous()).register(new) {
            // A taken email answers exactly like a new account (docs/security.md): the
            // response must not tell a stranger who shops here. A real host would email the
            // owner of the address instead.
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        let answer = json!({ "message": "if this email is new, its account is ready: log in" });
        Ok((StatusCode::ACCEPTED, axum::Json(answer)).into_response())
    })
    .await
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn login(State(store): State<Store>, bytes: Bytes) -> Result<Response, ApiError> {
    let input: Credentials = body(&bytes)?;
    blocking(move || {
        // A malformed email is no account either: the same 401 as a wrong password.
        let email = Email::parse(&input.email).map_err(|_| unauthenticated())?;
        let login = store.login(&email, &Password::new(input.password))?;
        // HttpOnly: page scripts cannot read it. SameSite=Lax: other sites' forms do not send
        // it (no CSRF on the POST routes). Secure: browsers send it over HTTPS and localhost only.
        let cookie = format!(
            "{SESSION}={}; HttpOnly; Secure; SameSite=Lax; Path=/",
            login.token().as_str()
        );
        Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), &cookie))
    })
    .await
}

async fn logout(State(store): State<Store>, headers: HeaderMap) -> Result<Response, ApiError> {
    let session = session_cookie(&headers);
    blocking(move || {
        if let Some(token) = session {
            store.logout(&SessionToken::new(token))?;
        }
        let cookie = format!("{SESSION}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0");
        Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), &cookie))
    })
    .await
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

// ---------------------------------------------------------------------------------------------
// Catalogue and cart.

async fn products(State(store): State<Store>) -> Result<axum::Json<Value>, ApiError> {
    blocking(move || {
        let page = store
            .products(&Principal::anonymous())
            .list(&ProductQuery::new())?;
        let items: Vec<Value> = page.items().iter().map(product_view).collect();
        Ok(axum::Json(json!({ "products": items })))
    })
    .await
}

async fn cart(
    State(store): State<Store>,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    let session = session_cookie(&headers);
    blocking(move || {
        let (who, me) = customer(&store, session)?;
        let cart = store.carts(&who).get(CartRef::Customer(me))?;
        Ok(axum::Json(cart_view(&cart)))
    })
    .await
}

#[derive(Deserialize)]
struct Quantity {
    quantity: u32,
}

async fn set_quantity(
    State(store): State<Store>,
    headers: HeaderMap,
    Path(variant): Path<String>,
    bytes: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    let session = session_cookie(&headers);
    let input: Quantity = body(&bytes)?;
    let variant: VariantId = id(&variant)?;
    blocking(move || {
        let (who, me) = customer(&store, session)?;
        let cart =
            store
                .carts(&who)
                .set_quantity(CartRef::Customer(me), variant, input.quantity)?;
        Ok(axum::Json(cart_view(&cart)))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Checkout and the customer's orders.

#[derive(Deserialize)]
struct CheckoutInput {
    coupon: Option<String>,
}

async fn checkout(
    State(store): State<Store>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let session = session_cookie(&headers);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // An empty body is a checkout without a coupon.
    let input: CheckoutInput = if bytes.is_empty() {
        CheckoutInput { coupon: None }
    } else {
        body(&bytes)?
    };
    blocking(move || {
        let (who, me) = customer(&store, session)?;
        let key = key.ok_or_else(|| {
            Error::new(
                ErrorKind::Validation {
                    field: "idempotency_key",
                },
                "send an Idempotency-Key header, the same on every retry",
            )
        })?;
        let mut request =
            Checkout::from_cart(me, IdempotencyKey::new(&key)?).shipping(Shipping::new(
                "Standard shipping",
                Money::parse("4.90", Currency::EUR)?,
                TaxCategory::Standard,
            )?);
        if let Some(code) = &input.coupon {
            request = request.coupon(CouponCode::parse(code)?);
        }
        // A retry of the same request gets the first order back: 200, not a second 201.
        let (status, order) = match store.orders(&who).checkout(request)? {
            shopkeep::orders::CheckoutOutcome::Placed(order) => (StatusCode::CREATED, order),
            shopkeep::orders::CheckoutOutcome::Replayed(order) => (StatusCode::OK, order),
        };
        let location = format!("/orders/{}", order.id());
        let mut response = (status, axum::Json(order_view(&order))).into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        Ok(response)
    })
    .await
}

async fn my_orders(
    State(store): State<Store>,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    let session = session_cookie(&headers);
    blocking(move || {
        let (who, me) = customer(&store, session)?;
        let page = store.orders(&who).list_for(me, None, 50)?;
        let orders: Vec<Value> = page.orders().iter().map(order_view).collect();
        Ok(axum::Json(json!({ "orders": orders })))
    })
    .await
}

async fn my_order(
    State(store): State<Store>,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let session = session_cookie(&headers);
    let order: OrderId = id(&order)?;
    blocking(move || {
        let (who, _) = customer(&store, session)?;
        // Another customer's order is NotFound, exactly like a missing one: a 404.
        let order = store.orders(&who).get(order)?;
        Ok(axum::Json(order_view(&order)))
    })
    .await
}

/// The customer's invoice of an order (not its credit notes); NotFound until it is issued.
fn my_invoice(store: &Store, session: Option<String>, order: OrderId) -> Result<Invoice, ApiError> {
    let (who, _) = customer(store, session)?;
    let documents = store.invoices(&who).for_order(order)?;
    let invoice = documents.into_iter().find(|d| !d.is_credit_note());
    Ok(invoice.ok_or_else(|| Error::new(ErrorKind::NotFound, "the order has no invoice yet"))?)
}

async fn my_invoice_pdf(
    State(store): State<Store>,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Result<Response, ApiError> {
    let session = session_cookie(&headers);
    let order: OrderId = id(&order)?;
    blocking(move || {
        let invoice = my_invoice(&store, session, order)?;
        let pdf = to_pdf(invoice.document())?;
        Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
    })
    .await
}

async fn my_invoice_ubl(
    State(store): State<Store>,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Result<Response, ApiError> {
    let session = session_cookie(&headers);
    let order: OrderId = id(&order)?;
    blocking(move || {
        let invoice = my_invoice(&store, session, order)?;
        let xml = invoice.to_ubl(Profile::En16931)?;
        Ok(([(header::CONTENT_TYPE, "application/xml")], xml).into_response())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Staff, by API key.

async fn staff_orders(
    State(store): State<Store>,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    let key = bearer(&headers);
    blocking(move || {
        let who = staff(&store, key)?;
        let page = store.orders(&who).list(&OrderQuery::new())?;
        let orders: Vec<Value> = page.orders().iter().map(order_view).collect();
        Ok(axum::Json(json!({ "orders": orders })))
    })
    .await
}

#[derive(Deserialize)]
struct PaymentInput {
    reference: String,
}

async fn staff_payment(
    State(store): State<Store>,
    headers: HeaderMap,
    Path(order): Path<String>,
    bytes: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    let key = bearer(&headers);
    let order: OrderId = id(&order)?;
    let input: PaymentInput = body(&bytes)?;
    blocking(move || {
        let who = staff(&store, key)?;
        let orders = store.orders(&who);
        let total = orders.get(order)?.total();
        let order = orders.mark_paid(order, Payment::new(&input.reference, total)?)?;
        Ok(axum::Json(order_view(&order)))
    })
    .await
}

async fn staff_invoice(
    State(store): State<Store>,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Result<Response, ApiError> {
    let key = bearer(&headers);
    let order: OrderId = id(&order)?;
    blocking(move || {
        let who = staff(&store, key)?;
        let invoice = store.invoices(&who).issue(order)?;
        let view = json!({
            "id": invoice.id().to_string(),
            "number": invoice.number(),
            "order": invoice.order().to_string(),
        });
        Ok((StatusCode::CREATED, axum::Json(view)).into_response())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// JSON views, by hand: amounts as text (`12.90 EUR`), ids as text.

fn product_view(product: &Product) -> Value {
    let variants: Vec<Value> = product
        .variants()
        .iter()
        .map(|v| {
            json!({
                "id": v.id().to_string(),
                "sku": v.sku().as_str(),
                "prices": v.prices().iter().map(Money::to_string).collect::<Vec<_>>(),
                "in_stock": v.in_stock(),
            })
        })
        .collect();
    json!({
        "id": product.id().to_string(),
        "sku": product.sku().as_str(),
        "name": product.name(),
        "variants": variants,
    })
}

fn cart_view(cart: &shopkeep::orders::Cart) -> Value {
    let lines: Vec<Value> = cart
        .lines()
        .iter()
        .map(|l| json!({ "variant": l.variant().to_string(), "quantity": l.quantity() }))
        .collect();
    json!({ "lines": lines })
}

fn order_view(order: &Order) -> Value {
    let lines: Vec<Value> = order
        .lines()
        .iter()
        .map(|l| {
            json!({
                "sku": l.sku().as_str(),
                "name": l.name(),
                "quantity": l.quantity(),
                "unit_price": l.unit_price().to_string(),
                "amount": l.amount().to_string(),
            })
        })
        .collect();
    json!({
        "id": order.id().to_string(),
        "number": order.number().to_string(),
        "status": order.status().to_string(),
        "lines": lines,
        "net_total": order.net_total().to_string(),
        "vat_total": order.vat_total().to_string(),
        "total": order.total().to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Setting up: the demo shop and a staff API key.

/// On a database without settings: the seller, a German tax table, two products in stock and
/// the coupon `WELCOME10` (10 % off).
pub(crate) fn set_up_demo_shop(store: &Store) -> shopkeep::Result<ShopSettings> {
    let system = store.system();
    if let Some(settings) = store.settings(&system).get()? {
        return Ok(settings);
    }
    let de = Country::parse("DE")?;
    let seller = Seller::new(
        "Beispiel Haushaltswaren GmbH",
        PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de)?,
        Contact::new(
            "Olga Owner",
            Phone::parse("+49 30 1234567")?,
            Email::parse("billing@example.com")?,
        )?,
    )?
    .vat_id(VatId::parse("DE123456788")?);
    let german = CountryTaxes::new(TaxRate::parse("19")?).reduced(TaxRate::parse("7")?);
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
        .tax_table(TaxTable::new().country(de, german))
        .time_zone(TimeZone::parse("Europe/Berlin")?)
        .build()?;
    let settings = store.settings(&system).update(0, &settings)?;
    for (sku, name, category, price) in [
        ("MUG-1", "Enamel mug", TaxCategory::Standard, "12.90"),
        (
            "BOOK-7",
            "Bread & Butter cookbook",
            TaxCategory::Reduced,
            "24.00",
        ),
    ] {
        let new = NewProduct::new(Sku::parse(sku)?, name, category)?
            .price(Money::parse(price, Currency::EUR)?)
            .track_stock(true);
        let product = store.products(&system).create(new)?;
        for variant in product.variants() {
            store
                .stock(&system)
                .adjust(variant.id(), StockChange::receipt(100))?;
        }
    }
    store
        .coupons(&system)
        .create(&Coupon::percent(CouponCode::parse("WELCOME10")?, 1000)?)?;
    Ok(settings)
}

/// A new API key for the back office (role manager: orders, payments, invoices). Its secret
/// exists only in the result; the store keeps a keyed hash.
pub(crate) fn staff_api_key(store: &Store) -> shopkeep::Result<ApiKeySecret> {
    let created = store
        .api_keys(&store.system())
        .create(NewApiKey::new("http_shop back office", Role::Manager)?)?;
    Ok(ApiKeySecret::new(created.secret().as_str()))
}

/// A real host reads its master key from a secret manager or the environment, away from the
/// database and its backups. The fallback is for this demo only.
fn master_key() -> Result<KeyRing, Box<dyn StdError>> {
    let hex = std::env::var("SHOPKEEP_MASTER_KEY").unwrap_or_else(|_| {
        "6b6565702d746869732d6f75742d6f662d7468652d64622d6469726563746f72".into()
    });
    Ok(KeyRing::from_hex(&hex)?)
}

struct Args {
    db: PathBuf,
    addr: SocketAddr,
    /// The default database's temporary directory, kept alive until the server stops.
    tempdir: Option<tempfile::TempDir>,
}

impl Args {
    /// `--db PATH` (default: a fresh file in a temporary directory) and `--addr HOST:PORT`
    /// (default `127.0.0.1:3000`).
    fn parse() -> Result<Args, Box<dyn StdError>> {
        const USAGE: &str = "usage: http_shop [--db PATH] [--addr HOST:PORT]";
        let mut db = None;
        let mut addr = SocketAddr::from(([127, 0, 0, 1], 3000));
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(USAGE)?;
            match flag.as_str() {
                "--db" => db = Some(PathBuf::from(value)),
                "--addr" => addr = value.parse()?,
                _ => return Err(USAGE.into()),
            }
        }
        let (db, tempdir) = match db {
            Some(path) => (path, None),
            None => {
                let dir = tempfile::tempdir()?;
                (dir.path().join("shop.db"), Some(dir))
            }
        };
        Ok(Args { db, addr, tempdir })
    }
}
