import Foundation
import Remote
import SandboxSupport
import Testing

/// `deploy.backup: true` on the sandbox: the backup comes first, timed apart; a failed one refuses
/// the deploy (exit 4) with nothing deployed; `--no-backup` skips it. The deploys here ask for a
/// branch that does not exist, so each stops at its own first step, and the checkout never moves.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct PreDeployBackupSandboxTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    func config(in directory: URL, backupDirectory: String) throws -> String {
        let path = directory.appendingPathComponent("botops.yml").path
        let base = try String(contentsOfFile: sandbox.configFile, encoding: .utf8)
        try (base + "deploy: {backup: true}\nbackup: {dir: \(backupDirectory)}\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func head() async throws -> String {
        try await LocalHost().run(shellCommand(["git", "-C", sandbox.app, "rev-parse", "HEAD"])).stdoutText
    }

    @Test func theBackupComesFirstAndAFailedOneRefusesTheDeploy() async throws {
        let local = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let good = try await sandbox.userOwnedDirectory(prefix: "botops-predeploy")
        defer { try? FileManager.default.removeItem(atPath: good) }
        let before = try await head()
        let deploy = ["deploy", "--service", "sighook", "--ref", "botops-no-such-branch-\(UUID().uuidString.prefix(8))"]

        // bot cannot create a directory under /proc: the backup fails, the deploy never starts.
        let failing = try config(in: local, backupDirectory: "/proc/botops-backups")
        let refused = try await BuiltBinary.botops.run(deploy + ["--config", failing])
        #expect(refused.termination == .exited(4), "\(refused.stdoutText)\(refused.stderrText)")
        #expect(refused.stderrText.contains("refused: the pre-deploy backup failed"), "\(refused.stderrText)")
        #expect(refused.stderrText.contains("deploy without it: --no-backup"))
        #expect(!refused.stdoutText.contains("preflight"), "the deploy started: \(refused.stdoutText)")
        #expect(try await head() == before)

        // --no-backup: no backup, the deploy itself runs (and stops at the missing branch).
        let skipped = try await BuiltBinary.botops.run(deploy + ["--config", failing, "--no-backup"])
        #expect(!skipped.stderrText.contains("pre-deploy backup"), "\(skipped.stderrText)")
        #expect(skipped.termination != .exited(0))
        #expect(try await head() == before)

        // A backup that works: verified and timed on its own line, then the deploy runs.
        let working = try config(in: local, backupDirectory: good)
        let backedUp = try await BuiltBinary.botops.run(deploy + ["--config", working])
        let line = try #require(backedUp.stderrText.split(separator: "\n").first { $0.contains("botops: pre-deploy backup ") && $0.contains(" verified in ") },
                                "\(backedUp.stderrText)")
        #expect(line.hasSuffix(" s (not part of the deploy's time)"))
        #expect(line.contains("-pre-deploy"), "the backup's id carries its label: \(line)")
        #expect(backedUp.termination != .exited(0), "the branch does not exist")
        #expect(!backedUp.stderrText.contains("pre-deploy backup failed"))
        let files = try FileManager.default.contentsOfDirectory(atPath: good)
        #expect(files.contains { $0.hasSuffix("-pre-deploy.json") }, "\(files)")
        #expect(try await head() == before)
    }
}
