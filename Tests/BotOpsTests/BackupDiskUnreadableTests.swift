@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import Testing

/// This machine's own shell with a `df` that fails (a shell function, found before any df on
/// PATH): a real host whose df cannot read the backup directory's disk.
struct FailingDfHost: CommandRunner {
    var destination: String { "local (df fails)" }

    func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
        let failingDF = "df() { echo \"df: $*: Input/output error\" >&2; return 1; }\n"
        return try await LocalHost().stream(failingDF + command, timeout: timeout, input: input, onOutput: onOutput)
    }
}

@Suite struct BackupDiskUnreadableTests {
    /// A df that prints nothing is no disk with 0 bytes free: the refusal says df could not read
    /// it (its old "0 B free … lower backup.min_free_disk" sent the operator to the wrong fix).
    @Test func aDiskDfCannotReadIsRefusedSayingSo() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-backup-df-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try BotOpsConfig.parse("host: h\npath: /nonexistent/botops-app\nbackup: {dir: \(directory.path)}\n", file: "botops.yml")
        let error = await #expect(throws: BackupError.self) { try await BackupJob(config: config, runner: FailingDfHost()).preflight() }
        let said = error.map { "\($0)" } ?? ""
        #expect(said.contains("df printed no free space") && !said.contains("0 B free"), "\(said)")
        #expect(error?.exitCode == .refused)
    }
}
