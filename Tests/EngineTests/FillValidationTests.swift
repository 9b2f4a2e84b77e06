import Engine
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
        ("order_time", "2026-13-05T14:30:00Z", "not an ISO-8601 time"),
        ("price", "0", "greater than 0"),
        ("price", "-1", "greater than 0"),
        ("price", "abc", "not a decimal number"),
        ("size", "0", "greater than 0 and at most 10000"),
        ("size", "10000.00000001", "at most 10000"),
        ("fees", "-0.1", "must not be negative"),
        ("status", "maybe", "not one of"),
        ("execution_mode", "DEMO", "not PAPER or LIVE"),
        ("order_id", "", "missing"),
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
}
