import Foundation
import Testing

/// "Run the nine checks" is one use case, `Verification` (Sources/BotOpsKit/Verify.swift): verify,
/// gate, deploy's baseline and checks steps, and recover's diagnosis and checks go through it, so
/// the settings, the selection and the timeout are composed in one place. Outside Checks, only it builds a `CheckRunner`.
@Suite struct VerificationUseCaseTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Files allowed to build a runner of their own, and why.
    static let allowed: Set<String> = [
        "BotOpsKit/Verify.swift",  // Verification itself
        "botops/Verify.swift",  // validates --only/--skip before any config is loaded
    ]

    @Test func onlyVerificationBuildsACheckRunnerOutsideChecks() throws {
        let files = try #require(FileManager.default.enumerator(atPath: Self.sources.path)).compactMap { $0 as? String }
        let builders = try files.filter { $0.hasSuffix(".swift") && !$0.hasPrefix("Checks/") }.filter { file in
            try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8).contains("CheckRunner(")
        }
        #expect(Set(builders).subtracting(Self.allowed).isEmpty, "run the checks through Verification: \(builders.sorted())")
    }
}
