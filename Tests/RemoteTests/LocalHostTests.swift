import Foundation
import Remote
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

    @Test func timeoutStopsTheCommand() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: RemoteError.self) {
            _ = try await host.run("sleep 30", timeout: .milliseconds(200))
        }
        #expect(clock.now - start < .seconds(10))
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
