import Foundation
import Remote
import SandboxSupport
import Testing

/// bot-engine started by a caller that closed its standard descriptors (`<&-`, `>&-`, as some
/// schedulers do): it sanitizes them first thing, as botops does, so a closed stdin reads as
/// end-of-file and a closed stdout swallows the output. Before, `record -` with a closed stdin
/// crashed in Foundation (EINVAL reading descriptor 0).
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct BotEngineClosedStdinTests {
    @Test func aClosedStdinReadsAsEndOfFileAndAClosedStdoutIsHarmless() async throws {
        try await TestDatabase.with { _, database async throws in
            let engine = shellCommand([BuiltBinary.botEngine.path])
            let url = shellCommand(["--database-url", database.url])
            let migrated = try await LocalHost().run("\(engine) migrate \(url) >&- && echo migrated", timeout: .seconds(60))
            #expect(migrated.termination == .exited(0) && migrated.stdoutText == "migrated\n", "\(migrated.stderrText)")
            let recorded = try await LocalHost().run("\(engine) record - \(url) <&-", timeout: .seconds(60))
            #expect(recorded.termination == .exited(0), "\(recorded.stderrText)")
            #expect(recorded.stdoutText == "recorded 0 fills (0 already present), linked 0\n", "\(recorded.stderrText)")
        }
    }
}
