// SPDX-License-Identifier: ISC
//! hellod-tokio-anchor: hellod's job done the ordinary tokio way, the
//! "anchor" that `make bench` compares hellod with (tests/bench/tokio/README).
//!
//! usage: hellod-tokio-anchor PORT ROOT SLEEP_MS THREADS
//!
//! Listens on 127.0.0.1:PORT (backlog 4096) and serves HTTP/1.1 with
//! keep-alive and in-order pipelining: GET / answers ROOT/hello.html,
//! GET /sleep answers the same after SLEEP_MS (tokio::time::sleep, so other
//! connections go on meanwhile), any other GET or HEAD target ROOT/404.html
//! with 404, other methods 405. THREADS = 1 runs a current-thread runtime,
//! more a multi-thread runtime with that many workers. The pages are read
//! once at start; each response carries Server, Content-Type,
//! Content-Length and Date (formatted once a second).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const MAX_HEAD: usize = 8192;

struct Pages {
    hello: Vec<u8>,
    notfound: Vec<u8>,
    sleep: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: {} PORT ROOT SLEEP_MS THREADS", args[0]);
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().expect("PORT");
    let root = std::path::Path::new(&args[2]);
    let read = |name: &str| {
        std::fs::read(root.join(name)).unwrap_or_else(|e| {
            eprintln!("{}: {}", root.join(name).display(), e);
            std::process::exit(1)
        })
    };
    let pages: &'static Pages = Box::leak(Box::new(Pages {
        hello: read("hello.html"),
        notfound: read("404.html"),
        sleep: Duration::from_millis(args[3].parse().expect("SLEEP_MS")),
    }));
    let threads: usize = args[4].parse().expect("THREADS");
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .expect("runtime");
    rt.block_on(serve(port, pages));
}

async fn serve(port: u16, pages: &'static Pages) {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let sock = TcpSocket::new_v4().expect("socket");
    sock.set_reuseaddr(true).expect("SO_REUSEADDR");
    sock.bind(addr).unwrap_or_else(|e| {
        eprintln!("bind {}: {}", addr, e);
        std::process::exit(1)
    });
    let listener = sock.listen(4096).expect("listen");
    eprintln!("listening on {}", addr);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(async move {
                    let _ = connection(stream, pages).await;
                });
            }
            Err(e) => {
                // EMFILE and the like: back off a little, as servers do.
                eprintln!("accept: {}", e);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// One request head parsed out of the buffer.
struct Request {
    head_len: usize,
    body_len: usize,
    get: bool,
    head: bool,
    target_kind: Target,
    close: bool,
}

#[derive(PartialEq)]
enum Target {
    Root,
    Sleep,
    Other,
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses the complete head buf[..head_len]; None: a malformed request.
fn parse(buf: &[u8], head_len: usize) -> Option<Request> {
    let text = std::str::from_utf8(&buf[..head_len - 4]).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    if parts.next().is_some() || method.is_empty() || !target.starts_with('/') {
        return None;
    }
    let mut close = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return None,
    };
    let mut body_len = 0;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',') {
                let token = token.trim();
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    close = false;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            body_len = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return None; // no chunked bodies here: 400
        }
    }
    let path = target.split('?').next().unwrap_or("");
    Some(Request {
        head_len,
        body_len,
        get: method == "GET",
        head: method == "HEAD",
        target_kind: match path {
            "/" => Target::Root,
            "/sleep" => Target::Sleep,
            _ => Target::Other,
        },
        close,
    })
}

thread_local! {
    static DATE: RefCell<(u64, String)> = RefCell::new((u64::MAX, String::new()));
}

/// Appends "Date: <IMF-fixdate>\r\n", formatted at most once a second per thread.
fn push_date(out: &mut Vec<u8>) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    DATE.with(|cell| {
        let mut c = cell.borrow_mut();
        if c.0 != now {
            c.0 = now;
            c.1 = imf_fixdate(now);
        }
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(c.1.as_bytes());
        out.extend_from_slice(b"\r\n");
    });
}

fn imf_fixdate(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn respond(out: &mut Vec<u8>, status: &str, body: &[u8], with_body: bool, close: bool) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_bytes());
    out.extend_from_slice(
        b"\r\nServer: hellod-tokio-anchor\r\nContent-Type: text/html; charset=utf-8\r\n",
    );
    out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    push_date(out);
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if with_body {
        out.extend_from_slice(body);
    }
}

async fn connection(mut stream: TcpStream, pages: &'static Pages) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut out: Vec<u8> = Vec::new();
    loop {
        // A complete head in buf (pipelined requests are taken in order).
        let head_len = match find_head_end(&buf) {
            Some(n) => n,
            None => {
                if !out.is_empty() {
                    stream.write_all(&out).await?;
                    out.clear();
                }
                if buf.len() >= MAX_HEAD {
                    respond(&mut out, "431 Request Header Fields Too Large", b"", true, true);
                    stream.write_all(&out).await?;
                    return Ok(());
                }
                if buf.capacity() - buf.len() < 512 {
                    buf.reserve(1024);
                }
                if stream.read_buf(&mut buf).await? == 0 {
                    return Ok(());
                }
                continue;
            }
        };
        let req = match parse(&buf, head_len) {
            Some(r) => r,
            None => {
                respond(&mut out, "400 Bad Request", b"", true, true);
                stream.write_all(&out).await?;
                return Ok(());
            }
        };
        // Skip a body (GET has none in practice).
        while buf.len() < req.head_len + req.body_len {
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        }
        buf.drain(..req.head_len + req.body_len);
        if !req.get && !req.head {
            respond(&mut out, "405 Method Not Allowed", b"", true, true);
            stream.write_all(&out).await?;
            return Ok(());
        }
        if req.target_kind == Target::Sleep {
            if !out.is_empty() {
                stream.write_all(&out).await?;
                out.clear();
            }
            tokio::time::sleep(pages.sleep).await;
        }
        if req.target_kind == Target::Other {
            respond(&mut out, "404 Not Found", &pages.notfound, req.get, req.close);
        } else {
            respond(&mut out, "200 OK", &pages.hello, req.get, req.close);
        }
        if req.close {
            stream.write_all(&out).await?;
            stream.shutdown().await?;
            return Ok(());
        }
    }
}
