@testable import Engine
import Foundation
import Testing

/// No input crashes the backtest's parsers: they answer with a value or an error.
@Suite struct ParserFuzzTests {
    /// A valid binary COPY of three bars, as `BarLoader` receives it.
    static func validStream() -> [UInt8] {
        var writer = BinaryCopy.Writer()
        for (index, price) in [(0, "10000.5"), (1, "0.00000001"), (2, "92233720368.54775807")].map({ ($0.0, $0.1) }) {
            writer.tuple(fields: 6)
            writer.int64Field(Int64(index) * 60_000_000)
            for _ in 0..<5 { numeric(price, into: &writer) }
        }
        return writer.finish()
    }

    /// numeric's binary form: base-10000 groups around the point.
    static func numeric(_ text: String, into writer: inout BinaryCopy.Writer) {
        let parts = text.split(separator: ".").map(String.init)
        var whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        while whole.count % 4 != 0 { whole = "0" + whole }
        while fraction.count % 4 != 0 { fraction += "0" }
        let groups = stride(from: 0, to: whole.count, by: 4).map { Int16(whole.dropFirst($0).prefix(4))! }
            + stride(from: 0, to: fraction.count, by: 4).map { Int16(fraction.dropFirst($0).prefix(4))! }
        writer.big(Int32(8 + 2 * groups.count))
        writer.big(Int16(groups.count))
        writer.big(Int16(whole.count / 4 - 1))
        writer.big(Int16(0))
        writer.big(Int16(fraction.count))
        for group in groups { writer.big(group) }
    }

    @Test func theValidStreamParses() throws {
        var series = BarSeries(symbol: "X", timeframe: "1m")
        try Self.validStream().withUnsafeBufferPointer { try BarLoader.parse($0, into: &series) }
        #expect(series.closeUnits == [1_000_050_000_000, 1, 9_223_372_036_854_775_807])
        #expect(series.times == [946_684_800, 946_684_860, 946_684_920])
    }

    @Test func mutatedBinaryCopyNeverCrashes() {
        let valid = Self.validStream()
        var random = SplitMix64(seed: 20_261_123)
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<Int(random.next() % 4 + 1) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.removeSubrange(position...)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                }
                if bytes.isEmpty { break }
            }
            var series = BarSeries(symbol: "X", timeframe: "1m")
            _ = try? bytes.withUnsafeBufferPointer { try BarLoader.parse($0, into: &series) }
        }
    }

    @Test func randomTextNeverCrashesTheOptionParsers() {
        var random = SplitMix64(seed: 7)
        let alphabet = Array("0123456789-+=.:TZe,x fastslowperiodlowhigh🙂\u{0}")
        for _ in 0..<20_000 {
            let length = Int(random.next() % 24)
            let text = String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            _ = try? StrategySpec.parse(name: ["sma-cross", "rsi", text][Int(random.next() % 3)], parameters: [text, "fast=" + text])
            _ = try? TimeRange.parse(start: text, end: "2025-01-01")
            _ = try? TimeRange.parse(start: "2025-01-01", end: text)
            _ = BarGenerator.day(text)
            _ = BarLoader.bars(in: Double(random.next() % 1_000_000_000), timeframe: text)
        }
    }
}
