import BotOpsKit
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// The connection to the host lost (its sshd session killed) at the start of a step of a full
/// restore: the services stopped and the live database closed to connections are an outage that
/// nothing on the host repairs, so botops must say exactly what to run, and running it repairs the
/// host (`botops verify` passes).
extension BackupSandboxTests {
    @Test(arguments: [RestoreJob.Step.stop, .swap, .start])
    func aConnectionLostDuringAFullRestoreSaysWhatRepairsTheHost(_ step: RestoreJob.Step) async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            let taken = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: configPath)
            let record = try #require(BackupRecord.parse(taken.stdoutText), "\(taken.stderrText)")
            let existing = try await Self.restoreDatabases()
            let config = try BotOpsConfig.load(path: configPath)
            let host = try await SSHConnection.connect(to: try scene.sandbox.target())
            var message = "", exit: BotOpsExitCode?, swapBackByHand: [String] = []
            try? await host.closing {
                // The sshd process serving this connection: killed, it takes the connection with it.
                let ppid = try await host.run(RemoteCommand("echo $PPID", timeout: .seconds(10))).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let session = try TestSSHServer.sessionProcess(try #require(pid_t(ppid)))
                let entry = try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == record.id })
                let job = RestoreJob(config: config, runner: host)
                let plan = try await job.plan(entry)
                swapBackByHand = job.scripts.swapBackCommands
                let error = await #expect(throws: RestoreError.self) {
                    _ = try await job.run(plan) { started, _ in if started == step { kill(session, SIGKILL) } }
                }
                message = error.map(String.init(describing:)) ?? ""
                exit = error?.exitCode
            }
            #expect(exit == .needsHuman, "\(message)")
            #expect(message.contains("connection lost during step \(step.rawValue)"), "\(message)")
            let (next, swapBack) = Self.advice(message)
            #expect(next.last == "botops verify" && swapBack.count == (step == .stop ? 0 : 2), "\(message)")
            // What botops said to run, run as said: the host is whole again.
            do {
                for command in next.dropLast() { try await BackupSandbox.sh(command) }
                #expect(try await BackupSandbox.psql("SELECT datallowconn FROM pg_database WHERE datname = 'bot_trader_db'") == "t", "connections allowed")
                for service in ["sighook", "webhook", "report-job"] {
                    #expect(try await BackupSandbox.sh("docker inspect -f '{{.State.Running}}' \(service)") == "true", "\(service) runs")
                }
                let made = try await Self.restoreDatabases().subtracting(existing)
                #expect(made.allSatisfy { $0.hasPrefix("bot_trader_db_replaced_") } && made.count == (step == .start ? 1 : 0), "\(made)")
                if next.last == "botops verify" {
                    try await Self.servicesHealthy()
                    let verified = try await scene.botops(["verify"], config: configPath)
                    #expect(verified.termination == .exited(0), "\(verified.stdoutText)\(verified.stderrText)")
                }
            } catch {
                Issue.record("\(error)")
            }
            try await Self.putBack(existing: existing, swapBack: swapBackByHand)
        }
    }
}

extension BackupSandboxTests {
    /// Back as found whatever botops said: connections allowed, a swap the test made undone by
    /// `swapBack`, its databases dropped, the services up.
    static func putBack(existing: Set<String>, swapBack: [String]) async throws {
        let reopen = #"docker exec db psql -X -q -U bot_user -d postgres -c 'ALTER DATABASE "bot_trader_db" ALLOW_CONNECTIONS true'"#
        try await BackupSandbox.sh(reopen)
        if try await restoreDatabases().subtracting(existing).contains(where: { $0.hasPrefix("bot_trader_db_replaced_") }) {
            try await BackupSandbox.sh("docker stop -t 10 sighook webhook report-job >/dev/null")
            for command in swapBack { try await BackupSandbox.sh(command) }
            try await BackupSandbox.sh(reopen)
        }
        try await BackupSandbox.sh("docker start sighook webhook report-job >/dev/null")
        for name in try await restoreDatabases().subtracting(existing) {
            try await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists --force \(shellQuote(name))")
        }
        try await servicesHealthy()
    }
}
