import Foundation
import Remote
import SandboxSupport
import Testing

/// A command line the parser refuses (unknown flag, bad value, missing argument) with
/// `--format json` anywhere among the arguments: the error is printed on stdout as one JSON line,
/// in the shape the command's other errors take, and botops exits 2. Before, only deploy and
/// rollback printed anything on stdout; every other command printed nothing there.
@Suite(.enabled(if: Sandbox.isAvailable, "uses the sandbox's botops.yml: scripts/sandbox up"))
struct UsageErrorJSONTests {
    func botops(_ arguments: [String]) async throws -> CommandResult {
        try await BuiltBinary.botops.run(arguments + ["--config", try Sandbox.require().configFile])
    }

    func object(_ result: CommandResult) throws -> [String: Any] {
        let lines = result.stdoutText.split(separator: "\n")
        try #require(lines.count == 1, "stdout: \(result.stdoutText) stderr: \(result.stderrText)")
        return try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    }

    @Test(arguments: [
        (["status", "--bad-flag", "--format", "json"], "Unknown option '--bad-flag'"),
        (["verify", "--format=json", "--timeout", "0"], "'0' is not a time limit"),
        (["history", "--format", "json", "--limit", "3"], "Unknown option '--limit'"),
        (["backups", "keep", "--format", "json"], "Error:"),
        (["recover", "--format", "json", "--yes", "--dry-run", "--bogus"], "Unknown option '--bogus'"),
    ])
    func aRefusedCommandLinePrintsItsErrorAsJSON(_ arguments: [String], _ says: String) async throws {
        let result = try await botops(arguments)
        #expect(result.termination == .exited(2), "\(result.stderrText)")
        let error = try object(result)
        #expect(error["outcome"] as? String == "usage" && error["exit_code"] as? Int == 2, "\(error)")
        #expect((error["error"] as? String)?.contains(says) == true, "\(error)")
    }

    @Test func installHostAndDeployKeepTheirOwnErrorShapes() async throws {
        let install = try object(try await botops(["install-host", "--format", "json", "--dry-run", "--bad"]))
        #expect(install["outcome"] as? String == "usage" && install["dry_run"] as? Bool == true && install["exit_code"] as? Int == 2, "\(install)")
        let deploy = try await botops(["deploy", "--format", "json"])  // the services are missing
        #expect(deploy.termination == .exited(2))
        let finished = try object(deploy)
        #expect(finished["event"] as? String == "finished" && finished["exit_code"] as? Int == 2, "\(finished)")
    }

    @Test func withoutFormatJSONTheErrorIsTextOnStderrOnly() async throws {
        let result = try await botops(["status", "--bad-flag"])
        #expect(result.termination == .exited(2))
        #expect(result.stdoutText.isEmpty, "\(result.stdoutText)")
        #expect(result.stderrText.contains("Unknown option '--bad-flag'"))
    }
}
