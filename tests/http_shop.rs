//! examples/http_shop.rs over loopback: a real server on 127.0.0.1:0, a real HTTP client.
//!
//! The example is compiled into this test as a module; each test opens a database in a temp
//! dir, serves `app` on a tokio runtime of its own and talks to it with ureq (plain HTTP/1.1).

// Test helpers outside #[test] functions fail loudly, like the tests themselves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// The example's `main` and argument parsing are for the command line; the tests use `app`.
#[allow(dead_code)]
#[path = "../examples/http_shop.rs"]
mod http_shop;

use serde_json::{Value, json};
use shopkeep::crypto::PasswordParams;
use shopkeep::{ErrorKind, KeyRing, Store};

/// A running example server and a client for it.
struct Shop {
    base: String,
    staff_key: String,
    agent: ureq::Agent,
    // Dropping the runtime stops the server; the temp dir outlives it (fields drop in order).
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// What came back: the status, two headers and the body.
struct Reply {
    status: u16,
    set_cookie: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

fn start() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    // The system clock, as in production: the example tells a replayed checkout by its time.
    let store = Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .open(
            dir.path().join("shop.db"),
            KeyRing::from_master_key([8; 32]),
        )
        .unwrap();
    http_shop::set_up_demo_shop(&store).unwrap();
    let staff_key = http_shop::staff_api_key(&store)
        .unwrap()
        .as_str()
        .to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, http_shop::app(store)).await });

    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    Shop {
        base: format!("http://{addr}"),
        staff_key,
        agent,
        _runtime: runtime,
        _dir: dir,
    }
}

impl Shop {
    /// One request: `headers` are (name, value) pairs; a `body` is sent as JSON.
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                json.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        let mut response = self.agent.run(request.body(body).unwrap()).unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (set_cookie, content_type) = (header("set-cookie"), header("content-type"));
        Reply {
            status: response.status().as_u16(),
            set_cookie,
            content_type,
            body: response.body_mut().read_to_vec().unwrap(),
        }
    }

    fn register(&self, email: &str, name: &str) -> Reply {
        let registration = json!({
            "email": email,
            "password": format!("{name} likes long passphrases"),
            "name": name,
            "address": { "line1": "Marktplatz 5", "postal_code": "80331", "city": "München", "country": "DE" },
        });
        self.call("POST", "/register", &[], Some(registration))
    }

    /// Registers and logs in; returns the `Cookie` header value of the session.
    fn customer(&self, email: &str, name: &str) -> String {
        assert_eq!(self.register(email, name).status, 202);
        let credentials =
            json!({ "email": email, "password": format!("{name} likes long passphrases") });
        let login = self.call("POST", "/login", &[], Some(credentials));
        assert_eq!(login.status, 204);
        let cookie = login.set_cookie.expect("login sets the session cookie");
        cookie.split(';').next().unwrap().to_owned()
    }

    /// Puts `quantity` of the product `sku` in the cart of the customer with `cookie`.
    fn add(&self, cookie: &str, sku: &str, quantity: u32) {
        let products = self.call("GET", "/products", &[], None).json();
        let product = products["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["sku"] == sku)
            .unwrap_or_else(|| panic!("no {sku} in {products}"));
        let variant = product["variants"][0]["id"].as_str().unwrap();
        let reply = self.call(
            "PUT",
            &format!("/cart/{variant}"),
            &[("cookie", cookie)],
            Some(json!({ "quantity": quantity })),
        );
        assert_eq!(reply.status, 200, "{}", reply.json());
    }

    fn checkout(&self, cookie: &str, key: &str, body: Option<Value>) -> Reply {
        self.call(
            "POST",
            "/checkout",
            &[("cookie", cookie), ("idempotency-key", key)],
            body,
        )
    }

    fn staff(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let bearer = format!("Bearer {}", self.staff_key);
        self.call(method, path, &[("authorization", &bearer)], body)
    }
}

#[test]
fn a_customer_registers_logs_in_shops_checks_out_and_downloads_her_invoice() {
    let shop = start();

    // Registration answers alike for a new and a taken email.
    let first = shop.register("ana@example.com", "Ana Lima");
    let again = shop.register("ana@example.com", "Ana Lima");
    assert_eq!((first.status, again.status), (202, 202));
    assert_eq!(first.body, again.body);

    // The session cookie is out of scripts' and other sites' reach.
    let credentials =
        json!({ "email": "ana@example.com", "password": "Ana Lima likes long passphrases" });
    let login = shop.call("POST", "/login", &[], Some(credentials));
    assert_eq!(login.status, 204);
    let set_cookie = login.set_cookie.unwrap();
    assert!(set_cookie.starts_with("session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let ana = set_cookie.split(';').next().unwrap().to_owned();

    shop.add(&ana, "MUG-1", 2);
    shop.add(&ana, "BOOK-7", 1);
    let cart = shop.call("GET", "/cart", &[("cookie", &ana)], None).json();
    assert_eq!(cart["lines"].as_array().unwrap().len(), 2, "{cart}");

    let placed = shop.checkout(&ana, "attempt-1", Some(json!({ "coupon": "WELCOME10" })));
    assert_eq!(placed.status, 201, "{}", placed.json());
    let order = placed.json();
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "placed");
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);

    let mine = shop
        .call("GET", "/orders", &[("cookie", &ana)], None)
        .json();
    assert_eq!(mine["orders"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["orders"][0]["id"], id.as_str());

    // No invoice before the back office issues one.
    let early = shop.call(
        "GET",
        &format!("/orders/{id}/invoice.pdf"),
        &[("cookie", &ana)],
        None,
    );
    assert_eq!(early.status, 404);

    // The back office, by API key: every order, the payment, the invoice.
    let all = shop.staff("GET", "/staff/orders", None).json();
    assert_eq!(all["orders"][0]["id"], id.as_str(), "{all}");
    let paid = shop.staff(
        "POST",
        &format!("/staff/orders/{id}/payment"),
        Some(json!({ "reference": "psp_123" })),
    );
    assert_eq!(paid.status, 200, "{}", paid.json());
    assert_eq!(paid.json()["status"], "paid");
    let invoice = shop.staff("POST", &format!("/staff/orders/{id}/invoice"), None);
    assert_eq!(invoice.status, 201, "{}", invoice.json());
    let number = invoice.json()["number"].as_str().unwrap().to_owned();

    let pdf = shop.call(
        "GET",
        &format!("/orders/{id}/invoice.pdf"),
        &[("cookie", &ana)],
        None,
    );
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type.as_deref(), Some("application/pdf"));
    assert!(pdf.body.starts_with(b"%PDF-"));
    let ubl = shop.call(
        "GET",
        &format!("/orders/{id}/invoice.xml"),
        &[("cookie", &ana)],
        None,
    );
    assert_eq!(ubl.status, 200);
    assert_eq!(ubl.content_type.as_deref(), Some("application/xml"));
    let xml = String::from_utf8(ubl.body).unwrap();
    assert!(xml.contains(&format!("<cbc:ID>{number}</cbc:ID>")), "{xml}");

    // Logged out, the cookie opens nothing.
    assert_eq!(
        shop.call("POST", "/logout", &[("cookie", &ana)], None)
            .status,
        204
    );
    assert_eq!(
        shop.call("GET", "/orders", &[("cookie", &ana)], None)
            .status,
        401
    );
}

#[test]
fn a_retried_checkout_returns_the_same_order_with_200() {
    let shop = start();
    let ana = shop.customer("ana@example.com", "Ana Lima");
    shop.add(&ana, "MUG-1", 1);

    let first = shop.checkout(&ana, "attempt-7", None);
    let retry = shop.checkout(&ana, "attempt-7", None);
    assert_eq!((first.status, retry.status), (201, 200), "{}", retry.json());
    assert_eq!(first.json()["id"], retry.json()["id"]);
    let mine = shop
        .call("GET", "/orders", &[("cookie", &ana)], None)
        .json();
    assert_eq!(mine["orders"].as_array().unwrap().len(), 1, "{mine}");

    // The same key with another request is refused (422, as the IETF Idempotency-Key draft
    // answers), not a second order.
    let other = shop.checkout(&ana, "attempt-7", Some(json!({ "coupon": "WELCOME10" })));
    assert_eq!(other.status, 422, "{}", other.json());
    assert_eq!(other.json()["error"], "idempotency key reused");
}

#[test]
fn another_customers_order_is_a_404_like_a_missing_one() {
    let shop = start();
    let ana = shop.customer("ana@example.com", "Ana Lima");
    shop.add(&ana, "BOOK-7", 1);
    let order = shop.checkout(&ana, "k", None).json();
    let id = order["id"].as_str().unwrap().to_owned();
    let issued = shop.staff(
        "POST",
        &format!("/staff/orders/{id}/payment"),
        Some(json!({ "reference": "psp_9" })),
    );
    assert_eq!(issued.status, 200);
    assert_eq!(
        shop.staff("POST", &format!("/staff/orders/{id}/invoice"), None)
            .status,
        201
    );

    let bob = shop.customer("bob@example.com", "Bob Brown");
    for path in [
        format!("/orders/{id}"),
        format!("/orders/{id}/invoice.pdf"),
        format!("/orders/{id}/invoice.xml"),
    ] {
        let reply = shop.call("GET", &path, &[("cookie", &bob)], None);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json()["error"], "not found");
    }
    let bobs = shop
        .call("GET", "/orders", &[("cookie", &bob)], None)
        .json();
    assert_eq!(bobs["orders"].as_array().unwrap().len(), 0, "{bobs}");
    // Ana still sees it.
    assert_eq!(
        shop.call("GET", &format!("/orders/{id}"), &[("cookie", &ana)], None)
            .status,
        200
    );
}

#[test]
fn bad_input_is_a_422_naming_the_field_and_bad_credentials_a_401() {
    let shop = start();

    let bad_email = shop.register("not an email", "Ana Lima");
    assert_eq!(bad_email.status, 422);
    assert_eq!(bad_email.json()["field"], "email");

    let not_json = shop.call(
        "POST",
        "/register",
        &[("content-type", "application/json")],
        None,
    );
    assert_eq!(not_json.status, 422);
    assert_eq!(not_json.json()["field"], "body");

    let ana = shop.customer("ana@example.com", "Ana Lima");
    shop.add(&ana, "MUG-1", 1);
    let no_key = shop.call("POST", "/checkout", &[("cookie", &ana)], None);
    assert_eq!(no_key.status, 422);
    assert_eq!(no_key.json()["field"], "idempotency_key");
    let bad_coupon = shop.checkout(&ana, "k1", Some(json!({ "coupon": "" })));
    assert_eq!(bad_coupon.status, 422, "{}", bad_coupon.json());
    // Nothing was placed by the refused requests.
    let mine = shop
        .call("GET", "/orders", &[("cookie", &ana)], None)
        .json();
    assert_eq!(mine["orders"].as_array().unwrap().len(), 0, "{mine}");

    let wrong = json!({ "email": "ana@example.com", "password": "not the password at all" });
    assert_eq!(shop.call("POST", "/login", &[], Some(wrong)).status, 401);
    assert_eq!(shop.call("GET", "/cart", &[], None).status, 401);
    assert_eq!(shop.call("GET", "/staff/orders", &[], None).status, 401);
    let forged = [("authorization", "Bearer sk_not_a_key")];
    assert_eq!(shop.call("GET", "/staff/orders", &forged, None).status, 401);
    // A customer's session is no staff key.
    assert_eq!(
        shop.call("GET", "/staff/orders", &[("cookie", &ana)], None)
            .status,
        401
    );
}

/// The kind a row of the table in docs/architecture.md names.
fn kind_named(name: &str) -> ErrorKind {
    match name {
        "NotFound" => ErrorKind::NotFound,
        "AlreadyExists" => ErrorKind::AlreadyExists,
        "Conflict" => ErrorKind::Conflict,
        "OutOfStock" => ErrorKind::OutOfStock,
        "InvalidTransition" => ErrorKind::InvalidTransition,
        "IdempotencyMismatch" => ErrorKind::IdempotencyMismatch,
        "Validation { field }" => ErrorKind::Validation { field: "email" },
        "InvalidFields" => ErrorKind::InvalidFields,
        "Overflow" => ErrorKind::Overflow,
        "CurrencyMismatch" => ErrorKind::CurrencyMismatch,
        "Forbidden" => ErrorKind::Forbidden,
        "Unauthenticated" => ErrorKind::Unauthenticated,
        "TooManyAttempts" => ErrorKind::TooManyAttempts,
        "NotConfigured" => ErrorKind::NotConfigured,
        "Crypto" => ErrorKind::Crypto,
        "NotADatabase" => ErrorKind::NotADatabase,
        "SchemaTooNew" => ErrorKind::SchemaTooNew,
        "Storage" => ErrorKind::Storage,
        "Unsupported" => ErrorKind::Unsupported,
        "Internal" => ErrorKind::Internal,
        "Delivery" => ErrorKind::Delivery,
        other => panic!("docs/architecture.md names a kind this test does not know: {other}"),
    }
}

#[test]
fn error_kinds_map_to_the_documented_statuses() {
    // The crate's own test checks that the table names every kind; this one that the example
    // answers each kind as the table says.
    let doc = include_str!("../docs/architecture.md");
    let section = doc.split("## Errors").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let mut rows = 0;
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(name) = cells
            .get(1)
            .and_then(|c| c.strip_prefix('`'))
            .and_then(|c| c.strip_suffix('`'))
        else {
            continue;
        };
        let documented: u16 = cells[2].parse().unwrap();
        let kind = kind_named(name);
        assert_eq!(http_shop::status(kind).as_u16(), documented, "{name}");
        rows += 1;
    }
    assert!(rows >= 18, "{rows} rows");
}
