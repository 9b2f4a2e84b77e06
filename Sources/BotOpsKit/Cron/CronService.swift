import Cron
import Foundation
import Remote

/// Holds the deploy lock while botops changes the crontab. One seam, so the crontab commands
/// take the same lock as deploys.
public protocol CrontabChangeLock: Sendable {
    func withLock<T: Sendable>(purpose: String, _ body: @Sendable () async throws -> T) async throws -> T
}

/// A crontab change refused because an entry is about to fire or just fired.
public struct BlackoutRefusal: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    public let window: BlackoutWindow
    public let action: String

    public var description: String {
        "refusing to \(action) inside a blackout window: \(window.description). Wait until then, or pass --force (the audit records it)."
    }

    public var exitCode: BotOpsExitCode { .refused }
}

/// What `botops cron diff` and `install` computed: the plan, the host's time, and lines that look
/// like a hand-installed copy of an entry.
public struct CronReport: Sendable {
    public let destination: String
    public let time: CronHostTime
    public let plan: CronPlan
    public let lookalikes: [(line: Int, text: String, entry: String)]
    /// Entries whose program the host does not have.
    public var missingPrograms: [MissingProgram] = []
    /// Set after a write: the backup of the crontab it replaced.
    public var backup: String?
    /// Set when --force overrode a blackout window.
    public var forcedThrough: BlackoutWindow?
    /// Things the operator should know that did not stop the command (an audit line not written).
    public var notices: [String] = []

    /// One line per entry, the notes, lookalikes, then the unified diff (or "no changes").
    public func render() -> String {
        var lines: [String] = []
        let honours = time.honoursCronTZ ? "honours CRON_TZ" : "ignores CRON_TZ"
        lines.append("host \(destination): time zone \(time.zone.identifier), cron \(honours)")
        for change in plan.changes {
            var line = "  \(change.name): \(Self.describe(change.change))"
            if let note = change.note { line += "\n      \(note)" }
            lines.append(line)
        }
        for lookalike in lookalikes {
            lines.append("  warning: unmanaged line \(lookalike.line) runs the program of \(lookalike.entry): \(lookalike.text)")
        }
        lines += missingPrograms.map { "  " + $0.warning }
        if plan.isNoOp {
            lines.append("no changes: the crontab already matches crontab.d")
        } else {
            lines.append(plan.diff(fromLabel: "crontab on \(destination)", toLabel: "crontab after botops cron install").trimmingCharacters(in: .newlines))
        }
        if let window = forcedThrough { lines.append("forced inside a blackout window: \(window.description)") }
        if let backup { lines.append("installed; the previous crontab is saved as \(backup) (botops cron restore puts it back)") }
        lines += notices.map { "notice: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describe(_ change: CronPlan.Change) -> String {
        switch change {
        case .added: return "added"
        case .updated: return "updated"
        case .unchanged: return "unchanged"
        case .removed: return "removed (no longer in crontab.d)"
        case .adopted(let line, let text): return "adopts line \(line), installed by hand: \(text)"
        }
    }
}

/// `botops cron diff|install|list|remove|restore`, on one host.
public struct CronService: Sendable {
    public let host: CronHost
    public let destination: String
    /// The instant the commands act at (seconds since 1970, UTC): injected by tests.
    public let now: Int64
    /// Where crontab changes are recorded; nil in tests that do not look at the audit.
    public let audit: CronAudit?

    public init(host: CronHost, destination: String, now: Int64, audit: CronAudit? = nil) {
        self.host = host
        self.destination = destination
        self.now = now
        self.audit = audit
    }

    /// What install would do; changes nothing.
    public func diff(_ entries: [CronEntry]) async throws -> CronReport {
        let crontab = try await host.readCrontab()
        let time = try await host.readTime()
        var result = try report(crontab: crontab, time: time, entries: entries)
        result.missingPrograms = try await host.missingPrograms(entries)
        return result
    }

    /// Brings botops's entries in the crontab to `entries`, under the lock, refusing inside a
    /// blackout window unless `force`. A crontab that already matches is not rewritten.
    public func install(_ entries: [CronEntry], force: Bool, lock: any CrontabChangeLock, command: String = "botops cron install") async throws -> CronReport {
        let window = try await BlackoutGuard(entries: entries, now: now)
            .check(action: "cron-install", command: command, force: force, host: host.runner, state: host.state)
        let time = try await host.readTime()
        do {
            var result = try await lock.withLock(purpose: "cron install") {
                let crontab = try await host.readCrontab()
                var result = try report(crontab: crontab, time: time, entries: entries)
                guard !result.plan.isNoOp else { return result }
                if !time.honoursCronTZ {
                    try await host.checkZonesAgree(entries.compactMap(\.zone), now: now)
                }
                result.backup = try await host.write(result.plan.proposed, replacing: crontab)
                return result
            }
            result.forcedThrough = window
            result.missingPrograms = try await host.missingPrograms(entries)
            if result.backup != nil, let notice = await audit?.append(action: "cron-install", command: command, result: "success") {
                result.notices.append(notice)
            }
            return result
        } catch {
            _ = await audit?.append(action: "cron-install", command: command, result: "failed", failure: "\(error)")
            throw error
        }
    }

    /// Removes botops's block `name`; everything else stays. Returns the backup made, or nil
    /// when there was no such block (nothing written).
    public func remove(_ name: String, lock: any CrontabChangeLock, command: String = "botops cron remove") async throws -> String? {
        try await audited("cron-remove", command) {
            try await lock.withLock(purpose: "cron remove \(name)") {
                let crontab = try await host.readCrontab()
                guard let removed = try ManagedCrontab(crontab).removing(name) else { return nil }
                return try await host.write(removed, replacing: crontab)
            }
        }
    }

    /// Puts a backup back; the crontab it replaces is backed up first.
    public func restore(_ name: String?, lock: any CrontabChangeLock, command: String = "botops cron restore") async throws -> String {
        try await audited("cron-restore", command) {
            try await lock.withLock(purpose: "cron restore") {
                try await host.restore(name)
            }
        }
    }

    /// Runs `body` and records its outcome in the audit log.
    private func audited<T: Sendable>(_ action: String, _ command: String, _ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            _ = await audit?.append(action: action, command: command, result: "success")
            return value
        } catch {
            _ = await audit?.append(action: action, command: command, result: "failed", failure: "\(error)")
            throw error
        }
    }

    private func report(crontab: Crontab, time: CronHostTime, entries: [CronEntry]) throws -> CronReport {
        let managed = try ManagedCrontab(crontab)
        let plan = try managed.plan(installing: entries, host: time, now: now)
        let after = try ManagedCrontab(plan.proposed)
        return CronReport(destination: destination, time: time, plan: plan, lookalikes: after.lookalikes(of: entries))
    }
}

/// `botops cron list`: the entries, whether the crontab has them as crontab.d says, their next
/// fire in the entry's zone, the host's zone and UTC, and lines that look like ours.
public struct CronListing: Sendable {
    public struct Row: Sendable {
        public let entry: CronEntry
        public let state: CronPlan.Change
        public let next: Int64?
        public let previous: Int64?
    }

    public let time: CronHostTime
    public let rows: [Row]
    /// Managed blocks with no file in crontab.d (install would remove them).
    public let orphans: [String]
    public let lookalikes: [(line: Int, text: String, entry: String)]
    /// Entries whose program the host does not have.
    public let missingPrograms: [MissingProgram]

    public func render() -> String {
        var lines: [String] = []
        for row in rows {
            let zone = row.entry.zone ?? time.zone
            let state: String
            switch row.state {
            case .unchanged: state = "installed"
            case .updated: state = "installed, differs from crontab.d (botops cron install)"
            case .added: state = "not installed (botops cron install)"
            case .adopted(let line, _): state = "installed by hand at line \(line), not yet managed (botops cron install)"
            case .removed: state = "removed"
            }
            lines.append("\(row.entry.name)  '\(row.entry.schedule.text)' \(zone.identifier)  \(state)")
            if let next = row.next {
                lines.append("    next  " + Self.moment(next, entryZone: zone, hostZone: time.zone))
            }
            if let previous = row.previous {
                lines.append("    last  " + Self.moment(previous, entryZone: zone, hostZone: time.zone))
            }
            if let blackout = row.entry.blackoutSeconds {
                lines.append("    blackout \(blackout / 60)m either side of each fire")
            }
        }
        for orphan in orphans {
            lines.append("\(orphan)  managed in the crontab but not in crontab.d: botops cron install removes it (or botops cron remove \(orphan))")
        }
        for lookalike in lookalikes {
            lines.append("warning: unmanaged crontab line \(lookalike.line) runs the program of \(lookalike.entry): \(lookalike.text)")
        }
        lines += missingPrograms.map(\.warning)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `2026-11-30 09:00 America/Los_Angeles = 2026-11-30 17:00 Etc/UTC (host) = 2026-11-30 17:00 UTC`
    static func moment(_ instant: Int64, entryZone: CronZone, hostZone: CronZone) -> String {
        "\(entryZone.local(at: instant)) \(entryZone.identifier) = \(hostZone.local(at: instant)) \(hostZone.identifier) (host) = \(CronZone.utc.local(at: instant)) UTC"
    }
}

extension CronService {
    public func list(_ entries: [CronEntry]) async throws -> CronListing {
        let crontab = try await host.readCrontab()
        let time = try await host.readTime()
        let plan = try ManagedCrontab(crontab).plan(installing: entries, host: time, now: now)
        let states = Dictionary(plan.changes.map { ($0.name, $0.change) }, uniquingKeysWith: { first, _ in first })
        let rows = entries.map { entry in
            let zone = entry.zone ?? time.zone
            return CronListing.Row(entry: entry, state: states[entry.name] ?? .added,
                                   next: entry.schedule.next(after: now, in: zone), previous: entry.schedule.previous(before: now, in: zone))
        }
        let orphans = plan.changes.filter { $0.change == .removed }.map(\.name)
        let adopted = Set(plan.changes.compactMap { change -> Int? in
            if case .adopted(let line, _) = change.change { return line } else { return nil }
        })
        let lookalikes = try ManagedCrontab(crontab).lookalikes(of: entries).filter { !adopted.contains($0.line) }
        return CronListing(time: time, rows: rows, orphans: orphans, lookalikes: lookalikes, missingPrograms: try await host.missingPrograms(entries))
    }
}
