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
        var hostZone = CronZone.utc
        if guarded.contains(where: { $0.zone == nil }) {
            hostZone = try await CronHost(runner: host, state: state).readTime().zone
        }
        guard let window = activeBlackout(guarded, at: now, hostZone: hostZone) else { return nil }
        let audit = CronAudit(runner: host, state: state)
        if force {
            _ = await audit.append(action: action, command: command, result: "forced", reason: "forced inside blackout window: \(window.description)")
            return window
        }
        _ = await audit.append(action: action, command: command, result: "refused", reason: "blackout window: \(window.description)")
        throw BlackoutRefusal(window: window, action: action)
    }
}
