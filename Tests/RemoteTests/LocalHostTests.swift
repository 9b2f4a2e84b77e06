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

    @Test func streamsOutputAsItArrives() async throws {
        let chunks = Chunks()
        let result = try await host.run("printf a; sleep 0.2; printf b >&2", timeout: nil) { stream, bytes in
            chunks.append(stream, bytes)
        }
        #expect(result.succeeded)
        #expect(chunks.text(.stdout) == "a")
        #expect(chunks.text(.stderr) == "b")
    }
}

/// Collects streamed output from the transport's thread.
final class Chunks: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [(OutputKind, [UInt8])] = []

    func append(_ stream: OutputKind, _ bytes: [UInt8]) {
        lock.withLock { received.append((stream, bytes)) }
    }

    func text(_ stream: OutputKind) -> String {
        lock.withLock { String(decoding: received.filter { $0.0 == stream }.flatMap(\.1), as: UTF8.self) }
    }
}
