/// A JSON value at the top level of a flat object. Numbers keep their literal text, so a price such
/// as 123456789.12345678 or 1e-08 reaches the decimal parser exactly (never through a Double).
enum FlatJSONValue: Equatable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    /// An array or object: not a field value a fill can have.
    case nested
}

struct FlatJSONError: Error, Equatable {
    var problem: String
}

/// Parses one JSON object (RFC 8259) whose fields are read one level deep; nested values are
/// checked for well-formedness and reported as `.nested`. A repeated key is an error.
enum FlatJSON {
    static func object(_ line: ArraySlice<UInt8>) throws(FlatJSONError) -> [(key: String, value: FlatJSONValue)] {
        var parser = Parser(bytes: Array(line))
        parser.skipWhitespace()
        guard parser.take(UInt8(ascii: "{")) else { throw FlatJSONError(problem: "not a JSON object") }
        var fields: [(key: String, value: FlatJSONValue)] = []
        var keys = Set<String>()
        parser.skipWhitespace()
        if !parser.take(UInt8(ascii: "}")) {
            repeat {
                parser.skipWhitespace()
                let key = try parser.string()
                guard keys.insert(key).inserted else { throw FlatJSONError(problem: "field \(shown(key)) appears twice") }
                parser.skipWhitespace()
                guard parser.take(UInt8(ascii: ":")) else { throw parser.error("expected ':'") }
                parser.skipWhitespace()
                fields.append((key, try parser.value(depth: 0)))
                parser.skipWhitespace()
            } while parser.take(UInt8(ascii: ","))
            guard parser.take(UInt8(ascii: "}")) else { throw parser.error("expected ',' or '}'") }
        }
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.error("unexpected text after the object") }
        return fields
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0
        /// Nesting beyond this is refused rather than followed (no unbounded recursion).
        static let maximumDepth = 64

        var atEnd: Bool { position == bytes.count }
        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        func error(_ problem: String) -> FlatJSONError {
            FlatJSONError(problem: "invalid JSON at byte \(position + 1): \(problem)")
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard current == byte else { return false }
            position += 1
            return true
        }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
        }

        mutating func value(depth: Int) throws(FlatJSONError) -> FlatJSONValue {
            switch current {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                try skipContainer(depth: depth + 1)
                return .nested
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func literal(_ word: String) throws(FlatJSONError) {
            for byte in word.utf8 {
                guard take(byte) else { throw error("expected \(word)") }
            }
        }

        /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() throws(FlatJSONError) -> String {
            let start = position
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.position
                while let byte = parser.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { parser.position += 1 }
                return parser.position - from
            }
            _ = take(UInt8(ascii: "-"))
            let leadingZero = current == UInt8(ascii: "0")
            let whole = digits(&self)
            guard whole > 0, !(leadingZero && whole > 1) else { throw error("expected a value") }
            if take(UInt8(ascii: ".")) {
                guard digits(&self) > 0 else { throw error("expected digits after '.'") }
            }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard digits(&self) > 0 else { throw error("expected exponent digits") }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func string() throws(FlatJSONError) -> String {
            guard take(UInt8(ascii: "\"")) else { throw error("expected a string") }
            var scalars = String.UnicodeScalarView()
            var runStart = position
            func flushRun(_ parser: Parser) throws(FlatJSONError) {
                guard let run = String(validating: parser.bytes[runStart..<parser.position], as: UTF8.self) else {
                    throw FlatJSONError(problem: "invalid JSON at byte \(runStart + 1): a string is not UTF-8 text")
                }
                scalars.append(contentsOf: run.unicodeScalars)
            }
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    try flushRun(self)
                    position += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    try flushRun(self)
                    position += 1
                    scalars.append(try escape())
                    runStart = position
                case 0..<0x20:
                    throw error("control character in a string")
                default:
                    position += 1
                }
            }
            throw error("unterminated string")
        }

        mutating func escape() throws(FlatJSONError) -> Unicode.Scalar {
            guard let byte = current else { throw error("unterminated string") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let unit = try hex4()
                if (0xD800..<0xDC00).contains(unit) {
                    guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")) else { throw error("unpaired surrogate") }
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low),
                          let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) else { throw error("unpaired surrogate") }
                    return scalar
                }
                guard let scalar = Unicode.Scalar(unit) else { throw error("unpaired surrogate") }
                return scalar
            default:
                throw error("unknown escape")
            }
        }

        mutating func hex4() throws(FlatJSONError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current, let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { throw error("expected 4 hex digits") }
                value = value * 16 + UInt32(digit)
                position += 1
            }
            return value
        }

        /// Walks an array or object without keeping it.
        mutating func skipContainer(depth: Int) throws(FlatJSONError) {
            guard depth <= Self.maximumDepth else { throw error("nested too deeply") }
            let isObject = current == UInt8(ascii: "{")
            position += 1
            skipWhitespace()
            if take(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) { return }
            repeat {
                skipWhitespace()
                if isObject {
                    _ = try string()
                    skipWhitespace()
                    guard take(UInt8(ascii: ":")) else { throw error("expected ':'") }
                    skipWhitespace()
                }
                _ = try value(depth: depth)
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { throw error("expected ',' or a closing bracket") }
        }
    }
}
