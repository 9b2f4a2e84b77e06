/// A shell command line that can only be assembled safely: literal text is written by botops'
/// authors (or read from a playbook template), and every interpolated value goes through
/// `shellQuote`. A value cannot reach the host's shell unquoted unless it is itself a
/// `ShellScript`, so `"rm -rf \(path)"` is safe whatever `path` holds.
public struct ShellScript: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The text handed to the host's `/bin/sh`.
    public private(set) var text: String

    public var description: String { text }

    public init(stringLiteral literal: String) {
        text = literal
    }

    public init(stringInterpolation: StringInterpolation) {
        text = stringInterpolation.text
    }

    /// An argument vector, each argument quoted.
    public init(argv: [String]) {
        text = shellCommand(argv)
    }

    /// A playbook command: its literal parts are written by the operator like any script; its
    /// values are quoted here, each as one word.
    public enum TemplatePart: Sendable, Equatable {
        case literal(String)
        case words([String])
    }

    public init(template parts: [TemplatePart]) {
        text = parts.map { part in
            switch part {
            case .literal(let literal): return literal
            case .words(let words): return shellCommand(words.isEmpty ? [""] : words)
            }
        }.joined()
    }

    private init(verbatim text: String) {
        self.text = text
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        public mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        /// One value, quoted as one shell word.
        public mutating func appendInterpolation(_ value: String) {
            text += shellQuote(value)
        }

        /// Several values, each quoted, separated by spaces.
        public mutating func appendInterpolation(_ values: [String]) {
            text += shellCommand(values)
        }

        public mutating func appendInterpolation(_ number: Int) {
            text += String(number)
        }

        /// A fragment that is already safe.
        public mutating func appendInterpolation(_ script: ShellScript) {
            text += script.text
        }

        /// A path pattern whose `*` and `?` stay special and whose other characters are quoted.
        public mutating func appendInterpolation(glob pattern: String) {
            text += shellGlob(pattern)
        }
    }

    /// `self`, then `next` when `self` succeeded.
    public func and(_ next: ShellScript) -> ShellScript {
        ShellScript(verbatim: text + " && " + next.text)
    }

    /// `self`'s output (all of it: it runs as a group) into `next`.
    public func piped(into next: ShellScript) -> ShellScript {
        ShellScript(verbatim: "{\n" + text + "\n} | " + next.text)
    }

    /// Lines joined into one script.
    public static func lines(_ scripts: [ShellScript]) -> ShellScript {
        ShellScript(verbatim: scripts.map(\.text).joined(separator: "\n"))
    }
}
