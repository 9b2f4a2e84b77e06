import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a command ended: with an exit status, killed by a signal, or without the host saying.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    /// Signal name without the SIG prefix, as SSH reports it (e.g. "TERM").
    case signaled(String)
    /// The command's channel closed without an exit status: sshd ended the session early (its
    /// ChannelTimeout, for one) or could not report how the command ended. Whether the command
    /// finished, and how, is unknown.
    case noExitStatus

    public var description: String {
        switch self {
        case .exited(let status): return "exit \(status)"
        case .signaled(let name): return "signal \(name)"
        case .noExitStatus: return "no exit status (the host closed the command's channel without reporting how it ended; it may still be running there)"
        }
    }

    /// The status a shell would report: the exit status, or 128 + the signal number; 255 when
    /// there is none, as `ssh` exits then.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let status): return status
        case .signaled(let name): return 128 + (SignalNames.number(for: name) ?? 0)
        case .noExitStatus: return 255
        }
    }
}

/// The outcome of one command: kept as raw bytes so that partial UTF-8 never corrupts output.
public struct CommandResult: Sendable {
    public let termination: Termination
    public let stdout: [UInt8]
    public let stderr: [UInt8]

    public init(termination: Termination, stdout: [UInt8], stderr: [UInt8]) {
        self.termination = termination
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { termination == .exited(0) }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

public enum OutputKind: Sendable {
    case stdout
    case stderr
}

/// Receives output as it arrives, chunk by chunk, before the command ends.
public typealias OutputHandler = @Sendable (OutputKind, [UInt8]) -> Void

/// What a command reads on its stdin.
public enum CommandInput: Sendable, Equatable {
    /// End of file from the start, as with `ssh -n` or `< /dev/null`.
    case none
    /// What this descriptor yields until its end of file, then end of file: read as the command
    /// takes it, never slurped. The caller keeps the descriptor open and owns it.
    case fileDescriptor(Int32)

    /// This process's stdin, as `ssh host command` forwards it.
    public static var standardInput: CommandInput { .fileDescriptor(STDIN_FILENO) }
}

/// "Run this command on the host": implemented over SSH and on the local machine.
public protocol CommandRunner: Sendable {
    /// Where commands run, for messages: `user@host:port` or `local`.
    var destination: String { get }
    /// Runs `command` through the host's `/bin/sh` (build it with `shellQuote` for every value),
    /// handing its output to `onOutput` as it arrives. Nothing is kept: a command may print
    /// gigabytes. Use `run` for the output as a whole.
    func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination
}

extension CommandRunner {
    /// Runs `command` and keeps its output in the result.
    public func run(_ command: String, timeout: Duration? = nil, input: CommandInput = .none) async throws -> CommandResult {
        let collector = OutputCollector()
        let termination = try await stream(command, timeout: timeout, input: input) { collector.append($0, $1) }
        return collector.result(termination)
    }
}

/// Keeps streamed output, for a caller that both watches it arrive and needs it afterwards.
public final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stdout: [UInt8] = []
    private var stderr: [UInt8] = []

    public init() {}

    public func append(_ kind: OutputKind, _ bytes: [UInt8]) {
        lock.withLock {
            if kind == .stdout { stdout += bytes } else { stderr += bytes }
        }
    }

    public func result(_ termination: Termination) -> CommandResult {
        lock.withLock { CommandResult(termination: termination, stdout: stdout, stderr: stderr) }
    }
}

/// A `CommandRunner` with a lifetime: closed once the caller is done with the host.
public protocol HostConnection: CommandRunner {
    func close() async
}

extension HostConnection {
    /// Runs `body`, then closes this connection whether `body` succeeds or throws.
    public func closing<T>(after body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            await close()
            return value
        } catch {
            await close()
            throw error
        }
    }
}

enum SignalNames {
    private static let numbers: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8,
        "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
    ]

    static func number(for name: String) -> Int32? { numbers[name] }

    static func name(for number: Int32) -> String {
        numbers.first { $0.value == number }?.key ?? "\(number)"
    }
}
