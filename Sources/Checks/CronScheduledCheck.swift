/// Seed 000 check 1: `crontab -l | grep weekly`.
struct CronScheduledCheck: FactCheck {
    let id = CheckID.cronScheduled
    let title = "Weekly review cron job is scheduled"
    let prerequisites: [CheckID] = []

    func fact(in context: CheckContext) async throws -> HostFacts {
        try await context.hostFacts()
    }

    func evaluate(_ facts: HostFacts, settings: CheckSettings) -> Verdict {
        let match = settings.cronMatch
        guard facts.crontabStatus <= 1 else {
            return .fail("crontab -l failed (status \(facts.crontabStatus)): \(facts.crontabLines.joined(separator: " ")). Check that cron is installed and this user may use it.")
        }
        let lines = facts.crontabStatus == 1 ? [] : facts.crontabLines
        let matching = lines.filter { $0.contains(match) }
        if let active = matching.first(where: { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }) {
            return .pass(active, [Evidence("line", active)])
        }
        if let commented = matching.first {
            return .fail("the cron entry is commented out: \(commented). Re-enable it with botops cron install.", [Evidence("line", commented)])
        }
        let detail = facts.crontabStatus == 1 ? "this user has no crontab" : "no crontab line mentions '\(match)'"
        return .fail("\(detail). Install the entry with botops cron install (crontab.d/).", [Evidence("crontab_lines", String(lines.count))])
    }
}
