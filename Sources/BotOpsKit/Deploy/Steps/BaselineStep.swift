import Checks
import Foundation
import HostCommands
import Remote

/// `builtin: baseline`: the nine checks before anything changes; failures already present do
/// not count against the release.
struct BaselineStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.baseline(timeout: step.timeout)
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        ChecksStep.planned(timeout: step.timeout, config: deployer.config)
    }
}

extension Deployer {
    fileprivate func baseline(timeout: Duration) async throws -> String? {
        let report = try await runChecks(timeout: timeout, prefetched: run.prefetchedBaseline)
        let failing = report.results.filter { $0.status == .fail }
        try run.baseline.produce(Baseline(failures: Set(failing.map(\.id)), skipped: Set(report.results.filter { $0.status == .skip }.map(\.id))), by: .step(.baseline))
        // Without the database most checks are skipped: nothing could tell a good release from a bad one.
        if let database = failing.first(where: { $0.id == .dbRunning }), run.request?.unverified != true {
            throw DeployError.databaseDownBeforeDeploy(database.message)
        }
        guard !failing.isEmpty else { return "all \(report.results.count) checks pass" }
        let strict = run.request?.strict == true
        emit(.notice("already failing before the deploy: " + failing.map { "\($0.id.rawValue) (\($0.message))" }.joined(separator: "; ")
            + (strict ? ". --strict: they will count against the release." : ". They do not count against this release; only new failures roll back.")))
        return "\(failing.count) check(s) already failing"
    }
}
