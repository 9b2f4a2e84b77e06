import Foundation
import Remote
import SandboxSupport
import Testing

/// A test run killed inside `StackVariant.applied` (Ctrl-C of `swift test`, a crash: no `catch`
/// runs) leaves origin's main on the variant's commit, the checkout on it and the stack in the
/// variant's project without healthchecks; every suite of every checkout after it would run on
/// that. The next take of the sandbox lock puts it back first. Changes the shared host: a sandbox
/// suite, run alone.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct StackVariantLeftoverTests {
    /// What the other suites rely on: origin's main, the checkout clean on it, each service's
    /// state, compose project, healthcheck and mounts.
    static func layout() async throws -> String {
        let app = shellQuote(try Sandbox.require().app)
        return try await sh("""
            origin=$(runuser -u bot -- git -C \(app) remote get-url origin)
            runuser -u bot -- git ls-remote "$origin" refs/heads/main
            runuser -u bot -- git -C \(app) rev-parse HEAD
            runuser -u bot -- git -C \(app) status --porcelain --branch --untracked-files=no
            docker inspect -f '{{.Name}} {{.State.Status}} {{index .Config.Labels "com.docker.compose.project"}} {{if .State.Health}}healthcheck{{end}} {{range .Mounts}}{{.Name}}{{end}}' db sighook webhook report-job 2>&1 || true
            """)
    }

    @discardableResult
    static func sh(_ script: String) async throws -> String {
        let result = try await LocalHost().run(script, timeout: .seconds(300))
        guard result.succeeded else { throw TestFailure("`\(script.prefix(200))`: \(result.termination): \(result.stderrText.suffix(800))") }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aVariantLeftByAKilledRunIsPutBackBeforeTheNextHolderUsesTheSandbox() async throws {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let before = try await Self.layout()
        #expect(!FileManager.default.fileExists(atPath: StackVariant.journal), "a take of the lock leaves no variant behind")
        do {
            // What a run killed inside `applied` leaves, here a recover test's after it removed the db.
            try await StackVariant.userHost.apply()
            try await Self.sh("docker stop db >/dev/null && docker rm db >/dev/null")
            #expect(try await Self.layout() != before)
            // The next holder's take (this process holds the lock already: the step it runs as it takes it).
            try await SandboxLock.putBackLeftovers(path: SandboxLock.path)
            #expect(try await Self.layout() == before)
            #expect(!FileManager.default.fileExists(atPath: StackVariant.journal))
        } catch {
            Issue.record("\(error)")
        }
        // Never left on the variant for the next holder, whatever happened above.
        if try await Self.layout() != before || FileManager.default.fileExists(atPath: StackVariant.journal) {
            if try await Self.sh("docker ps -aq --filter name=^db$") == "" { try await StackVariant.restack("bottrader-aws") }
            try await StackVariant.putBackLeftover()
        }
    }
}
