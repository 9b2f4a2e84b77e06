import Engine
import Testing

@Suite struct AmountTests {
    @Test func parsesAndPrintsExactly() {
        #expect(Amount("1.5")?.description == "1.50000000")
        #expect(Amount("-0.00000001")?.units == -1)
        #expect(Amount(".5")?.description == "0.50000000")
        #expect(Amount("1.123456789") == nil)
        #expect(Amount("1e5") == nil)
        #expect(Amount("") == nil)
        #expect(Amount("abc") == nil)
        #expect(Amount("99999999999999999999") == nil)
    }

    @Test func multiplicationAndSharesRoundHalfAwayFromZero() {
        #expect((Amount("0.33333333")! * Amount("3")!).description == "0.99999999")
        #expect((Amount("60000")! * Amount("0.2")!).description == "12000.00000000")
        #expect((Amount("0.00000001")! * Amount("0.5")!).units == 1)
        #expect(Amount("1.5")!.share(Amount("0.2")!, of: Amount("0.5")!).description == "0.60000000")
        #expect(Amount("1")!.share(Amount("1")!, of: Amount("3")!).description == "0.33333333")
    }
}
