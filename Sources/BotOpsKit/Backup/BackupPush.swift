import Foundation
import HostCommands
import Remote

/// `backup.push`: the operator's command (rsync or scp to a storage box, say), run on the host
/// after a verified backup with the absolute paths of the dump, the record (the host files'
/// archive) and the roles appended as quoted arguments. Its failure is a warning: the local copy is never deleted for it.
public struct BackupPush: Sendable {
    public let scripts: BackupScripts
    public let command: String
    public let runner: any CommandRunner

    public init(config: BotOpsConfig, command: String, runner: any CommandRunner) {
        scripts = BackupScripts(config: config)
        self.command = command
        self.runner = runner
    }

    /// Runs the command; nil when it succeeded, otherwise what went wrong.
    public func run(_ record: BackupRecord) async throws -> String? {
        let result = try await runner.run(push(record))
        guard !result.succeeded else { return nil }
        let said = (result.result.stderrText + result.stdout).trimmingCharacters(in: .whitespacesAndNewlines)
        return "backup.push ended with \(result.result.termination)" + (said.isEmpty ? "" : ": " + String(said.suffix(600)))
    }

    /// The paths are `$PWD/NAME` inside double quotes after a `cd` to backup.dir: absolute, one word
    /// each, whatever backup.dir holds (a space, a `$`).
    func push(_ record: BackupRecord) -> RemoteCommand {
        // The roles last: commands written for the dump, record and archive as $1, $2, $3 keep working.
        let names = [record.id + ".dump", record.id + ".json"] + (record.hostFiles.map { [$0] } ?? []) + [BackupRoles.fileName(record.id)]
        let files = "set --" + names.map { " \"$PWD\"/" + shellQuote($0) }.joined()
        return RemoteCommand(ShellScript(template: [.literal("cd \(scripts.directory.script) && \(files) && "), .literal(command), .literal(" \"$@\"")]),
                             timeout: .seconds(6 * 3600), effect: .changes("runs backup.push with " + names.joined(separator: ", ")))
    }
}
