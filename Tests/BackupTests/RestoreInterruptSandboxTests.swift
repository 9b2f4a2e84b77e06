import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Ctrl-C and SIGTERM during a full restore, at the start of each step (ordered by the step's
/// start, never timed): what the host is left with, what botops says, and that running what it
/// says repairs the host (`botops verify` passes).
extension BackupSandboxTests {
    struct InterruptedRestore: Sendable, CustomTestStringConvertible {
        var step: RestoreJob.Step
        var signal: Int32
        var testDescription: String { "\(step.rawValue) \(BackupSandboxTests.signalText(signal))" }
    }

    static func signalText(_ number: Int32) -> String { number == SIGINT ? "SIGINT" : "SIGTERM" }

    static let interruptedRestores: [InterruptedRestore] = RestoreJob.Step.allCases.enumerated().map { index, step in
        InterruptedRestore(step: step, signal: index.isMultiple(of: 2) ? SIGINT : SIGTERM)
    }

    /// The commands an interrupted restore's message says to run next (its two-space indented lines
    /// after "Next, run:"), and those that swap back.
    static func advice(_ message: String) -> (next: [String], swapBack: [String]) {
        var next: [String] = [], swapBack: [String] = [], into = 0
        for line in message.split(separator: "\n") {
            if line.hasSuffix("Next, run:") { into = 1; continue }
            if line.hasPrefix("To put the previous database back") { into = 2; continue }
            guard line.hasPrefix("  ") else { continue }
            if into == 1 { next.append(String(line.dropFirst(2))) } else if into == 2 { swapBack.append(String(line.dropFirst(2))) }
        }
        return (next, swapBack)
    }

    static func servicesHealthy() async throws {
        for service in ["sighook", "webhook", "report-job"] {
            try await waitUntil { (try? await BackupSandbox.sh("docker inspect -f '{{.State.Health.Status}}' \(service)")) == "healthy" }
        }
    }

    @Test(arguments: interruptedRestores)
    func anInterruptedFullRestoreLeavesTheHostWholeAndSaysWhatToRun(_ case: InterruptedRestore) async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            let record = try await scene.unverifiedBackup(config: configPath)
            let existing = try await Self.restoreDatabases()
            let before = try await BackupSandbox.liveFigures()
            let quiet = Set(record.tables.filter { before.contains($0) }.map(\.qualifiedName))
            let fingerprint = try await Self.fingerprint()
            let config = try BotOpsConfig.load(path: configPath)
            let host = try await SSHConnection.connect(to: try scene.sandbox.target())
            let steps = StepLog()
            var message = "", notes: [String] = [], undoSwap: [String] = []
            try await host.closing {
                let entry = try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == record.id })
                let job = RestoreJob(config: config, runner: host)
                let plan = try await job.plan(entry)
                undoSwap = job.scripts.swapBackCommands
                let interruption = Interruption()
                let run = { try await job.run(plan, interruption: interruption) { step, _ in
                    steps.append(step)
                    // With the step's start, as the lifecycle hands on the first signal; CI's second is the same request.
                    if step == `case`.step {
                        interruption.request(`case`.signal)
                        interruption.request(SIGTERM)
                    }
                } }
                if `case`.step == .checks {
                    // The last step runs to its end: the restore is done.
                    notes = try await run()
                } else {
                    let error = await #expect(throws: RestoreError.self) { _ = try await run() }
                    message = error.map(String.init(describing:)) ?? ""
                }
            }
            let all = RestoreJob.Step.allCases
            // After the swap the services are started whatever comes (then not waited for); before it nothing else starts.
            let last = `case`.step == .swap ? RestoreJob.Step.start : `case`.step
            #expect(steps.steps == Array(all[...all.firstIndex(of: last)!]), "nothing started after the interrupted step: \(steps.steps)")
            let done = `case`.step == .checks
            #expect(done ? notes.contains { $0.hasPrefix("the nine checks: ") } : message.contains("restore interrupted (\(Self.signalText(`case`.signal))) during step \(`case`.step.rawValue)"),
                    "\(message)\(notes)")
            var (next, swapBack) = Self.advice(message)
            if done { (next, swapBack) = (["botops verify"], undoSwap) }
            #expect(next == ["botops verify"], "\(message)")
            #expect(try await BackupSandbox.psql("SELECT datallowconn FROM pg_database WHERE datname = 'bot_trader_db'") == "t", "connections allowed")
            let swapped = [.swap, .start, .waitHealthy, .checks].contains(`case`.step)
            let made = try await Self.restoreDatabases().subtracting(existing)
            if swapped {
                #expect(done || message.contains("the swap is complete: bot_trader_db holds the backup and the previous database is bot_trader_db_replaced_"), "\(message)")
                #expect(made.count == 1 && made.allSatisfy { $0.hasPrefix("bot_trader_db_replaced_") && (done || message.contains($0)) }, "\(made)")
                #expect(swapBack.count == 2, "\(message)")
            } else {
                #expect(message.contains("nothing live changed: bot_trader_db is as it was"), "\(message)")
                #expect(made.isEmpty, "the new database was dropped: \(made)")
                #expect(swapBack.isEmpty, "\(message)")
                #expect(Self.same(try await Self.fingerprint(), fingerprint, in: quiet), "the live database is the one it was")
            }
            for service in ["sighook", "webhook", "report-job"] {
                #expect(try await BackupSandbox.sh("docker inspect -f '{{.State.Running}}' \(service)") == "true", "\(service) runs")
            }
            // What botops said to run repairs the host: the nine checks pass.
            try await Self.servicesHealthy()
            for command in next {
                let words = command.split(separator: " ").map(String.init)
                try #require(words.first == "botops")
                let ran = try await scene.botops(Array(words.dropFirst()), config: configPath)
                #expect(ran.termination == .exited(0), "\(command): \(ran.stdoutText)\(ran.stderrText)")
            }
            // Back as found: the swap undone by the printed commands, the restored copy (this test's) dropped.
            if swapped {
                try await BackupSandbox.sh("docker stop -t 10 sighook webhook report-job >/dev/null")
                for command in swapBack { try await BackupSandbox.sh(command) }
                try await BackupSandbox.sh("docker start sighook webhook report-job >/dev/null")
            }
            for name in try await Self.restoreDatabases().subtracting(existing) {
                #expect(name.hasPrefix("botops_restore_"), "\(name)")
                try await BackupSandbox.sh("docker exec db dropdb -U bot_user --force \(shellQuote(name))")
            }
            #expect(Self.same(try await Self.fingerprint(), fingerprint, in: quiet), "as found")
            try await Self.servicesHealthy()
        }
    }
}

final class StepLog: @unchecked Sendable {
    private let mutex = NSLock()
    private var list: [RestoreJob.Step] = []
    func append(_ step: RestoreJob.Step) { mutex.withLock { list.append(step) } }
    var steps: [RestoreJob.Step] { mutex.withLock { list } }
}

extension BackupSandboxTests {
    /// The real thing: botops gets SIGTERM when it prints that it stops the services (the step's
    /// start). It stops the services, starts them again, drops the new database, exits 143 saying
    /// so, and audits the restore as interrupted.
    /// `botops restore ID --yes` started as its own process; its stderr so far.
    static func startRestore(_ id: String, config: String, scene: BackupSandbox) throws -> (Process, @Sendable () -> String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
        process.arguments = ["restore", id, "--yes", "--config", config]
        process.standardOutput = FileHandle.nullDevice
        let errors = scene.directory + "/restore.stderr"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()
        return (process, { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" })
    }

    @Test func sigtermToBotopsAsTheServicesStopStartsThemAgainAndExits143() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            let existing = try await Self.restoreDatabases()
            let (process, stderr) = try Self.startRestore(record.id, config: config, scene: scene)
            try await waitUntil { stderr().contains("botops: stopping ") || !process.isRunning }
            kill(process.processIdentifier, SIGTERM)
            while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            let message = stderr()
            #expect(process.terminationStatus == 143, "\(message)")
            #expect(message.contains("restore interrupted (SIGTERM) during step stop: nothing live changed: bot_trader_db is as it was, the services it stopped were started again"), "\(message)")
            #expect(try await Self.restoreDatabases() == existing, "the new database was dropped")
            for service in ["sighook", "webhook", "report-job"] {
                #expect(try await BackupSandbox.sh("docker inspect -f '{{.State.Running}}' \(service)") == "true", "\(service) runs")
            }
            let audit = try await BackupSandbox.sh("tail -n 1 ~bot/.botops/audit.jsonl")
            #expect(audit.contains(#""action":"restore""#) && audit.contains(#""result":"interrupted""#), "\(audit)")
            try await Self.servicesHealthy()
        }
    }
}

extension BackupSandboxTests {
    /// Ctrl-C as the restore step starts, before pg_restore has connected (createdb runs first):
    /// pg_restore is still ended on the host, not left to fill the new database to its end (hours
    /// on a real ledger) before botops stops. Seen in the server's log: the session terminated.
    @Test func ctrlCAsTheRestoreIntoTheNewDatabaseStartsEndsItsPgRestore() async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            // Enough rows that pg_restore runs for a while.
            try await BackupSandbox.psql("CREATE TABLE botops_scratch_bulk AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 1000000) g")
            do {
                let record = try await scene.unverifiedBackup(config: configPath)
                let existing = try await Self.restoreDatabases()
                let config = try BotOpsConfig.load(path: configPath)
                let since = try await BackupSandbox.sh("date -u +%s")
                let host = try await SSHConnection.connect(to: try scene.sandbox.target())
                try await host.closing {
                    let entry = try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == record.id })
                    let job = RestoreJob(config: config, runner: host)
                    let plan = try await job.plan(entry)
                    let interruption = Interruption()
                    let error = await #expect(throws: RestoreError.self) {
                        _ = try await job.run(plan, interruption: interruption) { step, _ in if step == .restore { interruption.request(SIGINT) } }
                    }
                    #expect(error.map(String.init(describing:))?.contains("during step restore: nothing live changed") == true, "\(String(describing: error))")
                }
                let ended = try await BackupSandbox.sh("docker logs --since \(since) db 2>&1 | grep -c 'terminating connection due to administrator command' || true")
                #expect((Int(ended) ?? 0) >= 1, "pg_restore's session was ended")
                #expect(try await Self.restoreDatabases() == existing, "the new database was dropped")
            } catch {
                Issue.record("\(error)")
            }
            try await BackupSandbox.dropScratchTable("botops_scratch_bulk")
        }
    }
}
