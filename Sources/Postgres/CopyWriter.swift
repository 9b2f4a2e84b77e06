/// Builds COPY text-format data (tab-separated, `\N` for NULL, backslash escapes) and sends it in
/// large chunks, so a million rows cost a few hundred libpq calls rather than a million.
public struct CopyWriter {
    private var buffer: [UInt8] = []
    private let send: ([UInt8]) -> Bool
    private var failed = false
    private static let chunkSize = 1 << 20

    init(send: @escaping ([UInt8]) -> Bool) {
        self.send = send
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Appends one row; nil fields are NULL.
    public mutating func row(_ fields: [String?]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            guard let field else {
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= Self.chunkSize { flush() }
    }

    /// Appends one row given as already-safe bytes (no tabs, backslashes or newlines), turning
    /// `separator` into tabs: the fast path for bulk CSV.
    public mutating func rawRow(_ bytes: ArraySlice<UInt8>, separator: UInt8) {
        for byte in bytes {
            buffer.append(byte == separator ? UInt8(ascii: "\t") : byte)
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= Self.chunkSize { flush() }
    }

    private mutating func flush() {
        guard !buffer.isEmpty, !failed else { return }
        failed = !send(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Sends what is left; false if any chunk could not be sent.
    mutating func finish() -> Bool {
        flush()
        return !failed
    }
}
