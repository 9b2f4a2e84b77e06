import Basics
import Foundation

/// One line of `audit.jsonl` on the host: what botops did there, who did it, how it ended.
/// Only botops' own words go in (step names, revisions, check ids, its messages), never command
/// output, so nothing from the env file can reach it.
public struct AuditRecord: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public var name: String
        public var status: String
        public var durationMS: Int

        enum CodingKeys: String, CodingKey {
            case name, status
            case durationMS = "duration_ms"
        }

        public init(name: String, status: String, durationMS: Int) {
            self.name = name
            self.status = status
            self.durationMS = durationMS
        }
    }

    public struct Rollback: Codable, Sendable, Equatable {
        public var result: String
        public var to: String
        public var steps: [Step]
        public var failure: String?

        public init(result: String, to: String, steps: [Step], failure: String? = nil) {
            self.result = result
            self.to = to
            self.steps = steps
            self.failure = failure
        }
    }

    public var time: String
    /// deploy, rollback, lock-release, interrupted
    public var action: String
    public var localUser: String
    public var machine: String
    public var sshUser: String?
    public var command: String
    public var services: [String]
    public var branch: String?
    public var from: String?
    public var to: String?
    /// success, rolled-back, rollback-failed, failed, refused, interrupted, released
    public var result: String
    public var failure: String?
    public var steps: [Step]
    public var rollback: Rollback?
    public var downtimeMS: [String: Int]?
    public var baselineFailures: [String]?
    public var reason: String?
    /// The deploy succeeded but its release record (releases.json, the kept tag) could not be written.
    public var recordFailed: Bool?

    enum CodingKeys: String, CodingKey {
        case time, action, command, services, branch, from, to, result, failure, steps, rollback, reason
        case localUser = "local_user"
        case machine
        case sshUser = "ssh_user"
        case downtimeMS = "downtime_ms"
        case baselineFailures = "baseline_failures"
        case recordFailed = "record_failed"
    }

    public init(action: String, command: String, result: String, services: [String] = [], time: Date = Date()) {
        self.time = formatISO(time)
        self.action = action
        self.localUser = localUserName()
        self.machine = ProcessInfo.processInfo.hostName
        self.command = command
        self.services = services
        self.result = result
        self.steps = []
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    static func parse(_ line: String) -> AuditRecord? {
        try? JSONDecoder().decode(AuditRecord.self, from: Data(line.utf8))
    }
}

/// UTC, to the second: 2026-11-22T19:31:44Z.
public func formatISO(_ date: Date) -> String {
    formatUTC(Int(date.timeIntervalSince1970))
}
