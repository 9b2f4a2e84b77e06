import Foundation

/// libpq repeats parts of a conninfo in some messages (a malformed URL, a bad port), and it splits
/// a URL's password at a '/', '?', '#' or '@' in it, so a message can show any piece of the
/// password: a port of "S3cr" from `u:S3cr/et@host`, a host of "et@host" from `u:S3cr@et@host`.
/// Masked are every piece of the message that overlaps where the conninfo writes a password, then
/// anything password-shaped, then the passwords themselves (and PGPASSWORD) wherever they appear.
func redactPasswords(_ message: String, conninfo: String?) -> String {
    var redacted = message
    var known = [ProcessInfo.processInfo.environment["PGPASSWORD"]]
    if let conninfo {
        let regions = passwordRegions(conninfo)
        redacted = maskingPieces(of: redacted, overlapping: regions, in: conninfo)
        for region in regions {
            let password = String(conninfo[region])
            known += [password, password.removingPercentEncoding]
        }
    }
    redacted = redacted
        .replacing(/(?i)(postgres(?:ql)?:\/*[^:@\/\s"]*:)[^@\s"]+@/, with: { "\($0.output.1)***@" })
        .replacing(/(?i)password\s*=\s*('[^']*'|[^\s"]+)/, with: "password=***")
    for case let password? in known where !password.isEmpty {
        redacted = redacted.replacing(password, with: "***")
    }
    return redacted
}

/// Where `conninfo` writes a password, generously: in a URL from the ':' after the user name to
/// the last '@' (a password may hold '@'); a `password=` value up to the next '&' in a URL, or
/// in key=value form up to the next `key=` (an unquoted value with a space is split by libpq).
func passwordRegions(_ conninfo: String) -> [Range<String.Index>] {
    var regions: [Range<String.Index>] = []
    let url = conninfo.prefixMatch(of: /(?i)postgres(?:ql)?:\/*([^:@\/]*:)?/)
    if let userAndColon = url?.output.1, let at = conninfo.lastIndex(of: "@"), userAndColon.endIndex < at {
        regions.append(userAndColon.endIndex..<at)
    }
    for keyword in conninfo.matches(of: /(?i)password\s*=\s*/) {
        let rest = conninfo[keyword.range.upperBound...]
        let end: String.Index
        if url != nil {
            end = rest.firstIndex(of: "&") ?? conninfo.endIndex
        } else if let quoted = rest.prefixMatch(of: /'(?:[^'\\]|\\.)*'?/) {
            end = quoted.range.upperBound
        } else {
            end = rest.firstMatch(of: /\s+\w+\s*=/)?.range.lowerBound ?? conninfo.endIndex
        }
        if rest.startIndex < end { regions.append(rest.startIndex..<end) }
    }
    return regions
}

/// `message` with each quoted piece and each bare word that occurs in `conninfo` overlapping one
/// of `regions` replaced by ***.
func maskingPieces(of message: String, overlapping regions: [Range<String.Index>], in conninfo: String) -> String {
    guard !regions.isEmpty else { return message }
    let source = Array(conninfo.utf8)
    let secret = regions.map { conninfo.utf8.distance(from: conninfo.startIndex, to: $0.lowerBound)..<conninfo.utf8.distance(from: conninfo.startIndex, to: $0.upperBound) }
    func overlapsSecret(_ piece: Substring) -> Bool {
        let bytes = Array(piece.utf8)
        guard !bytes.isEmpty, bytes.count <= source.count else { return false }
        return (0...(source.count - bytes.count)).contains { start in
            source[start..<start + bytes.count].elementsEqual(bytes) && secret.contains { $0.overlaps(start..<start + bytes.count) }
        }
    }
    return message.replacing(/"([^"]*)"|([^\s",()]+)/) { match in
        if let quoted = match.output.1 { return overlapsSecret(quoted) ? "\"***\"" : String(match.output.0) }
        return match.output.2.map(overlapsSecret) == true ? "***" : String(match.output.0)
    }
}
