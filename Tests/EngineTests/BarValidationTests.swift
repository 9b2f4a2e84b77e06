@testable import Engine
import Testing

/// Bar values are checked before COPY: PostgreSQL itself would store each of these, most of them
/// as something else than the file says.
@Suite struct BarValidationTests {
    func lines(_ bar: String) throws -> MarketBarStore.Lines {
        try MarketBarStore.validatedLines(Array("\(MarketBarStore.header)\n\n\(bar)\n".utf8))
    }

    @Test("each wrong bar field is named with the file's line", arguments: [
        ("BTC-USD,1m,now,1,2,0.5,1.5,100", "field 'ts': 'now' is not an ISO-8601 time"),
        ("BTC-USD,1m,epoch,1,2,0.5,1.5,100", "field 'ts': 'epoch' is not an ISO-8601 time"),
        ("BTC-USD,1m,infinity,1,2,0.5,1.5,100", "field 'ts': 'infinity' is not an ISO-8601 time"),
        ("BTC-USD,1m,1-01-05,1,2,0.5,1.5,100", "field 'ts': '1-01-05' is not an ISO-8601 time"),
        ("BTC-USD,1m,01/02/2026,1,2,0.5,1.5,100", "field 'ts': '01/02/2026' is not an ISO-8601 time"),
        ("BTC-USD,1m,2026-01-12 24:00:00,1,2,0.5,1.5,100", "is not a time of day"),
        ("BTC-USD,1m,2026-02-31T00:00:00Z,1,2,0.5,1.5,100", "is not a date in the calendar"),
        ("BTC-USD,1m,2026-01-01T00:00:00+15:00,1,2,0.5,1.5,100", "zone offset beyond ±14:00"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,NaN,2,0.5,1.5,100", "field 'open': 'NaN' is not a decimal number"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,0.123456789,100", "field 'close': '0.123456789' has more than 8 decimals"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,1e-9", "field 'volume': '1e-9' has more than 8 decimals"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,1,2,-0.5,1.5,100", "field 'low': '-0.5' must be greater than 0"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,-1", "field 'volume': '-1' must be at least 0"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,1,1e12,0.5,1.5,100", "field 'high': '1e12' is beyond ±999999999999.99999999"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,1e20", "field 'volume': '1e20' must be at least 0 and below 10^20"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z, 1 ,2,0.5,1.5,100", "field 'open': ' 1 ' is not a decimal number"),
        ("BTC-USD,1m,2026-01-01T00:00:00Z,3,2,0.5,1.5,100", "open 3.00000000 and close 1.50000000 must lie between low 0.50000000 and high 2.00000000"),
        (",1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100", "field 'symbol': '' is not an uppercase symbol"),
        ("btc-usd,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100", "field 'symbol': 'btc-usd' is not an uppercase symbol"),
        ("BTC-USD,,2026-01-01T00:00:00Z,1,2,0.5,1.5,100", "field 'timeframe': '' is not a timeframe"),
        ("BTC-USD,1 m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100", "field 'timeframe': '1 m' is not a timeframe"),
    ])
    func refuses(bar: String, problem: String) {
        let error = #expect(throws: BarIngestError.self) { try lines(bar) }
        #expect(error?.line == 3)
        #expect(error?.problem.contains(problem) == true, "\(String(describing: error))")
    }

    @Test func acceptsWhatTheFormatAllows() throws {
        for bar in ["BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100", "ETH-USD,ONE_MINUTE,2026-01-01 00:00:00.5+0100,1e3,2E3,.5,1000.,0",
                    "AAPL,1d,2026-01-01T00:00:00,999999999999.99999999,999999999999.99999999,0.00000001,1,99999999999999999999.99999999"] {
            #expect(try lines(bar).fileLines == [3], "\(bar)")
        }
    }

    @Test func aByteOrderMarkBeforeTheHeaderIsSkipped() throws {
        let csv = [0xEF, 0xBB, 0xBF] + Array("\(MarketBarStore.header)\r\nBTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100\r\n".utf8)
        let lines = try MarketBarStore.validatedLines(csv)
        #expect(lines.fileLines == [2])
        #expect(String(decoding: csv[lines.ranges[0]], as: UTF8.self) == "BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100")
    }
}
