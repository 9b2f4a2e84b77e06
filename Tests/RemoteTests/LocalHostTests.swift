import Foundation
import Remote
import SandboxSupport
import Testing

@Suite struct LocalHostTests {
    let host = LocalHost()

    @Test func reportsExitStatusAndKeepsStreamsApart() async throws {
        let result = try await host.run("echo out; echo err >&2; exit 4")
        #expect(result.termination == .exited(4))
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
    }

    @Test func reportsSignals() async throws {
        let result = try await host.run("kill -TERM $$")
        #expect(result.termination == .signaled("TERM"))
        #expect(result.termination.shellStatus == 143)
    }

    /// The real process test of the local transport (the deadline logic: CommandDeadlineTests):
    /// after a timeout the command and what it started are gone.
    @Test func timeoutStopsTheCommandAndWhatItStarted() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("pid").path
        await #expect(throws: RemoteError.self) {
            _ = try await host.run("sleep 30 & echo $! > \(shellQuote(pidFile)); wait", timeout: .milliseconds(200))
        }
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Loose bound: SIGKILL is delivered at once; the slack is for a loaded machine.
        for _ in 0..<100 where Self.isRunning(pid) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!Self.isRunning(pid), "the command's child \(pid) still runs after the timeout")
    }

    /// True while `pid` exists and is not a zombie.
    /// Commands run side by side (verify's checks with --local): a command spawned while another's
    /// pipes are being set up must not inherit them, or that other one sees the end of its output
    /// only when the inheritor ends. Many spawns at once make the overlap likely.
    @Test func quickCommandsEndWhileLongOnesSpawnedBesideThemStillRun() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let longMayEnd = directory.appendingPathComponent("end").path
        defer { FileManager.default.createFile(atPath: longMayEnd, contents: nil) }
        let long = "while [ ! -e \(shellQuote(longMayEnd)) ]; do sleep 0.05; done"
        let longOnes = (0..<24).map { _ in Task { try await LocalHost().run(long, timeout: .seconds(120)).termination } }
        let quickOnes = (0..<24).map { _ in Task { try await LocalHost().run("echo quick", timeout: .seconds(15)).termination } }
        // The long ones run until the test ends them: a quick one holding a leaked pipe would time out.
        for quick in quickOnes { #expect(try await quick.value == .exited(0)) }
        FileManager.default.createFile(atPath: longMayEnd, contents: nil)
        for task in longOnes { #expect(try await task.value == .exited(0)) }
    }

    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let state = stat.split(separator: ")").last?.split(separator: " ").first else { return false }
        return state != "Z"
    }

    @Test func streamsOutputWithoutKeepingIt() async throws {
        let chunks = OutputCollector()
        let termination = try await host.stream("printf a; sleep 0.2; printf b >&2", timeout: nil, input: .none) { chunks.append($0, $1) }
        #expect(termination == .exited(0))
        let output = chunks.result(termination)
        #expect(output.stdoutText == "a")
        #expect(output.stderrText == "b")
    }

    @Test func stdinComesFromTheGivenDescriptor() async throws {
        let data = Array(repeating: Array("botops stdin\n".utf8), count: 100_000).flatMap { $0 }
        let input = try InputPipe(data)
        let result = try await host.run("cat", timeout: .seconds(30), input: .fileDescriptor(input.readEnd))
        #expect(result.succeeded)
        #expect(result.stdout == data)
    }

    @Test func withoutInputStdinIsAtEndOfFile() async throws {
        let result = try await host.run("cat; echo done", timeout: .seconds(10))
        #expect(result.stdoutText == "done\n")
    }
}
