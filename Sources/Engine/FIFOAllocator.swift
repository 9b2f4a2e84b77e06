import Foundation

/// One sell matched against (part of) one buy lot: allocation version 2.
public struct Allocation: Sendable, Equatable {
    public var symbol: String
    public var buyOrderID: String
    public var sellOrderID: String
    public var sellTime: Date
    public var quantity: Amount
    /// The part of the buy's fee this piece carries (never negative).
    public var buyFee: Amount
    /// The part of the sell's fee this piece carries (never negative).
    public var sellFee: Amount
    /// quantity × buy price + buyFee.
    public var cost: Amount
    /// quantity × sell price − sellFee.
    public var proceeds: Amount
    /// proceeds − cost.
    public var pnl: Amount
}

/// What is left of a buy after the sells so far.
public struct OpenLot: Sendable, Equatable {
    public var symbol: String
    public var orderID: String
    public var price: Amount
    public var remaining: Amount
}

/// A sell of more than was held: the unmatched part is reported, never allocated.
public struct Oversell: Sendable, Equatable {
    public var symbol: String
    public var sellOrderID: String
    public var unmatched: Amount
}

public struct FIFOResult: Sendable, Equatable {
    public var allocations: [Allocation]
    public var openLots: [OpenLot]
    public var oversells: [Oversell]
    public var realisedPnL: Amount
}

/// FIFO allocation, version 2: per symbol, each sell consumes the oldest open buy lots first,
/// splitting lots as needed; fees are apportioned by quantity. Deterministic: fills are taken in
/// (time, order id) order. A fee's pieces are differences of its rounded cumulative shares
/// (fee × quantity sold so far / size), so every piece is ≥ 0 and they add up to the fee exactly.
/// Arithmetic is checked: amounts beyond the ledger's range throw `AmountOverflow`, never trap.
public enum FIFOAllocator {
    public static let version = 2

    /// An open buy lot, by index into the fills (no strings copied in the hot loop).
    private struct Lot {
        let fill: Int
        var remaining: Amount
        /// The part of the buy fee already carried by allocations.
        var feeCarried: Amount
    }

    public static func allocate(_ fills: [Fill]) throws(AmountOverflow) -> FIFOResult {
        // Sort indices, not fills: cheaper moves, and times compared as plain doubles.
        let times = fills.map(\.time.timeIntervalSince1970)
        var order = fills.indices.filter { fills[$0].executed && fills[$0].size > .zero }
        order.sort { times[$0] != times[$1] ? times[$0] < times[$1] : fills[$0].orderID < fills[$1].orderID }

        // One dictionary lookup per fill; lots live in an array indexed by symbol number.
        var symbolNumbers: [String: Int] = [:]
        var symbolOfFill = [Int](repeating: 0, count: fills.count)
        for index in order {
            symbolOfFill[index] = symbolNumbers[fills[index].symbol] ?? {
                symbolNumbers[fills[index].symbol] = symbolNumbers.count
                return symbolNumbers.count - 1
            }()
        }
        var lots = [Deque<Lot>](repeating: Deque(), count: symbolNumbers.count)
        var allocations: [Allocation] = []
        var oversells: [Oversell] = []
        allocations.reserveCapacity(order.count)

        for index in order {
            let fill = fills[index]
            let symbol = symbolOfFill[index]
            if fill.side == .buy {
                lots[symbol].append(Lot(fill: index, remaining: fill.size, feeCarried: .zero))
                continue
            }
            var toSell = fill.size
            var sellFeeCarried = Amount.zero
            while toSell > .zero, var lot = lots[symbol].first {
                let buy = fills[lot.fill]
                let quantity = min(toSell, lot.remaining)
                lot.remaining = try lot.remaining - quantity
                toSell = try toSell - quantity
                let buyFee = try feePiece(buy.fees, size: buy.size, left: lot.remaining, carried: &lot.feeCarried)
                let sellFee = try feePiece(fill.fees, size: fill.size, left: toSell, carried: &sellFeeCarried)
                let cost = try quantity * buy.price + buyFee
                let proceeds = try quantity * fill.price - sellFee
                allocations.append(Allocation(
                    symbol: fill.symbol, buyOrderID: buy.orderID, sellOrderID: fill.orderID, sellTime: fill.time,
                    quantity: quantity, buyFee: buyFee, sellFee: sellFee, cost: cost, proceeds: proceeds, pnl: try proceeds - cost))
                if lot.remaining == .zero {
                    lots[symbol].removeFirst()
                } else {
                    lots[symbol].replaceFirst(lot)
                }
            }
            if toSell > .zero {
                oversells.append(Oversell(symbol: fill.symbol, sellOrderID: fill.orderID, unmatched: toSell))
            }
        }
        let open = symbolNumbers.sorted { $0.key < $1.key }.flatMap { symbol, number in
            lots[number].elements.map { OpenLot(symbol: symbol, orderID: fills[$0.fill].orderID, price: fills[$0.fill].price, remaining: $0.remaining) }
        }
        return FIFOResult(allocations: allocations, openLots: open, oversells: oversells,
                          realisedPnL: try Amount.sum(allocations.lazy.map(\.pnl)))
    }

    /// The next piece of `fee` once all but `left` of `size` is taken: its cumulative share now
    /// minus what earlier pieces carried (the whole rest when nothing is left).
    private static func feePiece(_ fee: Amount, size: Amount, left: Amount, carried: inout Amount) throws(AmountOverflow) -> Amount {
        let cumulative = left == .zero ? fee : try fee.share(size - left, of: size)
        defer { carried = cumulative }
        return try cumulative - carried
    }
}

/// A queue with O(1) removal at the front (an array and a moving head).
struct Deque<Element> {
    private var storage: [Element] = []
    private var head = 0

    var first: Element? { head < storage.count ? storage[head] : nil }
    var elements: ArraySlice<Element> { storage[head...] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func replaceFirst(_ element: Element) { storage[head] = element }

    mutating func removeFirst() {
        head += 1
        if head > 1024, head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
