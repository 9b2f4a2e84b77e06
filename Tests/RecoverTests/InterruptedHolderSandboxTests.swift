import Foundation
import Remote
import SandboxSupport
import Testing

/// recover reads the record an interrupted command left in the deploy lock and names that
/// command, with its own advice: it used to call every interrupted holder "a deploy".
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct InterruptedHolderSandboxTests {
    @Test(arguments: [
        ("botops install-host --yes", "an install-host was interrupted", "run it again: botops install-host --yes"),
        ("botops cron install", "a cron install was interrupted", "botops cron restore puts back"),
        ("botops backup --no-verify", "a backup was interrupted", "not recorded and is not kept"),
    ])
    func recoverNamesTheInterruptedCommandAndItsAdvice(_ command: String, _ named: String, _ advice: String) async throws {
        try await HostScene.run { scene in
            // What a killed botops leaves: its holder record, no live holder.
            let holder = #"{"command":"\#(command)","machine":"ci","pid":4242,"started_at":1764900000,"step":"lock","user":"alice"}"#
            try await scene.sh("mkdir -p \(scene.stateFile("")) && printf '%s\\n' \(shellQuote(holder)) > \(scene.stateFile("holder.json"))")
            let result = try await scene.botops(["recover", "--dry-run", "--format", "json"])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any], "\(result.stdoutText)\(result.stderrText)")
            let broken = try #require(report["broken"] as? [String])
            let line = try #require(broken.first, "\(broken)")
            #expect(line.hasPrefix(named + " and never released the lock: alice@ci (pid 4242): \(command)"), "\(line)")
            #expect(line.contains(advice), "\(line)")
            #expect(!broken.joined().contains("a deploy was interrupted"), "\(broken)")
        }
    }
}
