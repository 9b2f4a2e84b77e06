import Foundation
import Remote
import SandboxSupport
import Testing

@Suite(.holdingTheSandboxLock, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct CLISandboxTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    @Test func pingPrintsDestinationFingerprintAndTimings() async throws {
        let result = try await BuiltBinary.botops.run(["ping", "--config", sandbox.configFile])
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        let line = result.stdoutText
        #expect(line.hasPrefix("\(sandbox.value("SANDBOX_USER"))@127.0.0.1:\(sandbox.port)  host key SHA256:"))
        #expect(line.contains("connect "))
        #expect(line.contains("round trip "))
    }

    @Test func execStreamsBothStreamsAndExitsWithTheRemoteStatus() async throws {
        let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--", "echo out; echo err >&2; exit 7"])
        #expect(result.termination == .exited(7))
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
    }

    @Test func execQuotesEachArgumentOfAVector() async throws {
        let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--", "printf", "<%s>", "a b", "$(id)", "it's"])
        #expect(result.termination == .exited(0))
        #expect(result.stdoutText == "<a b><$(id)><it's>")
    }

    @Test func execReportsSignalAsShellStatus() async throws {
        let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--", "kill -KILL $$"])
        #expect(result.termination == .exited(137))
    }

    @Test func unknownHostKeyRefusedThenAcceptedByFlag() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sshConfig = directory.appendingPathComponent("ssh_config").path
        let knownHosts = directory.appendingPathComponent("known_hosts").path
        let original = try String(contentsOfFile: sandbox.sshConfig, encoding: .utf8)
        try original.replacing(sandbox.knownHosts, with: knownHosts).write(toFile: sshConfig, atomically: true, encoding: .utf8)
        let arguments = ["ping", "--config", sandbox.configFile, "--ssh-config", sshConfig]

        let refused = try await BuiltBinary.botops.run(arguments)
        #expect(refused.termination == .exited(3))
        #expect(refused.stderrText.contains("is not known ("))
        #expect(refused.stderrText.contains("key SHA256:"))
        let accepted = try await BuiltBinary.botops.run(arguments + ["--accept-new-host-key"])
        #expect(accepted.termination == .exited(0), "\(accepted.stderrText)")
        let again = try await BuiltBinary.botops.run(arguments)
        #expect(again.termination == .exited(0))
    }
}

extension CLISandboxTests {
    /// The suite's `.holdingTheSandboxLock` really holds the lock while a test runs (TestPhasesTests
    /// only reads that the suite is marked): this process holds its flock (another checkout's test
    /// holding it would not do).
    @Test func theSuiteTraitHoldsTheSandboxLockDuringTheTest() {
        #expect(SandboxLock.isHeldHere(), "\(SandboxLock.path) is not held by this test run during a test of a suite marked .holdingTheSandboxLock")
    }

    /// The sandbox offers both compose spellings (v2 through a forwarding plugin), as botops must support both.
    @Test func bothComposeSpellingsSeeTheSameStack() async throws {
        var services: [String] = []
        for compose in ["docker compose", "docker-compose"] {
            let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--",
                                                           "cd \(shellQuote(sandbox.app)) && \(compose) -f docker-compose.aws.yml ps --services"])
            #expect(result.termination == .exited(0), "\(compose): \(result.stderrText)")
            services.append(result.stdoutText)
        }
        #expect(services[0] == services[1])
        #expect(Set(services[0].split(separator: "\n")) == ["db", "sighook", "webhook", "report-job"])
    }
}

/// The built binary started in the background, so a test can signal it. Its stderr goes to a
/// file: a pipe's write end can be inherited by processes other tests start meanwhile.
struct RunningBinary {
    let process = Process()
    let output = Pipe()
    let errors: URL

    init(_ arguments: [String]) throws {
        errors = FileManager.default.temporaryDirectory.appendingPathComponent("botops-stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
    }

    /// Reads stdout until `text` has appeared.
    func waitForOutput(_ text: String) -> Bool {
        var seen = ""
        while !seen.contains(text) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return false }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        return true
    }

    func exitStatus() -> (status: Int32, stderr: String) {
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: errors) }
        return (process.terminationStatus, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }
}

extension CLISandboxTests {
    @Test func interruptedCommandReleasesAndExitsWith128PlusSignal() async throws {
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let running = try RunningBinary(["exec", "--config", sandbox.configFile, "--", "echo ready; exec sleep 20"])
            #expect(running.waitForOutput("ready"))
            kill(running.process.processIdentifier, signal)
            let (exit, stderr) = running.exitStatus()
            #expect(exit == status, "\(stderr)")
            #expect(stderr.contains("interrupted (\(signal == SIGINT ? "SIGINT" : "SIGTERM"))"))
        }
    }
}
