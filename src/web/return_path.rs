//! Where a browser may be sent back to, after a sign-in or a form: local paths of the portal
//! only, so that no link can make it an open redirect, and short ones, so that no link can
//! swell the sealed login cookie or a `Location` header past what browsers and proxies take.

use url::Url;

/// The longest return path kept, in bytes (as given, and once parsed): a longer one is
/// dropped and the browser goes to the home page. The sealed login cookie that carries it then
/// stays well under the 4 KiB browsers keep.
pub const MAX_RETURN_PATH: usize = 2048;

/// Only short local paths are accepted as a post-sign-in destination (no open redirect);
/// anything else is `/`.
pub fn safe_return_path(public_url: &Url, p: Option<&str>) -> String {
    // Decided by parsing, as a browser would: the candidate joined onto the portal's own URL
    // must stay on the portal's origin. What is returned is the parsed form (control
    // characters and spaces percent-encoded), so it is always a valid, local `Location`.
    let Some(p) = p.filter(|p| p.starts_with('/') && p.len() <= MAX_RETURN_PATH) else {
        return "/".to_string();
    };
    match public_url.join(p) {
        Ok(u)
            if u.origin() == public_url.origin()
                && u.path().starts_with('/')
                && !u.path().starts_with("//")
                && !u.path().starts_with("/auth/")
                && u[url::Position::BeforePath..].len() <= MAX_RETURN_PATH =>
        {
            u[url::Position::BeforePath..].to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_local_paths_are_returned_to() {
        let portal = url::Url::parse("https://jit.contoso.example").unwrap();
        let back = |p: &str| safe_return_path(&portal, Some(p));
        assert_eq!(back("/requests/42?x=1"), "/requests/42?x=1");
        assert_eq!(back("/approvals#queue"), "/approvals#queue");
        for bad in [
            "https://evil.example",
            "http://jit.contoso.example/",
            "//evil.example/x",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\t\\evil.example",
            " //evil.example",
            "\t//evil.example",
            "evil",
            "javascript:alert(1)",
            "/auth/callback",
        ] {
            assert_eq!(back(bad), "/", "{bad:?}");
        }
        // Percent-encoded forms stay encoded: they are a path on the portal, not another host.
        assert_eq!(back("/%2F%2Fevil.example"), "/%2F%2Fevil.example");
        assert_eq!(back("/%09/evil.example"), "/%09/evil.example");
        // Control characters cannot reach the Location header raw.
        assert_eq!(back("/ok\r\nSet-Cookie: x"), "/okSet-Cookie:%20x");
        assert_eq!(back("/a\u{1b}b"), "/a%1Bb");
        assert_eq!(safe_return_path(&portal, None), "/");
        // Long ones are dropped: as given, or once percent-encoding has grown them.
        let longest = format!("/requests?q={}", "a".repeat(super::MAX_RETURN_PATH - 12));
        assert_eq!(back(&longest), longest);
        assert_eq!(back(&format!("{longest}a")), "/");
        let grows = format!("/requests?q={}", "<".repeat(1000));
        assert_eq!(back(&grows), "/");
    }
}
