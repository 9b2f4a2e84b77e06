import Foundation
import Remote

/// One remote step as a value (like SwiftPM's `AsyncProcess` description): what runs, for how
/// long at most, what must never be shown, and what it changes on the host. Built by one place,
/// run by another, so a dry run can print exactly what a real run would execute and the audit can
/// record what ran.
public struct RemoteCommand: Sendable, Hashable {
    public enum Effect: Sendable, Hashable {
        /// Reads the host only; safe in `--dry-run`.
        case readOnly
        /// Changes the host; the text says what, for `--dry-run` and the audit.
        case changes(String)
    }

    public var script: ShellScript
    public var timeout: Duration
    public var effect: Effect
    /// Text masked as `***` wherever this command or its output is shown.
    public var redactions: [String]
    /// Output that may carry secrets (`compose config` resolves `.env` into it): parsed, never shown.
    public var outputIsSecret: Bool

    public init(_ script: ShellScript, timeout: Duration, effect: Effect = .readOnly, redactions: [String] = [],
                outputIsSecret: Bool = false) {
        self.script = script
        self.timeout = timeout
        self.effect = effect
        self.redactions = redactions.filter { !$0.isEmpty }
        self.outputIsSecret = outputIsSecret
    }

    public var isReadOnly: Bool { effect == .readOnly }

    /// Several commands as one round trip, in order, stopping at the first that fails.
    public static func all(_ commands: [RemoteCommand]) -> RemoteCommand {
        let changes = commands.compactMap { if case .changes(let text) = $0.effect { text } else { nil } }
        return RemoteCommand(
            ShellScript.lines(commands.map { ShellScript.lines([$0.script, "[ $? -eq 0 ] || exit $?"]) }),
            timeout: commands.reduce(.zero) { $0 + $1.timeout },
            effect: changes.isEmpty ? .readOnly : .changes(changes.joined(separator: "; ")),
            redactions: commands.flatMap(\.redactions),
            outputIsSecret: commands.contains(where: \.outputIsSecret))
    }

    /// The command as it may be printed or logged.
    public var displayText: String { redact(script.text) }

    /// `text` with every redaction masked.
    public func redact(_ text: String) -> String {
        redactions.reduce(text) { $0.replacing($1, with: "***") }
    }
}

/// A command that ran: the value, its outcome and how long it took.
public struct RemoteCommandResult: Sendable {
    public let command: RemoteCommand
    public let result: CommandResult
    public let duration: Duration

    public var succeeded: Bool { result.succeeded }
    public var stdout: String { result.stdoutText }

    /// stdout and stderr as they may be shown: redacted, or withheld for secret output.
    public var shownOutput: String {
        if command.outputIsSecret { return "(output withheld: it may contain values from the env file)" }
        return command.redact((result.stdoutText + result.stderrText).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension CommandRunner {
    /// Runs `command` with its timeout. `onLine` receives each complete output line, redacted
    /// (whole lines, so a secret split across two network reads is still masked); nothing for
    /// secret output. `input` is what the command reads on its stdin.
    public func run(_ command: RemoteCommand, input: CommandInput = .none, onLine: (@Sendable (OutputKind, String) -> Void)? = nil) async throws -> RemoteCommandResult {
        let clock = ContinuousClock()
        let start = clock.now
        var splitter: LineSplitter?
        if let onLine, !command.outputIsSecret {
            splitter = LineSplitter { kind, line in onLine(kind, command.redact(line)) }
        }
        var handler: OutputHandler?
        if let splitter {
            handler = { kind, bytes in splitter.feed(kind, bytes) }
        }
        let result = try await runStreaming(command.script.text, timeout: command.timeout, input: input, onOutput: handler)
        splitter?.flush()
        return RemoteCommandResult(command: command, result: result, duration: clock.now - start)
    }
}

extension CommandRunner {
    /// Runs `script`, handing each chunk of output to `onOutput` as it arrives, and returns all of
    /// it too. The one place HostCommands meets the transport's streaming interface.
    public func runStreaming(_ script: String, timeout: Duration?, input: CommandInput = .none, onOutput: OutputHandler?) async throws -> CommandResult {
        let collector = OutputCollector()
        let termination = try await stream(script, timeout: timeout, input: input) { kind, bytes in
            collector.append(kind, bytes)
            onOutput?(kind, bytes)
        }
        return collector.result(termination)
    }
}

/// Turns output chunks into lines, per stream.
public final class LineSplitter: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [OutputKind: [UInt8]] = [:]
    private let emit: @Sendable (OutputKind, String) -> Void

    public init(_ emit: @escaping @Sendable (OutputKind, String) -> Void) {
        self.emit = emit
    }

    public func feed(_ kind: OutputKind, _ bytes: [UInt8]) {
        let complete: [String] = lock.withLock {
            var buffer = pending[kind, default: []] + bytes
            var lines: [String] = []
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer.removeSubrange(...newline)
            }
            pending[kind] = buffer
            return lines
        }
        complete.forEach { emit(kind, $0) }
    }

    public func flush() {
        let rest = lock.withLock {
            defer { pending = [:] }
            return pending.filter { !$0.value.isEmpty }.map { ($0.key, String(decoding: $0.value, as: UTF8.self)) }
        }
        rest.forEach { emit($0.0, $0.1) }
    }
}
