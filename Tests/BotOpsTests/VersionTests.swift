import Foundation
import Remote
import SandboxSupport
import Testing

/// `--version` of both executables: the release number and the git revision the build is from,
/// embedded by scripts/stamp-revision (which scripts/test runs before building).
@Suite struct VersionTests {
    /// `0.16.0 (d419ea56ea8a)` or `(d419ea56ea8a-dirty)`, whose revision is this tree's HEAD.
    func expectRevisionOfThisTree(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let head = try await LocalHost().run(shellCommand(["git", "-C", BuiltBinary.packageRoot, "rev-parse", "HEAD"]))
        #expect(head.succeeded, "git rev-parse HEAD: \(head.stderrText)", sourceLocation: sourceLocation)
        let line = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let match = line.wholeMatch(of: /(\d+\.\d+\.\d+) \(([0-9a-f]{12})(-dirty)?\)/)
        #expect(match != nil, "--version printed '\(line)'; run scripts/stamp-revision before building", sourceLocation: sourceLocation)
        if let match {
            #expect(head.stdoutText.hasPrefix(String(match.2)),
                    "built from \(match.2), HEAD is \(head.stdoutText): run scripts/stamp-revision and build again", sourceLocation: sourceLocation)
        }
    }

    @Test func botopsPrintsItsVersionAndRevision() async throws {
        let result = try await BuiltBinary.botops.run(["--version"])
        #expect(result.termination == .exited(0))
        try await expectRevisionOfThisTree(result.stdoutText)
    }

    @Test func botEnginePrintsTheSameVersionAndRevision() async throws {
        let engine = try await BuiltBinary.botEngine.run(["--version"])
        let botops = try await BuiltBinary.botops.run(["--version"])
        #expect(engine.termination == .exited(0))
        try await expectRevisionOfThisTree(engine.stdoutText)
        #expect(engine.stdoutText == botops.stdoutText)
    }
}
