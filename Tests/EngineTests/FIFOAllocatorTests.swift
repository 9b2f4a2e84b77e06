@testable import Engine
import Foundation
import Testing

func fill(_ id: String, _ side: Side, _ symbol: String = "BTC-USD", at seconds: Double, price: String, size: String, fees: String = "0") -> Fill {
    Fill(orderID: id, symbol: symbol, side: side, time: Date(timeIntervalSince1970: seconds),
         price: Amount(price)!, size: Amount(size)!, fees: Amount(fees)!)
}

@Suite struct FIFOAllocatorTests {
    @Test func sellsConsumeOldestLotsFirstAndSplitThem() throws {
        let result = try FIFOAllocator.allocate([
            fill("b1", .buy, at: 1, price: "100", size: "1", fees: "1"),
            fill("b2", .buy, at: 2, price: "110", size: "1", fees: "1"),
            fill("s1", .sell, at: 3, price: "120", size: "1.5", fees: "3"),
        ])
        #expect(result.allocations.map(\.buyOrderID) == ["b1", "b2"])
        #expect(result.allocations.map(\.quantity) == [Amount("1")!, Amount("0.5")!])
        // b1: cost 100 + fee 1; proceeds 120 - 3 × 1/1.5 = 118.  b2 half: cost 55 + 0.5; proceeds 60 - 1.
        #expect(result.allocations[0].cost == Amount("101"))
        #expect(result.allocations[0].proceeds == Amount("118"))
        #expect(result.allocations[1].cost == Amount("55.5"))
        #expect(result.allocations[1].proceeds == Amount("59"))
        #expect(result.realisedPnL == Amount("20.5"))
        #expect(result.openLots == [OpenLot(symbol: "BTC-USD", orderID: "b2", price: Amount("110")!, remaining: Amount("0.5")!)])
        #expect(result.oversells.isEmpty)
    }

    @Test func oversellIsReportedNotAllocated() throws {
        let result = try FIFOAllocator.allocate([
            fill("b1", .buy, at: 1, price: "100", size: "1"),
            fill("s1", .sell, at: 2, price: "100", size: "1.25"),
            fill("s2", .sell, "ETH-USD", at: 3, price: "10", size: "2"),
        ])
        #expect(result.allocations.count == 1)
        #expect(result.oversells == [Oversell(symbol: "BTC-USD", sellOrderID: "s1", unmatched: Amount("0.25")!),
                                     Oversell(symbol: "ETH-USD", sellOrderID: "s2", unmatched: Amount("2")!)])
    }

    @Test func feePartsAddUpExactly() throws {
        let result = try FIFOAllocator.allocate([
            fill("b1", .buy, at: 1, price: "1", size: "3", fees: "1"),
            fill("s1", .sell, at: 2, price: "1", size: "1", fees: "0"),
            fill("s2", .sell, at: 3, price: "1", size: "1", fees: "0"),
            fill("s3", .sell, at: 4, price: "1", size: "1", fees: "0"),
        ])
        // 1/3 each would lose a unit to rounding; the last part takes the remainder.
        #expect(try Amount.sum(result.allocations.map(\.cost)) == Amount("4"))
    }

    @Test func feePiecesAreNeverNegative() throws {
        // A fee of 5 units over a 10-unit lot sold 3/3/3/1: shares of 1.5 units each used to round
        // to 2, 2, 2 and leave −1 for the last piece.
        let result = try FIFOAllocator.allocate([
            fill("b", .buy, at: 1, price: "1", size: "0.0000001", fees: "0.00000005"),
            fill("s1", .sell, at: 2, price: "1", size: "0.00000003"),
            fill("s2", .sell, at: 3, price: "1", size: "0.00000003"),
            fill("s3", .sell, at: 4, price: "1", size: "0.00000003"),
            fill("s4", .sell, at: 5, price: "1", size: "0.00000001"),
        ])
        #expect(result.allocations.map(\.buyFee.units) == [2, 1, 2, 0])
    }

    /// Every buy fee and sell fee piece is ≥ 0, and a fully matched fill's pieces add up to its fee.
    @Test func feePiecesAddUpExactlyAndAreNeverNegative() throws {
        var generator = SplitMix64(seed: 7)
        for round in 0..<1000 {
            // Tiny sizes and fees in units, where rounding matters most.
            let fills = (0..<Int.random(in: 1...30, using: &generator)).map { index in
                Fill(orderID: String(format: "o%03d", index), symbol: "BTC-USD", side: Bool.random(using: &generator) ? .buy : .sell,
                     time: Date(timeIntervalSince1970: Double(index)), price: Amount(1),
                     size: Amount(units: Int128.random(in: 1...12, using: &generator)),
                     fees: Amount(units: Int128.random(in: 0...9, using: &generator)))
            }
            let result = try FIFOAllocator.allocate(fills)
            #expect(result.allocations.allSatisfy { $0.buyFee >= .zero && $0.sellFee >= .zero }, "round \(round)")
            let open = Set(result.openLots.map(\.orderID))
            let oversold = Set(result.oversells.map(\.sellOrderID))
            for fill in fills {
                let pieces = result.allocations.filter { (fill.side == .buy ? $0.buyOrderID : $0.sellOrderID) == fill.orderID }
                let fullyMatched = fill.side == .buy ? !open.contains(fill.orderID) : !oversold.contains(fill.orderID)
                guard fullyMatched, !pieces.isEmpty else { continue }
                let total = try Amount.sum(pieces.map { fill.side == .buy ? $0.buyFee : $0.sellFee })
                #expect(total == fill.fees, "round \(round) \(fill.orderID)")
            }
        }
    }

    @Test func extremeLedgerValuesAllocateWithoutTrapping() throws {
        // A price of 10,000,000 × a size of 10,000 is 10^19 units: beyond Int64, inside Int128.
        let result = try FIFOAllocator.allocate([
            fill("b", .buy, at: 1, price: "10000000", size: "10000"),
            fill("s", .sell, at: 2, price: "999999999999.99999999", size: "10000", fees: "999999999999.99999999"),
        ])
        #expect(result.allocations.first?.cost == Amount("100000000000"))
        #expect(result.realisedPnL == Amount("9998899999999999.99990001"))
    }

    @Test func orderOfInputDoesNotMatter() throws {
        var generator = SplitMix64(seed: 42)
        let fills = randomFills(count: 500, using: &generator)
        let shuffled = fills.shuffled(using: &generator)
        #expect(try FIFOAllocator.allocate(fills) == FIFOAllocator.allocate(shuffled))
    }

    @Test func unexecutedOrdersAreIgnored() throws {
        var open = fill("b1", .buy, at: 1, price: "1", size: "1")
        open.status = "open"
        #expect(try FIFOAllocator.allocate([open, fill("s1", .sell, at: 2, price: "1", size: "1")]).oversells.count == 1)
    }

    /// Thousands of random fill sequences against a plain reference written here with Decimal.
    @Test func matchesAReferenceImplementation() throws {
        var generator = SplitMix64(seed: 20_261_122)
        for round in 0..<2000 {
            let fills = randomFills(count: Int.random(in: 1...40, using: &generator), using: &generator)
            let result = try FIFOAllocator.allocate(fills)
            let reference = ReferenceFIFO.run(fills)
            // Each allocation rounds to 1e-8 at most twice (cost, proceeds).
            let tolerance = Decimal(result.allocations.count * 2 + 2) * Decimal(string: "0.00000001")!
            for symbol in Set(fills.map(\.symbol)) {
                let ours = result.allocations.filter { $0.symbol == symbol }.reduce(Decimal(0)) { $0 + decimal($1.pnl) }
                let theirs = reference.pnl[symbol, default: 0]
                #expect(abs(ours - theirs) <= tolerance, "round \(round) \(symbol): \(ours) vs \(theirs)")
            }
            let ourLots = result.openLots.map { "\($0.symbol) \($0.orderID) \(decimal($0.remaining))" }
            #expect(ourLots.sorted() == reference.openLots.sorted(), "round \(round)")
            #expect(result.oversells.map { "\($0.sellOrderID) \(decimal($0.unmatched))" } == reference.oversells, "round \(round)")
        }
    }
}

func decimal(_ amount: Amount) -> Decimal { Decimal(string: amount.description)! }

/// The simplest FIFO there is: lists of lots per symbol, exact Decimal arithmetic.
enum ReferenceFIFO {
    struct Output {
        var pnl: [String: Decimal] = [:]
        var openLots: [String] = []
        var oversells: [String] = []
    }

    static func run(_ fills: [Fill]) -> Output {
        var output = Output()
        var lots: [String: [(id: String, price: Decimal, size: Decimal, left: Decimal, fee: Decimal)]] = [:]
        for fill in fills.filter({ $0.status == "filled" }).sorted(by: { ($0.time, $0.orderID) < ($1.time, $1.orderID) }) {
            let price = decimal(fill.price), size = decimal(fill.size), fee = decimal(fill.fees)
            if fill.side == .buy {
                lots[fill.symbol, default: []].append((fill.orderID, price, size, size, fee))
                continue
            }
            var left = size
            while left > 0, var lot = lots[fill.symbol]?.first {
                let quantity = min(left, lot.left)
                let cost = quantity * lot.price + lot.fee * quantity / lot.size
                let proceeds = quantity * price - fee * quantity / size
                output.pnl[fill.symbol, default: 0] += proceeds - cost
                lot.left -= quantity
                left -= quantity
                if lot.left == 0 { lots[fill.symbol]!.removeFirst() } else { lots[fill.symbol]![0] = lot }
            }
            if left > 0 { output.oversells.append("\(fill.orderID) \(left)") }
        }
        output.openLots = lots.flatMap { symbol, list in list.map { "\(symbol) \($0.id) \($0.left)" } }
        return output
    }
}


func randomFills(count: Int, using generator: inout SplitMix64) -> [Fill] {
    (0..<count).map { index in
        let side: Side = Bool.random(using: &generator) ? .buy : .sell
        let symbol = ["BTC-USD", "ETH-USD", "SOL-USD"].randomElement(using: &generator)!
        let size = Amount(units: Int128.random(in: 1...300, using: &generator) * 1_000_000)
        let price = Amount(units: Int128.random(in: 1...100_000, using: &generator) * 1_000_000)
        let fees = Amount(units: Int128.random(in: 0...500, using: &generator) * 10_000)
        return Fill(orderID: String(format: "o%05d", index), symbol: symbol, side: side,
                    time: Date(timeIntervalSince1970: Double(Int.random(in: 0...100, using: &generator))),
                    price: price, size: size, fees: fees)
    }
}
