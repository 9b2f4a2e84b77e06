import Foundation
import Remote

/// One JSON document with stable field names (documented in the README, `version` bumps on change).
public struct JSONReporter: Sendable {
    public init() {}

    struct Document: Encodable {
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

        var version = 1
        var destination: String
        var started_at: String
        var duration_ms: Int
        var status: String
        var summary: Summary
        var connection_lost: String?
        var checks: [Result]
    }

    public func render(_ report: VerifyReport) -> String {
        let document = Document(
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
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self) + "\n"
    }
}
