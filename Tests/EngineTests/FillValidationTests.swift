@testable import Engine
import Foundation
import PropertyBased
import Testing

@Suite struct FillValidationTests {
    let good = ["order_id": "o1", "symbol": "BTC-USD", "side": "BUY", "order_time": "2026-01-05T14:30:00.250+01:00",
                "price": "60000", "size": "0.5", "fees": "1.5", "status": "filled", "execution_mode": "live"]

    @Test func acceptsAGoodRecordAndNormalises() throws {
        let fill = try RawFill(good).validated(record: 1)
        #expect(fill.side == .buy)
        #expect(fill.executionMode == "LIVE")
        #expect(fill.time.timeIntervalSince1970 == 1_767_619_800.25)
        #expect(fill.fees == Amount("1.5"))
    }

    @Test("each invalid field is named", arguments: [
        ("symbol", "btc-usd", "not an uppercase symbol"),
        ("symbol", "TOOLONGSYMBOL1", "not an uppercase symbol"),
        ("side", "hold", "not buy or sell"),
        ("order_time", "2026-01-05 14:30", "not an ISO-8601 time"),
        ("order_time", "2026-13-05T14:30:00Z", "not a date in the calendar"),
        ("order_time", "2026-02-31T14:30:00Z", "not a date in the calendar"),
        ("order_time", "2025-02-29T14:30:00Z", "not a date in the calendar"),
        ("order_time", "2026-01-05T24:00:00Z", "not a time of day"),
        ("order_time", "2026-01-05T14:30:60Z", "not a time of day"),
        ("order_time", "2026-01-05T14:30:00+99:99", "zone offset beyond ±14:00"),
        ("order_time", "2026-01-05T14:30:00+14:01", "zone offset beyond ±14:00"),
        ("order_time", "2026-01-05T14:30:00", "not an ISO-8601 time with a zone"),
        ("order_time", "٢٠٢٦-01-05T14:30:00Z", "not an ISO-8601 time"),
        ("order_time", "2026-01-05T14:30:00.1234567890Z", "not an ISO-8601 time"),
        ("price", "1000000000000", "beyond ±999999999999.99999999"),
        ("price", "1.000000001", "more than 8 decimals"),
        ("fees", "1e13", "beyond ±999999999999.99999999"),
        ("price", "0", "greater than 0"),
        ("price", "-1", "greater than 0"),
        ("price", "abc", "not a decimal number"),
        ("price", "true", "not a decimal number"),
        ("size", "0", "greater than 0 and at most 10000"),
        ("size", "10000.00000001", "at most 10000"),
        ("fees", "-0.1", "must not be negative"),
        ("status", "maybe", "not one of"),
        ("execution_mode", "DEMO", "not PAPER or LIVE"),
        ("order_id", "", "missing"),
        ("order_id", "a\u{0}b", "contains a control character"),
        ("order_id", "line\nbreak", "contains a control character"),
        ("order_id", "tab\there", "contains a control character"),
        ("order_id", "a" + String(repeating: "\u{301}", count: 128), "longer than 128 characters"),
    ])
    func rejects(field: String, value: String, problem: String) {
        var fields = good
        fields[field] = value
        let error = #expect(throws: FillValidationError.self) { try RawFill(fields).validated(record: 7) }
        #expect(error?.field == field)
        #expect(error?.record == 7)
        #expect(error?.problem.contains(problem) == true, "\(String(describing: error))")
    }

    @Test func unknownFieldsAreRejected() {
        var fields = good
        fields["quantity"] = "1"
        let error = #expect(throws: FillValidationError.self) { try RawFill(fields).validated(record: 1) }
        #expect(error?.field == "quantity")
    }

    @Test func readsJSONLAndCSV() throws {
        let jsonl = """
            {"order_id":"a","symbol":"ETH-USD","side":"buy","order_time":"2026-01-05T00:00:00Z","price":3000,"size":"1.25"}
            {"order_id":"b","symbol":"ETH-USD","side":"sell","order_time":"2026-01-06T00:00:00Z","price":"3100.5","size":1}
            """
        let fromJSON = try FillReader.read(jsonl, format: .jsonl)
        #expect(fromJSON.map(\.orderID) == ["a", "b"])
        #expect(fromJSON[0].size == Amount("1.25"))
        let csv = "order_id,symbol,side,order_time,price,size,fees\na,ETH-USD,buy,2026-01-05T00:00:00Z,3000,1.25,\"0.5\"\n"
        let fromCSV = try FillReader.read(csv, format: .csv)
        #expect(fromCSV.first?.fees == Amount("0.5"))
        #expect(fromCSV.first?.price == fromJSON.first?.price)
    }

    @Test func aBadRecordAnywhereFailsTheWholeFile() {
        let jsonl = """
            {"order_id":"a","symbol":"ETH-USD","side":"buy","order_time":"2026-01-05T00:00:00Z","price":"1","size":"1"}
            {"order_id":"b","symbol":"ETH-USD","side":"buy","order_time":"yesterday","price":"1","size":"1"}
            """
        let error = #expect(throws: FillValidationError.self) { try FillReader.read(jsonl, format: .jsonl) }
        #expect(error?.description == "record 2: field 'order_time': 'yesterday' is not an ISO-8601 time with a zone, such as 2026-01-05T14:30:00Z")
    }

    func jsonFill(price: String) -> String {
        #"{"order_id":"a","symbol":"ETH-USD","side":"buy","order_time":"2026-01-05T00:00:00Z","price":\#(price),"size":"1"}"#
    }

    @Test func jsonBooleansAreNotNumbers() {
        for literal in ["true", "false"] {
            let error = #expect(throws: FillValidationError.self) { try FillReader.read(jsonFill(price: literal), format: .jsonl) }
            #expect(error?.description == "record 1: field 'price': \(literal) is not a string or a number")
        }
    }

    @Test func jsonNumbersKeepTheirExactText() throws {
        #expect(try FillReader.read(jsonFill(price: "1e-08"), format: .jsonl).first?.price == Amount(units: 1))
        #expect(try FillReader.read(jsonFill(price: "123456789.12345678"), format: .jsonl).first?.price == Amount("123456789.12345678"))
        #expect(try FillReader.read(jsonFill(price: "2.5E+3"), format: .jsonl).first?.price == Amount("2500"))
        let error = #expect(throws: FillValidationError.self) { try FillReader.read(jsonFill(price: "1e-9"), format: .jsonl) }
        #expect(error?.description == "record 1: field 'price': '1e-9' has more than 8 decimals")
    }

    @Test func malformedJSONIsARecordError() {
        for line in [#"{"order_id":"a","order_id":"b"}"#, #"{"price": 01}"#, #"{"price": [1]}"#, #"{"a":"\x"}"#, "[1]", "{", #"{"a":1} x"#] {
            #expect(throws: (any Error).self) { try FillReader.read(line, format: .jsonl) }
            #expect(isRecordError { try FillReader.read(line, format: .jsonl) }, "\(line)")
        }
        #expect(throws: FillFormatError(record: 1, problem: "field 'order_id' appears twice")) {
            try FillReader.read(#"{"order_id":"a","order_id":"b"}"#, format: .jsonl)
        }
    }

    @Test func realDatesAndOffsetsAreAccepted() throws {
        for (text, epoch) in [("2024-02-29T00:00:00Z", 1_709_164_800.0), ("2026-01-05T14:30:00+14:00", 1_767_573_000),
                              ("2026-01-05T14:30:00-1200", 1_767_666_600), ("1969-12-31T23:59:59Z", -1)] {
            var fields = good
            fields["order_time"] = text
            #expect(try RawFill(fields).validated(record: 1).time.timeIntervalSince1970 == epoch, "\(text)")
        }
    }

    @Test func csvQuotingErrorsAreRecordErrors() {
        let header = "order_id,symbol,side,order_time,price,size\n"
        #expect(throws: FillFormatError(record: 1, problem: "a quote in field 1 is never closed")) {
            try FillReader.read(header + "\"a,BTC-USD,buy,2026-01-05T00:00:00Z,1,1\n", format: .csv)
        }
        #expect(throws: FillFormatError(record: 1, problem: "text after a closing quote in field 1")) {
            try FillReader.read(header + "\"a\"b,BTC-USD,buy,2026-01-05T00:00:00Z,1,1\n", format: .csv)
        }
        #expect(throws: FillFormatError(record: 0, problem: "'side' appears twice")) {
            try FillReader.read("side,side\nbuy,buy\n", format: .csv)
        }
    }

    /// A file's values reach the operator's terminal in error messages: escape sequences (here:
    /// set the window title, clear the screen) used to pass through, and a 3 MB value was printed
    /// whole.
    @Test func messagesShowValuesEscapedAndShort() {
        var fields = good
        fields["symbol"] = "\u{1B}]0;pwned\u{07}\u{1B}[2J"
        let escape = #expect(throws: FillValidationError.self) { try RawFill(fields).validated(record: 1) }
        #expect(escape?.description == #"record 1: field 'symbol': '\u{1B}]0;pwned\u{7}\u{1B}[2J' is not an uppercase symbol such as AAPL or BTC-USD"#)
        fields = good
        fields["side"] = String(repeating: "x", count: 3_000_000)
        let long = #expect(throws: FillValidationError.self) { try RawFill(fields).validated(record: 1) }
        #expect(long?.description == "record 1: field 'side': '\(String(repeating: "x", count: 40))…' is not buy or sell")
        let bar = #expect(throws: BarIngestError.self) {
            try MarketBarStore.validatedLines(Array("\(MarketBarStore.header)\nBTC-USD,\u{1B}[2J,2026-01-01T00:00:00Z,1,2,0.5,1.5,1\n".utf8))
        }
        #expect(bar?.problem.hasPrefix(#"field 'timeframe': '\u{1B}[2J' is not"#) == true, "\(String(describing: bar))")
        let key = #expect(throws: FillFormatError.self) { try FillReader.read(#"{"\u202Eevil":1,"\u202Eevil":2}"#, format: .jsonl) }
        #expect(key?.problem == #"field '\u{202E}evil' appears twice"#)
    }

    /// Latin-1 bytes decoded leniently made `id\u{E9}` and `id\u{E8}` both `id\u{FFFD}`: one of two
    /// distinct fills was then skipped as "already present".
    @Test func textThatIsNotUTF8IsRefusedNotRepaired() {
        let csv = Array("order_id,symbol,side,order_time,price,size\nid".utf8) + [0xE9] + Array(",BTC-USD,buy,2026-01-05T00:00:00Z,1,1\n".utf8)
        #expect(throws: FillFormatError(record: 1, problem: "field 1 is not UTF-8 text")) { try FillReader.read(csv, format: .csv) }
        let jsonl = Array(jsonFill(price: "1").utf8)
        let latin1 = jsonl[..<14] + [0xE8] + jsonl[14...]
        #expect(throws: FillFormatError(record: 1, problem: "invalid JSON at byte 14: a string is not UTF-8 text")) {
            try FillReader.read(Array(latin1), format: .jsonl)
        }
    }

    /// Spreadsheets save "CSV UTF-8" with a byte order mark; it is not part of the first field.
    @Test func aByteOrderMarkIsSkipped() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let csv = bom + Array("order_id,symbol,side,order_time,price,size\r\na,BTC-USD,buy,2026-01-05T00:00:00Z,1,1\r\n".utf8)
        #expect(try FillReader.read(csv, format: .csv).map(\.orderID) == ["a"])
        #expect(try FillReader.read(bom + Array(jsonFill(price: "1").utf8), format: .jsonl).map(\.orderID) == ["a"])
    }

    /// Random bytes, and valid files with random bytes changed: every reader either reads them or
    /// names the record or line that is wrong; none traps.
    @Test func readersSurviveRandomBytes() async {
        let bytes = Gen<UInt8>.value(in: 0...255).array(of: 0...300)
        let jsonl = Array(jsonFill(price: "3000.5").utf8)
        let csv = Array("order_id,symbol,side,order_time,price,size,fees\na,ETH-USD,buy,2026-01-05T00:00:00Z,3000,1.25,\"0.5\"\n".utf8)
        let bars = Array("\(MarketBarStore.header)\nBTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100\n".utf8)
        let edits = zip(Gen<Int>.int(in: 0...400), Gen<UInt8>.value(in: 0...255)).array(of: 1...4)
        await propertyCheck(count: 1500, input: bytes, edits) { noise, edits in
            for base in [noise, jsonl, csv, bars] {
                var data = base
                if base != noise {
                    for (offset, byte) in edits where !data.isEmpty { data[offset % data.count] = byte }
                }
                #expect(isRecordError { try FillReader.read(data, format: .jsonl) }, "\(data)")
                #expect(isRecordError { try FillReader.read(data, format: .csv) }, "\(data)")
                do {
                    _ = try MarketBarStore.validatedLines(data)
                } catch {
                    #expect(error is BarIngestError, "\(data): \(error)")
                }
            }
        }
    }
}

/// Whether `body` succeeds or fails with an error that names the record (and field).
func isRecordError(_ body: () throws -> [Fill]) -> Bool {
    do {
        _ = try body()
        return true
    } catch {
        return error is FillFormatError || error is FillValidationError
    }
}
