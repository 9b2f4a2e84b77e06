import Foundation
import SandboxSupport
import Testing

/// `deploy` and `rollback --format json` end their event stream with a `finished` event carrying
/// the process's exit code on every way out, also when the command never started: a command line
/// the parser refuses, a botops.yml that cannot be read. No host is needed.
struct FinishedEventBeforeStartTests {
    static let cases: [(name: String, arguments: [String], yaml: String?)] = [
        ("a botops.yml that is not there", ["deploy", "--service", "sighook", "--format", "json", "--config", "/nonexistent/botops.yml"], nil),
        ("a botops.yml that is not YAML", ["deploy", "--service", "sighook", "--format", "json"], "host: [unclosed\n"),
        ("a flag value that is not a duration", ["deploy", "--service", "sighook", "--format", "json", "--lock-wait", "forever"], nil),
        ("a flag combination deploy refuses", ["deploy", "--service", "sighook", "--all", "--format=json"], nil),
        ("rollback with an unknown flag", ["rollback", "--format", "json", "--to-the-past"], nil),
    ]

    @Test(arguments: cases.indices)
    func jsonModeEndsWithFinishedCarryingTheExitCode(_ index: Int) async throws {
        let (name, given, yaml) = Self.cases[index]
        var arguments = given
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        if let yaml {
            let path = directory.appendingPathComponent("botops.yml").path
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            arguments += ["--config", path]
        }
        let result = try await BuiltBinary.botops.run(arguments)
        let status: Int32 = if case .exited(let code) = result.termination { code } else { -1 }
        #expect(status == 2, "\(name): \(result.stderrText)")
        let last: String = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        let event = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(name): no JSON event on stdout: \(result.stdoutText)")
        #expect(event["event"] as? String == "finished", "\(name): \(last)")
        #expect(event["exit_code"] as? Int == Int(status), "\(name): \(last)")
        #expect((event["summary"] as? String)?.isEmpty == false, "\(name): \(last)")
    }

    /// Text mode stays text: no JSON event on stdout.
    @Test func textModePrintsNoEvent() async throws {
        let result = try await BuiltBinary.botops.run(["deploy", "--service", "sighook", "--lock-wait", "forever"])
        #expect(result.termination == .exited(2))
        #expect(result.stdoutText.isEmpty, "\(result.stdoutText)")
    }
}
