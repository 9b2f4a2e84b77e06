import Cron
import Foundation
import Remote

/// Deploy, rollback and crontab changes refuse to start inside an entry's blackout window (the
/// runbook: no rebuilds around the Monday 09:00 review); `--force` goes ahead and the audit log
/// records that it did.
public struct BlackoutGuard: Sendable {
    public let entries: [CronEntry]
    public let now: Int64

    public init(entries: [CronEntry], now: Int64) {
        self.entries = entries
        self.now = now
    }

    /// Throws `BlackoutRefusal` inside a window unless `force`; returns the window forced through.
    /// The host's zone is read only when an entry with a blackout has no CRON_TZ of its own.
    public func check(action: String, command: String, force: Bool, host: any CommandRunner, state: StateDirectory) async throws -> BlackoutWindow? {
        let guarded = entries.filter { $0.blackoutSeconds != nil }
        guard !guarded.isEmpty else { return nil }
        let audit = CronAudit(runner: host, state: state)
        let hostZone: CronZone
        do {
            hostZone = try await Self.hostZone(for: guarded, host: host, state: state)
        } catch let unknown as BlackoutZoneUnknown {
            // Overridable as a window is: a broken /etc/localtime must not hold up a rollback.
            let reason = "blackout window of \(unknown.entries.joined(separator: ", ")) not judged (the host's time zone is unreadable)"
            _ = await audit.append(action: action, command: command, result: force ? "forced" : "refused", reason: reason)
            if force { return nil }
            throw unknown
        }
        guard let window = activeBlackout(guarded, at: now, hostZone: hostZone) else { return nil }
        if force {
            _ = await audit.append(action: action, command: command, result: "forced", reason: "forced inside blackout window: \(window.description)")
            return window
        }
        _ = await audit.append(action: action, command: command, result: "refused", reason: "blackout window: \(window.description)")
        throw BlackoutRefusal(window: window, action: action)
    }

    /// The zone entries without CRON_TZ of their own fire in: the host's, read only when such an
    /// entry has a blackout window. Unreadable, it is refused, never assumed to be UTC: the window
    /// could be any hour. Deploy, rollback, cron install and gate all judge it here.
    public static func hostZone(for entries: [CronEntry], host: any CommandRunner, state: StateDirectory) async throws -> CronZone {
        let unzoned = entries.filter { $0.blackoutSeconds != nil && $0.zone == nil }.map(\.name)
        guard !unzoned.isEmpty else { return .utc }
        do {
            return try await CronHost(runner: host, state: state).readTime().zone
        } catch let error as CronHostError {
            throw BlackoutZoneUnknown(entries: unzoned, reason: "\(error)")
        }
    }
}

/// A blackout window that cannot be judged: an entry without CRON_TZ fires in the host's zone,
/// which could not be read.
public struct BlackoutZoneUnknown: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    public let entries: [String]
    public let reason: String

    public var description: String {
        "cannot tell whether now is inside the blackout window of \(entries.joined(separator: ", ")), which \(entries.count == 1 ? "has" : "have") no CRON_TZ line and so fire\(entries.count == 1 ? "s" : "") in the host's time zone: \(reason.trimmingCharacters(in: CharacterSet(charactersIn: ". "))). Add a CRON_TZ line to \(entries.count == 1 ? "the entry" : "each"), or make /etc/localtime on the host name its zone, or pass --force to start anyway (the audit records it); nothing was changed."
    }

    public var exitCode: BotOpsExitCode { .refused }
}
