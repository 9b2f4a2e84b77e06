import Basics
import Checks
import Foundation
import Remote

/// What one botops command holds while it runs: its config, its connection (opened on first use)
/// and what it took on the way (a lock, a temporary file). The lifecycle gives every subcommand
/// the same start and the same end, so a body only does its own work.
public final class CommandSession: @unchecked Sendable {
    public let config: BotOpsConfig
    /// The user's request to stop (Ctrl-C, SIGTERM), for a body that stops at a safe point.
    public let interruption = Interruption()

    private enum Phase { case running, closing, closed }

    private let connect: @Sendable () async throws -> any HostConnection
    private let lock = NSLock()
    private var connection: Task<any HostConnection, Error>?
    private var releases: [(name: String, release: @Sendable () async throws -> Void)] = []
    private var phase = Phase.running
    /// Releases registered once closing began: they run at once; the lifecycle awaits them.
    private var late: [Task<String?, Never>] = []

    /// How long the lifecycle waits for releases registered after closing began.
    static let lateReleaseBound: Duration = .seconds(30)

    /// `connect` opens the host connection when the body first asks for it.
    public init(config: BotOpsConfig, connect: @escaping @Sendable () async throws -> any HostConnection) {
        self.config = config
        self.connect = connect
    }

    /// The command's one connection to the host, opened on first use; the lifecycle closes it.
    /// After the lifecycle closed it, asking again throws: nothing would close a new one.
    public func host() async throws -> any HostConnection {
        let task = try lock.withLock {
            guard phase != .closed else { throw SessionClosed() }
            if let connection { return connection }
            let created = Task { [connect] in try await connect() }
            connection = created
            return created
        }
        return try await task.value
    }

    /// Registers `release` to run when the command ends, on every path: success, error, Ctrl-C,
    /// SIGTERM. Releases run newest first, before the connection closes, so they may use it.
    /// One registered while the command is already ending (the body was still taking it when
    /// an interruption came) runs at once, and the lifecycle waits for it (bounded).
    /// `name` says what is released, for the message if it fails ("the deploy lock").
    func onExit(_ name: String, _ release: @escaping @Sendable () async throws -> Void) {
        lock.withLock {
            guard phase != .running else { return releases.append((name, release)) }
            late.append(Task {
                do {
                    try await release()
                    return nil
                } catch {
                    return "could not release \(name): \(error)"
                }
            })
        }
    }

    /// Takes the deploy lock for this command; the lifecycle releases it on every way out.
    public func acquireDeployLock(as holder: LockHolder, wait: Duration?,
                                  onWaiting: @escaping @Sendable (LockHolder?) -> Void = { _ in },
                                  onStep: @escaping @Sendable (String) -> Void = { _ in }) async throws -> HeldLock {
        let held = try await deployLock().acquire(as: holder, wait: wait, onWaiting: onWaiting, onStep: onStep)
        onExit("the deploy lock") { await held.release() }
        return held
    }

    /// The deploy lock of this command's host, to look at or break.
    public func deployLock() async throws -> DeployLock {
        DeployLock(config, runner: try await host())
    }

    /// Runs the registered releases newest first; returns the names of those that failed.
    func releaseAll(report: (String) -> Void) async -> [String] {
        let pending = lock.withLock {
            phase = .closing
            defer { releases.removeAll() }
            return releases
        }
        var failed: [String] = []
        for (name, release) in pending.reversed() {
            do {
                try await release()
            } catch {
                failed.append(name)
                report("could not release \(name): \(error)")
            }
        }
        return failed + (await lateReleases(report: report))
    }

    /// Awaits the releases registered while closing, each within `lateReleaseBound` overall.
    private func lateReleases(report: (String) -> Void) async -> [String] {
        let tasks = lock.withLock {
            defer { late.removeAll() }
            return late
        }
        guard !tasks.isEmpty else { return [] }
        let outcomes = await bounded(Self.lateReleaseBound) {
            var messages: [String?] = []
            for task in tasks { messages.append(await task.value) }
            return messages
        }
        guard let outcomes else {
            report("a release registered while the command was ending did not finish within \(Self.lateReleaseBound); exiting without it")
            return ["a late release"]
        }
        let failures = outcomes.compactMap { $0 }
        failures.forEach(report)
        return failures
    }

    /// Closes the connection if one was opened; `host()` throws from here on. After an
    /// interruption the body may still have a command running, which a graceful close would wait
    /// for; then the process exit drops it.
    func closeConnection() async {
        let task = lock.withLock {
            phase = .closed
            return connection
        }
        guard let task, let host = try? await task.value else { return }
        await host.close()
    }
}

/// `host()` after the command's connection was closed.
public struct SessionClosed: Error, CustomStringConvertible {
    public var description: String { "internal error: the command asked for the host after its connection was closed" }
}

/// The first Ctrl-C or SIGTERM, as a request to stop that a body can honour at a safe point (a
/// deploy finishes the step that changes the running service). A body that subscribes is waited
/// for; one that does not is cancelled.
public final class Interruption: @unchecked Sendable {
    private let mutex = NSLock()
    private var requested: Int32?
    private var handlers: [@Sendable (Int32) -> Void] = []
    private var stillRunning: [@Sendable () -> String?] = []

    public init() {}

    /// The signal that asked to stop, if one did.
    public var signal: Int32? { mutex.withLock { requested } }

    /// Subscribes: `handler` runs at the request (at once, if it came already). `stillRunning`
    /// says what may still run on the host, for the message when a third signal exits at once.
    public func onRequest(stillRunning: @escaping @Sendable () -> String? = { nil }, _ handler: @escaping @Sendable (Int32) -> Void) {
        let now: Int32? = mutex.withLock {
            handlers.append(handler)
            self.stillRunning.append(stillRunning)
            return requested
        }
        if let now { handler(now) }
    }

    var isHandled: Bool { mutex.withLock { !handlers.isEmpty } }

    var whatMayStillRun: [String] { mutex.withLock { stillRunning }.compactMap { $0() } }

    /// The first request calls the handlers; later ones are the same request.
    public func request(_ number: Int32) {
        let toCall: [@Sendable (Int32) -> Void] = mutex.withLock {
            guard requested == nil else { return [] }
            requested = number
            return handlers
        }
        toCall.forEach { $0(number) }
    }
}

/// Signals that ask a running command to stop (Ctrl-C, SIGTERM, a closed terminal).
public struct Interruptions: Sendable {
    public let signals: AsyncStream<Int32>

    public init(signals: AsyncStream<Int32>) {
        self.signals = signals
    }

    /// SIGINT, SIGTERM and SIGHUP of this process, delivered as values instead of ending it.
    public static func process() -> Interruptions {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        let retained = SignalSources(sources)
        continuation.onTermination = { _ in retained.cancel() }
        return Interruptions(signals: stream)
    }
}

/// Keeps the dispatch sources alive as long as someone listens.
private final class SignalSources: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(_ sources: [any DispatchSourceSignal]) {
        self.sources = sources
    }

    func cancel() {
        sources.forEach { $0.cancel() }
    }
}

/// The one way every botops subcommand runs (like SwiftPM's SwiftCommandState): load the config,
/// run the body with a session that connects on demand, and on every way out (success, error,
/// Ctrl-C, SIGTERM) release what the body took, close the connection, and turn the outcome into
/// the README's exit code with a message on stderr.
public struct CommandLifecycle: Sendable {
    public var interruptions: Interruptions
    /// Where messages go (stderr); they are made safe for a terminal first.
    public var errorOutput: @Sendable (String) -> Void
    /// A second interruption while releasing ends the process at once, without waiting.
    public var forceExit: @Sendable (Int32) -> Void

    public init(interruptions: Interruptions = .process(),
                errorOutput: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
                forceExit: @escaping @Sendable (Int32) -> Void = { status in
                    // _exit, not exit: exit's handlers tear down OpenSSL while the SSH thread may
                    // still be inside it (a crash instead of the promised exit).
                    fflush(nil)
                    _exit(status)
                }) {
        self.interruptions = interruptions
        self.errorOutput = errorOutput
        self.forceExit = forceExit
    }

    /// Runs `body` and returns the process exit status: a `BotOpsExitCode`, or 128 + the signal
    /// number when interrupted (130 for Ctrl-C, 143 for SIGTERM), as a shell reports it.
    /// `failedToStart` hears of an error that ended the command before its body ran (a
    /// botops.yml that cannot be read), so a command with an event stream can end it.
    public func run(_ selection: HostSelection, failedToStart: (Error) -> Void = { _ in },
                    body: @escaping @Sendable (CommandSession) async throws -> ExitStatus) async -> Int32 {
        let session: CommandSession
        do {
            let config = try selection.loadConfig()
            let settings = selection.settings(for: config)
            session = CommandSession(config: config, connect: settings.connect)
        } catch {
            say(error)
            failedToStart(error)
            return BotOpsExitCode(for: error).rawValue
        }
        return await run(session, body: body)
    }

    /// Runs `body` in `session`; see `run(_:body:)`.
    public func run(_ session: CommandSession,
                    body: @escaping @Sendable (CommandSession) async throws -> ExitStatus) async -> Int32 {
        let work = Task { try await body(session) }
        let ending = await firstOf(work, session: session)
        var status: Int32
        switch ending {
        case .finished(.success(let exit)):
            status = exit.rawValue
        case .finished(.failure(let error)):
            say(error)
            status = BotOpsExitCode(for: error).rawValue
        case .interrupted(let number) where session.interruption.isHandled:
            // The body stops at its next safe point and reports where; waited for, not abandoned.
            say("interrupted (\(signalName(number))): finishing the step in flight (one that changes nothing running is stopped), then stopping. Interrupt twice more to exit at once.")
            session.interruption.request(number)
            switch await work.result {
            case .success(let exit):
                // The body says how it ended: 128 + the signal when it stopped, its own code when
                // it had finished anyway.
                status = exit.rawValue
            case .failure(let error):
                say(error)
                // A lost connection says more than the interruption: the host's state is unknown.
                status = BotOpsExitCode(for: error) == .unreachable ? BotOpsExitCode.unreachable.rawValue : 128 + number
            }
        case .interrupted(let number):
            work.cancel()
            session.interruption.request(number)
            say("interrupted (\(signalName(number))); releasing what this command holds. Interrupt twice more to exit at once.")
            status = 128 + number
        }

        let failed = await session.releaseAll { say($0) }
        if !failed.isEmpty && status == BotOpsExitCode.success.rawValue {
            status = BotOpsExitCode.failed.rawValue
        }
        // Also after an interruption: close() is bounded, and exiting while the connection's thread
        // is still inside libssh2/OpenSSL lets the process's exit handlers free what it uses (a crash).
        await session.closeConnection()
        return status
    }

    private enum Ending: Sendable {
        case finished(Result<ExitStatus, Error>)
        case interrupted(Int32)
    }

    /// Waits for the body or the first interruption, whichever comes first. A second
    /// interruption is the same request (GitHub Actions sends SIGINT, then SIGTERM 7.5 s later);
    /// a third exits at once, saying what may still run on the host.
    private func firstOf(_ work: Task<ExitStatus, Error>, session: CommandSession) async -> Ending {
        let signals = interruptions.signals
        let forceExit = forceExit
        return await withCheckedContinuation { (continuation: CheckedContinuation<Ending, Never>) in
            let once = ResumeOnce(continuation)
            Task { once.resume(.finished(await work.result)) }
            Task {
                var seen: [Int32] = []
                for await number in signals {
                    seen.append(number)
                    switch seen.count {
                    case 1:
                        once.resume(.interrupted(number))
                    case 2:
                        say("\(signalName(number)) after \(signalName(seen[0])): the same request, still stopping. Interrupt once more to exit at once.")
                    default:
                        let running = session.interruption.whatMayStillRun
                        say("exiting at once (\(signalName(number)))" + (running.isEmpty ? "." : "; may still run on the host: " + running.joined(separator: "; ")))
                        forceExit(128 + seen[0])
                    }
                }
            }
        }
    }

    private func say(_ error: Error) {
        say(String(describing: error))
    }

    private func say(_ message: String) {
        errorOutput("botops: \(terminalSafe(message, keepNewlines: true))\n")
    }
}

/// How a command's body ended: one of the README's exit codes, or (botops exec) the status of
/// the command it ran, passed through.
public struct ExitStatus: Sendable, Equatable {
    public let rawValue: Int32

    public init(_ code: BotOpsExitCode) {
        rawValue = code.rawValue
    }

    public init(passingThrough status: Int32) {
        rawValue = status
    }
}

extension BotOpsExitCode {
    /// The README's exit code for an error that ended a command.
    public init(for error: Error) {
        self = (error as? ExitCodeProviding)?.exitCode ?? .failed
    }
}

func signalName(_ number: Int32) -> String {
    switch number {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    case SIGHUP: return "SIGHUP"
    default: return "signal \(number)"
    }
}

/// Resumes a continuation the first time only.
private final class ResumeOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, Never>?

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = continuation
    }

    func resume(_ value: Value) {
        lock.withLock {
            defer { continuation = nil }
            return continuation
        }?.resume(returning: value)
    }
}
