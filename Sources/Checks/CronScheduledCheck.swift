/// The runbook's first check, `crontab -l | grep weekly`, made exact: a schedule line whose
/// command runs the configured report script, with its next run.
struct CronScheduledCheck: FactCheck {
    let id = CheckID.cronScheduled
    let title = "Weekly review cron job is scheduled"
    let prerequisites: [CheckID] = []

    func fact(in context: CheckContext) async throws -> HostFacts {
        try await context.hostFacts()
    }

    func evaluate(_ facts: HostFacts, settings: CheckSettings) -> Verdict {
        let script = settings.path(settings.reportScript)
        guard facts.crontabStatus <= 1 else {
            return .fail("crontab -l failed (status \(facts.crontabStatus)): \(facts.crontabLines.joined(separator: " ")). Check that cron is installed and this user may use it.")
        }
        let lines = facts.crontabStatus == 1 ? [] : facts.crontabLines
        for line in lines {
            guard let entry = CronEntry.parse(line), entry.runs(script: script) else { continue }
            var evidence = [Evidence("line", line), Evidence("schedule", entry.scheduleText)]
            guard let schedule = entry.schedule else {
                return .pass("runs at boot only (@reboot): \(line)", evidence)
            }
            guard let next = schedule.nextFire(after: facts.now, utcOffset: facts.utcOffset) else {
                return .fail("the schedule '\(entry.scheduleText)' never fires (no such date): \(line)", evidence)
            }
            let when = formatLocalMinute(next, utcOffset: facts.utcOffset)
            evidence.append(Evidence("next_run", when))
            return .pass("next run \(when) (in \(formatAge(secondsBetween(facts.now, next)))): \(line)", evidence)
        }
        if let commented = lines.first(where: { Self.uncommented($0).flatMap(CronEntry.parse)?.runs(script: script) == true }) {
            return .fail("the cron entry is commented out: \(commented). Re-enable it with botops cron install.", [Evidence("line", commented)])
        }
        let name = settings.reportScript.split(separator: "/").last.map(String.init) ?? settings.reportScript
        if let mention = lines.first(where: { $0.contains(name) }) {
            return .fail("no crontab line runs \(script); this one mentions it without running it: \(mention). Install the entry with botops cron install (crontab.d/).",
                         [Evidence("line", mention)])
        }
        let detail = facts.crontabStatus == 1 ? "this user has no crontab" : "no crontab line runs \(script)"
        return .fail("\(detail). Install the entry with botops cron install (crontab.d/).", [Evidence("crontab_lines", String(lines.count))])
    }

    /// The line without its leading `#`s, when it is a comment.
    private static func uncommented(_ line: String) -> String? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("#") else { return nil }
        return String(trimmed.drop { $0 == "#" || $0 == " " || $0 == "\t" })
    }
}
