import ArgumentParser
import Engine

struct Allocate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Recompute FIFO v2 allocations from all executed fills.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let summary = try await database.withConnection { try await AllocationStore($0).recompute() }
        print("\(summary.allocations) allocations, realised P&L \(summary.realisedPnL)")
        for oversell in summary.oversells {
            print("warning: sell \(oversell.sellOrderID) of \(oversell.symbol) exceeds holdings by \(oversell.unmatched); not allocated")
        }
    }
}
