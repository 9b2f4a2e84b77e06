/// The runbook's check 5: `SELECT COUNT(*) FROM trade_records`.
struct DatabaseConnectivityCheck: FactCheck {
    let id = CheckID.dbConnectivity
    let title = "Database answers queries"
    let prerequisites: [CheckID] = [.dbRunning]

    func source(in probes: CheckProbes) -> ProbedFact<DatabaseFacts> {
        probes.databaseFacts
    }

    func evaluate(_ facts: DatabaseFacts, settings: CheckSettings) -> Verdict {
        switch facts.results["trade-count"] {
        case .success(let rows)?:
            guard let count = rows.first?.first else { return .fail("SELECT COUNT(*) FROM trade_records returned no row") }
            return .pass("\(count) rows in trade_records", [Evidence("trade_records", count)])
        case .failure(let failure)?:
            return .fail(describe(failure, table: "trade_records"), [Evidence("sqlstate", failure.sqlstate)])
        case nil:
            return .fail("the trade_records query did not run")
        }
    }
}

/// A database failure with the fix for the usual causes (the runbook's troubleshooting notes).
func describe(_ failure: DatabaseFacts.Failure, table: String) -> String {
    switch failure.sqlstate {
    case "42P01":
        return "\(failure.message): the table \(table) is missing. Run the database migrations (bot-engine migrate) or restore from backup."
    default:
        return failure.message
    }
}
