import Foundation

/// One sell matched against (part of) one buy lot: allocation version 2.
public struct Allocation: Sendable, Equatable {
    public var symbol: String
    public var buyOrderID: String
    public var sellOrderID: String
    public var sellTime: Date
    public var quantity: Amount
    /// quantity × buy price + the lot's buy fee, pro rata.
    public var cost: Amount
    /// quantity × sell price − the sell's fee, pro rata.
    public var proceeds: Amount
    public var pnl: Amount { proceeds - cost }
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

    public var realisedPnL: Amount { allocations.reduce(.zero) { $0 + $1.pnl } }
}

/// FIFO allocation, version 2: per symbol, each sell consumes the oldest open buy lots first,
/// splitting lots as needed; fees are apportioned by quantity. Deterministic: fills are taken in
/// (time, order id) order, and each fee's parts add up exactly to the fee.
public enum FIFOAllocator {
    public static let version = 2

    /// An open buy lot, by index into the fills (no strings copied in the hot loop).
    private struct Lot {
        let fill: Int
        var remaining: Amount
        /// The part of the buy fee not yet carried by an allocation.
        var feeLeft: Amount
    }

    public static func allocate(_ fills: [Fill]) -> FIFOResult {
        // Sort indices, not fills: cheaper moves, and times compared as plain doubles.
        let times = fills.map(\.time.timeIntervalSince1970)
        var order = fills.indices.filter { fills[$0].executed }
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
                lots[symbol].append(Lot(fill: index, remaining: fill.size, feeLeft: fill.fees))
                continue
            }
            var toSell = fill.size
            var sellFeeLeft = fill.fees
            while toSell > .zero, var lot = lots[symbol].first {
                let buy = fills[lot.fill]
                let quantity = min(toSell, lot.remaining)
                // The last piece of a lot (or of the sell) takes what is left of its fee, so parts sum exactly.
                let buyFee = quantity == lot.remaining ? lot.feeLeft : buy.fees.share(quantity, of: buy.size)
                let sellFee = quantity == toSell ? sellFeeLeft : fill.fees.share(quantity, of: fill.size)
                allocations.append(Allocation(
                    symbol: fill.symbol, buyOrderID: buy.orderID, sellOrderID: fill.orderID, sellTime: fill.time,
                    quantity: quantity, cost: quantity * buy.price + buyFee, proceeds: quantity * fill.price - sellFee))
                lot.remaining -= quantity
                lot.feeLeft -= buyFee
                sellFeeLeft -= sellFee
                toSell -= quantity
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
        return FIFOResult(allocations: allocations, openLots: open, oversells: oversells)
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
