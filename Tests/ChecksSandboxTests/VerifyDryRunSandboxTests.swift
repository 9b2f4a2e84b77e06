import BotOpsKit
@testable import Checks
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops verify --dry-run` against the sandbox: it prints the commands the probes build, no
/// `.env` value, exits 0, and leaves the host as it was (no report written).
extension VerifySandboxTests {
    /// The run's marker (8 hex digits after `@@botops-`), so the output can be compared with a
    /// plan built here.
    static func markerDigits(_ text: String) throws -> String {
        let range = try #require(text.range(of: "@@botops-[0-9a-f]{8}", options: .regularExpression))
        return String(text[range].suffix(8))
    }

    @Test func printsTheProbesCommandsAndTouchesNothing() async throws {
        // Another checkout's verify would write a report meanwhile: in turn with them.
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let host = try await SSHConnection.connect(to: try sandbox.target())
        try await host.closing {
            let app = shellQuote(sandbox.app)
            let state = "cd \(app) && { stat -c '%n %i %.9Y %s' logs/* 2>/dev/null; crontab -l 2>&1; git status --porcelain; }"
            let before = try await host.run(state).stdoutText
            let env = try await host.run("cat \(app)/.env")
            try #require(env.succeeded, "\(env.stderrText)")

            let text = try await BuiltBinary.botops.run(["verify", "--dry-run", "--config", sandbox.configFile])
            let json = try await BuiltBinary.botops.run(["verify", "--dry-run", "--format", "json", "--skip", "report-generation", "--config", sandbox.configFile])

            #expect(try await host.run(state).stdoutText == before, "the dry run changed the host")
            #expect(text.termination == .exited(0), "\(text.stderrText)")
            #expect(json.termination == .exited(0), "\(json.stderrText)")

            let marker = SectionMarker()
            let planned = try CheckRunner().plan(CheckProbes(settings, marker: marker)).text
            let printed = text.stdoutText.replacingOccurrences(of: try Self.markerDigits(text.stdoutText), with: String(marker.text.suffix(8)))
            #expect(printed == planned)
            #expect(printed.contains("crontab -l"))

            let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdoutText.utf8)) as? [[String: Any]])
            #expect(entries.map { $0["checks"] as? [String] ?? [] }.joined().contains("db-running"))
            #expect(!entries.contains { $0["changes"] != nil }, "skipping report-generation leaves nothing that changes the host")

            // Database user and name are botops.yml settings too; every other .env value is a secret.
            let values = env.stdoutText.split(separator: "\n").compactMap { line -> String? in
                guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { return nil }
                return String(line[line.index(after: equals)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            }.filter { !$0.isEmpty && ![settings.databaseUser, settings.databaseName].contains($0) }
            #expect(!values.isEmpty)
            for value in values {
                #expect(!(text.stdoutText + text.stderrText + json.stdoutText + json.stderrText).contains(value), "a .env value was printed")
            }
        }
    }
}
