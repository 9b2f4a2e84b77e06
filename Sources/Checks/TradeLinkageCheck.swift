/// Seed 000 check 8 (and seed 003's linkage rate): trades linked to a strategy snapshot recently.
public struct TradeLinkageCheck: Check {
    public let id = "trade-linkage"
    public let title = "Trades are linked to strategy snapshots"
    public let prerequisites = ["db-running"]

    public func prefetch(in context: CheckContext) {
        context.prefetch(CheckContext.databaseFacts)
    }

    public func run(in context: CheckContext) async throws -> Verdict {
        Self.evaluate(try await context.databaseFacts(), settings: context.settings)
    }

    static func evaluate(_ facts: DatabaseFacts, settings: CheckSettings) -> Verdict {
        let window = settings.linkageWindow
        switch facts.results["linkage"] {
        case .success(let rows)?:
            guard let row = rows.first, row.count == 3, let links = Int(row[0]), let filled = Int(row[1]), let linkedFilled = Int(row[2]) else {
                return .fail("the linkage query returned no usable row")
            }
            let rate = filled == 0 ? "n/a" : String(format: "%.1f%%", Double(linkedFilled) / Double(filled) * 100)
            let evidence = [Evidence("linked_trades", String(links)), Evidence("filled_trades", String(filled)),
                            Evidence("linkage_rate", rate), Evidence("window", window)]
            guard links >= settings.minLinkedTrades else {
                return .fail("\(links) linked trades in the last \(window) (need \(settings.minLinkedTrades); \(linkedFilled) of \(filled) filled trades linked). Check that sighook sends snapshot_id and webhook caches it (seed 003).", evidence)
            }
            return .pass("\(links) linked trades in the last \(window); linkage rate \(rate) (\(linkedFilled)/\(filled) filled)", evidence)
        case .failure(let failure)?:
            return .fail(describe(failure, table: "trade_strategy_link"), [Evidence("sqlstate", failure.sqlstate)])
        case nil:
            return .fail("the linkage query did not run")
        }
    }
}
