import Foundation
import Remote

public struct CheckSelectionError: Error, CustomStringConvertible {
    public var unknown: [String]
    /// Set when the names are known but --skip leaves none of the selected checks to run.
    public var allSkipped: [String] = []

    public var description: String {
        guard unknown.isEmpty else {
            return "unknown check \(unknown.joined(separator: ", ")); the checks are: \(CheckID.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        return "--skip leaves nothing to run (\(allSkipped.joined(separator: ", ")) would all be skipped), so nothing would be verified. Skip fewer checks."
    }
}

/// Runs checks concurrently over one connection. A check starts as soon as its prerequisites
/// have passed (or warned); if one failed or was skipped, the check is skipped with the reason.
public struct CheckRunner: Sendable {
    public let checks: [any Check]
    public let skipped: Set<CheckID>

    /// `only` selects checks (their prerequisites come along); `skip` reports checks as skipped.
    public init(only: [CheckID] = [], skip: [CheckID] = [], from available: [any Check] = allChecks) throws {
        let known = Set(available.map(\.id))
        let unknown = (only + skip).filter { !known.contains($0) }
        guard unknown.isEmpty else { throw CheckSelectionError(unknown: unknown.map(\.rawValue)) }
        var wanted = only.isEmpty ? known : Set(only)
        var frontier = Array(wanted)
        while let id = frontier.popLast() {
            for prerequisite in available.first(where: { $0.id == id })?.prerequisites ?? [] where !wanted.contains(prerequisite) {
                wanted.insert(prerequisite)
                frontier.append(prerequisite)
            }
        }
        checks = available.filter { wanted.contains($0.id) }
        skipped = Set(skip)
        // A run in which every check is skipped would exit 0 having verified nothing.
        guard checks.contains(where: willRun) else {
            throw CheckSelectionError(unknown: [], allSkipped: checks.map(\.id.rawValue))
        }
    }

    public func run(in context: CheckContext) async -> VerifyReport {
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date()
        for check in checks where willRun(check) {
            check.prefetch(in: context)
        }
        var results: [CheckID: CheckResult] = [:]
        var lost: RemoteError?
        await withTaskGroup(of: (CheckResult, RemoteError?).self) { group in
            var started = Set<CheckID>()
            func startReadyChecks() {
                var progressed = true
                while progressed {
                    progressed = false
                    for check in checks where !started.contains(check.id) {
                        if let reason = skipReason(for: check, results: results) {
                            results[check.id] = .skipped(check, reason)
                            started.insert(check.id)
                            progressed = true
                        } else if check.prerequisites.allSatisfy({ results[$0] != nil }) {
                            started.insert(check.id)
                            group.addTask { await Self.execute(check, in: context) }
                        }
                    }
                }
            }
            startReadyChecks()
            while let (result, connectionLost) = await group.next() {
                results[result.id] = result
                lost = lost ?? connectionLost
                startReadyChecks()
            }
        }
        return VerifyReport(destination: context.host.destination, startedAt: startedAt, duration: clock.now - start,
                            results: checks.map { results[$0.id] ?? .skipped($0, "skipped: a prerequisite is not among the checks run") },
                            connectionLost: lost)
    }

    /// False when --skip names the check or anything it depends on: then nothing of it may start early.
    func willRun(_ check: any Check) -> Bool {
        guard !skipped.contains(check.id) else { return false }
        return check.prerequisites.allSatisfy { id in checks.first { $0.id == id }.map(willRun) ?? false }
    }

    private func skipReason(for check: any Check, results: [CheckID: CheckResult]) -> String? {
        if skipped.contains(check.id) { return "skipped by --skip" }
        for prerequisite in check.prerequisites {
            switch results[prerequisite]?.status {
            case .fail?: return "skipped: \(prerequisite.rawValue) failed"
            case .skip?: return "skipped: \(prerequisite.rawValue) was skipped"
            default: continue
            }
        }
        return nil
    }

    /// Runs one check. Only a lost connection is reported beside the result, so the run can exit 3;
    /// a single channel that fails (refused, timed out) fails its check and nothing else.
    private static func execute(_ check: any Check, in context: CheckContext) async -> (CheckResult, RemoteError?) {
        let clock = ContinuousClock()
        let start = clock.now
        let verdict: Verdict
        var connectionLost: RemoteError?
        do {
            verdict = try await check.run(in: context)
        } catch let error as RemoteError {
            if case .connectionLost = error { connectionLost = error }
            verdict = .fail(error.description)
        } catch {
            verdict = .fail(String(describing: error))
        }
        let result = CheckResult(id: check.id, title: check.title, status: verdict.status, message: verdict.message,
                                 evidence: verdict.evidence, duration: clock.now - start)
        return (result, connectionLost)
    }
}

extension CheckResult {
    static func skipped(_ check: any Check, _ reason: String) -> CheckResult {
        CheckResult(id: check.id, title: check.title, status: .skip, message: reason, evidence: [], duration: .zero)
    }
}
