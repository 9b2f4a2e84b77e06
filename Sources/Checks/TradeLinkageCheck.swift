/// Seed 000 check 8 (and seed 003's linkage rate): trades linked to a strategy snapshot recently.
struct TradeLinkageCheck: FactCheck {
    let id = CheckID.tradeLinkage
    let title = "Trades are linked to strategy snapshots"
    let prerequisites: [CheckID] = [.dbRunning]

    func fact(in context: CheckContext) async throws -> DatabaseFacts {
        try await context.databaseFacts()
    }

    func evaluate(_ facts: DatabaseFacts, settings: CheckSettings) -> Verdict {
        let window = settings.linkageWindow
        switch facts.results["links"] {
        case .success(let rows)?:
            guard let links = rows.first?.first.flatMap({ Int($0) }) else {
                return .fail("the linkage query returned no count")
            }
            let rate = Self.linkageRate(facts)
            let evidence = [Evidence("linked_trades", String(links)), Evidence("linkage_rate", rate), Evidence("window", window)]
            guard links >= settings.minLinkedTrades else {
                return .fail("\(links) trades linked in the last \(window), need \(settings.minLinkedTrades) (linkage rate \(rate)). Check that sighook sends snapshot_id and webhook caches it (seed 003).", evidence)
            }
            return .pass("\(links) trades linked in the last \(window); linkage rate \(rate)", evidence)
        case .failure(let failure)?:
            return .fail(describe(failure, table: "trade_strategy_link"), [Evidence("sqlstate", failure.sqlstate)])
        case nil:
            return .fail("the linkage query did not run")
        }
    }

    /// "linked/filled = N%", or why the rate is not available.
    static func linkageRate(_ facts: DatabaseFacts) -> String {
        switch facts.results["linkage-rate"] {
        case .success(let rows)?:
            guard let row = rows.first, row.count == 2, let filled = Int(row[0]), let linked = Int(row[1]) else { return "unknown" }
            guard filled > 0 else { return "n/a (no filled trades)" }
            return "\(formatFixed(Double(linked) / Double(filled) * 100, digits: 1))% (\(linked)/\(filled) filled)"
        case .failure(let failure)?:
            return "unavailable (\(failure.message))"
        case nil:
            return "unknown"
        }
    }
}
