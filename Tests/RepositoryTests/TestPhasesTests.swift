import Foundation
import Testing

/// scripts/test runs the tests in two phases: the sandbox targets one test at a time (their tests
/// change the shared sandbox host, under its lock), every other test target in parallel. The phase
/// is decided by the test's target alone: scripts/test's `sandbox_targets` names whole test
/// targets, and one pattern anchored at the start of a test's id (`Target.Suite/test()`) is both
/// the parallel phase's `--skip` and the sandbox phase's `--filter`, so every test runs in exactly
/// one phase. This suite keeps the parts that make that true: the list names test targets of
/// Package.swift, one anchored pattern serves both phases, a parallel target never takes the
/// sandbox lock, and a sandbox target holds no test file that never touches the sandbox (that
/// file belongs in its module's pure target, to run in parallel).
struct TestPhasesTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Test files in a sandbox target that take no part of the sandbox, kept there because a
    /// sandbox file of the same target uses a type they declare (moving them is an edit, not a move).
    static let pureFilesKeptInSandboxTargets: [String: String] = [
        // FIXME: InterruptTests uses InterruptLocalTests' helpers, and it uses DeploySandbox's TestFailure.
        "Tests/DeployTests/InterruptLocalTests.swift": "shares helpers with InterruptTests",
        // FIXME: InstallHostSandboxTests reads VersionTests.root.
        "Tests/CLITests/VersionTests.swift": "InstallHostSandboxTests uses its repository root",
    ]

    /// A file takes the shared sandbox host's lock (directly, or by being a scene helper that does).
    static var takesTheSandboxLock: Regex<Substring> { #/SandboxLock\.acquire\(\)|botops-sandbox\.lock/# }
    /// A file uses the sandbox host: its facts, its lock, or a scene helper of its target (simple
    /// word boundaries: Unicode's would read `Sandbox.require` as one word).
    static var usesTheSandbox: Regex<(Substring, Substring)> { #/\b(Sandbox|SandboxLock|SandboxCrontab|HostScene|[A-Z]\w*Sandbox(?:Tests)?)\b/#.wordBoundaryKind(.simple) }

    struct Phases: Equatable {
        var sandboxTargets: [String]
        /// The pattern both phases pass to `swift test`, with the targets substituted.
        var pattern: String
    }

    /// scripts/test's `sandbox_targets='A|B'` and `sandbox_tests="^($sandbox_targets)\."`; nil
    /// unless both phases pass that one pattern (`--skip` and `--filter`).
    static func phases(script: String) -> Phases? {
        func value(_ name: String) -> String? {
            for line in script.split(separator: "\n") where line.hasPrefix(name + "=") {
                return String(line.dropFirst(name.count + 1).dropFirst().dropLast())
            }
            return nil
        }
        guard let targets = value("sandbox_targets"), let tests = value("sandbox_tests"),
              tests == #"^($sandbox_targets)\."#,
              script.contains(#"--skip "$sandbox_tests""#), script.contains(#"--filter "$sandbox_tests""#) else { return nil }
        return Phases(sandboxTargets: targets.split(separator: "|").map(String.init),
                      pattern: tests.replacingOccurrences(of: "$sandbox_targets", with: targets))
    }

    /// The names of Package.swift's `.testTarget`s.
    static func testTargets(manifest: String) -> [String] {
        manifest.matches(of: #/\.testTarget\(\s*name:\s*"([^"]+)"/#).map { String($0.output.1) }
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    /// The Swift files of a test target (Tests/NAME), as repository paths.
    static func files(of target: String) throws -> [String] {
        let directory = repositoryRoot.appendingPathComponent("Tests/" + target)
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map { "Tests/\(target)/\($0)" }.sorted()
    }

    @Test func everyTestRunsInExactlyOnePhase() throws {
        let phases = try #require(Self.phases(script: try Self.read("scripts/test")),
                                  #"scripts/test must set sandbox_targets='A|B', sandbox_tests="^($sandbox_targets)\." and pass "$sandbox_tests" to both --skip and --filter"#)
        let targets = Self.testTargets(manifest: try Self.read("Package.swift"))
        #expect(targets.count > 10, "read only \(targets) from Package.swift")
        #expect(Set(phases.sandboxTargets).subtracting(targets).isEmpty,
                "scripts/test's sandbox_targets names what is not a test target: \(Set(phases.sandboxTargets).subtracting(targets).sorted())")
        let pattern = try Regex(phases.pattern)
        // Every suite name of every target, under every target: a suite named like a sandbox
        // target (RecoverChecksVerdictTests holds "ChecksTests") must not drag its test along.
        var suites: Set<String> = []
        for target in targets {
            for file in try Self.files(of: target) {
                for match in try Self.read(file).matches(of: #/(?:struct|class|enum|extension)\s+([A-Z]\w*)/#) { suites.insert(String(match.output.1)) }
            }
        }
        for target in targets {
            let sandbox = phases.sandboxTargets.contains(target)
            for suite in suites.sorted() {
                let id = "\(target).\(suite)/test()"
                #expect((id.firstMatch(of: pattern) != nil) == sandbox, "\(id) would run in the \(sandbox ? "parallel" : "sandbox") phase")
            }
        }
    }

    @Test func parallelTargetsNeverTakeTheSandboxLock() throws {
        let phases = try #require(Self.phases(script: try Self.read("scripts/test")))
        for target in Self.testTargets(manifest: try Self.read("Package.swift")) where !phases.sandboxTargets.contains(target) {
            for file in try Self.files(of: target) {
                #expect(try Self.read(file).firstMatch(of: Self.takesTheSandboxLock) == nil,
                        "\(file) takes the sandbox lock but \(target) runs in the parallel phase: move it to a sandbox target (scripts/test's sandbox_targets)")
            }
        }
    }

    @Test func sandboxTargetsHoldOnlySandboxTests() throws {
        let phases = try #require(Self.phases(script: try Self.read("scripts/test")))
        var kept: [String] = []
        for target in phases.sandboxTargets {
            for file in try Self.files(of: target) {
                let source = try Self.read(file)
                guard source.contains("@Test"), source.firstMatch(of: Self.usesTheSandbox) == nil else { continue }
                if Self.pureFilesKeptInSandboxTargets[file] != nil { kept.append(file); continue }
                Issue.record("\(file) never touches the sandbox but \(target) runs one test at a time: move it (git mv) to its module's pure test target")
            }
        }
        #expect(kept.sorted() == Self.pureFilesKeptInSandboxTargets.keys.sorted(), "pureFilesKeptInSandboxTargets lists files no longer pure or gone")
    }

    /// Sandbox targets each of whose tests holds the sandbox lock for all it does on the host, and
    /// the calls of theirs that take it: other checkouts' tests restart the db, rewrite the crontab
    /// and the checkout under that lock, so a test that reads the host without it fails at random
    /// and one that changes the host without it breaks theirs.
    /// FIXME: the other sandbox targets are not read test by test yet: they lock through helpers
    /// of their own (DeploySandbox.withLock, HostScene.run, SandboxCrontab.scene, GateTests' run),
    /// and CLITests' ping and exec tests use the sandbox's sshd without the lock (reading no state
    /// another test changes).
    static let acquire = "SandboxLock" + ".acquire()" // spelt apart: this parallel target takes no lock
    static let targetsWhoseEveryTestHoldsTheLock: [String: [String]] = [
        "ChecksSandboxTests": [acquire, "SandboxLock.holding", "scenario(", "checksUnderTheLock("],
        "SandboxHostTests": [acquire],
    ]

    /// Each `@Test` of a file, as its name and its text up to the end of its body (the first
    /// closing brace at a member's indentation).
    static func tests(in source: String) -> [(name: String, text: Substring)] {
        source.ranges(of: "@Test").map { start in
            let rest = source[start.lowerBound...]
            let end = rest.firstRange(of: "\n    }\n")?.upperBound ?? rest.endIndex
            let name = rest.firstMatch(of: #/func\s+(\w+)/#).map { String($0.output.1) } ?? "?"
            return (name, rest[..<end])
        }
    }

    @Test func everyTestOfALockedTargetHoldsTheSandboxLock() throws {
        for (target, takers) in Self.targetsWhoseEveryTestHoldsTheLock {
            let files = try Self.files(of: target)
            #expect(!files.isEmpty, "no test files in \(target)")
            for file in files {
                for test in Self.tests(in: try Self.read(file)) where !takers.contains(where: { test.text.contains($0) }) {
                    Issue.record("\(file): \(test.name) reaches the shared sandbox host without its lock: wrap it in one of \(takers)")
                }
            }
        }
    }

    /// The parser itself: a pattern that is not anchored, or not passed to both phases, is refused.
    @Test func thePhaseParserRefusesAnUnanchoredOrOneSidedPattern() throws {
        let good = #"""
            sandbox_targets='DeployTests|CronTests'
            sandbox_tests="^($sandbox_targets)\."
            swift test --skip "$sandbox_tests"
            swift test --no-parallel --filter "$sandbox_tests"
            """#
        let phases = try #require(Self.phases(script: good))
        #expect(phases == Phases(sandboxTargets: ["DeployTests", "CronTests"], pattern: #"^(DeployTests|CronTests)\."#))
        let pattern = try Regex(phases.pattern)
        #expect("CronTests.GateSandboxTests/run()".firstMatch(of: pattern) != nil)
        #expect("CronUnitTests.ScheduleTests/parse()".firstMatch(of: pattern) == nil)
        #expect("BotOpsTests.DeployTests/x()".firstMatch(of: pattern) == nil)
        #expect(Self.phases(script: good.replacingOccurrences(of: #""^($sandbox_targets)\.""#, with: #""$sandbox_targets""#)) == nil)
        #expect(Self.phases(script: good.replacingOccurrences(of: #"--skip "$sandbox_tests""#, with: #"--skip DeployTests"#)) == nil)
    }
}
