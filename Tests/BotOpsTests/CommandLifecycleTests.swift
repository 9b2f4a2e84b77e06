@testable import BotOpsKit
import Foundation
import Remote
import Testing

/// A connection of our own protocol that records what happened to it.
final class RecordingConnection: HostConnection, @unchecked Sendable {
    let log: EventLog
    init(log: EventLog) { self.log = log }
    var destination: String { "recorded" }
    func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
        log.record("run \(command)")
        return .exited(0)
    }
    func close() async { log.record("close") }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    func record(_ event: String) { lock.withLock { recorded.append(event) } }
    var events: [String] { lock.withLock { recorded } }
}

/// Lets a test hold a body or a release until it says go.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = lock.withLock {
                if opened { return true }
                waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let pending = lock.withLock {
            opened = true
            defer { waiters.removeAll() }
            return waiters
        }
        pending.forEach { $0.resume() }
    }
}

struct FakeLock: Error, CustomStringConvertible {
    var description: String { "the lock file is gone" }
}

@Suite struct CommandLifecycleTests {
    let log = EventLog()
    let signals: AsyncStream<Int32>
    let signal: AsyncStream<Int32>.Continuation
    let messages = EventLog()
    let forcedExits = EventLog()

    init() {
        (signals, signal) = AsyncStream.makeStream(of: Int32.self)
    }

    var lifecycle: CommandLifecycle {
        CommandLifecycle(interruptions: Interruptions(signals: signals),
                         errorOutput: { [messages] in messages.record($0) },
                         forceExit: { [forcedExits] in forcedExits.record("exit \($0)") })
    }

    func session() -> CommandSession {
        let connection = RecordingConnection(log: log)
        return CommandSession(config: BotOpsConfig(host: "h"), connect: { [log] in
            log.record("connect")
            return connection
        })
    }

    /// A body that takes two things and uses the connection, as deploy does with its lock.
    func takeTwoThings(_ session: CommandSession) async throws {
        let host = try await session.host()
        session.onExit("the first thing") { [log] in log.record("release first") }
        session.onExit("the lock") { _ = try await host.run("rm lock") }
    }

    @Test func releasesNewestFirstThenClosesTheConnection() async {
        let status = await lifecycle.run(session()) { session in
            try await takeTwoThings(session)
            return ExitStatus(.success)
        }
        #expect(status == 0)
        #expect(log.events == ["connect", "run rm lock", "release first", "close"])
        #expect(messages.events.isEmpty)
    }

    @Test func anErrorIsReportedMappedAndStillReleases() async {
        let status = await lifecycle.run(session()) { session in
            try await takeTwoThings(session)
            throw RemoteError.connectionRefused(host: "h", port: 22)
        }
        #expect(status == 3)
        #expect(log.events == ["connect", "run rm lock", "release first", "close"])
        #expect(messages.events == ["botops: \(RemoteError.connectionRefused(host: "h", port: 22))\n"])
    }

    @Test func errorsOfUnknownKindAreFailuresAndConfigErrorsUsage() async {
        let unknown = await lifecycle.run(session()) { _ in throw CancellationError() }
        #expect(unknown == 1)
        let config = await lifecycle.run(session()) { _ in throw ConfigError(file: "f", problem: "p") }
        #expect(config == 2)
    }

    @Test func noConnectionIsOpenedWhenTheBodyNeedsNone() async {
        let status = await lifecycle.run(session()) { _ in ExitStatus(.refused) }
        #expect(status == 4)
        #expect(log.events.isEmpty)
    }

    @Test func aFailedReleaseIsNamedAndASuccessBecomesAFailure() async {
        let status = await lifecycle.run(session()) { session in
            session.onExit("the deploy lock") { throw FakeLock() }
            return ExitStatus(.success)
        }
        #expect(status == 1)
        #expect(messages.events == ["botops: could not release the deploy lock: the lock file is gone\n"])
    }

    @Test func anInterruptionStopsWaitingForTheBodyReleasesAndExits128PlusTheSignal() async {
        let held = Gate()
        let started = Gate()
        let waiting = Task {
            await lifecycle.run(session()) { session in
                try await takeTwoThings(session)
                started.open()
                await held.wait()  // a body that ignores cancellation, like a command still running
                return ExitStatus(.success)
            }
        }
        await started.wait()
        signal.yield(SIGTERM)
        let status = await waiting.value
        #expect(status == 128 + SIGTERM)
        // Released, then closed (close is bounded: it abandons the body's command rather than wait
        // for it), so the process never exits while the connection's thread is still inside libssh2.
        #expect(log.events == ["connect", "run rm lock", "release first", "close"])
        #expect(messages.events.first?.contains("interrupted (SIGTERM)") == true)
        #expect(forcedExits.events.isEmpty)
        held.open()
    }

    @Test func aThirdInterruptionWhileReleasingForcesTheExitTheSecondIsTheSameRequest() async {
        let releasing = Gate()
        let releaseMayEnd = Gate()
        let waiting = Task {
            await lifecycle.run(session()) { session in
                session.onExit("a slow release") {
                    releasing.open()
                    await releaseMayEnd.wait()
                }
                await Gate().wait()
                return ExitStatus(.success)
            }
        }
        signal.yield(SIGINT)
        await releasing.wait()
        signal.yield(SIGTERM)
        while messages.events.count < 2 { await Task.yield() }
        #expect(messages.events[1].contains("SIGTERM after SIGINT: the same request"))
        #expect(forcedExits.events.isEmpty)
        signal.yield(SIGINT)
        while forcedExits.events.isEmpty { await Task.yield() }
        #expect(forcedExits.events == ["exit 130"])
        releaseMayEnd.open()
        #expect(await waiting.value == 130)
    }

    /// GitHub Actions' cancel: SIGINT, then SIGTERM. A body that handles the request (a deploy)
    /// is waited for, not abandoned, and the exit is the first signal's.
    @Test func aHandledInterruptionWaitsForTheBodyToStopAtItsSafePoint() async {
        let requested = EventLog()
        let safePoint = Gate()
        let started = Gate()
        let waiting = Task {
            await lifecycle.run(session()) { session in
                session.interruption.onRequest { requested.record("request \($0)") }
                try await takeTwoThings(session)
                started.open()
                await safePoint.wait()
                log.record("body reached its safe point")
                return ExitStatus(passingThrough: 128 + SIGINT)
            }
        }
        await started.wait()
        signal.yield(SIGINT)
        while requested.events.isEmpty { await Task.yield() }
        signal.yield(SIGTERM)
        while messages.events.count < 2 { await Task.yield() }
        #expect(log.events == ["connect"], "nothing released while the body still runs")
        safePoint.open()
        #expect(await waiting.value == 130)
        #expect(requested.events == ["request \(SIGINT)"])
        #expect(log.events == ["connect", "body reached its safe point", "run rm lock", "release first", "close"])
        #expect(forcedExits.events.isEmpty)
    }

    /// A body still taking something when the interruption came registers its release late
    /// (after the lifecycle released what was registered): it runs at once, and is awaited
    /// before the connection closes.
    @Test func aReleaseRegisteredAfterReleaseAllRunsBeforeTheConnectionCloses() async throws {
        let session = session()
        _ = try await session.host()
        _ = await session.releaseAll { _ in }
        session.onExit("late") { [log] in
            try await Task.sleep(for: .milliseconds(20))
            log.record("late release")
        }
        #expect(await session.releaseAll { _ in }.isEmpty)
        await session.closeConnection()
        #expect(log.events == ["connect", "late release", "close"])
    }

    /// A late release that never ends (awaiting a task that ignores cancellation) does not hold
    /// the exit: the bound gives up on it.
    @Test func boundedGivesUpOnWorkThatIgnoresCancellation() async {
        let never = Task { await Gate().wait() }
        let outcome = await bounded(.milliseconds(50)) { await never.value }
        #expect(outcome == nil)
        #expect(await bounded(.seconds(30)) { 42 } == 42)
    }

    @Test func theHostAfterCloseThrows() async throws {
        let session = session()
        await session.closeConnection()
        await #expect(throws: SessionClosed.self) { _ = try await session.host() }
        #expect(log.events.isEmpty, "no connection opened that nothing would close")
    }

    @Test func configProblemsEndBeforeTheBodyWithExitTwo() async throws {
        let missing = await lifecycle.run(HostSelection(configPath: "/nonexistent/botops.yml", host: "bot@h")) { [log] _ in
            log.record("body")
            return ExitStatus(.success)
        }
        #expect(missing == 2)
        #expect(log.events.isEmpty)
        #expect(messages.events.first?.contains("/nonexistent/botops.yml: no such file") == true)
    }
}
