import Basics
import Checks
import Foundation
import Remote

/// What a deploy or rollback reports as it goes: rendered as text for people or as one JSON
/// object per line for CI (`--format json`).
public enum DeployEvent: Sendable, Equatable {
    public enum StepStatus: String, Sendable {
        case ok, failed, skipped
    }

    case started(action: String, services: [String], destination: String)
    case stepStarted(name: String, index: Int, total: Int)
    /// A line of a command's output (already redacted).
    case output(step: String, line: String)
    case stepFinished(name: String, status: StepStatus, duration: Duration, message: String?)
    /// Something the operator should read: an interrupted deploy, pre-existing check failures, a slow stop.
    case notice(String)
    /// The run went on (or succeeded) but something needs the operator: a release that could not be recorded.
    case warning(String)
    /// `--dry-run`: a command that would run, and what it would change (nil: read-only).
    case planned(step: String, command: String, changes: String?)
    case finished(DeployOutcome)
}

/// How a deploy or rollback ended, with its exit code.
public struct DeployOutcome: Sendable, Equatable {
    public enum Result: String, Sendable {
        case success
        /// The deploy failed; the rollback restored the previous release and the checks pass.
        case rolledBack = "rolled-back"
        /// The deploy failed and so did the rollback: the host needs a human.
        case rollbackFailed = "rollback-failed"
        /// Failed without a rollback: nothing had changed (exit 1), or the host is left changed (--no-rollback, on_failure: abort; exit 5).
        case failed
        case refused
        /// --dry-run: nothing was changed.
        case planned
        /// Stopped at a step boundary: Ctrl-C, SIGTERM, a broken lock.
        case interrupted
    }

    public var result: Result
    public var summary: String
    /// What to look at next, when the host needs attention.
    public var advice: String?
    public var exitCode: BotOpsExitCode

    public init(result: Result, summary: String, advice: String?, exitCode: BotOpsExitCode) {
        self.result = result
        self.summary = summary
        self.advice = advice
        self.exitCode = exitCode
    }

    /// A refusal or error that ended the command before it had an outcome of its own.
    public init(error: Error) {
        exitCode = BotOpsExitCode(for: error)
        result = exitCode == .refused ? .refused : .failed
        summary = String(describing: error)
        advice = nil
    }

    /// The signal that stopped the run: the process exits 128 + it.
    public var interruptedBy: Int32? = nil

    /// The process's exit status: 130/143 after Ctrl-C/SIGTERM, else `exitCode`.
    public var processExitCode: Int32 { interruptedBy.map { 128 + $0 } ?? exitCode.rawValue }
}

/// Renders events for a terminal: a line per step with its duration, output indented beneath, and
/// a final summary.
public struct TextEventRenderer: Sendable {
    public init() {}

    public func render(_ event: DeployEvent) -> String? {
        switch event {
        case let .started(action, services, destination):
            return "botops \(action) \(services.joined(separator: ", ")) on \(destination)"
        case let .stepStarted(name, index, total):
            return "[\(index)/\(total)] \(name)"
        case let .output(_, line):
            return "      " + line
        case let .stepFinished(name, status, duration, message):
            let mark = status == .ok ? "done" : status.rawValue
            return "      \(mark): \(name) in \(seconds(duration))" + (message.map { " — \($0)" } ?? "")
        case let .notice(text):
            return "  ! " + text
        case let .warning(text):
            return "  ! warning: " + text
        case let .planned(_, command, changes):
            return "      $ \(command)\n        " + (changes.map { "changes: \($0)" } ?? "read-only")
        case let .finished(outcome):
            var text = "\n" + outcome.summary
            if let advice = outcome.advice { text += "\n" + advice }
            return text
        }
    }
}

/// One JSON object per line: {"event": "step_finished", "step": "build", "status": "ok", "duration_ms": 8123, …}.
public struct JSONEventRenderer: Sendable {
    public init() {}

    public func render(_ event: DeployEvent) -> String? {
        var object: [String: Any] = ["time": formatISO(Date())]
        switch event {
        case let .started(action, services, destination):
            object["event"] = "started"
            object["action"] = action
            object["services"] = services
            object["destination"] = destination
        case let .stepStarted(name, index, total):
            object["event"] = "step_started"
            object["step"] = name
            object["index"] = index
            object["total"] = total
        case let .output(step, line):
            object["event"] = "output"
            object["step"] = step
            object["line"] = line
        case let .stepFinished(name, status, duration, message):
            object["event"] = "step_finished"
            object["step"] = name
            object["status"] = status.rawValue
            object["duration_ms"] = wholeMilliseconds(duration)
            if let message { object["message"] = message }
        case let .notice(text):
            object["event"] = "notice"
            object["message"] = text
        case let .warning(text):
            object["event"] = "warning"
            object["message"] = text
        case let .planned(step, command, changes):
            object["event"] = "planned"
            object["step"] = step
            object["command"] = command
            object["changes"] = changes ?? NSNull()
        case let .finished(outcome):
            object["event"] = "finished"
            object["result"] = outcome.result.rawValue
            object["exit_code"] = Int(outcome.processExitCode)
            object["summary"] = outcome.summary
            if let advice = outcome.advice { object["advice"] = advice }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// "1.2 s"
func seconds(_ duration: Duration) -> String {
    formatFixed(totalSeconds(duration), digits: 1) + " s"
}
