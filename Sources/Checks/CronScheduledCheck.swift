import Basics
import Cron

/// The runbook's first check, `crontab -l | grep weekly`, made exact: a schedule line whose
/// command runs the configured report script, read as the host's cron reads it, with its next
/// run in the cron daemon's zone (DST-correct).
struct CronScheduledCheck: FactCheck {
    let id = CheckID.cronScheduled
    let title = "Weekly review cron job is scheduled"
    let prerequisites: [CheckID] = []

    func source(in probes: CheckProbes) -> ProbedFact<HostFacts> {
        probes.hostFacts
    }

    func evaluate(_ facts: HostFacts, settings: CheckSettings) -> Verdict {
        let script = settings.path(settings.reportScript)
        if case .failed(let status, let message) = facts.crontab {
            return .fail("crontab -l failed (status \(status)): \(message). Check that cron is installed and this user may use it.")
        }
        let time: CronHostTime
        switch facts.cronTime {
        case .success(let read): time = read
        case .failure(let error):
            return .fail("cannot tell the zone the host's cron schedules in: \(error.detail). Make /etc/localtime a link into /usr/share/zoneinfo (timedatectl set-timezone UTC).")
        }
        let lines = facts.crontab.lines
        if let refused = Self.refusedLine(lines, by: time.daemon) {
            return .fail("the host's cron does not run this line, line \(refused.number) of the crontab (\(refused.problem)): \(refused.text). Debian's cron then ignores the whole crontab (\"Syntax error, this crontab file will be ignored\"), so none of its jobs runs. Fix or remove that line with crontab -e.",
                         [Evidence("line", refused.text)])
        }
        var zone = time.zone
        for line in lines {
            let parsed = CrontabLine(Array(line.utf8))
            if time.honoursCronTZ, case .environment("CRON_TZ", let value) = parsed, let named = CronZone(identifier: value) {
                zone = named
            }
            guard case .job(let scheduleText, _) = parsed, let command = parsed.command, CronCommand(command).runs(script) else { continue }
            var evidence = [Evidence("line", line), Evidence("schedule", scheduleText)]
            let schedule: Schedule
            do {
                schedule = try Schedule.parse(scheduleText, reading: .host(time.daemon))
            } catch {
                return .fail("the host's cron does not run this line: \(error): \(line). Fix the schedule with botops cron install (crontab.d/).", evidence)
            }
            guard facts.cronDaemonRunning != false else {
                return .fail("the entry is installed but no cron daemon (cron or crond) runs on the host, so it never fires: \(line). Start it: systemctl start cron.", evidence)
            }
            guard !schedule.isReboot else {
                return .pass("runs at boot only (@reboot): \(line)", evidence)
            }
            // Years 1970 to 9999 only: a host clock outside them has no next run to tell.
            guard (0...253_402_300_799).contains(facts.now) else {
                return .fail("the host's clock reads \(facts.now) seconds since 1970, outside years 1970-9999: set the clock (timedatectl).", evidence)
            }
            if case .job(_, let raw) = parsed, let zoneGuard = ZoneGuard.unwrap(raw)?.guard {
                return Self.guarded(zoneGuard, schedule, line: line, zone: zone, now: Int64(facts.now), evidence: evidence)
            }
            guard let next = schedule.next(after: Int64(facts.now), in: zone) else {
                return .fail("the schedule '\(scheduleText)' never fires (no such date): \(line)", evidence)
            }
            let when = "\(zone.local(at: next)) \(zone.identifier)"
            evidence.append(Evidence("next_run", when))
            return .pass("next run \(when) (in \(formatAge(secondsBetween(facts.now, Int(next))))): \(line)", evidence)
        }
        if let commented = lines.first(where: { CrontabLine.uncommented($0).flatMap { CrontabLine(Array($0.utf8)).command }.map { CronCommand($0).runs(script) } == true }) {
            return .fail("the cron entry is commented out: \(commented). Re-enable it with botops cron install.", [Evidence("line", commented)])
        }
        let name = settings.reportScript.split(separator: "/").last.map(String.init) ?? settings.reportScript
        if let mention = lines.first(where: { $0.contains(name) }) {
            return .fail("no crontab line runs \(script); this one mentions it without running it: \(mention). Install the entry with botops cron install (crontab.d/).",
                         [Evidence("line", mention)])
        }
        let detail = facts.crontab == .noCrontab ? "this user has no crontab" : "no crontab line runs \(script)"
        return .fail("\(detail). Install the entry with botops cron install (crontab.d/).", [Evidence("crontab_lines", String(lines.count))])
    }

    /// The first line Debian's cron refuses: it then ignores the whole file, not just that line
    /// (cronie skips only the line, which the loop below judges).
    private static func refusedLine(_ lines: [String], by daemon: CronDaemon) -> (number: Int, text: String, problem: String)? {
        guard daemon == .debian else { return nil }
        for (index, line) in lines.enumerated() {
            switch CrontabLine(Array(line.utf8)) {
            case .other:
                return (index + 1, line, "neither a job, a variable setting nor a comment")
            case .job(let schedule, _):
                do { _ = try Schedule.parse(schedule, reading: .host(daemon)) } catch { return (index + 1, line, "\(error)") }
            case .blank, .comment, .environment:
                continue
            }
        }
        return nil
    }

    /// The DST-safe form `botops cron install` writes where cron ignores CRON_TZ: the line runs at
    /// candidate host times and its guard lets through only the entry's time in its own zone. The
    /// next run is the first candidate the guard admits, shown in that zone.
    private static func guarded(_ zoneGuard: ZoneGuard, _ schedule: Schedule, line: String, zone: CronZone, now: Int64, evidence: [Evidence]) -> Verdict {
        var evidence = evidence + [Evidence("zone", zoneGuard.zone.identifier)]
        guard let next = zoneGuard.next(after: now, of: schedule, in: zone) else {
            return .fail("the guarded line never runs: no time it fires at is '\(zoneGuard.patterns.joined(separator: "|"))' in \(zoneGuard.zone.identifier): \(line)", evidence)
        }
        let when = "\(zoneGuard.zone.local(at: next)) \(zoneGuard.zone.identifier)"
        evidence.append(Evidence("next_run", when))
        return .pass("next run \(when) (in \(formatAge(secondsBetween(Int(now), Int(next))))); guarded for \(zoneGuard.zone.identifier)): \(line)", evidence)
    }
}
