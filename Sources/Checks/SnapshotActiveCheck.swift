/// The runbook's check 9: exactly one strategy snapshot has `active_until IS NULL`.
struct SnapshotActiveCheck: FactCheck {
    let id = CheckID.snapshotActive
    let title = "Exactly one strategy snapshot is active"
    let prerequisites: [CheckID] = [.dbRunning]

    func source(in probes: CheckProbes) -> ProbedFact<DatabaseFacts> {
        probes.databaseFacts
    }

    func evaluate(_ facts: DatabaseFacts, settings: CheckSettings) -> Verdict {
        switch facts.results["snapshots"] {
        case .success(let rows)?:
            let ids = rows.map { $0.first ?? "?" }
            switch rows.count {
            case 0:
                return .fail("no active strategy snapshot (active_until IS NULL). Activate one: bot-engine snapshot activate.")
            case 1:
                let row = rows[0]
                let since = row.count > 1 ? row[1] : "?"
                let seconds = row.count > 3 ? Int(row[3]) : nil
                let age = seconds.map(formatAge) ?? "?"
                var evidence = [Evidence("snapshot_id", ids[0]), Evidence("active_from", since)]
                if let seconds, seconds < 0 {
                    return .fail("the only open snapshot, \(ids[0]), starts in \(formatAge(-seconds)) (active_from \(since)): none is active now. Activate the current one: bot-engine snapshot activate.", evidence)
                }
                if row.count > 2, !row[2].isEmpty { evidence.append(Evidence("score_buy_target", row[2])) }
                return .pass("snapshot \(ids[0]) active since \(since) (\(age))", evidence)
            default:
                return .fail("\(rows.count) snapshots are active at once: \(ids.joined(separator: ", ")). Close all but the newest (set active_until).", [Evidence("active_snapshots", ids.joined(separator: ","))])
            }
        case .failure(let failure)?:
            return .fail(describe(failure, table: "strategy_snapshots"), [Evidence("sqlstate", failure.sqlstate)])
        case nil:
            return .fail("the snapshot query did not run")
        }
    }
}
