//! HTTP/1.1 request heads read and responses written by hand, with no I/O:
//! a demo backend needs the request line, two headers and keep-alive, and
//! a parser this small is easier to trust than to configure.

/// The longest request head accepted, blank lines before it included.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// The longest request body skipped; a bigger one is refused.
pub(crate) const MAX_BODY: u64 = 1024 * 1024;

/// The statuses a demo backend answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    BadRequest,
    ContentTooLarge,
    InternalServerError,
    NotImplemented,
    VersionNotSupported,
}

impl Status {
    pub(crate) fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::ContentTooLarge => 413,
            Status::InternalServerError => 500,
            Status::NotImplemented => 501,
            Status::VersionNotSupported => 505,
        }
    }

    pub(crate) fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::ContentTooLarge => "Content Too Large",
            Status::InternalServerError => "Internal Server Error",
            Status::NotImplemented => "Not Implemented",
            Status::VersionNotSupported => "HTTP Version Not Supported",
        }
    }
}

/// What the backend needs to know of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// `HEAD`: answer the headers a GET would get, without the body.
    pub(crate) head_only: bool,
    /// The path is `/health`.
    pub(crate) health: bool,
    /// The connection stays open after the answer.
    pub(crate) keep_alive: bool,
    /// Body bytes that follow the head, to be skipped.
    pub(crate) body_len: u64,
    /// Buffer bytes the head took, blank lines before it included.
    pub(crate) head_len: usize,
}

/// The outcome of looking at the start of a connection's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A whole head; its body may still be on the way.
    Complete(Request),
    /// Not a whole head yet: read more.
    Partial,
    /// Answer with this status and close.
    Invalid(Status),
}

/// Parses the request head at the start of `buf`.
pub(crate) fn parse(buf: &[u8]) -> Parsed {
    // RFC 9112 §2.2: a server SHOULD ignore blank lines before a request,
    // which some clients send after a body.
    let mut skipped = 0;
    while buf[skipped..].starts_with(b"\r\n") {
        skipped += 2;
    }
    let rest = &buf[skipped..];
    let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Parsed::Invalid(Status::BadRequest)
        } else {
            Parsed::Partial
        };
    };
    let head_len = skipped + end + 4;
    if head_len > MAX_HEAD {
        return Parsed::Invalid(Status::BadRequest);
    }
    match parse_head(&rest[..end + 1]) {
        Ok(mut request) => {
            request.head_len = head_len;
            Parsed::Complete(request)
        }
        Err(status) => Parsed::Invalid(status),
    }
}

/// The request line and headers, each line still ending in CR (the LFs
/// between them are separators).
fn parse_head(head: &[u8]) -> Result<Request, Status> {
    // A bare LF or CR could smuggle a second request past a proxy that
    // splits lines differently, so every line must end in CRLF.
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").ok_or(Status::BadRequest));
    let request_line = lines.next().ok_or(Status::BadRequest)??;
    let (method, target, http11) = parse_request_line(request_line)?;
    let mut request = Request {
        head_only: method == b"HEAD",
        health: path_of(target) == b"/health",
        keep_alive: http11,
        body_len: 0,
        head_len: 0,
    };
    let mut content_length: Option<u64> = None;
    let (mut close, mut keep_alive) = (false, false);
    for line in lines {
        let (name, value) = parse_header(line?)?;
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_content_length(value)?;
            if content_length.is_some_and(|seen| seen != n) {
                return Err(Status::BadRequest);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Chunked bodies cannot be skipped without decoding them.
            return Err(Status::NotImplemented);
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in value.split(|&b| b == b',') {
                let option = option.trim_ascii();
                close |= option.eq_ignore_ascii_case(b"close");
                keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    request.body_len = content_length.unwrap_or(0);
    if request.body_len > MAX_BODY {
        return Err(Status::ContentTooLarge);
    }
    // RFC 9112 §9.3: HTTP/1.1 persists unless told to close; HTTP/1.0
    // closes unless told to keep alive.
    request.keep_alive = !close && (http11 || keep_alive);
    Ok(request)
}

/// `METHOD SP target SP HTTP/1.x`: the method, target and whether 1.1.
fn parse_request_line(line: &[u8]) -> Result<(&[u8], &[u8], bool), Status> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Status::BadRequest);
    };
    if !is_token(method) || target.is_empty() || !target.iter().all(u8::is_ascii_graphic) {
        return Err(Status::BadRequest);
    }
    let http11 = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            return Err(Status::VersionNotSupported);
        }
        _ => return Err(Status::BadRequest),
    };
    Ok((method, target, http11))
}

/// `name: value`, with the value's surrounding blanks trimmed.
fn parse_header(line: &[u8]) -> Result<(&[u8], &[u8]), Status> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(Status::BadRequest)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    // A blank before the colon, or a folded line, is refused (RFC 9112
    // §5.1, §5.2) for the same reason as a bare LF.
    if !is_token(name) || value.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
        return Err(Status::BadRequest);
    }
    Ok((name, value.trim_ascii()))
}

/// Digits only: a sign, blank or list would make the body's end ambiguous.
fn parse_content_length(value: &[u8]) -> Result<u64, Status> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(Status::BadRequest);
    }
    value.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(Status::ContentTooLarge)
    })
}

/// The target without its query.
fn path_of(target: &[u8]) -> &[u8] {
    target.split(|&b| b == b'?').next().unwrap_or(target)
}

/// RFC 9110 §5.6.2 token characters, at least one.
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Appends a whole response to `out`; `head_only` keeps the headers of the
/// body (its length above all) but leaves the body out, as HEAD wants.
pub(crate) fn write_response(
    out: &mut Vec<u8>,
    status: Status,
    backend: &str,
    body: &[u8],
    keep_alive: bool,
    head_only: bool,
) {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\
         X-Backend: {backend}\r\nConnection: {connection}\r\n\r\n",
        status.code(),
        status.reason(),
        body.len(),
    );
    out.extend_from_slice(head.as_bytes());
    if !head_only {
        out.extend_from_slice(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> Request {
        match parse(buf) {
            Parsed::Complete(r) => r,
            other => panic!("expected a whole request, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_get_keeps_alive_and_names_its_length() {
        let buf = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let r = complete(buf);
        assert!(r.keep_alive && !r.health && !r.head_only);
        assert_eq!((r.head_len, r.body_len), (buf.len(), 0));
    }

    #[test]
    fn pipelined_requests_parse_one_after_the_other() {
        let buf = b"GET /health HTTP/1.1\r\n\r\nHEAD /a HTTP/1.1\r\n\r\nGET /b HTT";
        let first = complete(buf);
        assert!(first.health);
        let rest = &buf[first.head_len..];
        let second = complete(rest);
        assert!(second.head_only && !second.health);
        assert_eq!(parse(&rest[second.head_len..]), Parsed::Partial);
    }

    #[test]
    fn connection_close_ends_an_http11_connection() {
        let r = complete(b"GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n");
        assert!(!r.keep_alive);
    }

    #[test]
    fn http10_closes_unless_asked_to_keep_alive() {
        assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(complete(b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n").keep_alive);
    }

    #[test]
    fn health_ignores_the_query_but_not_a_longer_path() {
        assert!(complete(b"GET /health?probe=1 HTTP/1.1\r\n\r\n").health);
        assert!(!complete(b"GET /healthz HTTP/1.1\r\n\r\n").health);
    }

    #[test]
    fn a_body_length_is_read_and_capped() {
        let r = complete(b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello");
        assert_eq!(r.body_len, 5);
        let big = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(
            parse(big.as_bytes()),
            Parsed::Invalid(Status::ContentTooLarge)
        );
        let huge = b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert_eq!(parse(huge), Parsed::Invalid(Status::ContentTooLarge));
    }

    #[test]
    fn ambiguous_body_lengths_are_refused() {
        for head in [
            &b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
        ] {
            assert_eq!(parse(head), Parsed::Invalid(Status::BadRequest));
        }
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse(chunked), Parsed::Invalid(Status::NotImplemented));
    }

    #[test]
    fn an_oversized_head_is_refused_before_it_ends() {
        let mut buf = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
        buf.resize(MAX_HEAD, b'a');
        assert_eq!(parse(&buf), Parsed::Partial);
        buf.push(b'a');
        assert_eq!(parse(&buf), Parsed::Invalid(Status::BadRequest));
    }

    #[test]
    fn a_head_ending_just_past_the_cap_is_refused() {
        let mut buf = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
        buf.resize(MAX_HEAD - 3, b'a');
        buf.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&buf), Parsed::Invalid(Status::BadRequest));
        buf.remove(30);
        assert!(matches!(parse(&buf), Parsed::Complete(_)));
    }

    #[test]
    fn blank_lines_before_a_request_are_skipped_and_counted() {
        let buf = b"\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        assert_eq!(complete(buf).head_len, buf.len());
    }

    #[test]
    fn malformed_heads_are_bad_requests() {
        for head in [
            &b"NONSENSE\r\n\r\n"[..],
            b"GET /\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"GET / FTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
            b"GET / HTTP/1.1\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        ] {
            assert_eq!(
                parse(head),
                Parsed::Invalid(Status::BadRequest),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn other_http_versions_are_not_supported() {
        let r = parse(b"GET / HTTP/2.0\r\n\r\n");
        assert_eq!(r, Parsed::Invalid(Status::VersionNotSupported));
    }

    #[test]
    fn responses_carry_length_type_backend_and_connection() {
        let mut out = Vec::new();
        write_response(&mut out, Status::Ok, "web-1", b"ok\n", true, false);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\
             X-Backend: web-1\r\nConnection: keep-alive\r\n\r\nok\n"
        );
    }

    #[test]
    fn a_head_response_keeps_the_length_but_not_the_body() {
        let mut out = Vec::new();
        write_response(&mut out, Status::Ok, "b", b"hello\n", false, true);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Content-Length: 6\r\n"), "{text}");
        assert!(text.contains("Connection: close\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
    }
}
