/// How a command ended: with an exit status, or killed by a signal.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    /// Signal name without the SIG prefix, as SSH reports it (e.g. "TERM").
    case signaled(String)

    public var description: String {
        switch self {
        case .exited(let status): return "exit \(status)"
        case .signaled(let name): return "signal \(name)"
        }
    }

    /// The status a shell would report: the exit status, or 128 + the signal number.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let status): return status
        case .signaled(let name): return 128 + (SignalNames.number(for: name) ?? 0)
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

/// "Run this command on the host": implemented over SSH and on the local machine.
public protocol CommandRunner: Sendable {
    /// Where commands run, for messages: `user@host:port` or `local`.
    var destination: String { get }
    /// Runs `command` through the host's `/bin/sh`. Build it with `shellQuote` for every value.
    func run(_ command: String, timeout: Duration?, onOutput: OutputHandler?) async throws -> CommandResult
}

extension CommandRunner {
    public func run(_ command: String, timeout: Duration? = nil) async throws -> CommandResult {
        try await run(command, timeout: timeout, onOutput: nil)
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
