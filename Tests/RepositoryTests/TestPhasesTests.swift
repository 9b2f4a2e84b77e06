import Foundation
import Testing

/// scripts/test runs the tests in two phases: the sandbox targets one test at a time (their tests
/// change the shared sandbox host, under its lock), every other test target in parallel. The phase
/// is decided by the test's target alone: scripts/test's `sandbox_targets` names whole test
/// targets, and one pattern anchored at the start of a test's id (`Target.Suite/test()`) is both
/// the parallel phase's `--skip` and the sandbox phase's `--filter`, so every test runs in exactly
/// one phase. This suite keeps the parts that make that true: the list names test targets of
/// Package.swift, one anchored pattern serves both phases, a parallel target never takes the
/// sandbox lock, a sandbox target holds no test file that never touches the sandbox (that file
/// belongs in its module's pure target, to run in parallel), and every test of a sandbox target
/// holds the sandbox lock, or is named with the reason it never reaches the shared host.
struct TestPhasesTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

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
        for target in phases.sandboxTargets {
            for file in try Self.files(of: target) {
                let source = try Self.read(file)
                guard source.contains("@Test"), source.firstMatch(of: Self.usesTheSandbox) == nil else { continue }
                Issue.record("\(file) never touches the sandbox but \(target) runs one test at a time: move it (git mv) to its module's pure test target")
            }
        }
    }

    static let acquire = "SandboxLock" + ".acquire()" // spelt apart: this parallel target takes no lock
    static let holding = "SandboxLock" + ".holding"
    /// SandboxSupport's suite trait: each test of the suite (and of its extensions) runs holding the lock.
    static let suiteTrait = ".holdingTheSandboxLock"

    /// Every sandbox target, and the calls by which its tests hold the sandbox lock for all they do
    /// on the host: SandboxLock's own, or a helper of the target that takes it around the test's
    /// work (`everyLockHelperTakesTheLock` reads each one's definition). Other checkouts' tests
    /// restart the db, rewrite the crontab and the checkout under that lock, so a test that reads
    /// the host without it fails at random and one that changes the host without it breaks theirs.
    static let lockTakers: [String: [String]] = [
        "ChecksSandboxTests": [acquire, holding, "scenario(", "checksUnderTheLock("],
        "SandboxHostTests": [acquire],
        "DeployTests": [acquire, "DeploySandbox.withLock", "DeploySandbox.scenario", "await withLock {"],
        "CronTests": [acquire, "SandboxCrontab.scene", "await scene {", "await scene(", "await verdict(", "await run("],
        "CLITests": [acquire, "await withoutHostBotops {"],
        "RecoverTests": ["HostScene.run", "HostScene.withLock", "await withLock {", "await recover(", "Self.withCrontabDAtHead("],
        "BackupTests": ["BackupSandbox.scene"],
    ]

    /// Tests of sandbox targets that run without the lock, each never reaching the shared host.
    static let withoutTheLock: [String: String] = [
        "Tests/DeployTests/DeployCommandTests.swift: malformedPlaybookIsAConfigErrorNamingFileLineAndKey":
            "a playbook error is exit 2 before botops connects (its host is nowhere.invalid)",
        "Tests/CronTests/GateTests.swift: unreachableHostIsExit3AndTheBlackoutIsStillJudged":
            "its connection is a closure that throws: the gate never reaches a host",
        "Tests/CronTests/GateTests.swift: aPreflightThatCannotRunIsAHostStateErrorNotADeployError":
            "preflight on this machine refuses a checkout path that does not exist before any git or docker command",
        "Tests/CLITests/InstallHostLockSandboxTests.swift: jsonReportsAnErrorBeforeTheCommandStarts":
            "a config that does not exist is exit 2 before botops connects",
        "Tests/CLITests/InstallHostSandboxTests.swift: refusesAFileThatIsNotALinuxExecutable":
            "the binary is refused on this machine (no ELF header) before botops connects",
        "Tests/RecoverTests/StatusSandboxTests.swift: anUnreachableHostExitsThreeWithNothingOnStdout":
            "status against a closed loopback port: the sandbox host is never reached",
    ]

    /// A test found in a file: its name, its text up to the end of its body (the first closing
    /// brace at a member's indentation), and the type it is declared in (a suite or an extension).
    struct FoundTest {
        var name: String
        var text: Substring
        var type: String
    }

    /// The top-level types of a file, each with the attributes written above it.
    static func types(in source: String) -> [(start: String.Index, name: String, attributes: Substring)] {
        source.matches(of: #/(?m)^((?:@.*\n)*)(?:(?:public|final|private|fileprivate)\s+)*(?:struct|class|enum|actor|extension)\s+(\w+)/#)
            .map { ($0.range.lowerBound, String($0.output.2), $0.output.1) }
    }

    static func tests(in source: String) -> [FoundTest] {
        let types = types(in: source)
        return source.ranges(of: "@Test").map { start in
            let rest = source[start.lowerBound...]
            let end = rest.firstRange(of: "\n    }\n")?.upperBound ?? rest.endIndex
            let name = rest.firstMatch(of: #/func\s+(\w+)/#).map { String($0.output.1) } ?? "?"
            let type = types.last { $0.start < start.lowerBound }?.name ?? "?"
            return FoundTest(name: name, text: rest[..<end], type: type)
        }
    }

    /// A test that reaches the host without the lock, or takes it inside a suite that holds it
    /// already (a second flock(2) from this process waits for the first: the test would hang).
    struct LockProblem: Equatable {
        /// `path: test`
        var test: String
        var takesItTwice: Bool
    }

    /// `text` without its `//` comments: a taker named in a comment takes no lock.
    static func code(_ text: Substring) -> String {
        String(text).replacing(#/(?m)(^|[ \t])//.*$/#, with: "")
    }

    /// The lock problems of one target's files (path → text); `exempt` as `withoutTheLock`'s keys.
    /// A test of a suite marked with the trait must call no taker of any target (`anyTaker`).
    static func lockProblems(_ sources: [(path: String, text: String)], takers: [String], anyTaker: [String]? = nil,
                             exempt: Set<String>) -> [LockProblem] {
        let locked = Set(sources.flatMap { types(in: $0.text) }.filter { code($0.attributes).contains(suiteTrait) }.map(\.name))
        var problems: [LockProblem] = []
        for (path, text) in sources {
            for test in tests(in: text) {
                let key = "\(path): \(test.name)"
                let code = code(test.text)
                let takes = takers.contains { code.contains($0) }
                if locked.contains(test.type) {
                    if (anyTaker ?? takers).contains(where: { code.contains($0) }) { problems.append(LockProblem(test: key, takesItTwice: true)) }
                } else if !takes && !exempt.contains(key) {
                    problems.append(LockProblem(test: key, takesItTwice: false))
                }
            }
        }
        return problems
    }

    @Test func everyTestOfASandboxTargetHoldsTheSandboxLock() throws {
        let phases = try #require(Self.phases(script: try Self.read("scripts/test")))
        #expect(Set(Self.lockTakers.keys) == Set(phases.sandboxTargets), "lockTakers must name every sandbox target of scripts/test and no other")
        var unlocked: Set<String> = []
        for target in phases.sandboxTargets {
            let files = try Self.files(of: target)
            #expect(!files.isEmpty, "no test files in \(target)")
            let sources = try files.map { ($0, try Self.read($0)) }
            let takers = Self.lockTakers[target] ?? []
            let anyTaker = Array(Set(Self.lockTakers.values.joined()))
            for problem in Self.lockProblems(sources, takers: takers, anyTaker: anyTaker, exempt: Set(Self.withoutTheLock.keys)) {
                Issue.record(problem.takesItTwice
                    ? "\(problem.test) takes the sandbox lock inside a suite marked \(Self.suiteTrait), which holds it already: it would wait for itself"
                    : "\(problem.test) reaches the shared sandbox host without its lock: wrap it in one of \(takers), or mark its suite \(Self.suiteTrait)")
            }
            unlocked.formUnion(Self.lockProblems(sources, takers: takers, exempt: []).filter { !$0.takesItTwice }.map(\.test))
        }
        #expect(unlocked == Set(Self.withoutTheLock.keys), "withoutTheLock must list exactly the tests that run without the lock")
    }

    /// A helper named in lockTakers really takes the lock: every definition of it in its target
    /// holds SandboxLock, or calls another of the target's takers that does.
    @Test func everyLockHelperTakesTheLock() throws {
        for (target, takers) in Self.lockTakers {
            let sources = try Self.files(of: target).map { try Self.read($0) }
            for taker in takers where !taker.hasPrefix("SandboxLock") {
                let name = try #require(taker.matches(of: #/\w+/#).map { String($0.output) }.last { $0 != "await" && $0 != "Self" })
                let bodies = sources.flatMap { source in
                    source.ranges(of: "func \(name)").compactMap { start -> Substring? in
                        let rest = source[start.lowerBound...]
                        guard let next = rest.dropFirst(5 + name.count).first, next == "(" || next == "<" else { return nil }
                        let end = [rest.firstRange(of: "\n    }\n"), rest.firstRange(of: "\n}\n")].compactMap { $0?.upperBound }.min() ?? rest.endIndex
                        return rest[..<end]
                    }
                }
                #expect(!bodies.isEmpty, "\(target): no func \(name) defines \(taker)")
                // The body after the signature line, which would match a taker like `scenario(` by itself.
                for body in bodies where !([Self.acquire, Self.holding] + takers).contains(where: { body.drop { $0 != "\n" }.contains($0) }) {
                    Issue.record("\(target): \(taker) is counted as taking the sandbox lock but func \(name) does not take it:\n\(body.prefix(300))")
                }
            }
        }
    }

    /// The guard itself, on sources written here: an unlocked test is found, also one that names a
    /// taker only in a comment; a suite with the trait covers its tests and its extensions' tests;
    /// a second lock inside one is found, also through another target's helper.
    @Test func theLockGuardFindsWhatItMust() {
        let source = """
            @Suite(.enabled(if: Sandbox.isAvailable))
            struct Plain {
                @Test func locked() async throws {
                    try await DeploySandbox.withLock { }
                }

                @Test func unlocked() async throws {
                    _ = try await host.run("docker pause db")
                }

                @Test func lockedOnlyInAComment() async throws {
                    // No DeploySandbox.withLock { } here: the lock is named, not taken.
                    _ = try await host.run("docker pause db") // DeploySandbox.withLock
                }
            }

            @Suite(\(Self.suiteTrait), .serialized)
            struct Held {
                @Test func covered() async throws {
                    _ = try await host.run("true")
                }
            }

            extension Held {
                @Test func twice() async throws {
                    try await DeploySandbox.withLock { }
                }
            }

            """
        let other = "extension Held {\n    @Test func alsoCovered() {\n    }\n\n    @Test func anotherTargetsHelper() async throws {\n        try await HostScene.run { _ in }\n    }\n}\n"
        let problems = Self.lockProblems([("T.swift", source), ("U.swift", other)],
                                         takers: ["DeploySandbox.withLock"], anyTaker: ["DeploySandbox.withLock", "HostScene.run"], exempt: [])
        #expect(problems == [LockProblem(test: "T.swift: unlocked", takesItTwice: false), LockProblem(test: "T.swift: lockedOnlyInAComment", takesItTwice: false),
                             LockProblem(test: "T.swift: twice", takesItTwice: true), LockProblem(test: "U.swift: anotherTargetsHelper", takesItTwice: true)],
                "\(problems)")
        #expect(Self.lockProblems([("T.swift", source)], takers: ["DeploySandbox.withLock"], exempt: ["T.swift: unlocked", "T.swift: lockedOnlyInAComment"]).count == 1)
        #expect(Self.code("let url = \"postgres://h/db\" // SandboxLock.holding\n") == "let url = \"postgres://h/db\"\n")
        // The trait named in a comment on the suite's attribute line holds nothing.
        let named = "@Suite(.serialized) // not \(Self.suiteTrait) yet\nstruct Named {\n    @Test func bare() async throws {\n    }\n}\n"
        #expect(Self.lockProblems([("N.swift", named)], takers: ["DeploySandbox.withLock"], exempt: []) == [LockProblem(test: "N.swift: bare", takesItTwice: false)])
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
