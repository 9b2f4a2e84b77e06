import ArgumentParser
import BotOpsKit
import Cron
import Foundation

/// `--force` and `--crontab-dir` for the commands that must not start inside a blackout window.
struct BlackoutOptions: ParsableArguments {
    @Flag(name: .long, help: "Start even inside a crontab.d entry's blackout window (the audit log records it).")
    var force = false

    @Option(name: .customLong("crontab-dir"), help: ArgumentHelp("crontab.d, for its blackout windows (default: crontab.d beside botops.yml, when there is one).", valueName: "dir"))
    var crontabDirectory: String?

    /// Refuses (exit 4) inside a window unless --force; says so on stderr when forced.
    func check(_ session: CommandSession, action: String, configPath: String?) async throws {
        let entries = try CronEntries.managed(crontabDirectory: crontabDirectory, configPath: configPath)
        guard !entries.isEmpty else { return }
        let guardian = BlackoutGuard(entries: entries, now: Int64(Date().timeIntervalSince1970))
        if let window = try await guardian.check(action: action, command: commandLine(), force: force,
                                                  host: try await session.host(), state: session.config.deploy.stateDirectory) {
            FileHandle.standardError.write(Data("botops: --force: going ahead inside a blackout window: \(window.description)\n".utf8))
        }
    }
}
