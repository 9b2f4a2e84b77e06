import Foundation
import HostCommands
import Remote

/// Shared by the checks of one run: the connection, the settings, and the facts gathered from the
/// host. Each kind of fact is fetched once, by one command, however many checks read it, and the
/// runner asks for the read-only ones up front so they travel concurrently.
public final class CheckContext: Sendable {
    public let host: any CommandRunner
    public let settings: CheckSettings
    /// Unique per run so that no file name or query output can be mistaken for our section markers.
    private let sectionMarker = SectionMarker()
    var marker: String { sectionMarker.text }

    private let hostFactsMemo = Memo<HostFacts>()
    private let containerMemo = Memo<ContainerState>()
    private let databaseMemo = Memo<DatabaseFacts>()
    private let reportRunMemo = Memo<ReportRun>()

    public init(host: any CommandRunner, settings: CheckSettings) {
        self.host = host
        self.settings = settings
    }

    func hostFacts() async throws -> HostFacts {
        try await hostFactsMemo.value { try await HostFacts.gather(self) }
    }

    func containerState() async throws -> ContainerState {
        try await containerMemo.value { try await ContainerState.gather(self) }
    }

    func databaseFacts() async throws -> DatabaseFacts {
        try await databaseMemo.value { try await DatabaseFacts.gather(self) }
    }

    /// Runs the report script (it writes a report), gated on the host by its prerequisites' facts.
    func reportRun() async throws -> ReportRun {
        try await reportRunMemo.value { try await ReportRun.perform(self) }
    }

    func run(_ command: String) async throws -> CommandResult {
        try await host.run(command, timeout: settings.commandTimeout)
    }

    /// What a command printed before the first `marker` line (a script's own output).
    func preamble(_ output: String) -> String {
        var lines: [Substring] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(marker + " ") { break }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// Splits output into the sections that `marker NAME` lines start.
    func sections(_ output: String) -> [String: [String]] {
        sectionMarker.split(output)
    }
}

/// Computes a value once; concurrent callers share the same in-flight computation.
final class Memo<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Value, Error>?

    func value(_ compute: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = lock.withLock {
            if let task = self.task { return task }
            let created = Task { try await compute() }
            self.task = created
            return created
        }
        return try await task.value
    }
}
