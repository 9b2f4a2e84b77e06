/// Quotes one value for a POSIX shell. Every value that reaches a remote shell goes through here.
///
/// Safe words pass unchanged so logged commands stay readable; anything else is wrapped in single
/// quotes, where the shell interprets nothing, and each embedded `'` becomes `'\''`.
public func shellQuote(_ value: String) -> String {
    precondition(!value.utf8.contains(0), "a shell word cannot contain a NUL byte")
    if !value.isEmpty, value.utf8.allSatisfy(isShellSafe) {
        return value
    }
    return "'" + value.replacing("'", with: #"'\''"#) + "'"
}

/// Joins an argument vector into one command line, quoting each argument.
public func shellCommand(_ arguments: [String]) -> String {
    arguments.map(shellQuote).joined(separator: " ")
}

private func isShellSafe(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "_@%+=:,./-".utf8.contains(byte)
    }
}

/// Names (services, containers, users, databases) that botops puts into commands.
public enum Name {
    /// Docker/compose/Postgres identifiers: letters, digits, `_`, `.`, `-`; not starting with `-`.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, first != UInt8(ascii: "-"), name.utf8.count <= 128 else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}

/// Quotes a path pattern so that only its `*` and `?` stay special: every literal run between them
/// goes through `shellQuote`.
public func shellGlob(_ pattern: String) -> String {
    var result = ""
    var literal = ""
    for character in pattern {
        if character == "*" || character == "?" {
            if !literal.isEmpty { result += shellQuote(literal) }
            literal = ""
            result.append(character)
        } else {
            literal.append(character)
        }
    }
    if !literal.isEmpty { result += shellQuote(literal) }
    return result
}
