//! Sending over SMTP (feature `smtp`), against a small SMTP server on a loopback port: the
//! server stores exactly the bytes the Composer wrote, under the envelope the message names;
//! a refusal is a typed `Delivery` error with the server's reply code and without its text;
//! required TLS is required; credentials never show in `Debug` and never go out unencrypted.
#![cfg(feature = "smtp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use shopkeep::customers::{ResetToken, UnsubscribeToken};
use shopkeep::integrations::email::{
    Composer, LinkBase, MarketingContent, Message, Recipient, Sender, SmtpConfig, SmtpCredentials,
    SmtpMailer, SmtpTls, UnsubscribeLinks,
};
use shopkeep::{Email, ErrorKind, KeyRing, Store};

/// What the server does with `RCPT TO`.
#[derive(Clone, Copy)]
enum Rcpt {
    Accept,
    /// Answers with this code and a text that repeats the address, as real servers do.
    Refuse(u16),
}

/// What one SMTP session showed the server.
#[derive(Debug, Default)]
struct Session {
    /// Every command line, without its CRLF, in order (`DATA`'s lines are not commands).
    commands: Vec<String>,
    /// The address of `MAIL FROM:<...>`.
    mail_from: Option<String>,
    /// The addresses of the accepted `RCPT TO:<...>`.
    rcpt_to: Vec<String>,
    /// The mail data as it came over the wire, dot-stuffed, without the final `.` line.
    raw_data: Option<Vec<u8>>,
    /// The mail data with the dot-stuffing undone: the message as the server stores it.
    data: Option<Vec<u8>>,
}

/// An SMTP server on 127.0.0.1 that serves `sessions` connections, one after the other, in a
/// thread, and returns what each showed it. It speaks plain SMTP only (RFC 5321): the
/// greeting, `EHLO` (advertising `extensions`) or `HELO`, `MAIL FROM`, `RCPT TO`, `DATA` with
/// dot-unstuffing, `RSET`, `NOOP`, `QUIT`.
fn server(
    extensions: &'static [&'static str],
    rcpt: Rcpt,
    sessions: usize,
) -> (u16, JoinHandle<Vec<Session>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        (0..sessions)
            .map(|_| {
                let (stream, _) = listener.accept().unwrap();
                serve(stream, extensions, rcpt)
            })
            .collect()
    });
    (port, handle)
}

fn serve(stream: TcpStream, extensions: &[&str], rcpt: Rcpt) -> Session {
    // A client that stalls fails the test rather than hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut out = stream.try_clone().unwrap();
    let mut input = BufReader::new(stream);
    let mut session = Session::default();
    let mut reply = |text: &str| {
        // The client may have hung up (a failed TLS handshake): nothing to answer then.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    };
    reply("220 fake.test ESMTP ready\r\n");
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let Some(command) = line.strip_suffix(b"\r\n") else {
            // Not an SMTP line (a TLS ClientHello, or a connection cut mid-line).
            session
                .commands
                .push(format!("<{} bytes of non-SMTP>", line.len()));
            break;
        };
        let command = String::from_utf8_lossy(command).into_owned();
        session.commands.push(command.clone());
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                let mut lines = vec!["fake.test greets you"];
                lines.extend(extensions);
                let last = lines.len() - 1;
                let text: String = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
                    .collect();
                reply(&text);
            }
            "HELO" | "NOOP" => reply("250 OK\r\n"),
            "RSET" => {
                session.mail_from = None;
                session.rcpt_to.clear();
                reply("250 OK\r\n");
            }
            "MAIL" => {
                session.mail_from = Some(angle_address(&command));
                reply("250 2.1.0 sender OK\r\n");
            }
            "RCPT" => {
                let address = angle_address(&command);
                match rcpt {
                    Rcpt::Accept => {
                        session.rcpt_to.push(address);
                        reply("250 2.1.5 recipient OK\r\n");
                    }
                    Rcpt::Refuse(code) => reply(&format!(
                        "{code} 5.1.1 <{address}>: Recipient address rejected\r\n"
                    )),
                }
            }
            "DATA" => {
                if session.rcpt_to.is_empty() {
                    reply("554 5.5.1 no valid recipients\r\n");
                    continue;
                }
                reply("354 end data with <CR><LF>.<CR><LF>\r\n");
                let (raw, data) = read_data(&mut input);
                session.raw_data = Some(raw);
                session.data = Some(data);
                reply("250 2.0.0 queued as FAKE1\r\n");
            }
            "QUIT" => {
                reply("221 2.0.0 bye\r\n");
                break;
            }
            _ => reply("502 5.5.2 command not recognised\r\n"),
        }
    }
    session
}

/// The address between `<` and `>` of a `MAIL FROM` or `RCPT TO` line.
fn angle_address(command: &str) -> String {
    let start = command.find('<').expect("an address in angle brackets") + 1;
    let end = command[start..].find('>').expect("a closing bracket") + start;
    command[start..end].to_owned()
}

/// Reads mail data up to the line that is a lone `.` (RFC 5321 §4.1.1.4): the raw lines, and
/// the lines with one leading `.` removed from each that starts with one (§4.5.2). Each line
/// keeps its CRLF: the CRLF before the final `.` ends the message's last line.
fn read_data(input: &mut BufReader<TcpStream>) -> (Vec<u8>, Vec<u8>) {
    let (mut raw, mut data) = (Vec::new(), Vec::new());
    loop {
        let mut line = Vec::new();
        assert!(
            input.read_until(b'\n', &mut line).unwrap() > 0,
            "the connection ended inside DATA"
        );
        if line == b".\r\n" {
            return (raw, data);
        }
        raw.extend_from_slice(&line);
        data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
    }
}

/// A composer that writes as the shop, with reproducible boundaries and Message-ID.
fn composer(sender: Sender) -> Composer {
    let store = Store::open_in_memory(KeyRing::generate().unwrap()).unwrap();
    Composer::new(sender, store.now()).deterministic(17)
}

fn shop_sender() -> Sender {
    Sender::new("Beispiel Shop", Email::parse("news@shop.example").unwrap())
        .unwrap()
        .reply_to(Email::parse("help@shop.example").unwrap())
}

/// A marketing message to Ana whose text has lines starting with a dot: the SMTP client must
/// stuff them, or the server would drop the dots (and a line `.` alone would end the data).
fn dotted_marketing() -> Message {
    let text = "Spring sale\r\n.5 % off everything\r\n.\r\n..and more\r\nbye";
    let message = composer(shop_sender())
        .marketing(
            &Recipient::new(Email::parse("ana@example.com").unwrap()).name("Ana Lima"),
            &MarketingContent::new("Spring sale", text, "<p>Spring sale</p>").unwrap(),
            &UnsubscribeToken::new("shu_example"),
            &UnsubscribeLinks::new(LinkBase::parse("https://shop.example/unsubscribe").unwrap()),
        )
        .unwrap();
    // The test only means something if the bytes do hold lines that start with a dot.
    let bytes = message.as_bytes();
    assert!(bytes.windows(3).any(|w| w == b"\n.5"), "no dotted line");
    assert!(
        bytes.windows(4).any(|w| w == b"\n.\r\n"),
        "no lone dot line"
    );
    message
}

fn password_reset_to(address: &str) -> Message {
    composer(shop_sender())
        .password_reset(
            &Recipient::new(Email::parse(address).unwrap()),
            &ResetToken::new("rst_example"),
            &LinkBase::parse("https://shop.example/reset").unwrap(),
        )
        .unwrap()
}

/// A mailer without TLS to the test server.
fn local_mailer(port: u16) -> SmtpMailer {
    SmtpMailer::new(
        SmtpConfig::unencrypted("127.0.0.1", port)
            .unwrap()
            .timeout(Duration::from_secs(10)),
    )
    .unwrap()
}

fn verbs(session: &Session) -> Vec<String> {
    session
        .commands
        .iter()
        .map(|c| c.split([' ', ':']).next().unwrap().to_ascii_uppercase())
        .collect()
}

#[test]
fn the_server_stores_the_composers_bytes_under_the_messages_envelope() {
    let message = dotted_marketing();
    let (port, server) = server(&["8BITMIME", "SIZE 10240000"], Rcpt::Accept, 1);
    local_mailer(port).send(&message).unwrap();
    let sessions = server.join().unwrap();
    let session = &sessions[0];

    assert_eq!(verbs(session), ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]);
    // MAIL FROM is the From address (not the Reply-To); RCPT TO the To address.
    assert_eq!(session.mail_from.as_deref(), Some("news@shop.example"));
    assert_eq!(session.rcpt_to, ["ana@example.com"]);
    // Byte for byte what the Composer wrote: no line lost, added or changed, no dot lost, no
    // empty line appended after the last.
    let data = session.data.as_ref().unwrap();
    assert_eq!(
        String::from_utf8_lossy(data),
        String::from_utf8_lossy(message.as_bytes())
    );
    assert_eq!(data, message.as_bytes());
    // And the dots were stuffed on the wire: unstuffing did undo something.
    let raw = session.raw_data.as_ref().unwrap();
    assert!(raw.windows(4).any(|w| w == b"\n..5"));
    assert!(raw.windows(5).any(|w| w == b"\n..\r\n"));
    assert_ne!(raw, data);
}

#[test]
fn the_envelope_carries_a_unicode_domain_in_its_ascii_form() {
    // The To header writes the domain as punycode, and so does RCPT TO: no SMTPUTF8 needed
    // (the server here does not offer it).
    let message = password_reset_to("ana@bücher.example");
    let (port, server) = server(&["8BITMIME"], Rcpt::Accept, 1);
    local_mailer(port).send(&message).unwrap();
    let session = &server.join().unwrap()[0];
    assert_eq!(session.rcpt_to, ["ana@xn--bcher-kva.example"]);
    assert_eq!(session.data.as_deref(), Some(message.as_bytes()));
}

#[test]
fn one_mailer_sends_many_messages_a_connection_each() {
    let first = password_reset_to("ana@example.com");
    let second = password_reset_to("bo@example.com");
    let (port, server) = server(&[], Rcpt::Accept, 2);
    let mailer = local_mailer(port);
    // Shared across threads, as a host's handlers would.
    let handle = {
        let mailer = mailer.clone();
        let first = first.clone();
        thread::spawn(move || mailer.send(&first))
    };
    handle.join().unwrap().unwrap();
    mailer.send(&second).unwrap();
    let sessions = server.join().unwrap();
    assert_eq!(sessions[0].rcpt_to, ["ana@example.com"]);
    assert_eq!(sessions[1].rcpt_to, ["bo@example.com"]);
    assert_eq!(sessions[1].data.as_deref(), Some(second.as_bytes()));
}

#[test]
fn a_refused_recipient_is_a_delivery_error_with_the_reply_code() {
    let message = password_reset_to("ana@example.com");
    let (port, server) = server(&["8BITMIME"], Rcpt::Refuse(550), 1);
    let err = local_mailer(port).send(&message).unwrap_err();
    let session = &server.join().unwrap()[0];

    assert_eq!(err.kind(), ErrorKind::Delivery);
    assert_eq!(err.reply_code(), Some(550));
    assert!(err.to_string().contains("550"), "{err}");
    assert!(err.to_string().contains("permanent"), "{err}");
    // The server's text repeated the address: the error keeps neither.
    assert!(!format!("{err:?}").contains("ana@example.com"), "{err:?}");
    assert!(!err.to_string().contains("Recipient address rejected"));
    // Nothing was handed over.
    assert_eq!(session.data, None);
    assert!(!verbs(session).contains(&"DATA".to_owned()));
}

#[test]
fn a_transient_refusal_keeps_its_4xx_code() {
    let message = password_reset_to("ana@example.com");
    let (port, server) = server(&[], Rcpt::Refuse(451), 1);
    let err = local_mailer(port).send(&message).unwrap_err();
    server.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Delivery);
    assert_eq!(err.reply_code(), Some(451));
    assert!(err.to_string().contains("transient"), "{err}");
}

#[test]
fn required_starttls_refuses_a_server_that_does_not_offer_it() {
    let message = password_reset_to("ana@example.com");
    let (port, server) = server(&["8BITMIME", "AUTH PLAIN LOGIN"], Rcpt::Accept, 1);
    let mailer = SmtpMailer::new(
        SmtpConfig::new("127.0.0.1", SmtpTls::StartTls)
            .unwrap()
            .port(port)
            .credentials(SmtpCredentials::new("shop@shop.example", "s3cret-app-pw").unwrap())
            .timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let err = mailer.send(&message).unwrap_err();
    let session = &server.join().unwrap()[0];

    assert_eq!(err.kind(), ErrorKind::Delivery);
    assert_eq!(err.reply_code(), None);
    // The client greeted, saw no STARTTLS, and stopped: no AUTH (the credentials stayed
    // home), no MAIL FROM, no data.
    let verbs = verbs(session);
    assert_eq!(verbs.first().map(String::as_str), Some("EHLO"));
    assert!(
        verbs.iter().all(|v| v == "EHLO" || v == "QUIT"),
        "{:?}",
        session.commands
    );
    assert_eq!(session.mail_from, None);
    assert_eq!(session.data, None);
}

#[test]
fn implicit_tls_does_not_speak_plain_smtp() {
    let message = password_reset_to("ana@example.com");
    let (port, server) = server(&[], Rcpt::Accept, 1);
    let mailer = SmtpMailer::new(
        SmtpConfig::new("127.0.0.1", SmtpTls::Implicit)
            .unwrap()
            .port(port)
            .timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let err = mailer.send(&message).unwrap_err();
    let session = &server.join().unwrap()[0];

    assert_eq!(err.kind(), ErrorKind::Delivery);
    assert_eq!(err.reply_code(), None);
    // The client opened with a TLS handshake, not a command.
    assert!(!verbs(session).contains(&"EHLO".to_owned()), "{session:?}");
    assert_eq!(session.mail_from, None);
}

#[test]
fn an_unreachable_server_is_a_delivery_error_with_a_source() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = local_mailer(port)
        .send(&password_reset_to("ana@example.com"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Delivery);
    assert_eq!(err.reply_code(), None);
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn credentials_never_show_in_debug() {
    let credentials = SmtpCredentials::new("shop-user@shop.example", "s3cret-app-pw").unwrap();
    let config = SmtpConfig::new("smtp.shop.example", SmtpTls::StartTls)
        .unwrap()
        .credentials(credentials.clone());
    let mailer = SmtpMailer::new(config.clone()).unwrap();
    for debug in [
        format!("{credentials:?}"),
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{mailer:?}"),
    ] {
        assert!(!debug.contains("s3cret-app-pw"), "{debug}");
        assert!(!debug.contains("shop-user"), "{debug}");
    }
    // What is not secret still shows, so the redaction is not of everything.
    let debug = format!("{mailer:?}");
    assert!(
        debug.contains("smtp.shop.example") && debug.contains("587"),
        "{debug}"
    );
    assert!(
        debug.contains("StartTls") && debug.contains("REDACTED"),
        "{debug}"
    );
}

#[test]
fn credentials_never_go_out_unencrypted() {
    let config = SmtpConfig::unencrypted("127.0.0.1", 2525)
        .unwrap()
        .credentials(SmtpCredentials::new("shop", "s3cret-app-pw").unwrap());
    let err = SmtpMailer::new(config).unwrap_err();
    assert_eq!(err.field(), Some("smtp_credentials"));
}

#[test]
fn a_mailer_is_send_and_sync() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<SmtpMailer>();
}
