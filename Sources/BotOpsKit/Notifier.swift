import Basics
import Foundation

/// Runs botops.yml's `notify.command` on this machine with a report on its stdin (a mail or chat
/// webhook script), so a broken Monday is known on Monday.
public struct Notifier: Sendable {
    public let command: String

    public init(command: String) {
        self.command = command
    }

    /// Nil when the command succeeded, else what went wrong (never the report itself).
    public func send(_ report: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return "could not start notify.command: \(error)"
        }
        // A command that does not read its stdin must not make botops fail: ignore EPIPE.
        signal(SIGPIPE, SIG_IGN)
        try? input.fileHandleForWriting.write(contentsOf: Data(report.utf8))
        try? input.fileHandleForWriting.close()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return "notify.command exited with \(process.terminationStatus): \(terminalSafe(String(stderr.suffix(300))))"
        }
        return nil
    }
}
