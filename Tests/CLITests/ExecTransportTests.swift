import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops exec` as a user runs it in a shell: stdin forwarded to the sandbox host and to `--local`
/// (a host that freezes, a channel closed without an exit status: CLITestServerTests).
@Suite(.holdingTheSandboxLock, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct ExecTransportTests {
    let sandbox: Sandbox
    let botops = BuiltBinary.botops.path

    init() throws {
        sandbox = try Sandbox.require()
    }

    @Test(arguments: [false, true])
    func stdinIsForwardedThenEndOfFile(local: Bool) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let exec = shellCommand([botops, "exec"] + (local ? ["--local"] : ["--config", sandbox.configFile]) + ["--"])
        let input = directory.appendingPathComponent("in").path
        let output = directory.appendingPathComponent("out").path
        let script = """
            head -c 3000000 /dev/urandom > \(shellQuote(input))
            \(exec) cat < \(shellQuote(input)) > \(shellQuote(output)) || exit 10
            cmp \(shellQuote(input)) \(shellQuote(output)) || exit 11
            printf 'one\\ntwo\\n' | \(exec) wc -l || echo "wc: exit $?"
            \(exec) 'cat; echo at-eof' < /dev/null || echo "at-eof: exit $?"
            \(exec) 'cat; echo closed' <&- || echo "closed: exit $?"
            """
        let result = try await LocalHost().run(script, timeout: .seconds(60))
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        #expect(result.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == ["2", "at-eof", "closed"],
                "\(result.stderrText)")
    }
}
