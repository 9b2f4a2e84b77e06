/// PostgreSQL's binary COPY format, for the two bulk paths of a backtest: reading bars
/// (timestamptz and numeric columns, no text formatting on the server) and writing equity
/// curves (packed bytea, no parsing on the server).
enum BinaryCopy {
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
    /// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
    static let postgresEpoch: Int64 = 946_684_800

    struct Malformed: Error, CustomStringConvertible {
        var problem: String
        var description: String { "unexpected data from PostgreSQL (binary COPY): \(problem)" }
    }

    /// Reads tuples field by field.
    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) throws {
            self.bytes = bytes
            guard bytes.count >= 19, Array(bytes[0..<11]) == signature else { throw Malformed(problem: "no binary COPY header") }
            position = 11
            _ = try int32() // flags
            let extension_ = try int32()
            guard extension_ >= 0, position + Int(extension_) <= bytes.count else { throw Malformed(problem: "bad header extension") }
            position += Int(extension_)
        }

        private mutating func big<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard position + size <= bytes.count else { throw Malformed(problem: "truncated") }
            var value: T = 0
            for offset in 0..<size { value = value << 8 | T(truncatingIfNeeded: bytes[position + offset]) }
            position += size
            return value
        }

        mutating func int16() throws -> Int16 { try big(Int16.self) }
        mutating func int32() throws -> Int32 { try big(Int32.self) }
        mutating func int64() throws -> Int64 { try big(Int64.self) }

        /// The field count of the next tuple, nil at the trailer.
        mutating func nextTuple() throws -> Int? {
            let fields = try int16()
            return fields == -1 ? nil : Int(fields)
        }

        /// A non-NULL field's length.
        mutating func fieldLength() throws -> Int {
            let length = try int32()
            guard length >= 0, position + Int(length) <= bytes.count else { throw Malformed(problem: "NULL or truncated field") }
            return Int(length)
        }

        /// timestamptz → whole seconds since 1970 (UTC).
        mutating func timestamp() throws -> Int64 {
            guard try fieldLength() == 8 else { throw Malformed(problem: "timestamptz of unexpected size") }
            let micros = try int64()
            // Beyond ±100,000 years is no bar time (and PostgreSQL's ±infinity is refused too).
            guard abs(micros / 1_000_000) < 3_155_760_000_000 else { throw Malformed(problem: "a bar time out of range") }
            let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
            return seconds + postgresEpoch
        }

        /// numeric → units of 10^-8, exactly; nil if it has finer decimals or does not fit.
        mutating func numericUnits() throws -> Int64? {
            let length = try fieldLength()
            let end = position + length
            let digits = try int16(), weight = try int16(), sign = try int16()
            _ = try int16() // display scale
            guard digits >= 0, length == 8 + 2 * Int(digits), sign == 0 || sign == 0x4000 else { throw Malformed(problem: "numeric") }
            var units: Int64 = 0
            var exact = true
            for index in 0..<Int(digits) {
                let digit = Int64(try int16())
                guard (0...9999).contains(digit) else { throw Malformed(problem: "numeric digit \(digit)") }
                // digit × 10000^(weight − index) in units of 10^-8 is digit × 10^(4·(weight − index) + 8).
                let power = 4 * (Int(weight) - index) + 8
                guard power >= 0, power <= 18 else { exact = exact && digit == 0; continue }
                var scaled = digit
                var overflow = false
                for _ in 0..<power where !overflow { (scaled, overflow) = scaled.multipliedReportingOverflow(by: 10) }
                let sum = units.addingReportingOverflow(scaled)
                if overflow || sum.overflow { exact = false } else { units = sum.partialValue }
            }
            position = end
            return exact ? (sign == 0x4000 ? -units : units) : nil
        }

        /// numeric → the nearest Double (for volumes, which may exceed what units hold): exact
        /// through units when they fit, else through the decimal text.
        mutating func numericDouble() throws -> Double {
            let start = position
            if let units = try numericUnits() { return Double(units) / 1e8 }
            position = start
            let length = try fieldLength()
            let end = position + length
            let digits = Int(try int16()), weight = Int(try int16()), sign = try int16()
            _ = try int16()
            var text = sign == 0x4000 ? "-" : ""
            if weight < 0 { text += "0." + String(repeating: "0000", count: -weight - 1) }
            // Base-10000 groups from 10000^weight down; the point goes after group `weight`.
            for index in 0..<max(digits, weight + 1) {
                let group = index < digits ? Int(try int16()) : 0
                guard (0...9999).contains(group) else { throw Malformed(problem: "numeric digit \(group)") }
                let digitsText = String(group)
                text += String(repeating: "0", count: 4 - digitsText.count) + digitsText
                if index == weight { text += "." }
            }
            position = end
            return Double(text.hasSuffix(".") ? text + "0" : text) ?? .nan
        }
    }

    /// Builds a binary COPY stream.
    struct Writer {
        private(set) var data: [UInt8] = signature + [0, 0, 0, 0, 0, 0, 0, 0]

        init(capacity: Int = 0) { data.reserveCapacity(capacity + 32) }

        mutating func big<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
        }

        mutating func tuple(fields: Int) { big(Int16(fields)) }

        mutating func int64Field(_ value: Int64) {
            big(Int32(8))
            big(value)
        }

        mutating func int32Field(_ value: Int32) {
            big(Int32(4))
            big(value)
        }

        /// A bytea field of 8-byte little-endian values.
        mutating func packedField<C: Collection>(_ values: C, bits: (C.Element) -> UInt64) {
            big(Int32(8 * values.count))
            for value in values {
                withUnsafeBytes(of: bits(value).littleEndian) { data.append(contentsOf: $0) }
            }
        }

        mutating func finish() -> [UInt8] {
            big(Int16(-1))
            return data
        }
    }
}
