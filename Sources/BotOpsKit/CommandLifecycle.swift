import Checks
import Foundation
import Remote

/// What one botops command holds while it runs: its config, its connection (opened on first use)
/// and what it took on the way (a lock, a temporary file). The lifecycle gives every subcommand
/// the same start and the same end, so a body only does its own work.
public final class CommandSession: @unchecked Sendable {
    public let config: BotOpsConfig

    private let connect: @Sendable () async throws -> any HostConnection
    private let lock = NSLock()
    private var connection: Task<any HostConnection, Error>?
    private var releases: [(name: String, release: @Sendable () async throws -> Void)] = []

    /// `connect` opens the host connection when the body first asks for it.
    public init(config: BotOpsConfig, connect: @escaping @Sendable () async throws -> any HostConnection) {
        self.config = config
        self.connect = connect
    }

    /// The command's one connection to the host, opened on first use; the lifecycle closes it.
    public func host() async throws -> any HostConnection {
        let task = lock.withLock {
            if let connection { return connection }
            let created = Task { [connect] in try await connect() }
            connection = created
            return created
        }
        return try await task.value
    }

    /// Registers `release` to run when the command ends, on every path: success, error, Ctrl-C,
    /// SIGTERM. Releases run newest first, before the connection closes, so they may use it.
    /// `name` says what is released, for the message if it fails ("the deploy lock").
    public func onExit(_ name: String, _ release: @escaping @Sendable () async throws -> Void) {
        lock.withLock { releases.append((name, release)) }
    }

    /// Runs the registered releases newest first; returns the names of those that failed.
    func releaseAll(report: (String) -> Void) async -> [String] {
        let pending = lock.withLock {
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
        return failed
    }

    /// Closes the connection if one was opened. After an interruption the body may still have a
    /// command running, which a graceful close would wait for; then the process exit drops it.
    func closeConnection() async {
        guard let task = lock.withLock({ connection }), let host = try? await task.value else { return }
        await host.close()
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
                forceExit: @escaping @Sendable (Int32) -> Void = { Foundation.exit($0) }) {
        self.interruptions = interruptions
        self.errorOutput = errorOutput
        self.forceExit = forceExit
    }

    /// Runs `body` and returns the process exit status: a `BotOpsExitCode`, or 128 + the signal
    /// number when interrupted (130 for Ctrl-C, 143 for SIGTERM), as a shell reports it.
    public func run(_ selection: HostSelection,
                    body: @escaping @Sendable (CommandSession) async throws -> ExitStatus) async -> Int32 {
        let session: CommandSession
        do {
            let config = try selection.loadConfig()
            let settings = selection.settings(for: config)
            session = CommandSession(config: config, connect: settings.connect)
        } catch {
            say(error)
            return BotOpsExitCode(for: error).rawValue
        }
        return await run(session, body: body)
    }

    /// Runs `body` in `session`; see `run(_:body:)`.
    public func run(_ session: CommandSession,
                    body: @escaping @Sendable (CommandSession) async throws -> ExitStatus) async -> Int32 {
        let work = Task { try await body(session) }
        let ending = await firstOf(work)
        var status: Int32
        switch ending {
        case .finished(.success(let exit)):
            status = exit.rawValue
        case .finished(.failure(let error)):
            say(error)
            status = BotOpsExitCode(for: error).rawValue
        case .interrupted(let number):
            work.cancel()
            say("interrupted (\(signalName(number))); releasing what this command holds. Interrupt again to stop at once.")
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

    /// Waits for the body or the first interruption, whichever comes first. Later interruptions
    /// (while releasing) force the exit.
    private func firstOf(_ work: Task<ExitStatus, Error>) async -> Ending {
        let signals = interruptions.signals
        let forceExit = forceExit
        return await withCheckedContinuation { (continuation: CheckedContinuation<Ending, Never>) in
            let once = ResumeOnce(continuation)
            Task { once.resume(.finished(await work.result)) }
            Task {
                var seen = false
                for await number in signals {
                    if seen {
                        forceExit(128 + number)
                    } else {
                        seen = true
                        once.resume(.interrupted(number))
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

private func signalName(_ number: Int32) -> String {
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
