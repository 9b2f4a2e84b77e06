import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// A third signal exits at once, leaving the step in flight to the host: during a full restore the
/// message must say what the host may be left with and give the commands that repair it once that
/// step's command has ended there (the services stopped and the live database closed are an outage).
extension BackupSandboxTests {
    /// The sandbox sshd's session processes (`sshd: bot@notty`), which serve botops's connection.
    static func sandboxSessions() async throws -> [pid_t] {
        let script = #"for p in $(pgrep -P "$(cat /var/lib/botops-sandbox/ssh/sshd.pid)"); do pgrep -a -P "$p"; done | awk '/@notty/ { print $1 }'"#
        return try await BackupSandbox.sh(script).split(separator: "\n").compactMap { pid_t($0) }
    }

    @Test func threeSignalsDuringAFullRestoreExitAtOnceWithTheCommandsThatRepairTheHost() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            let existing = try await Self.restoreDatabases()
            let (process, stderr) = try Self.startRestore(record.id, config: config, scene: scene)
            try await waitUntil { stderr().contains("botops: closing ") || !process.isRunning }
            // The close step held up on the host side (its sshd session frozen), so the signals find it in flight.
            let sessions = try await Self.sandboxSessions()
            for session in sessions { kill(session, SIGSTOP) }
            kill(process.processIdentifier, SIGTERM)
            try await Task.sleep(for: .milliseconds(300))  // two signals, not one coalesced
            kill(process.processIdentifier, SIGTERM)
            try? await waitUntil { stderr().contains("the same request") || !process.isRunning }
            kill(process.processIdentifier, SIGTERM)
            while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            for session in sessions { kill(session, SIGCONT) }
            let message = stderr()
            #expect(!sessions.isEmpty && process.terminationStatus == 143, "\(sessions) \(message)")
            // The step held up is the close, or the swap when the close ended before its session froze.
            let step = ["close", "swap"].first { message.contains("exiting at once (SIGTERM); may still run on the host: the restore of \(record.id), step \($0): ") }
            #expect(step != nil, "\(message)")
            let (next, swapBack) = Self.advice(message)
            #expect(next.last == "botops verify", "\(message)")
            do {
                // The step held up ends there (or never started): no remote command of the restore is left; then the commands as said.
                try await waitUntil { (try? await BackupSandbox.sh("pgrep -f 'ALLOW_CONNECTIONS [f]alse|[b]otops_restore_' || true")) == "" }
                for command in next.dropLast() { try await BackupSandbox.sh(command) }
                #expect(try await BackupSandbox.psql("SELECT datallowconn FROM pg_database WHERE datname = 'bot_trader_db'") == "t", "connections allowed")
                for service in ["sighook", "webhook", "report-job"] {
                    #expect(try await BackupSandbox.sh("docker inspect -f '{{.State.Running}}' \(service)") == "true", "\(service) runs")
                }
                let made = try await Self.restoreDatabases().subtracting(existing)
                #expect(made.isEmpty || (step == "swap" && made.count == 1 && made.allSatisfy { $0.hasPrefix("bot_trader_db_replaced_") }), "the new database was dropped: \(made)")
                if next.last == "botops verify" {
                    try await Self.servicesHealthy()
                    let verified = try await scene.botops(["verify"], config: config)
                    #expect(verified.termination == .exited(0), "\(verified.stdoutText)\(verified.stderrText)")
                }
            } catch {
                Issue.record("\(error)")
            }
            try await Self.putBack(existing: existing, swapBack: swapBack)
        }
    }
}
