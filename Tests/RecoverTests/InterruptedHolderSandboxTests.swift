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
        ("botops cron install", "a cron install was interrupted", "installs crontab.d as committed at the host's HEAD over it: for any other schedule, run it again: botops cron install after recover"),
        ("botops backup --no-verify", "a backup was interrupted", "without ID.json, never listed or pruned: remove those by hand, then run it again: botops backup --no-verify"),
        ("botops restore 20261205T061500Z --yes", "a restore was interrupted", "open it again with: docker exec db psql -U bot_user -d postgres -c 'ALTER DATABASE \"bot_trader_db\" ALLOW_CONNECTIONS true'; then, if the restore is wanted, run it again: botops restore 20261205T061500Z --yes"),
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

    /// A restore killed after it closed the live database: the command recover prints opens it again.
    @Test func theRestoreAdviceOpensTheClosedLiveDatabaseAgain() async throws {
        let allowed = "docker exec db psql -X -At -U bot_user -d postgres -c \"SELECT datallowconn FROM pg_database WHERE datname = 'bot_trader_db'\""
        try await HostScene.run { scene in
            let holder = #"{"command":"botops restore 20261205T061500Z --yes","machine":"ci","pid":4242,"started_at":1764900000,"step":"lock","user":"alice"}"#
            try await scene.sh("mkdir -p \(scene.stateFile("")) && printf '%s\\n' \(shellQuote(holder)) > \(scene.stateFile("holder.json"))")
            try await scene.sh("docker exec db psql -X -q -U bot_user -d postgres -c 'ALTER DATABASE \"bot_trader_db\" ALLOW_CONNECTIONS false'")
            let result = try await scene.botops(["recover", "--dry-run", "--format", "json"])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any], "\(result.stdoutText)\(result.stderrText)")
            let line = try #require((report["broken"] as? [String])?.first)
            let advised = try #require(line.firstRange(of: "open it again with: ").map { line[$0.upperBound...] }?.split(separator: ";").first, "\(line)")
            try await scene.sh(String(advised))
            #expect(try await scene.sh(allowed) == "t", "\(advised)")
        } cleanup: { scene in
            try await scene.sh("docker exec db psql -X -q -U bot_user -d postgres -c 'ALTER DATABASE \"bot_trader_db\" ALLOW_CONNECTIONS true'")
        }
    }
}
