/// Seed 000 check 1: `crontab -l | grep weekly`.
public struct CronScheduledCheck: Check {
    public let id = "cron-scheduled"
    public let title = "Weekly review cron job is scheduled"
    public let prerequisites: [String] = []

    public func prefetch(in context: CheckContext) {
        context.prefetch(CheckContext.hostFacts)
    }

    public func run(in context: CheckContext) async throws -> Verdict {
        Self.evaluate(try await context.hostFacts(), match: context.settings.cronMatch)
    }

    static func evaluate(_ facts: HostFacts, match: String) -> Verdict {
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
