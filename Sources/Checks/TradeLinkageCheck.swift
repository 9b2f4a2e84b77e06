import Basics

/// The runbook's linkage check: trades linked to a strategy snapshot within the window (the count
/// is the failure rule), with the linkage rate of filled trades, which warns below
/// `checks.min_linkage_rate` when that is set.
struct TradeLinkageCheck: FactCheck {
    let id = CheckID.tradeLinkage
    let title = "Trades are linked to strategy snapshots"
    let prerequisites: [CheckID] = [.dbRunning]

    func source(in probes: CheckProbes) -> ProbedFact<DatabaseFacts> {
        probes.databaseFacts
    }

    func evaluate(_ facts: DatabaseFacts, settings: CheckSettings) -> Verdict {
        let window = settings.linkageWindow
        switch facts.results["links"] {
        case .success(let rows)?:
            guard let links = rows.first?.first.flatMap({ Int($0) }) else {
                return .fail("the linkage query returned no count")
            }
            let rate = Self.linkageRate(facts)
            var evidence = [Evidence("linked_trades", String(links)), Evidence("linkage_rate", rate.text), Evidence("window", window)]
            guard links >= settings.minLinkedTrades else {
                return .fail("\(links) trades linked in the last \(window), need \(settings.minLinkedTrades) (linkage rate \(rate.text)). Check that sighook sends snapshot_id and webhook caches it.", evidence)
            }
            if let minimum = settings.minLinkageRate, let percent = rate.percent, percent < minimum {
                evidence.append(Evidence("min_linkage_rate", formatFixed(minimum, digits: 1) + "%"))
                return .warn("linkage rate \(rate.text) is below checks.min_linkage_rate \(formatFixed(minimum, digits: 1))% (\(links) trades linked in the last \(window)). Manual trades are expected unlinked, and the rate climbs over the first 48 h after a deploy.", evidence)
            }
            return .pass("\(links) trades linked in the last \(window); linkage rate \(rate.text)", evidence)
        case .failure(let failure)?:
            return .fail(describe(failure, table: "trade_strategy_link"), [Evidence("sqlstate", failure.sqlstate)])
        case nil:
            return .fail("the linkage query did not run")
        }
    }

    /// "linked/filled = N%" and N, or why the rate is not available.
    static func linkageRate(_ facts: DatabaseFacts) -> (text: String, percent: Double?) {
        switch facts.results["linkage-rate"] {
        case .success(let rows)?:
            guard let row = rows.first, row.count == 2, let filled = Int(row[0]), let linked = Int(row[1]) else { return ("unknown", nil) }
            guard filled > 0 else { return ("n/a (no filled trades)", nil) }
            let percent = Double(linked) / Double(filled) * 100
            return ("\(formatFixed(percent, digits: 1))% (\(linked)/\(filled) filled)", percent)
        case .failure(let failure)?:
            return ("unavailable (\(failure.message))", nil)
        case nil:
            return ("unknown", nil)
        }
    }
}
