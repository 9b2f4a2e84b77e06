import Cron

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
            guard facts.cronDaemonRunning != false else {
                return .fail("the entry is installed but no cron daemon (cron or crond) runs on the host, so it never fires: \(line). Start it: systemctl start cron.", evidence)
            }
            guard let schedule = entry.schedule else {
                return .pass("runs at boot only (@reboot): \(line)", evidence)
            }
            if let zoneGuard = ZoneGuard.unwrap(entry.command)?.guard {
                return Self.guarded(zoneGuard, schedule, line: line, facts: facts, evidence: evidence)
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

    /// The DST-safe form `botops cron install` writes where cron ignores CRON_TZ: the line runs at
    /// candidate host times and its guard lets through only the entry's time in its own zone. The
    /// next run is the first candidate the guard admits, shown in that zone.
    private static func guarded(_ zoneGuard: ZoneGuard, _ schedule: CronSchedule, line: String, facts: HostFacts, evidence: [Evidence]) -> Verdict {
        var evidence = evidence + [Evidence("zone", zoneGuard.zone.identifier)]
        var candidate = facts.now
        // Two candidate hours a day for a year is the most a guarded line needs to find its day.
        for _ in 0..<(2 * 24 * 400) {
            guard let next = schedule.nextFire(after: candidate, utcOffset: facts.utcOffset) else { break }
            let local = zoneGuard.zone.local(at: Int64(next))
            if zoneGuard.admits(local) {
                let when = "\(local) \(zoneGuard.zone.identifier)"
                evidence.append(Evidence("next_run", when))
                return .pass("next run \(when) (in \(formatAge(secondsBetween(facts.now, next))); guarded for \(zoneGuard.zone.identifier)): \(line)", evidence)
            }
            candidate = next
        }
        return .fail("the guarded line never runs: no time it fires at is '\(zoneGuard.patterns.joined(separator: "|"))' in \(zoneGuard.zone.identifier): \(line)", evidence)
    }

    /// The line without its leading `#`s, when it is a comment.
    private static func uncommented(_ line: String) -> String? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("#") else { return nil }
        return String(trimmed.drop { $0 == "#" || $0 == " " || $0 == "\t" })
    }
}
