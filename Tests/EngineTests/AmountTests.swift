@testable import Engine
import Foundation
import PropertyBased
import Testing

/// Units of the largest `numeric(20, 8)` value, 999999999999.99999999.
let columnMaximumUnits: Int128 = 99_999_999_999_999_999_999

/// Ledger-column amounts, weighted towards the edges of the range where overflow lives.
let columnUnits = Gen.oneOf(
    Gen.int128(in: -columnMaximumUnits...columnMaximumUnits),
    Gen.int128(in: columnMaximumUnits - 1000...columnMaximumUnits),
    Gen.int128(in: -columnMaximumUnits...(-columnMaximumUnits + 1000)),
    Gen.int128(in: -1000...1000)
)

@Suite struct AmountTests {
    @Test func parsesAndPrintsExactly() {
        #expect(Amount("1.5")?.description == "1.50000000")
        #expect(Amount("-0.00000001")?.units == -1)
        #expect(Amount(".5")?.description == "0.50000000")
        #expect(Amount("1.123456789") == nil)
        #expect(Amount("") == nil)
        #expect(Amount("abc") == nil)
        #expect(Amount("1.") == Amount("1"))
        #expect(Amount(".") == nil)
        #expect(Amount("١٢") == nil, "digits other than ASCII are refused")
        #expect(Amount("92233720368.99999999")?.description == "92233720368.99999999", "beyond Int64 units")
        #expect(Amount("1000000000000000000000000000000") == nil, "31 digits before the point")
        #expect(Amount("999999999999999999999999999999.99999999")?.description == "999999999999999999999999999999.99999999")
    }

    @Test func exponentNotationIsExact() {
        #expect(Amount("1e-08") == Amount(units: 1))
        #expect(Amount("2.5E3") == Amount("2500"))
        #expect(Amount("1e5") == Amount("100000"))
        #expect(Amount("-1.5e+2") == Amount("-150"))
        #expect(Amount("1.0000000000") == Amount("1"), "trailing zeros beyond 8 decimals are exact")
        #expect(Amount.parse("1e-9") == .failure(.tooManyDecimals))
        #expect(Amount.parse("1e30") == .failure(.outOfRange))
        #expect(Amount.parse("1e99999999999999999999") == .failure(.outOfRange))
        #expect(Amount.parse("0e99999999999999999999") == .success(.zero))
        #expect(Amount.parse("1e") == .failure(.notADecimal))
        #expect(Amount.parse("e5") == .failure(.notADecimal))
    }

    @Test func ledgerValuesAreRefusedWithAReason() throws {
        #expect(try Amount.ledgerValue("999999999999.99999999") == Amount.columnMaximum)
        #expect(try Amount.ledgerValue("-999999999999.99999999").units == -columnMaximumUnits)
        let tooBig = #expect(throws: LedgerValueError.self) { try Amount.ledgerValue("1000000000000") }
        #expect(tooBig?.description == "'1000000000000' is beyond ±999999999999.99999999, the most the ledger stores")
        let fine = #expect(throws: LedgerValueError.self) { try Amount.ledgerValue("0.000000001") }
        #expect(fine?.description == "'0.000000001' has more than 8 decimals")
        let word = #expect(throws: LedgerValueError.self) { try Amount.ledgerValue("true") }
        #expect(word?.description == "'true' is not a decimal number")
    }

    @Test func multiplicationAndSharesRoundHalfAwayFromZero() throws {
        #expect(try (Amount("0.33333333")! * Amount("3")!).description == "0.99999999")
        #expect(try (Amount("60000")! * Amount("0.2")!).description == "12000.00000000")
        #expect(try (Amount("0.00000001")! * Amount("0.5")!).units == 1)
        #expect(try (Amount("-0.00000001")! * Amount("0.5")!).units == -1)
        #expect(try Amount("1.5")!.share(Amount("0.2")!, of: Amount("0.5")!).description == "0.60000000")
        #expect(try Amount("1")!.share(Amount("1")!, of: Amount("3")!).description == "0.33333333")
    }

    @Test func productsOfLedgerColumnsAreExact() throws {
        // The largest price times the largest price: 256-bit intermediate, exact result.
        #expect(try (Amount.columnMaximum * Amount.columnMaximum).description == "999999999999999999980000.00000000")
        #expect(try (Amount.columnMaximum * Amount("10000")!).description == "9999999999999999.99990000")
        #expect(try (Amount("10000000")! * Amount("10000")!).description == "100000000000.00000000")
    }

    @Test func overflowThrowsInsteadOfTrapping() {
        let largest = Amount(units: Amount.unitLimit.asInt128 - 1)
        #expect(throws: AmountOverflow.self) { try largest + Amount(units: 1) }
        #expect(throws: AmountOverflow.self) { try Amount.zero - largest - Amount(units: 1) }
        #expect(throws: AmountOverflow.self) { try largest * largest }
        #expect(throws: AmountOverflow.self) { try largest.share(largest, of: Amount(units: 1)) }
        #expect(throws: AmountOverflow.self) { try largest.share(largest, of: .zero) }
        #expect(throws: AmountOverflow.self) { try Amount.sum([largest, largest]) }
    }

    @Test func textRoundTripsAcrossTheColumnRange() async {
        await propertyCheck(count: 2000, input: columnUnits) { units in
            let amount = Amount(units: units)
            #expect(Amount(amount.description) == amount)
            #expect(amount.fitsLedgerColumn)
        }
    }

    /// Every product and sum FIFO forms from column values stays in range and never traps.
    @Test func productsAndSumsOfColumnValuesNeverOverflow() async throws {
        await propertyCheck(count: 2000, input: columnUnits, columnUnits, columnUnits) { price, size, fee in
            let (price, size, fee) = (Amount(units: price), Amount(units: size), Amount(units: fee))
            let cost = try price * size + fee
            let proceeds = try price * size - fee
            _ = try proceeds - cost
            if size != .zero { _ = try fee.share(price, of: size) }
            #expect(try (price * size) == (size * price))
        }
    }

    @Test func parsingArbitraryTextNeverTraps() async {
        let alphabet = Gen<Character?>.element(of: Array("0123456789+-.eE ١x\u{0}")).map { $0 ?? "0" }
        await propertyCheck(count: 3000, input: alphabet.string(of: 0...45)) { text in
            if case .success(let amount) = Amount.parse(text) {
                #expect(Amount(amount.description) == amount)
            }
        }
    }
}

extension UInt128 {
    var asInt128: Int128 { Int128(self) }
}
