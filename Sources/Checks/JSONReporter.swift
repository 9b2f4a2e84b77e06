import Foundation
import Remote

/// One JSON document with stable field names (documented in the README, `version` bumps on
/// change), always pretty-printed with sorted keys, whatever the report carries.
public struct JSONReporter: Sendable {
    public init() {}

    /// The report as JSON values, for documents that carry it inside their own (botops gate).
    public struct Document: Encodable, Sendable {
        struct Summary: Encodable {
            var pass: Int, warn: Int, fail: Int, skip: Int
        }

        struct Result: Encodable {
            var id: String
            var title: String
            var status: CheckStatus
            var message: String
            var evidence: [String: String]
            var duration_ms: Int
        }

        /// Every entry has every field: a missing value is null.
        struct ScheduledRun: Encodable {
            var entry: String, status: String, message: String
            var last_fire: OrNull<String>, output: OrNull<String>, log_error: OrNull<String>
        }

        struct BackupAge: Encodable {
            var status: String, message: String
            var newest: OrNull<String>, age_seconds: OrNull<Int>, max_age_seconds: OrNull<Int>
        }

        var version = 1
        var destination: String
        var started_at: String
        var duration_ms: Int
        var status: String
        var summary: Summary
        /// Absent (not null) when the connection held, as are the two notes when verify has none.
        var connection_lost: String?
        var checks: [Result]
        var scheduled_runs: [ScheduledRun]?
        var backup_age: BackupAge?
    }

    public func document(_ report: VerifyReport) -> Document {
        Document(
            destination: report.destination,
            started_at: formatUTC(Int(report.startedAt.timeIntervalSince1970)),
            duration_ms: wholeMilliseconds(report.duration),
            status: report.connectionLost != nil ? "unreachable" : report.failed ? "fail" : "pass",
            summary: .init(pass: report.count(.pass), warn: report.count(.warn), fail: report.count(.fail), skip: report.count(.skip)),
            connection_lost: report.connectionLost?.description,
            checks: report.results.map {
                .init(id: $0.id.rawValue, title: $0.title, status: $0.status, message: $0.message,
                      evidence: Dictionary($0.evidence.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }),
                      duration_ms: wholeMilliseconds($0.duration))
            },
            scheduled_runs: report.scheduledRuns.isEmpty ? nil : report.scheduledRuns.map {
                .init(entry: $0.entry, status: $0.status.rawValue, message: $0.message,
                      last_fire: OrNull($0.lastFire.map { formatUTC(Int($0)) }), output: OrNull($0.output), log_error: OrNull($0.logError))
            },
            backup_age: report.backupAge.map {
                .init(status: $0.status.rawValue, message: $0.message, newest: OrNull($0.newest), age_seconds: OrNull($0.ageSeconds),
                      max_age_seconds: OrNull($0.maxAgeSeconds))
            })
    }

    public func render(_ report: VerifyReport) -> String {
        Self.text(document(report))
    }

    /// botops' one JSON style: pretty-printed, sorted keys, slashes as they are; ends with a newline.
    public static func text(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// A field written as null when there is no value (an Optional field would be left out).
    public struct OrNull<Value: Encodable & Sendable>: Encodable, Sendable {
        public let value: Value?

        public init(_ value: Value?) {
            self.value = value
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            if let value { try container.encode(value) } else { try container.encodeNil() }
        }
    }
}
