/// The runbook's check 3: `ls -la /opt/bot/queries/*.sql`, for the configured queries.
struct QueriesPresentCheck: FactCheck {
    let id = CheckID.queriesPresent
    let title = "SQL query files are present"
    let prerequisites: [CheckID] = []

    func source(in probes: CheckProbes) -> ProbedFact<HostFacts> {
        probes.hostFacts
    }

    func evaluate(_ facts: HostFacts, settings: CheckSettings) -> Verdict {
        var missing: [String] = []
        var empty: [String] = []
        var notFiles: [String] = []
        var blank: [String] = []
        var evidence: [Evidence] = []
        for query in settings.queries {
            switch facts.queries[query] ?? nil {
            case nil:
                missing.append(query)
                evidence.append(Evidence(query, "missing"))
            case let stat?:
                if !stat.isRegular {
                    notFiles.append(query)
                } else if stat.size == 0 {
                    empty.append(query)
                } else if facts.blankQueries.contains(query) {
                    blank.append(query)
                }
                evidence.append(Evidence(query, "\(stat.size) bytes"))
            }
        }
        var problems: [String] = []
        if !missing.isEmpty { problems.append("missing: \(missing.joined(separator: ", "))") }
        if !empty.isEmpty { problems.append("empty: \(empty.joined(separator: ", "))") }
        if !blank.isEmpty { problems.append("only whitespace: \(blank.joined(separator: ", "))") }
        if !notFiles.isEmpty { problems.append("not a regular file: \(notFiles.joined(separator: ", "))") }
        guard problems.isEmpty else {
            return .fail("\(problems.joined(separator: "; ")) in \(settings.appPath)/queries. Restore them: git -C \(settings.appPath) checkout -- queries/", evidence)
        }
        return .pass("\(settings.queries.count) query files present", evidence)
    }
}
