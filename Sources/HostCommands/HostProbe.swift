import Foundation
import Remote

/// One host fact as a value: the command that reads it and the pure parser of what it printed.
/// Built in one place per fact, so a real run sends exactly `command`, a dry run can print it, and
/// tests can feed the parser given output without a host.
public struct HostProbe<Fact: Sendable>: Sendable {
    /// Names the probe in errors ("host files", "docker inspect of db", …).
    public let name: String
    public let command: RemoteCommand
    private let parser: @Sendable (CommandResult) throws -> Fact

    public init(_ name: String, _ command: RemoteCommand, parse: @escaping @Sendable (CommandResult) throws -> Fact) {
        self.name = name
        self.command = command
        self.parser = parse
    }

    /// The fact in `result`; throws `ProbeOutputError` naming this probe and showing what it
    /// printed when the parser cannot read it.
    public func parse(_ result: CommandResult) throws -> Fact {
        do {
            return try parser(result)
        } catch let error as UnreadableOutput {
            var changes: String?
            if case .changes(let what) = command.effect { changes = what }
            throw ProbeOutputError(probe: name, output: command.redact(result.stdoutText + result.stderrText), problem: error.problem, changes: changes)
        }
    }

    /// Runs the command on `host` and parses its output.
    public func run(on host: any CommandRunner) async throws -> Fact {
        try parse(try await host.run(command).result)
    }
}

/// What a probe's parser throws when the output lacks the shape it expects; the probe adds its
/// name and the output.
public struct UnreadableOutput: Error, Equatable {
    public var problem: String

    public init(_ problem: String) {
        self.problem = problem
    }
}

/// A probe printed something botops cannot read: names the probe and shows what it printed.
public struct ProbeOutputError: Error, Equatable, CustomStringConvertible {
    public var probe: String
    public var output: String
    public var problem: String
    /// What the probe's command changes on the host, when it does: running it by hand does it again.
    public var changes: String?

    public init(probe: String, output: String, problem: String, changes: String? = nil) {
        self.probe = probe
        self.output = output
        self.problem = problem
        self.changes = changes
    }

    public var description: String {
        let shown = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let caution = changes.map { " It changes the host (\($0)): read it first." } ?? ""
        return "\(probe) printed something botops cannot read (\(problem)): \(shown.isEmpty ? "(nothing)" : String(shown.prefix(300))). Run its command by hand (botops verify --dry-run prints it) to see what the host answers.\(caution)"
    }
}
